import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker'
import type { MqttClient } from 'mqtt'
import { createActivities } from './activities/index.ts'
import type { Db } from './db/client.ts'
import type { Topics } from './topics.ts'

export interface WorkerOptions {
  address: string
  namespace: string
  taskQueue: string
  db: Db
  mqtt: MqttClient
  topics: Topics
  /** A pre-built workflow bundle (tests build it once per run); else bundled at start. */
  workflowBundlePath?: string
  /** Twin workflows kept in memory (DEVTWIN_WORKER_CACHE); the SDK's default is heap-based. */
  cachedWorkflows?: number
  /** Workflow tasks run at once (DEVTWIN_WORKFLOW_TASK_SLOTS). */
  workflowTaskSlots?: number
}

let runtimeInstalled = false

/** The SDK logs every worker state change at INFO; devtwin's own log says what matters. */
export function installTemporalRuntime(): void {
  if (runtimeInstalled) return
  Runtime.install({ logger: new DefaultLogger('WARN') })
  runtimeInstalled = true
}

export const workflowsPath = new URL('./workflows/index.ts', import.meta.url).pathname

/** Runs twin workflows and their activities until `stop()`. */
export async function startWorker(opts: WorkerOptions) {
  const connection = await NativeConnection.connect({ address: opts.address })
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.workflowBundlePath
      ? { workflowBundle: { codePath: opts.workflowBundlePath } }
      : { workflowsPath }),
    activities: createActivities(opts),
    ...(opts.cachedWorkflows ? { maxCachedWorkflows: opts.cachedWorkflows } : {}),
    ...(opts.workflowTaskSlots ? { maxConcurrentWorkflowTaskExecutions: opts.workflowTaskSlots } : {}),
    shutdownGraceTime: '5 seconds',
  })
  const running = worker.run()
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown()
      await running
      await connection.close()
    },
  }
}
