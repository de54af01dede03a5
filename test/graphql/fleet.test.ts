import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

const FLEET = 'query { fleet { devices online byHealth { health devices } } }'

describe('fleet summary', () => {
  let stack: TestStack
  beforeAll(async () => {
    stack = await startTestStack('embedded')
  })
  afterAll(() => stack?.close())

  it('counts devices by online and health, leaving decommissioned ones out', async () => {
    const [a, b, gone] = ['a', 'b', 'gone'].map((name) => stack.deviceId(name)) as string[]
    for (const id of [a, b, gone] as string[]) {
      await stack.publish(stack.topics.device(id, 'telemetry'), { values: { temperature: 20 } })
      await stack.applied(id, (reported) => reported.temperature === 20)
    }
    // Only b says it is online; a device is offline until it does.
    await stack.publish(stack.topics.device(b as string, 'status'), { online: true })
    const decommissioned = await stack.graphql(
      'mutation ($id: ID!) { decommissionDevice(id: $id) { id } }',
      { id: gone },
    )
    expect(decommissioned.errors).toBeUndefined()

    const fleet = await waitFor(
      async () => {
        const { data } = await stack.graphql(FLEET)
        return data?.fleet.online === 1 && data.fleet
      },
      { what: 'one device online' },
    )
    expect(fleet.devices).toBe(2)
    const counted = fleet.byHealth.reduce(
      (sum: number, h: { devices: number }) => sum + h.devices,
      0,
    )
    expect(counted).toBe(2)

    const viewer = await stack.graphql(FLEET, {}, `Bearer ${await stack.token('viewer')}`)
    expect(viewer.data?.fleet.devices).toBe(2)
  })
})
