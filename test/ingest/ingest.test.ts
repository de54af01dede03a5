import { Client, Connection } from '@temporalio/client'
import { count, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rejectedMessages, telemetry } from '../../src/db/schema.ts'
import { freePort } from '../../src/embedded/ports.ts'
import { type Ingest, startIngest } from '../../src/ingest/ingest.ts'
import { log } from '../../src/log.ts'
import { TwinClient } from '../../src/workflows/client.ts'
import { stateQuery, twinWorkflowId } from '../../src/workflows/messages.ts'
import { MODES, startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

async function storedReadingsOf(stack: TestStack, deviceId: string): Promise<number> {
  const [row] = await stack.database.db
    .select({ n: count() })
    .from(telemetry)
    .where(eq(telemetry.deviceId, deviceId))
  return row?.n ?? 0
}

async function reportedIn(stack: TestStack, deviceId: string) {
  const result = await stack.graphql(`query ($id: ID!) { device(id: $id) { twin { reported } } }`, {
    id: deviceId,
  })
  return result.data?.device?.twin?.reported
}

describe.each(MODES)('ingest (%s)', (mode) => {
  let stack: TestStack
  beforeAll(async () => {
    stack = await startTestStack(mode)
  })
  afterAll(() => stack?.close())

  const storedReadings = (id: string) => storedReadingsOf(stack, id)
  const reportedOf = (id: string) => reportedIn(stack, id)

  it('restarts a twin that ended behind its back, where the last one left off', async () => {
    const id = stack.deviceId('ended')
    const send = (n: number, values: Record<string, unknown>) =>
      stack.publish(stack.topics.device(id, 'telemetry'), { seq: n, ts: Date.now(), values })
    await send(1, { n: 1, door: 'closed' })
    // Applied by the twin's workflow, not only in the live state GraphQL shows at once.
    await stack.applied(id, (reported) => reported.n === 1)
    // Ingest now knows the twin runs and sends it plain signals.
    const handle = stack.temporal.workflow.getHandle(twinWorkflowId(id))
    const { runId } = await handle.describe()
    const before = await handle.query(stateQuery)
    await handle.terminate('an operator ended it')
    // A signal to the ended twin fails; ingest starts a new one, which takes up the snapshot.
    await send(2, { n: 2 })
    const twin = await waitFor(
      async () => {
        const state = await handle.query(stateQuery).catch(() => undefined)
        return state?.sensors.n?.value === 2 && state
      },
      { what: 'n = 2 on a new twin' },
    )
    expect((await handle.describe()).runId).not.toBe(runId)
    expect(twin.sensors.door?.value).toBe('closed')
    expect(twin.version).toBeGreaterThan(before.version)
    expect(twin.revision).toBeGreaterThan(before.revision)
    // Its writes carry on from the old snapshot's revision, so Postgres serves them.
    await waitFor(async () => (await reportedOf(id))?.n === 2, { what: 'n = 2 in the snapshot' })
    expect(await reportedOf(id)).toEqual({ n: 2, door: 'closed' })
  })

  it('stores every good reading and rejects malformed messages without disturbing them', async () => {
    const ingest = stack.ingest as Ingest
    const devices = [stack.deviceId('a'), stack.deviceId('b'), stack.deviceId('c')]
    const rejectedBefore = { ...ingest.stats.rejected }
    const signalsBefore = ingest.stats.signals
    const receivedBefore = ingest.stats.received
    const bad = [
      '{"values":',
      '{"values":{"t":{"x":1}}}',
      '"just a string"',
      '{"ts":"yesterday","values":{"t":1}}',
    ]
    const publishes: Promise<unknown>[] = []
    for (let n = 1; n <= 30; n++) {
      for (const id of devices) {
        publishes.push(
          stack.publish(stack.topics.device(id, 'telemetry'), {
            seq: n,
            ts: Date.now() - 60_000 + n,
            values: { t: n },
          }),
        )
      }
      if (n % 3 === 0)
        publishes.push(
          stack.publish(
            stack.topics.device(devices[0] as string, 'telemetry'),
            bad[n % bad.length] as string,
          ),
        )
    }
    await Promise.all(publishes)

    for (const id of devices) {
      await waitFor(async () => (await storedReadings(id)) === 30, { what: `30 readings of ${id}` })
      await waitFor(async () => (await reportedOf(id))?.t === 30, { what: `t = 30 on ${id}` })
    }
    expect(ingest.stats.received - receivedBefore).toBe(100)
    const rejected = (reason: 'bad_json' | 'bad_payload') =>
      (ingest.stats.rejected[reason] ?? 0) - (rejectedBefore[reason] ?? 0)
    expect(rejected('bad_json')).toBe(2)
    expect(rejected('bad_payload')).toBe(8)
    // Coalescing: far fewer signals than the 90 good messages.
    expect(ingest.stats.signals - signalsBefore).toBeLessThan(90)
    // Every rejected message is kept, with why and what it said.
    const kept = await waitFor(
      async () => {
        const rows = await stack.database.db
          .select()
          .from(rejectedMessages)
          .where(eq(rejectedMessages.deviceId, devices[0] as string))
        return rows.length === 10 && rows
      },
      { what: '10 rejected messages kept' },
    )
    const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8')
    expect(kept.filter((r) => r.reason === 'bad_json').map((r) => text(r.payload))).toEqual([
      '{"values":',
      '{"values":',
    ])
    expect(kept.find((r) => text(r.payload) === '"just a string"')).toMatchObject({
      reason: 'bad_payload',
      detail: expect.any(String),
    })
  })

  it('limits a flooding device without slowing the others', async () => {
    const ingest = stack.ingest as Ingest
    const flood = stack.deviceId('flood')
    const calm = stack.deviceId('calm')
    const limitedBefore = ingest.stats.rejected.rate_limited ?? 0
    for (let n = 1; n <= 400; n++) {
      void stack.publish(stack.topics.device(flood, 'telemetry'), { seq: n, values: { n } }, 0)
      if (n % 40 === 0)
        await stack.publish(stack.topics.device(calm, 'telemetry'), { seq: n, values: { n } })
    }
    await waitFor(async () => (await storedReadings(calm)) === 10, {
      what: 'all 10 readings of the calm device',
    })
    const limited = await waitFor(
      async () => {
        const rows = await stack.database.db
          .select()
          .from(rejectedMessages)
          .where(eq(rejectedMessages.deviceId, flood))
        const stored = await storedReadings(flood)
        return stored + rows.length === 400 && { rows, stored }
      },
      { what: 'every flood message stored or kept as rejected' },
    )
    expect(limited.rows.length).toBeGreaterThan(0)
    expect(limited.rows.every((r) => r.reason === 'rate_limited')).toBe(true)
    expect((ingest.stats.rejected.rate_limited ?? 0) - limitedBefore).toBe(limited.rows.length)
  })

  it('stores a re-delivered message once', async () => {
    const id = stack.deviceId('dup')
    const message = { seq: 1, ts: Date.parse('2026-11-23T09:00:00Z'), values: { a: 1, b: 2 } }
    await stack.publish(stack.topics.device(id, 'telemetry'), message)
    await stack.publish(stack.topics.device(id, 'telemetry'), message)
    await stack.publish(stack.topics.device(id, 'telemetry'), {
      seq: 2,
      ts: message.ts + 1,
      values: { a: 3 },
    })
    await waitFor(async () => (await reportedOf(id))?.a === 3, { what: 'a = 3' })
    expect(await storedReadings(id)).toBe(3)
  })
})

describe.each(MODES)('ingest crash (%s)', (mode) => {
  let stack: TestStack
  beforeAll(async () => {
    // No ingest role: the test runs its own, to crash it.
    stack = await startTestStack(mode, { roles: ['worker', 'api'] })
  })
  afterAll(() => stack?.close())

  const storedReadings = (id: string) => storedReadingsOf(stack, id)
  const reportedOf = (id: string) => reportedIn(stack, id)

  /** An ingest of the test's own, on a persistent session of its own. */
  const ingestOptions = (clientId: string, twins?: TwinClient) => ({
    mqtt: {
      url: stack.mqttUrl,
      clientId,
      protocolVersion: mode === 'services' ? 5 : 4,
      ...stack.serviceCredentials,
    } as const,
    db: stack.database.db,
    twins: twins ?? new TwinClient(stack.temporal, stack.config.DEVTWIN_TASK_QUEUE),
    checkpointMs: 30_000,
    renudgeMs: 2_000,
    autoProvision: true,
    maxPayloadBytes: 65_536,
    rateLimit: { perSecond: 1000, burst: 1000 },
    topics: stack.topics,
    log: log.child({ test: 'crash' }),
  })

  it('loses nothing when it crashes holding unacknowledged messages', async () => {
    const options = ingestOptions(`crash-test-${stack.deviceId()}`)
    // A window far longer than the test: the first ingest never flushes.
    const first = await startIngest({ ...options, batchMs: 600_000 })
    const id = stack.deviceId('crash')
    for (let n = 1; n <= 10; n++) {
      await stack.publish(stack.topics.device(id, 'telemetry'), {
        seq: n,
        ts: Date.now(),
        values: { n },
      })
    }
    await waitFor(() => first.stats.received >= 10, { what: 'the first ingest to receive all 10' })
    await first.kill()
    expect(await storedReadings(id)).toBe(0)

    const second = await startIngest({ ...options, batchMs: 50 })
    try {
      await waitFor(async () => (await storedReadings(id)) === 10, {
        what: 'the broker to re-deliver all 10',
      })
      await waitFor(async () => (await reportedOf(id))?.n === 10, { what: 'n = 10 on the twin' })
    } finally {
      await second.stop()
    }
  })

  it('gets a stored reading to its twin when ingest dies before telling the twin', async () => {
    // This ingest reaches Postgres but not Temporal: it stores and acknowledges, and any delivery
    // it claims hangs until it is killed, as if it died between storing and signalling.
    const nowhere = Connection.lazy({ address: `127.0.0.1:${await freePort()}` })
    const unreachable = new TwinClient(new Client({ connection: nowhere }), 'nowhere')
    const first = await startIngest({
      ...ingestOptions(`cut-off-${stack.deviceId()}`, unreachable),
      batchMs: 20,
    })
    const id = stack.deviceId('cut-off')
    for (let n = 1; n <= 3; n++) {
      await stack.publish(stack.topics.device(id, 'telemetry'), {
        seq: n,
        ts: Date.now(),
        values: { n },
      })
    }
    await waitFor(() => first.stats.accepted === 3, { what: 'all 3 stored and acknowledged' })
    expect(await storedReadings(id)).toBe(3)
    expect(first.stats.signals).toBe(0)
    await first.kill()
    await nowhere.close()

    // Any ingest (here a restarted one, with nothing re-delivered) tells the twin from Postgres.
    const second = await startIngest({
      ...ingestOptions(`restarted-${stack.deviceId()}`),
      batchMs: 20,
    })
    try {
      const handle = stack.temporal.workflow.getHandle(twinWorkflowId(id))
      const twin = await waitFor(
        async () => {
          const state = await handle.query(stateQuery).catch(() => undefined)
          return state?.sensors.n?.value === 3 && state
        },
        { timeout: 30_000, what: 'n = 3 on the twin' },
      )
      expect(twin.appliedMessages).toBe(3)
    } finally {
      await second.stop()
    }
  })
})
