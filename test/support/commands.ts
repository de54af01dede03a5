import {
  type Fleet,
  type FleetOptions,
  type SimulatedDeviceSpec,
  startFleet,
} from '../../src/simulator/fleet.ts'
import type { TestStack } from './stack.ts'
import { waitFor } from './wait.ts'

export const COMMAND_FIELDS = `id deviceId name args status attempts maxAttempts result error
  createdAt updatedAt expiresAt idempotencyKey requestedBy reservationId`

export const SEND_COMMAND = /* GraphQL */ `
  mutation ($deviceId: ID!, $name: String!, $args: JSON, $timeoutSeconds: Int, $maxAttempts: Int,
            $ttlSeconds: Int, $idempotencyKey: String, $reservationId: ID) {
    sendCommand(deviceId: $deviceId, name: $name, args: $args, timeoutSeconds: $timeoutSeconds,
                maxAttempts: $maxAttempts, ttlSeconds: $ttlSeconds,
                idempotencyKey: $idempotencyKey, reservationId: $reservationId) { ${COMMAND_FIELDS} }
  }
`

export const COMMAND = /* GraphQL */ `
  query ($id: ID!) { command(id: $id) { ${COMMAND_FIELDS} events { status attempt } } }
`

export const RESERVE = /* GraphQL */ `
  mutation ($deviceId: ID!, $holder: String!, $durationSeconds: Int!) {
    reserve(deviceId: $deviceId, holder: $holder, durationSeconds: $durationSeconds) {
      id deviceId holder status createdAt expiresAt releasedAt
    }
  }
`

/** Simulated devices on the stack's broker and topic root, answering commands quickly. */
export async function simulatedDevices(
  stack: TestStack,
  devices: SimulatedDeviceSpec[],
  opts: Partial<FleetOptions> = {},
): Promise<Fleet> {
  return startFleet({
    url: stack.mqttUrl,
    topicRoot: stack.topics.root,
    devices,
    rate: 0,
    commandDelayMs: 50,
    mqtt: { protocolVersion: stack.mode === 'services' ? 5 : 4 },
    ...opts,
  })
}

/** Waits until the twin shows the device online (its status went through ingest). */
export const waitOnline = (stack: TestStack, id: string) =>
  waitFor(
    async () =>
      (await stack.graphql(`query ($id: ID!) { device(id: $id) { twin { online } } }`, { id })).data
        ?.device?.twin.online === true,
    { what: `${id} online in its twin` },
  )

/** Waits for a command to reach `status`, and returns it. */
export const waitForCommand = (stack: TestStack, id: string, status: string, timeout = 20_000) =>
  waitFor(
    async () => {
      const command = (await stack.graphql(COMMAND, { id })).data?.command
      return command?.status === status && command
    },
    { what: `command ${id} ${status}`, timeout },
  )
