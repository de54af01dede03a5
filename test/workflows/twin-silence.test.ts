import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chargePoint, REGISTER, UPSERT_MODEL } from '../support/models.ts'
import { MODES, startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

const SILENCE = /* GraphQL */ `
  query ($id: ID!) {
    device(id: $id) {
      twin { health healthReason }
      alerts { sensor kind raisedAt }
    }
  }
`

interface Silence {
  twin: { health: string; healthReason: string | null }
  alerts: { sensor: string | null; kind: string; raisedAt: string }[]
}

describe.each(MODES)('a twin behind its inbox and silence (%s)', (mode) => {
  let stack: TestStack
  const model = `cp-${Math.random().toString(36).slice(2, 8)}`
  beforeAll(async () => {
    // Routine readings are held back for minutes, as when Temporal cannot keep up with a fleet:
    // the twin's own view of the device falls behind what ingest stored.
    stack = await startTestStack(mode, { env: { DEVTWIN_CHECKPOINT_MS: '600000' } })
    const upserted = await stack.graphql(UPSERT_MODEL, {
      input: chargePoint(model, { silentAfterSeconds: 3 }),
    })
    expect(upserted.errors).toBeUndefined()
  })
  afterAll(() => stack?.close())

  const look = async (id: string) =>
    (await stack.graphql<{ device: Silence }>(SILENCE, { id })).data?.device
  const send = (id: string, values: Record<string, unknown>) =>
    stack.publish(stack.topics.device(id, 'telemetry'), { ts: Date.now(), values })

  it('reads its inbox before it calls a reporting device SILENT, and says so once it stops', async () => {
    const id = stack.deviceId('behind')
    const registered = await stack.graphql(REGISTER, { input: { id, modelId: model } })
    expect(registered.errors).toBeUndefined()
    // The first reading is delivered at once.
    await send(id, { door: false, power: 100 })
    await waitFor(async () => (await look(id))?.twin.health === 'OK', { what: 'OK' })

    // The device goes on reporting every 500 ms for twice its silence limit; each reading is
    // routine (power within range), so none is delivered to the twin.
    const reportingUntil = Date.now() + 6_000
    for (let power = 110; Date.now() < reportingUntil; power += 10) {
      await send(id, { power })
      await sleep(500) // the device's own pace, not a wait for the service
    }
    const stoppedAt = Date.now()
    const meanwhile = await look(id)
    expect(meanwhile?.twin.health).toBe('OK')

    // Now it is silent for real: the twin finds nothing newer in its inbox and says so.
    const silent = await waitFor(
      async () => {
        const device = await look(id)
        return device?.twin.health === 'SILENT' && device
      },
      { what: 'SILENT after the device stopped', timeout: 20_000 },
    )
    const raised = silent.alerts.filter((a) => a.kind === 'SILENT')
    expect(raised).toHaveLength(1)
    expect(Date.parse(raised[0]?.raisedAt ?? '')).toBeGreaterThanOrEqual(stoppedAt)
  })
})
