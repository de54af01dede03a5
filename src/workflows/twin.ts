import { allHandlersFinished, condition, continueAsNew } from '@temporalio/workflow'
import { TwinActor } from './twin/actor.ts'
import { setTwinHandlers } from './twin/handlers.ts'
import type { TwinWorkflowInput } from './twin/input.ts'
import { runTwin } from './twin/loop.ts'

/**
 * One device's twin (`twin/{deviceId}`). The state and the one way it changes are the actor's
 * (`twin/actor.ts`, over the pure core in `src/twins/`); the handlers (`twin/handlers.ts`) and
 * the main loop (`twin/loop.ts`) share it. A run hands over to the next (continue-as-new) with
 * whatever it had not written yet.
 */
export async function twinWorkflow(input: TwinWorkflowInput): Promise<void> {
  const actor = new TwinActor(input)
  setTwinHandlers(actor)
  await actor.registered
  actor.advance((t) => t)
  if ((await runTwin(actor)) === 'ended') return
  await condition(allHandlersFinished)
  const { twin, model, persistedRevision, unwritten, outbox, knownSeq } = actor
  await continueAsNew<typeof twinWorkflow>({
    deviceId: twin.deviceId,
    twin,
    model,
    persistedRevision,
    ...unwritten,
    outbox,
    knownSeq,
  })
}
