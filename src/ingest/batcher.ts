import type { Decoded } from '../protocol/decode.ts'
import { compactReadings, type TwinBatch } from '../twins/batch.ts'
import type { CommandAck } from '../twins/commands.ts'
import type { Reading, StatusReport } from '../twins/reading.ts'

/** One accepted MQTT message as ingest holds it until its flush is stored. */
export interface Received {
  topic: string
  /** The bytes that arrived: kept byte-exact if Postgres refuses what they decoded to. */
  payload: Uint8Array
  receivedAt: number
  message: Extract<Decoded, { ok: true }>
  /** Sends the message's held QoS 1 PUBACK to the broker. */
  puback: () => void
}

/** One device's messages of one flush, gathered for storage and for its twin. */
export interface DeviceBatch {
  deviceId: string
  readings: Reading[]
  statuses: StatusReport[]
  /** The device's answers to commands (not to be confused with PUBACKs). */
  commandAcks: CommandAck[]
  lastTelemetryAt: number | null
  received: Received[]
}

/** Gathers accepted messages until ingest drains them for one flush. */
export class Batcher {
  #pending: Received[] = []

  /** Messages waiting for the next flush. */
  get size(): number {
    return this.#pending.length
  }

  add(received: Received): void {
    this.#pending.push(received)
  }

  drain(): Received[] {
    const drained = this.#pending
    this.#pending = []
    return drained
  }
}

/** Groups messages by device, each device's in arrival order. */
export function deviceBatches(received: readonly Received[]): DeviceBatch[] {
  const batches = new Map<string, DeviceBatch>()
  for (const r of received) {
    const { message } = r
    let batch = batches.get(message.deviceId)
    if (!batch) {
      batch = {
        deviceId: message.deviceId,
        readings: [],
        statuses: [],
        commandAcks: [],
        lastTelemetryAt: null,
        received: [],
      }
      batches.set(message.deviceId, batch)
    }
    batch.received.push(r)
    if (message.kind === 'status') batch.statuses.push(message.status)
    else if (message.kind === 'ack') batch.commandAcks.push(message.ack)
    else {
      batch.readings.push(...message.readings)
      batch.lastTelemetryAt = Math.max(batch.lastTelemetryAt ?? 0, r.receivedAt)
    }
  }
  return [...batches.values()]
}

/** The signal payload for one device: its readings compacted, its statuses as they came. */
export function toTwinBatch(batch: DeviceBatch): TwinBatch {
  return {
    readings: compactReadings(batch.readings),
    statuses: batch.statuses,
    acks: batch.commandAcks,
    messages: batch.received.length,
    lastTelemetryAt: batch.lastTelemetryAt,
  }
}
