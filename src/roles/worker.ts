import { Client } from '@temporalio/client'
import { step } from '../progress.ts'
import { ensureRetentionSchedule, retentionPolicy } from '../workflows/retention-schedule.ts'
import { startWorker } from '../workflows/worker.ts'
import type { Services } from './services.ts'

/**
 * The worker role: runs the twin workflows and their activities, and keeps the retention
 * Schedule in line with this worker's settings (the last worker started wins).
 */
export async function startWorkerRole(s: Services, workflowBundlePath?: string): Promise<void> {
  const { config } = s
  const mqtt = await s.mqtt('worker')
  const worker = await step(
    s.say,
    workflowBundlePath ? 'starting the worker' : 'bundling the twin workflows for the worker',
    () =>
      startWorker({
        address: s.temporalAddress,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: config.DEVTWIN_TASK_QUEUE,
        db: s.db,
        mqtt,
        topics: s.topics,
        workflowBundlePath,
        cachedWorkflows: config.DEVTWIN_WORKER_CACHE,
        workflowTaskSlots: config.DEVTWIN_WORKFLOW_TASK_SLOTS,
        registry: s.registry,
      }),
  )
  s.lifecycle.onStop(worker.stop)
  s.lifecycle.check('temporal (worker)', worker.check)
  const client = new Client({
    connection: await s.temporal(),
    namespace: config.TEMPORAL_NAMESPACE,
  })
  await ensureRetentionSchedule(client, {
    taskQueue: config.DEVTWIN_TASK_QUEUE,
    policy: retentionPolicy(config),
    everyMs: config.DEVTWIN_RETENTION_INTERVAL,
  })
}
