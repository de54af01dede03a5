import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { twins } from '../../src/db/schema.ts'
import type { TwinBatch } from '../../src/twins/batch.ts'
import { batchSignal, stateQuery, twinWorkflowId } from '../../src/workflows/messages.ts'
import { MODES, startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

const batch = (values: Record<string, string | number>, at = Date.now()): TwinBatch => ({
  readings: [{ time: at, deviceTime: null, receivedAt: at, seq: null, values, clockSkewed: false }],
  statuses: [],
  messages: 1,
  lastTelemetryAt: at,
})

describe.each(MODES)('a twin whose write Postgres refuses (%s)', (mode) => {
  let stack: TestStack
  beforeAll(async () => {
    stack = await startTestStack(mode)
  })
  afterAll(() => stack?.close())

  it('stores it normalised, says why, and keeps serving', async () => {
    const id = stack.deviceId('nul')
    // Straight to the workflow, as no path through ingest or GraphQL lets such a string in.
    const handle = await stack.temporal.workflow.signalWithStart('twinWorkflow', {
      workflowId: twinWorkflowId(id),
      taskQueue: stack.config.DEVTWIN_TASK_QUEUE,
      args: [{ deviceId: id }],
      signal: batchSignal,
      signalArgs: [batch({ label: 'a\u0000b', n: 1 })],
    })
    const snapshot = async () => {
      const [row] = await stack.database.db.select().from(twins).where(eq(twins.deviceId, id))
      return row?.state
    }
    const stored = await waitFor(
      async () => {
        const s = await snapshot()
        return s?.sensors.n?.value === 1 && s
      },
      { what: 'the normalised snapshot' },
    )
    expect(stored.sensors.label?.value).toBe('a\uFFFDb')
    // The workflow keeps the value as the device sent it; operators see why the copy differs.
    expect((await handle.query(stateQuery)).sensors.label?.value).toBe('a\u0000b')
    const details = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata')
    expect(details.currentDetails).toMatch(/stored with U\+FFFD: .*(0x00|\\u0000|Unicode)/)

    await handle.signal(batchSignal, batch({ label: 'fine', n: 2 }))
    await waitFor(async () => (await snapshot())?.sensors.n?.value === 2, {
      what: 'the next write',
    })
    expect((await snapshot())?.sensors.label?.value).toBe('fine')
  })
})
