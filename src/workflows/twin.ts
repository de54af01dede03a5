import {
  ApplicationFailure,
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
import { type AlertChange, alertChanges } from '../twins/alerts.ts'
import type { TwinChange } from '../twins/change.ts'
import { applyDesiredPatch, refuseDesiredPatch } from '../twins/desired.ts'
import type { DeviceModel } from '../twins/model.ts'
import { step } from '../twins/step.ts'
import { describeTwin } from '../twins/summary.ts'
import { applyBatch, newTwin, type TwinState } from '../twins/twin.ts'
import {
  batchSignal,
  decommissionSignal,
  modelSignal,
  setDesiredUpdate,
  stateQuery,
} from './messages.ts'
import { DEVICE_MODEL, TWIN_HEALTH, TWIN_ONLINE } from './search-attributes.ts'

// Local activities run in the worker that holds the twin, with no task-queue round trip, and
// leave one marker event in history instead of three.
const { loadDevice, persistTwin, publishDesired } = proxyLocalActivities<Activities>({
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
  /** The device's model as the previous run knew it; absent on a first run (loaded then). */
  model?: DeviceModel | null
  /** Revision of `twin` already in Postgres, when the previous run could not write the last. */
  persistedRevision?: number
  /** Change-log entries and alert changes the previous run had not written yet. */
  changes?: TwinChange[]
  alerts?: AlertChange[]
}

/**
 * One device's twin. Handlers only run the pure core (`step`); this loop writes each new state
 * and its change-log entries to Postgres (at most one write in flight, so a burst of batches
 * costs one write), keeps the operator view current, and wakes up when health may change with
 * no message (silence, the end of a flapping quiet period).
 */
export async function twinWorkflow(input: TwinWorkflowInput): Promise<void> {
  let twin = input.twin ?? newTwin(input.deviceId)
  let model = input.model ?? null
  let decommissioned = false
  // A first run learns its model from the registry. Handlers are set before that (a signal or
  // update must find its handler in the first activation) and wait for it, in arrival order.
  const registered = (
    input.model === undefined ? loadDevice(input.deviceId) : Promise.resolve(null)
  ).then((r) => {
    model = r ? r.model : model
    // Decommissioned before its twin started (ingest raced the registry): apply, write, end.
    decommissioned ||= r?.decommissioned ?? false
  })
  let persistedRevision = input.persistedRevision ?? twin.revision
  let changes: TwinChange[] = input.changes ?? []
  let alerts: AlertChange[] = input.alerts ?? []
  let nextCheckAt: number | null = null
  let batches = 0

  const advance = (transform: (t: TwinState) => TwinState) => {
    const now = Date.now()
    const before = twin
    const result = step(twin, transform, model, now)
    // Every applied step is a new revision to write, changed or not (times move on).
    twin = { ...result.twin, revision: twin.revision + 1 }
    if (result.change) changes.push({ ...result.change, twin })
    alerts.push(...alertChanges(before, twin, now))
    nextCheckAt = result.nextCheckAt
  }
  setHandler(batchSignal, async (batch) => {
    batches++
    await registered
    advance((t) => applyBatch(t, batch, model))
  })
  setHandler(modelSignal, async (next) => {
    await registered
    model = next
    advance((t) => t)
  })
  setHandler(decommissionSignal, () => {
    decommissioned = true
  })
  setHandler(stateQuery, () => twin)
  setHandler(
    setDesiredUpdate,
    async (patch) => {
      await registered
      advance((t) => applyDesiredPatch(t, patch))
      const { desired } = twin
      if (desired) await publishDesired(twin.deviceId, desired)
      return twin
    },
    {
      validator: (patch, expectedVersion) => {
        const refusal = refuseDesiredPatch(twin, patch, expectedVersion)
        if (refusal) {
          throw ApplicationFailure.create({
            type: refusal.code,
            message: refusal.message,
            nonRetryable: true,
          })
        }
      },
    },
  )

  // What the operator view last showed: search attributes change only when they must.
  let shown: Pick<TwinState, 'online' | 'health' | 'modelId'> | null = null
  const showToOperators = () => {
    if (
      shown?.online !== twin.online ||
      shown.health !== twin.health ||
      shown.modelId !== twin.modelId
    ) {
      upsertSearchAttributes([
        { key: TWIN_ONLINE, value: twin.online },
        { key: TWIN_HEALTH, value: twin.health },
        { key: DEVICE_MODEL, value: twin.modelId },
      ])
      shown = { online: twin.online, health: twin.health, modelId: twin.modelId }
    }
    setCurrentDetails(describeTwin(twin))
  }

  await registered
  advance((t) => t)

  const runIsFull = () => batches >= BATCHES_PER_RUN || workflowInfo().continueAsNewSuggested
  // A full run hands over at once, written or not: the next run writes what this one could not.
  while (!runIsFull()) {
    const dirty = () => twin.revision !== persistedRevision
    // Health needs no finer clock than a second; never spin on a deadline already past.
    const wait = nextCheckAt === null ? undefined : Math.max(1000, nextCheckAt - Date.now())
    // Decommissioned, the twin ends once every message it had is applied and written.
    const ending = () => decommissioned && allHandlersFinished()
    const due = () => dirty() || runIsFull() || ending()
    // condition() without a timeout resolves to nothing, with one to whether `due` came true.
    const timedOut = wait !== undefined && !(await condition(due, wait))
    if (wait === undefined) await condition(due)
    if (timedOut) advance((t) => t) // only time passed: judge health again
    if (!dirty()) {
      if (ending()) return
      continue
    }
    if (runIsFull()) break
    showToOperators()
    const written = { twin, changes, alerts }
    changes = []
    alerts = []
    await persistTwin(written)
    persistedRevision = written.twin.revision
  }
  await condition(allHandlersFinished)
  await continueAsNew<typeof twinWorkflow>({
    deviceId: twin.deviceId,
    twin,
    model,
    persistedRevision,
    changes,
    alerts,
  })
}
