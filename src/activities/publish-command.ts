import type { MqttClient } from 'mqtt'
import type { Topics } from '../topics.ts'
import { type Command, commandMessage } from '../twins/commands.ts'

/**
 * Sends one attempt of a command to the device (QoS 1, not retained: a device that was away
 * gets it when its twin sends again, not a stale copy from the broker).
 */
export const publishCommand =
  (deps: { mqtt: MqttClient; topics: Topics }) =>
  async (command: Command): Promise<void> => {
    await deps.mqtt.publishAsync(
      deps.topics.device(command.deviceId, 'commands'),
      JSON.stringify(commandMessage(command)),
      { qos: 1 },
    )
  }
