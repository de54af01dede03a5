import { count, eq } from 'drizzle-orm'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { telemetry } from '../../src/db/schema.ts'
import { chargePoint, REGISTER, TWIN_HEALTH, UPSERT_MODEL } from '../support/models.ts'
import { MODES, startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

describe.each(MODES)('twin health scenarios (%s)', (mode) => {
  let stack: TestStack
  const model = `cp-${Math.random().toString(36).slice(2, 8)}`
  beforeAll(async () => {
    stack = await startTestStack(mode)
    const upserted = await stack.graphql(UPSERT_MODEL, { input: chargePoint(model) })
    expect(upserted.errors).toBeUndefined()
  })
  afterAll(() => stack?.close())

  const register = async (id: string, modelId = model) => {
    const result = await stack.graphql(REGISTER, { input: { id, modelId } })
    expect(result.errors).toBeUndefined()
  }
  const healthOf = async (id: string) => (await stack.graphql(TWIN_HEALTH, { id })).data?.device
  const send = (id: string, values: Record<string, unknown>, ts = Date.now()) =>
    stack.publish(stack.topics.device(id, 'telemetry'), { ts, values })

  it('flags a flapping cable, raises one alert, and recovers only after a quiet spell', async () => {
    const id = stack.deviceId('cp-flap')
    await register(id)
    await send(id, { door: true, power: 0 })
    const t0 = Date.now()
    // The door is open, so cable changes are plausible; ten changes in ten seconds is not use.
    await stack.publish(
      stack.topics.device(id, 'telemetry'),
      Array.from({ length: 10 }, (_, i) => ({
        ts: t0 + i * 100,
        values: { cable: i % 2 ? 'connected' : 'unplugged' },
      })),
    )
    const flapping = await waitFor(
      async () => {
        const d = await healthOf(id)
        return d?.twin.health === 'FLAPPING' && d
      },
      { what: 'FLAPPING' },
    )
    expect(flapping.twin.healthReason).toMatch(/cable: .*10 changes in 60 s \(limit 6\)/)
    expect(flapping.alerts).toEqual([
      expect.objectContaining({ sensor: 'cable', kind: 'FLAPPING', clearedAt: null }),
    ])

    // Operators find it by health in Temporal.
    const client = stack.temporal
    await waitFor(
      async () => {
        for await (const w of client.workflow.list({
          query: `TwinHealth = 'FLAPPING' AND DeviceId = '${id}'`,
        }))
          return w
        return undefined
      },
      { what: 'the twin listed by TwinHealth' },
    )

    // Nothing arrives: the twin's own timer ends the quiet period and clears the alert.
    const recovered = await waitFor(
      async () => {
        const d = await healthOf(id)
        return d?.twin.health === 'OK' && d
      },
      { what: 'OK after the quiet period' },
    )
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4000)
    expect(recovered.alerts).toHaveLength(1)
    expect(recovered.alerts[0].clearedAt).not.toBeNull()
  })

  it('lists, acknowledges and streams alerts', async () => {
    const id = stack.deviceId('cp-alert')
    await register(id)
    const sub = await stack.subscribe(
      `subscription ($id: ID) { alerts(deviceId: $id) { id sensor kind message acknowledgedBy } }`,
      { id },
    )
    try {
      let power = 30_000
      const raised = await waitFor(
        async () => {
          await send(id, { door: true, power: power++ })
          return sub.events.find((e) => e.alerts.kind === 'OUT_OF_RANGE')
        },
        { interval: 300, what: 'an alert event' },
      )
      expect(raised.alerts).toMatchObject({
        sensor: 'power',
        message: expect.stringContaining('above max 22000 W'),
      })

      const listed = await stack.graphql(
        `query ($id: ID!) { alerts(where: { deviceId: $id, active: true, kind: OUT_OF_RANGE }) { edges { node { id } } } }`,
        { id },
      )
      expect(listed.data?.alerts.edges).toEqual([{ node: { id: raised.alerts.id } }])

      const ack = `mutation ($id: ID!) { acknowledgeAlert(id: $id) { acknowledgedBy acknowledgedAt } }`
      const viewer = await stack.graphql(
        ack,
        { id: raised.alerts.id },
        `Bearer ${await stack.token('viewer')}`,
      )
      expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
      const done = await stack.graphql(
        ack,
        { id: raised.alerts.id },
        `Bearer ${await stack.token('operator', 'olga')}`,
      )
      expect(done.data?.acknowledgeAlert.acknowledgedBy).toBe('olga')
      await sub.next((e) => e.alerts.acknowledgedBy === 'olga', 'the acknowledgement streamed')

      // Back in range: the alert clears, and no second one was ever raised meanwhile.
      await send(id, { power: 1000 })
      await waitFor(
        async () => {
          const r = await stack.graphql(
            `query ($id: ID!) { device(id: $id) { alerts(active: true) { id } } }`,
            { id },
          )
          return r.data?.device.alerts.length === 0
        },
        { what: 'the alert cleared' },
      )
      const all = await stack.graphql(
        `query ($id: ID!) { device(id: $id) { alerts { kind clearedAt } } }`,
        { id },
      )
      expect(all.data?.device.alerts).toEqual([
        { kind: 'OUT_OF_RANGE', clearedAt: expect.any(String) },
      ])
    } finally {
      await sub.close()
    }
  })

  it('calls a cable change behind a closed door inconsistent, and a reading out of range', async () => {
    const id = stack.deviceId('cp-lie')
    await register(id)
    const t0 = Date.now()
    await send(id, { door: false, cable: 'unplugged', power: 0 }, t0)
    await send(id, { cable: 'connected', power: 30_000 }, t0 + 1000)
    const d = await waitFor(
      async () => {
        const device = await healthOf(id)
        const sensors = Object.fromEntries(
          (device?.twin.sensors ?? []).map((s: { name: string }) => [s.name, s]),
        )
        return (
          sensors.cable?.health === 'INCONSISTENT' &&
          sensors.power?.health === 'OUT_OF_RANGE' &&
          sensors
        )
      },
      { what: 'INCONSISTENT cable and OUT_OF_RANGE power' },
    )
    expect(d.cable.healthReason).toContain('door')
    expect(d.power.healthReason).toMatch(/30000 .*22000/)
  })

  it('calls a number STUCK while reported unchanged, and a sensor SILENT when it stops coming', async () => {
    const stuckModel = `${model}-stuck`
    const spec = chargePoint(stuckModel)
    const sensors = [
      { name: 'power', kind: 'NUMBER', min: 0, max: 22_000, stuckAfterSeconds: 60 },
      { name: 'door', kind: 'BOOLEAN', silentAfterSeconds: 2 },
    ]
    await stack.graphql(UPSERT_MODEL, { input: { ...spec, sensors, rules: [] } })
    const id = stack.deviceId('cp-stuck')
    await register(id, stuckModel)
    const now = Date.now()
    await send(id, { power: 7400, door: false }, now - 120_000)
    await send(id, { power: 7400 }, now - 30_000)
    const sensorsOf = async () => {
      const device = await healthOf(id)
      return Object.fromEntries(
        (device?.twin.sensors ?? []).map((x: { name: string }) => [x.name, x]),
      )
    }
    const stuck = await waitFor(
      async () => {
        const x = await sensorsOf()
        return x.power?.health === 'STUCK' && x
      },
      { what: 'STUCK power' },
    )
    expect(stuck.power.healthReason).toBe('unchanged at 7400 for 90 s while reporting (limit 60 s)')
    // The device keeps reporting power, but door no longer comes: the twin's timer notices.
    const silent = await waitFor(
      async () => {
        await send(id, { power: 7401 })
        const x = await sensorsOf()
        return x.door?.health === 'SILENT' && x
      },
      { interval: 500, what: 'SILENT door' },
    )
    expect(silent.door.healthReason).toMatch(/^not reported for \d+ s \(limit 2 s\)$/)
    expect(silent.power.health).toBe('OK')
  })

  it('marks a device offline on its last will, and SILENT when it stays quiet', async () => {
    const quietModel = `${model}-quiet`
    await stack.graphql(UPSERT_MODEL, { input: chargePoint(quietModel, { silentAfterSeconds: 2 }) })
    const id = stack.deviceId('cp-lwt')
    await register(id, quietModel)
    const statusTopic = stack.topics.device(id, 'status')
    const device = await mqtt.connectAsync(stack.mqttUrl, {
      clientId: id,
      will: { topic: statusTopic, payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
    })
    await device.publishAsync(statusTopic, '{"online":true}', { qos: 1, retain: true })
    await device.publishAsync(
      stack.topics.device(id, 'telemetry'),
      JSON.stringify({ values: { door: false } }),
      { qos: 1 },
    )
    await waitFor(async () => (await healthOf(id))?.twin.online === true, { what: 'online' })

    device.stream.destroy() // the connection drops without a goodbye: the broker sends the will
    await waitFor(async () => (await healthOf(id))?.twin.online === false, {
      what: 'offline from the will',
    })
    const silent = await waitFor(
      async () => {
        const d = await healthOf(id)
        return d?.twin.health === 'SILENT' && d
      },
      { what: 'SILENT' },
    )
    expect(silent.twin.healthReason).toMatch(/no message for \d+ s \(limit 2 s\)/)
    expect(silent.alerts).toContainEqual(
      expect.objectContaining({ sensor: null, kind: 'SILENT', clearedAt: null }),
    )
    device.end(true)
  })

  it('stores a 5-hour buffered burst as history without overwriting newer values', async () => {
    const id = stack.deviceId('car')
    await register(id)
    const now = Date.now()
    await send(id, { power: 7000 }, now)
    await waitFor(async () => (await healthOf(id))?.twin.reported?.power === 7000, {
      what: 'the newest value',
    })
    const burst = Array.from({ length: 300 }, (_, i) => ({
      ts: now - 5 * 3_600_000 + i * 60_000,
      seq: i,
      values: { power: 1000 + i },
    }))
    await stack.publish(stack.topics.device(id, 'telemetry'), burst)
    await waitFor(
      async () => {
        const [row] = await stack.database.db
          .select({ n: count() })
          .from(telemetry)
          .where(eq(telemetry.deviceId, id))
        return row?.n === 301
      },
      { what: 'all 301 readings stored' },
    )
    const after = await healthOf(id)
    expect(after?.twin.reported.power).toBe(7000)
  })
})
