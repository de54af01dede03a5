import type { Received } from '../../src/ingest/batcher.ts'
import type { SensorValue } from '../../src/twins/reading.ts'

/** One reading as the decoder hands it to ingest's batcher: device time = receive time `at`. */
export const receivedReading = (
  deviceId: string,
  n: number,
  values: Record<string, SensorValue>,
  at: number,
  payload: Uint8Array = new Uint8Array(),
): Received => ({
  topic: `devices/${deviceId}/telemetry`,
  payload,
  receivedAt: at,
  message: {
    ok: true,
    kind: 'telemetry',
    deviceId,
    readings: [{ time: at, deviceTime: at, receivedAt: at, seq: n, values, clockSkewed: false }],
  },
  puback: () => {},
})
