import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { twinWorkflowId } from '../../src/workflows/messages.ts'
import { subscribe } from '../support/graphql.ts'
import { MODES, startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

const TWIN = /* GraphQL */ `
  query ($id: ID!) {
    device(id: $id) {
      id
      twin { version online lastSeenAt reported sensors { name value deviceTime changedAt } lag { pendingBatches since seconds } }
    }
  }
`

describe.each(MODES)('GraphQL API (%s)', (mode) => {
  let stack: TestStack
  beforeAll(async () => {
    stack = await startTestStack(mode)
  })
  afterAll(() => stack?.close())

  const twinOf = async (id: string) => (await stack.graphql(TWIN, { id })).data?.device?.twin

  it('serves the twin of a device that published telemetry', async () => {
    const id = stack.deviceId('demo')
    await stack.publish(stack.topics.device(id, 'telemetry'), { values: { temperature: 21.5 } })
    const twin = await waitFor(
      async () => {
        const t = await twinOf(id)
        return t?.reported?.temperature === 21.5 && t
      },
      { what: 'temperature 21.5 on the twin' },
    )
    // Live: the value is there before the workflow has applied it (or just after).
    expect(twin.sensors).toMatchObject([{ name: 'temperature', value: 21.5, deviceTime: null }])
    expect(Date.parse(twin.lastSeenAt)).toBeGreaterThan(Date.now() - 60_000)
    // The workflow's version follows, and then the twin has no lag left.
    const applied = await waitFor(
      async () => {
        const t = await twinOf(id)
        return t?.version === 1 && t.lag.pendingBatches === 0 && t
      },
      { what: 'version 1 applied by the workflow' },
    )
    expect(applied).toMatchObject({ online: false, lag: { since: null, seconds: 0 } })
    // Operators see the same in the Temporal UI's current details.
    const metadata = await stack.temporal.workflow
      .getHandle(twinWorkflowId(id))
      .query<{ currentDetails: string }>('__temporal_workflow_metadata')
    expect(metadata.currentDetails).toMatch(/inbox #1 applied \d+\.\d s after arrival/)
  })

  it('pushes twin changes to graphql-ws subscribers', async () => {
    const id = stack.deviceId('sub')
    const sub = await stack.subscribe(
      `subscription ($id: ID!) { twinChanged(deviceId: $id) { deviceId version live kind changes twin { reported } } }`,
      { id },
    )
    try {
      // The server subscribes to the broker as the subscription starts: publish until it listens.
      let value = 0
      const event = await waitFor(
        async () => {
          await stack.publish(stack.topics.device(id, 'telemetry'), { values: { power: ++value } })
          return sub.events.find((e) => e.twinChanged.deviceId === id)
        },
        { interval: 300, what: 'a twinChanged event' },
      )
      expect(event.twinChanged.twin.reported.power).toBeGreaterThanOrEqual(1)
      // Both speeds arrive: the live change from ingest, and the workflow's new version.
      const live = await waitFor(() => sub.events.find((e) => e.twinChanged.live), {
        what: 'a live event',
      })
      expect(live.twinChanged).toMatchObject({ kind: 'live', changes: expect.any(Object) })
      const version = await waitFor(() => sub.events.find((e) => !e.twinChanged.live), {
        what: 'a version event',
      })
      expect(version.twinChanged.version).toBeGreaterThanOrEqual(1)
      expect(sub.errors).toEqual([])
    } finally {
      await sub.close()
    }
  })

  it('streams live telemetry, filtered by sensor', async () => {
    const id = stack.deviceId('live')
    const sub = await stack.subscribe(
      `subscription ($id: ID!) { telemetry(deviceId: $id, sensor: "door") { deviceId sensor value deviceTime } }`,
      { id },
    )
    try {
      const ts = Date.parse('2026-11-23T10:00:00Z')
      const event = await waitFor(
        async () => {
          await stack.publish(stack.topics.device(id, 'telemetry'), {
            ts,
            values: { door: true, temperature: 3 },
          })
          return sub.events[0]
        },
        { interval: 300, what: 'a telemetry event' },
      )
      expect(event.telemetry).toEqual({
        deviceId: id,
        sensor: 'door',
        value: true,
        deviceTime: '2026-11-23T10:00:00.000Z',
      })
      expect(sub.events.every((e) => e.telemetry.sensor === 'door')).toBe(true)
    } finally {
      await sub.close()
    }
  })

  it('lists devices as a Relay connection filtered by online', async () => {
    const online = stack.deviceId('on')
    const offline = stack.deviceId('off')
    await stack.publish(stack.topics.device(online, 'status'), { online: true })
    await stack.publish(stack.topics.device(offline, 'telemetry'), { values: { a: 1 } })
    const ids = async (where: object) => {
      const result = await stack.graphql(
        `query ($where: DeviceFilter) { devices(first: 500, where: $where) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`,
        { where },
      )
      return result.data?.devices.edges.map((e: { node: { id: string } }) => e.node.id) as string[]
    }
    await waitFor(async () => (await ids({ online: true })).includes(online), {
      what: 'the online device listed',
    })
    await waitFor(async () => (await ids({ online: false })).includes(offline), {
      what: 'the offline device listed',
    })
    expect(await ids({ online: true })).not.toContain(offline)
    expect(await ids({ online: false })).not.toContain(online)

    const first = await stack.graphql(
      `{ devices(first: 1) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
    )
    const next = await stack.graphql(
      `query ($after: String) { devices(first: 1, after: $after) { edges { node { id } } } }`,
      {
        after: first.data?.devices.pageInfo.endCursor,
      },
    )
    expect(first.data?.devices.pageInfo.hasNextPage).toBe(true)
    expect(next.data?.devices.edges[0].node.id > first.data?.devices.edges[0].node.id).toBe(true)
  })

  it('serves raw telemetry history, newest `last` in time order', async () => {
    const id = stack.deviceId('hist')
    const t0 = Date.parse('2026-11-23T08:00:00Z')
    await stack.publish(
      stack.topics.device(id, 'telemetry'),
      [1, 2, 3, 4, 5].map((n) => ({ ts: t0 + n * 1000, seq: n, values: { level: n } })),
    )
    const readings = await waitFor(
      async () => {
        const result = await stack.graphql(
          `query ($id: ID!) { device(id: $id) { telemetry(sensor: "level", last: 3) { value deviceTime } } }`,
          { id },
        )
        const list = result.data?.device?.telemetry
        return list?.length === 3 && list
      },
      { what: 'three readings' },
    )
    expect(readings.map((r: { value: number }) => r.value)).toEqual([3, 4, 5])
  })

  it('refuses callers without a valid token', async () => {
    const none = await stack.graphql('{ devices { edges { cursor } } }', {}, null)
    expect(none.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
    const forged = await stack.graphql('{ devices { edges { cursor } } }', {}, 'Bearer not.a.jwt')
    expect(forged.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
  })

  it('closes a graphql-ws connection without a valid token, saying why', async () => {
    const sub = await subscribe(
      stack.graphqlUrl ?? '',
      'Bearer forged',
      'subscription { twinChanged(deviceId: "x") { version } }',
    )
    await sub.close()
    expect(sub.closed()).toMatchObject({
      code: 4401,
      reason: expect.stringContaining('UNAUTHENTICATED'),
    })
    expect(sub.events).toEqual([])
  })

  it('answers a bad argument with BAD_USER_INPUT', async () => {
    const result = await stack.graphql('{ devices(first: 501) { edges { cursor } } }')
    expect(result.errors?.[0]).toMatchObject({
      message: 'first must be between 0 and 500, got 501',
      extensions: { code: 'BAD_USER_INPUT' },
    })
  })
})
