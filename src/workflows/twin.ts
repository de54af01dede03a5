import {
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow'
import type { Activities } from '../activities/index.ts'
import { describeTwin } from '../twins/summary.ts'
import { applyBatch, newTwin, type TwinState } from '../twins/twin.ts'
import { batchSignal, stateQuery } from './messages.ts'
import { TWIN_ONLINE } from './search-attributes.ts'

// Persisting is a local activity: it runs in the worker that holds the twin, with no task-queue
// round trip, and leaves one marker event in history instead of three.
const { persistTwin } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' },
})

/**
 * Temporal caps a run at 10,000 signals and suggests continuing at 4,096 events; each batch
 * costs a signal, a workflow task and a marker, so a run hands over well before either.
 */
export const BATCHES_PER_RUN = 1000

export interface TwinWorkflowInput {
  deviceId: string
  /** State carried over from the previous run (continue-as-new). */
  twin?: TwinState
  /** Revision of `twin` already in Postgres, when the previous run could not write the last. */
  persistedRevision?: number
}

/**
 * One device's twin. Handlers only apply messages to the pure core; this loop writes each new
 * state to Postgres (at most one write in flight, so a burst of batches costs one write) and
 * keeps the operator view current.
 */
export async function twinWorkflow(input: TwinWorkflowInput): Promise<void> {
  let twin = input.twin ?? newTwin(input.deviceId)
  let persistedRevision = input.persistedRevision ?? twin.revision
  let publishedVersion = twin.version
  let online: boolean | undefined
  let batches = 0

  setHandler(batchSignal, (batch) => {
    twin = applyBatch(twin, batch)
    batches++
  })
  setHandler(stateQuery, () => twin)

  const runIsFull = () => batches >= BATCHES_PER_RUN || workflowInfo().continueAsNewSuggested
  for (;;) {
    await condition(() => twin.revision !== persistedRevision || runIsFull())
    if (twin.revision === persistedRevision) break
    const snapshot = twin
    if (snapshot.online !== online) {
      online = snapshot.online
      upsertSearchAttributes([{ key: TWIN_ONLINE, value: online }])
    }
    setCurrentDetails(describeTwin(snapshot))
    await persistTwin({ twin: snapshot, changed: snapshot.version !== publishedVersion })
    persistedRevision = snapshot.revision
    publishedVersion = snapshot.version
  }
  await condition(allHandlersFinished)
  await continueAsNew<typeof twinWorkflow>({ deviceId: twin.deviceId, twin, persistedRevision })
}
