import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client'
import pMap from 'p-map'
import { batchSignal, twinWorkflowId } from '../workflows/messages.ts'
import { DEVICE_ID, TWIN_ONLINE } from '../workflows/search-attributes.ts'
import type { twinWorkflow } from '../workflows/twin.ts'
import { type DeviceBatch, toTwinBatch } from './batcher.ts'

/** Signals in flight at once: enough to hide round trips, few enough not to swamp Temporal. */
const CONCURRENCY = 32

/**
 * Sends each device its batch as one signal, starting its twin if it has none. Returns the
 * batches Temporal did not accept, to be tried again, and those of twins that ended for good.
 */
export async function signalTwins(
  temporal: Client,
  taskQueue: string,
  batches: readonly DeviceBatch[],
): Promise<{ failed: DeviceBatch[]; errors: unknown[]; ended: DeviceBatch[] }> {
  const failed: DeviceBatch[] = []
  const errors: unknown[] = []
  const ended: DeviceBatch[] = []
  await pMap(
    batches,
    async (batch) => {
      try {
        await temporal.workflow.signalWithStart<
          typeof twinWorkflow,
          [ReturnType<typeof toTwinBatch>]
        >('twinWorkflow', {
          workflowId: twinWorkflowId(batch.deviceId),
          taskQueue,
          args: [{ deviceId: batch.deviceId }],
          signal: batchSignal,
          signalArgs: [toTwinBatch(batch)],
          typedSearchAttributes: [
            { key: DEVICE_ID, value: batch.deviceId },
            { key: TWIN_ONLINE, value: false },
          ],
        })
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) {
          ended.push(batch)
        } else {
          failed.push(batch)
          errors.push(error)
        }
      }
    },
    { concurrency: CONCURRENCY },
  )
  return { failed, errors, ended }
}
