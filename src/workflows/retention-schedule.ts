import {
  type Client,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
} from '@temporalio/client'
import type { Config } from '../config.ts'
import type { RetentionPolicy } from '../db/retained-tables.ts'

/** One schedule per task queue (deployments and test runs sharing a namespace keep apart). */
export const retentionScheduleId = (taskQueue: string) => `retention/${taskQueue}`

/** The configured retention, table by table: tables without a setting are left out. */
export function retentionPolicy(config: Config): RetentionPolicy {
  const policy: RetentionPolicy = {
    telemetry: config.DEVTWIN_RETENTION_TELEMETRY,
    twin_events: config.DEVTWIN_RETENTION_TWIN_EVENTS,
    rejected_messages: config.DEVTWIN_RETENTION_REJECTED_MESSAGES,
    command_events: config.DEVTWIN_RETENTION_COMMAND_EVENTS,
  }
  return Object.fromEntries(Object.entries(policy).filter(([, ms]) => ms !== undefined))
}

/**
 * Makes the retention Schedule match the configuration, whichever worker starts first and however
 * often: created when missing, updated when present, deleted when no table has a retention.
 * Runs that would overlap a run still under way are skipped.
 */
export async function ensureRetentionSchedule(
  client: Client,
  opts: { taskQueue: string; policy: RetentionPolicy; everyMs: number },
): Promise<string | null> {
  const scheduleId = retentionScheduleId(opts.taskQueue)
  const handle = client.schedule.getHandle(scheduleId)
  if (Object.keys(opts.policy).length === 0) {
    await handle.delete().catch((error) => {
      if (!(error instanceof ScheduleNotFoundError)) throw error
    })
    return null
  }
  const schedule = {
    spec: { intervals: [{ every: opts.everyMs }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: 'retentionWorkflow',
      workflowId: scheduleId,
      taskQueue: opts.taskQueue,
      args: [opts.policy],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
  }
  try {
    await client.schedule.create({ scheduleId, ...schedule })
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error
    await handle.update((previous) => ({ ...previous, ...schedule }))
  }
  return scheduleId
}
