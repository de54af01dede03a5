import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REGISTER, TWIN_HEALTH, UPSERT_MODEL } from '../support/models.ts'
import { startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

const RULE = { sensor: 'temp', fn: 'AVG', windowSeconds: 60, above: 80, hysteresis: 5 }

describe('an aggregate rule in a device model', () => {
  let stack: TestStack
  const model = `oven-${Math.random().toString(36).slice(2, 8)}`
  beforeAll(async () => {
    stack = await startTestStack('embedded')
    const upserted = await stack.graphql(UPSERT_MODEL, {
      input: {
        id: model,
        name: 'Oven',
        sensors: [{ name: 'temp', kind: 'NUMBER', unit: '°C' }],
        aggregates: [RULE],
      },
    })
    expect(upserted.errors).toBeUndefined()
  })
  afterAll(() => stack?.close())

  it('is served with the model', async () => {
    const result = await stack.graphql(
      'query ($id: ID!) { deviceModel(id: $id) { aggregates { sensor fn windowSeconds above below hysteresis } } }',
      { id: model },
    )
    expect(result.data?.deviceModel.aggregates).toEqual([{ ...RULE, below: null }])
  })

  it('raises an alert through the twin when the average leaves its range, and clears it', async () => {
    const id = stack.deviceId('oven')
    expect(
      (await stack.graphql(REGISTER, { input: { id, modelId: model } })).errors,
    ).toBeUndefined()
    // Device times two minutes back, on whole seconds: the window's steps are whole seconds.
    const base = Math.floor((Date.now() - 120_000) / 1000) * 1000
    const send = (points: [number, number][]) =>
      stack.publish(
        stack.topics.device(id, 'telemetry'),
        points.map(([s, temp]) => ({ ts: base + s * 1000, values: { temp } })),
      )
    const device = async () => (await stack.graphql(TWIN_HEALTH, { id })).data?.device

    // 70 for 10 s, then 90 for 50 s: a time-weighted minute of 86.67.
    await send([
      [0, 70],
      [10, 90],
      [60, 90],
    ])
    const raised = await waitFor(
      async () => {
        const d = await device()
        return d?.alerts.length === 1 && d
      },
      { what: 'the aggregate alert' },
    )
    expect(raised.alerts[0]).toMatchObject({
      sensor: 'temp',
      kind: 'OUT_OF_RANGE',
      message: '1 min avg 86.67 above 80',
      clearedAt: null,
    })
    expect(raised.twin.health).toBe('OUT_OF_RANGE')

    // [30, 90]: 90 for 30 s, then 50: 90 on average at 90 s, and 70 at 120 s, past the hysteresis.
    await send([
      [90, 50],
      [120, 50],
    ])
    const cleared = await waitFor(
      async () => {
        const d = await device()
        return Boolean(d?.alerts[0]?.clearedAt) && d
      },
      { what: 'the aggregate alert cleared' },
    )
    expect(cleared.twin.health).toBe('OK')
    expect(cleared.alerts).toHaveLength(1)
  })
})
