import { ApplicationFailure } from '@temporalio/common'
import type { MqttClient } from 'mqtt'
import { commandMessage } from '../protocol/commands.ts'
import type { Topics } from '../protocol/topics.ts'
import type { Command } from '../twins/commands.ts'

/**
 * MQTT 5 PUBACK reason codes that refuse a publish for good (not authorized, topic name invalid,
 * packet too large, payload format invalid): sending the same packet again fails the same way.
 * Anything else (the broker away, quota exceeded) is worth retrying.
 */
const REFUSED_FOR_GOOD = new Set([0x87, 0x90, 0x95, 0x99])

/**
 * Sends one attempt of a command to the device (QoS 1, not retained: a device that was away
 * gets it when its twin sends again, not a stale copy from the broker).
 */
export const publishCommand =
  (deps: { mqtt: MqttClient; topics: Topics }) =>
  async (command: Command): Promise<void> => {
    try {
      await deps.mqtt.publishAsync(
        deps.topics.device(command.deviceId, 'commands'),
        JSON.stringify(commandMessage(command)),
        { qos: 1 },
      )
    } catch (error) {
      const code = (error as { code?: unknown }).code
      if (typeof code === 'number' && REFUSED_FOR_GOOD.has(code)) {
        throw ApplicationFailure.nonRetryable(
          `the broker refused the command: ${(error as Error).message}`,
          'PublishRefused',
        )
      }
      throw error
    }
  }
