import { eq } from 'drizzle-orm'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { devices } from '../../src/db/schema.ts'
import { verifySecret } from '../../src/device-access/credentials.ts'
import type { Ingest } from '../../src/ingest/ingest.ts'
import { twinWorkflowId } from '../../src/workflows/messages.ts'
import { chargePoint, REGISTER, TWIN_HEALTH, UPSERT_MODEL } from '../support/models.ts'
import { MODES, startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

const SET_DESIRED = /* GraphQL */ `
  mutation ($id: ID!, $patch: JSON!, $expected: Int) {
    setDesired(deviceId: $id, patch: $patch, expectedVersion: $expected) { desired desiredVersion delta }
  }
`

describe.each(MODES)('registry, models, desired state and history (%s)', (mode) => {
  let stack: TestStack
  const model = `cp-${Math.random().toString(36).slice(2, 8)}`
  beforeAll(async () => {
    stack = await startTestStack(mode)
    await stack.graphql(UPSERT_MODEL, { input: chargePoint(model) })
  })
  afterAll(() => stack?.close())

  it('registers a device with MQTT credentials shown once', async () => {
    const id = stack.deviceId('reg')
    const result = await stack.graphql(REGISTER, {
      input: { id, modelId: model, serialNumber: 'SN-1', labels: { site: 'north' } },
    })
    expect(result.data?.registerDevice).toMatchObject({
      device: { id, model: { id: model } },
      mqttUsername: id,
    })
    expect(result.data?.registerDevice.mqttPassword).toMatch(/^[\w-]{32}$/)
    // A rotated secret replaces the old one: only the new one matches the stored hash.
    const first = result.data?.registerDevice.mqttPassword as string
    const rotated = await stack.graphql(
      `mutation ($id: ID!) { rotateDeviceSecret(id: $id) { mqttUsername mqttPassword } }`,
      { id },
    )
    const second = rotated.data?.rotateDeviceSecret.mqttPassword as string
    expect(rotated.data?.rotateDeviceSecret.mqttUsername).toBe(id)
    const [row] = await stack.database.db.select().from(devices).where(eq(devices.id, id))
    expect(await verifySecret(second, row?.secretHash ?? '')).toBe(true)
    expect(await verifySecret(first, row?.secretHash ?? '')).toBe(false)
    expect(row?.secretHash).not.toContain(second)

    const again = await stack.graphql(REGISTER, { input: { id } })
    expect(again.errors?.[0]).toMatchObject({
      message: expect.stringContaining('already registered'),
      extensions: { code: 'BAD_USER_INPUT' },
    })
  })

  it('refuses what a person can fix, saying how', async () => {
    const badModel = await stack.graphql(UPSERT_MODEL, {
      input: {
        ...chargePoint('broken'),
        sensors: [{ name: 'power', kind: 'NUMBER', min: 10, max: 1 }],
      },
    })
    expect(badModel.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    expect(badModel.errors?.[0]?.message).toMatch(/sensors\.0/)
    const noModel = await stack.graphql(REGISTER, {
      input: { id: stack.deviceId(), modelId: 'nope' },
    })
    expect(noModel.errors?.[0]).toMatchObject({
      message: expect.stringContaining('upsertDeviceModel'),
      extensions: { code: 'BAD_USER_INPUT' },
    })
    const viewer = await stack.graphql(
      REGISTER,
      { input: { id: stack.deviceId() } },
      `Bearer ${await stack.token('viewer')}`,
    )
    expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
  })

  it('hands a changed model to a running twin', async () => {
    const id = stack.deviceId('remodel')
    await stack.graphql(REGISTER, { input: { id, modelId: model } })
    await stack.publish(stack.topics.device(id, 'telemetry'), { values: { power: 15_000 } })
    await waitFor(
      async () => (await stack.graphql(TWIN_HEALTH, { id })).data?.device?.twin.health === 'OK',
      { what: 'OK' },
    )
    // Lower the limit: the running twin judges its last value again, no restart, no new message.
    await stack.graphql(UPSERT_MODEL, {
      input: {
        ...chargePoint(model),
        sensors: [{ name: 'power', kind: 'NUMBER', min: 0, max: 11_000 }],
        rules: [],
      },
    })
    await waitFor(
      async () =>
        (await stack.graphql(TWIN_HEALTH, { id })).data?.device?.twin.health === 'OUT_OF_RANGE',
      {
        what: 'OUT_OF_RANGE under the new model',
      },
    )
    await stack.graphql(UPSERT_MODEL, { input: chargePoint(model) })
  })

  it('keeps desired state with optimistic concurrency, sends it retained, and tracks the delta', async () => {
    const id = stack.deviceId('desired')
    await stack.graphql(REGISTER, { input: { id } })
    const first = await stack.graphql(SET_DESIRED, {
      id,
      patch: { maxPower: 11_000, mode: 'eco' },
      expected: 0,
    })
    expect(first.data?.setDesired).toEqual({
      desired: { maxPower: 11_000, mode: 'eco' },
      desiredVersion: 1,
      delta: { maxPower: 11_000, mode: 'eco' },
    })
    const stale = await stack.graphql(SET_DESIRED, { id, patch: { mode: 'boost' }, expected: 0 })
    expect(stale.errors?.[0]).toMatchObject({
      extensions: { code: 'VERSION_CONFLICT' },
      message: expect.stringContaining('version 1'),
    })
    const bad = await stack.graphql(SET_DESIRED, { id, patch: [1, 2] })
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    // Merged as it was, `__proto__` became the state's prototype and the patch was lost unseen.
    const inherited = await stack.graphql(SET_DESIRED, {
      id,
      patch: JSON.parse('{"__proto__": {"mode": "boost"}}'),
    })
    expect(inherited.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: 'desired key "__proto__" is refused: every JavaScript object already has it',
    })

    // A device connecting later still gets the document: it is retained.
    const device = await mqtt.connectAsync(stack.mqttUrl, { clientId: `${id}-reader` })
    const received = new Promise<string>((resolve) =>
      device.on('message', (_, payload) => resolve(payload.toString())),
    )
    await device.subscribeAsync(stack.topics.device(id, 'desired'), { qos: 1 })
    expect(JSON.parse(await received)).toEqual({
      version: 1,
      state: { maxPower: 11_000, mode: 'eco' },
    })
    await device.endAsync()

    await stack.publish(stack.topics.device(id, 'telemetry'), { values: { mode: 'eco' } })
    await waitFor(
      async () => {
        const r = await stack.graphql(`query ($id: ID!) { device(id: $id) { twin { delta } } }`, {
          id,
        })
        const d = r.data?.device?.twin.delta
        return d && !('mode' in d) && d.maxPower === 11_000
      },
      { what: 'mode to leave the delta' },
    )
  })

  it('records every version in the change log, newest first, paged', async () => {
    const id = stack.deviceId('history')
    // Each reading waits for the twin to apply it: readings that arrive together are applied
    // together, as one version.
    for (let n = 1; n <= 4; n++) {
      await stack.publish(stack.topics.device(id, 'telemetry'), { values: { level: n } })
      await stack.applied(id, (reported) => reported.level === n)
    }
    const page = async (after?: string) =>
      (
        await stack.graphql(
          `query ($id: ID!, $after: String) { device(id: $id) { history(first: 2, after: $after) {
            edges { cursor node { version kind changes twin { version reported } } } pageInfo { hasNextPage endCursor } } } }`,
          { id, after },
        )
      ).data?.device?.history
    const first = await waitFor(
      async () => {
        const p = await page()
        return p?.edges[0]?.node.twin.reported.level === 4 && p
      },
      { what: 'version with level 4 in history' },
    )
    const versions = [first.edges[0].node.version, first.edges[1].node.version]
    expect(versions[0]).toBeGreaterThan(versions[1])
    expect(first.edges[0].node).toMatchObject({
      kind: expect.stringContaining('reported'),
      changes: { 'reported.level': { from: 3, to: 4 } },
    })
    expect(first.pageInfo.hasNextPage).toBe(true)
    const second = await page(first.pageInfo.endCursor)
    expect(second.edges[0].node.version).toBeLessThan(versions[1])
  })

  it('decommissions a device: its twin ends, its history stays, its telemetry is refused', async () => {
    const id = stack.deviceId('retire')
    await stack.graphql(REGISTER, { input: { id } })
    await stack.publish(stack.topics.device(id, 'telemetry'), { values: { a: 1 } })
    const handle = stack.temporal.workflow.getHandle(twinWorkflowId(id))
    await waitFor(async () => (await handle.describe()).status.name === 'RUNNING', {
      what: 'the twin running',
    })
    const result = await stack.graphql(
      `mutation ($id: ID!) { decommissionDevice(id: $id) { decommissionedAt } }`,
      { id },
    )
    expect(result.data?.decommissionDevice.decommissionedAt).toBeTruthy()
    await waitFor(async () => (await handle.describe()).status.name === 'COMPLETED', {
      what: 'the twin completed',
    })

    const ingest = stack.ingest as Ingest
    const refusedBefore = ingest.stats.rejected.decommissioned ?? 0
    await waitFor(
      async () => {
        await stack.publish(stack.topics.device(id, 'telemetry'), { values: { a: 2 } })
        return (ingest.stats.rejected.decommissioned ?? 0) > refusedBefore
      },
      { timeout: 20_000, interval: 500, what: 'telemetry refused as decommissioned' },
    )
    expect((await handle.describe()).status.name).toBe('COMPLETED')
    // Readings accepted in the moment before ingest learnt of the decommission (a: 2) are kept,
    // and the twin's last snapshot comes to show the newest of them, as its history does.
    const kept = await waitFor(
      async () => {
        const result = await stack.graphql(
          `query ($id: ID!) { device(id: $id) { twin { reported } telemetry(sensor: "a") { value } } }`,
          { id },
        )
        const device = result.data?.device
        const history = device?.telemetry.map((r: { value: number }) => r.value) ?? []
        return device?.twin.reported.a === history.at(-1) && { device, history }
      },
      { what: 'the snapshot to show the newest accepted reading' },
    )
    expect(kept.history).toContain(1)
    expect(kept.device.twin.reported).toEqual({ a: kept.history.at(-1) })
  })
})
