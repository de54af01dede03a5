import { asc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { telemetry, twins } from '../../src/db/schema.ts'
import type { Ingest } from '../../src/ingest/ingest.ts'
import { stateQuery, twinWorkflowId } from '../../src/workflows/messages.ts'
import { MODES, startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

describe.each(MODES)('twin across a worker restart (%s)', (mode) => {
  let stack: TestStack
  beforeAll(async () => {
    // The worker runs apart from ingest and api, so the test can stop and start it.
    stack = await startTestStack(mode, { roles: ['ingest', 'api'] })
  })
  afterAll(() => stack?.close())

  const worker = () => stack.startWorker()

  it('loses no reading and keeps the twin intact, continuing-as-new on the way', async () => {
    const ingest = stack.ingest as Ingest
    const id = stack.deviceId('restart')
    const t0 = Date.now() - 3_600_000
    let sent = 0
    // Rounds of a few messages, each waited for, so the twin gets many batches (and so many
    // history events that Temporal suggests continuing as new). A status report ends each round:
    // urgent, so the round goes to the twin at once, not at its checkpoint.
    const round = async () => {
      const before = ingest.stats.accepted
      for (let i = 0; i < 3; i++) {
        sent++
        await stack.publish(stack.topics.device(id, 'telemetry'), {
          seq: sent,
          ts: t0 + sent * 1000,
          values: { n: sent, even: sent % 2 === 0 },
        })
      }
      await stack.publish(stack.topics.device(id, 'status'), { online: true })
      await waitFor(() => ingest.stats.accepted >= before + 4, {
        what: 'ingest to accept the round',
      })
    }
    // With a worker, each round waits for the twin to apply it: one delivery, one workflow task.
    const appliedRound = async () => {
      await round()
      await stack.applied(id, (reported) => reported.n === sent)
    }

    let running = await worker()
    for (let r = 0; r < 30; r++) await appliedRound()
    await running.stop()
    // Stored while no worker runs: the twin catches up on them from its inbox.
    for (let r = 0; r < 10; r++) await round()
    running = await worker()
    try {
      for (let r = 0; r < 30; r++) await appliedRound()

      const stored = await waitFor(
        async () => {
          const rows = await stack.database.db
            .select({ seq: telemetry.seq })
            .from(telemetry)
            .where(eq(telemetry.deviceId, id))
            .orderBy(asc(telemetry.seq), asc(telemetry.sensor))
          return rows.length === sent * 2 && rows
        },
        { what: `${sent * 2} stored readings` },
      )
      expect(new Set(stored.map((r) => r.seq)).size).toBe(sent)

      const handle = stack.temporal.workflow.getHandle(twinWorkflowId(id))
      const twin = await waitFor(
        async () => {
          const state = await handle.query(stateQuery)
          return state.sensors.n?.value === sent && state
        },
        { what: `n = ${sent} in the twin` },
      )
      expect(twin.sensors.n).toMatchObject({
        value: sent,
        time: t0 + sent * 1000,
        changedAt: t0 + sent * 1000,
      })
      expect(twin.sensors.even?.value).toBe(sent % 2 === 0)
      expect(twin.recentKeys.at(-1)).toBe(`${sent}@${t0 + sent * 1000}`)

      const description = await handle.describe()
      expect(description.raw.workflowExecutionInfo?.firstRunId).not.toBe(description.runId)

      // Postgres serves the same twin.
      const served = await waitFor(
        async () => {
          const result = await stack.graphql(
            `query ($id: ID!) { device(id: $id) { twin { version reported } } }`,
            { id },
          )
          const t = result.data?.device?.twin
          return t?.version === twin.version && t
        },
        { what: 'the snapshot to catch up' },
      )
      expect(served.reported).toEqual({ n: sent, even: sent % 2 === 0 })
      // The snapshot leaves out what only the workflow needs.
      const [snapshot] = await stack.database.db
        .select({ state: twins.state })
        .from(twins)
        .where(eq(twins.deviceId, id))
      expect(snapshot?.state.recentKeys).toEqual([])
    } finally {
      await running.stop()
    }
  })
})
