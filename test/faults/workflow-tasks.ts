import { Client, Connection } from '@temporalio/client'
import { tsToMs } from '@temporalio/common/lib/time.js'
import pMap from 'p-map'
import { twinWorkflowId } from '../../src/workflows/messages.ts'

export interface TaskTimes {
  /** Workflow tasks completed in the window. */
  tasks: number
  /** The longest a worker took over one: WorkflowTaskStarted to WorkflowTaskCompleted. */
  slowestMs: number
  /** Tasks that took over 5 s (the limit). */
  over5s: number
  /** Tasks that timed out or failed in the window (Temporal ran them again). */
  timedOut: number
  failed: number
}

/**
 * How long the twins' workflow tasks took between `from` and `to`, from their histories (the
 * current run of each twin): the time a worker held each task, start to completion.
 */
export async function workflowTaskTimes(
  address: string,
  deviceIds: readonly string[],
  from: number,
  to: number,
): Promise<TaskTimes> {
  const connection = await Connection.connect({ address })
  const times: TaskTimes = { tasks: 0, slowestMs: 0, over5s: 0, timedOut: 0, failed: 0 }
  try {
    const client = new Client({ connection })
    await pMap(
      deviceIds,
      async (deviceId) => {
        const history = await client.workflow.getHandle(twinWorkflowId(deviceId)).fetchHistory()
        const started = new Map<string, number>()
        for (const event of history.events ?? []) {
          const at = event.eventTime ? tsToMs(event.eventTime) : 0
          if (event.workflowTaskStartedEventAttributes) {
            started.set(String(event.eventId), at)
            continue
          }
          if (at < from || at > to) continue
          if (event.workflowTaskTimedOutEventAttributes) times.timedOut++
          if (event.workflowTaskFailedEventAttributes) times.failed++
          const done = event.workflowTaskCompletedEventAttributes
          const begun = done && started.get(String(done.startedEventId))
          if (!begun) continue
          times.tasks++
          times.slowestMs = Math.max(times.slowestMs, at - begun)
          if (at - begun > 5000) times.over5s++
        }
      },
      { concurrency: 4 },
    )
  } finally {
    await connection.close()
  }
  return times
}
