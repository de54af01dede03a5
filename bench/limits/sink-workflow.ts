// The cheapest twin there is: it takes batches and counts them, so a probe of Temporal measures
// the server's signal path and not devtwin's own work.
import {
  condition,
  continueAsNew,
  defineSignal,
  proxySinks,
  type Sinks,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow'

export const sinkBatchSignal = defineSignal<[unknown]>('batch')

/** Tells the probe each signal a workflow handled: no history event, no activity. */
export interface ProbeSinks extends Sinks {
  probe: { handled(): void }
}
const { probe } = proxySinks<ProbeSinks>()

/** As devtwin's twins do (BATCHES_PER_RUN): hand over early so histories stay small. */
const SIGNALS_PER_RUN = 1000

export async function sinkWorkflow(total = 0): Promise<void> {
  let signals = 0
  setHandler(sinkBatchSignal, () => {
    signals++
    probe.handled()
  })
  await condition(() => signals >= SIGNALS_PER_RUN || workflowInfo().continueAsNewSuggested)
  await continueAsNew<typeof sinkWorkflow>(total + signals)
}
