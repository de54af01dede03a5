import type { MqttClient } from 'mqtt'
import type { Topics } from '../protocol/topics.ts'
import type { DesiredDocument } from '../twins/state.ts'

/** Sends the full desired document to the device, retained so it gets it whenever it connects. */
export const publishDesired =
  (deps: { mqtt: MqttClient; topics: Topics }) =>
  async (deviceId: string, desired: DesiredDocument): Promise<void> => {
    await deps.mqtt.publishAsync(deps.topics.device(deviceId, 'desired'), JSON.stringify(desired), {
      qos: 1,
      retain: true,
    })
  }
