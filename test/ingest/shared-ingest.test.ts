import { count, eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { telemetry, twinLive } from '../../src/db/schema.ts'
import { type Ingest, startIngest } from '../../src/ingest/ingest.ts'
import { log } from '../../src/log.ts'
import { TwinClient } from '../../src/workflows/client.ts'
import { stateQuery, twinWorkflowId } from '../../src/workflows/messages.ts'
import { startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

const DEVICES = 20
const READINGS = 30

// Shared subscriptions need a broker that has them: the machine's Mosquitto, not aedes.
describe('two ingests sharing the device topics on Mosquitto', () => {
  let stack: TestStack
  let second: Ingest
  beforeAll(async () => {
    const group = `ingest-${process.pid}`
    stack = await startTestStack('services', { env: { DEVTWIN_INGEST_SHARE_GROUP: group } })
    second = await startIngest({
      mqtt: {
        url: stack.mqttUrl,
        clientId: `second-${stack.deviceId()}`,
        protocolVersion: 5,
        ...stack.serviceCredentials,
      },
      db: stack.database.db,
      twins: new TwinClient(stack.temporal, stack.config.DEVTWIN_TASK_QUEUE),
      batchMs: 50,
      checkpointMs: 1_500,
      renudgeMs: 2_000,
      shareGroup: group,
      autoProvision: true,
      maxPayloadBytes: 65_536,
      rateLimit: { perSecond: 1000, burst: 1000 },
      topics: stack.topics,
      log: log.child({ test: 'second ingest' }),
    })
  })
  afterAll(async () => {
    await second?.stop()
    await stack?.close()
  })

  it('applies every reading once: none missed, none twice', async () => {
    const first = stack.ingest as Ingest
    const ids = Array.from({ length: DEVICES }, (_, d) => stack.deviceId(`shared-${d}`))
    const t0 = Date.now() - 60_000
    for (let n = 1; n <= READINGS; n++) {
      await Promise.all(
        ids.map((id) =>
          stack.publish(stack.topics.device(id, 'telemetry'), {
            seq: n,
            ts: t0 + n * 100,
            values: { n, odd: n % 2 === 1 },
          }),
        ),
      )
    }
    // Mosquitto hands each message to one member of the group: both ingests took a share.
    await waitFor(() => first.stats.accepted + second.stats.accepted === DEVICES * READINGS, {
      what: 'every message stored by one ingest or the other',
    })
    expect(first.stats.accepted).toBeGreaterThan(0)
    expect(second.stats.accepted).toBeGreaterThan(0)
    const [stored] = await stack.database.db
      .select({ n: count() })
      .from(telemetry)
      .where(inArray(telemetry.deviceId, ids))
    expect(stored?.n).toBe(DEVICES * READINGS * 2)

    for (const id of ids) {
      const handle = stack.temporal.workflow.getHandle(twinWorkflowId(id))
      const twin = await waitFor(
        async () => {
          const state = await handle.query(stateQuery).catch(() => undefined)
          return state?.sensors.n?.value === READINGS && state
        },
        { what: `n = ${READINGS} on ${id}` },
      )
      // Each message applied exactly once: a batch applied twice would count its messages twice.
      expect(twin.appliedMessages).toBe(READINGS)
      expect(new Set(twin.recentKeys).size).toBe(READINGS)
      // Both ingests numbered this device's inbox in one sequence, and the twin applied all of it.
      const [live] = await stack.database.db
        .select()
        .from(twinLive)
        .where(eq(twinLive.deviceId, id))
      expect(twin.inboxSeq).toBe(live?.inboxSeq)
    }
  })
})
