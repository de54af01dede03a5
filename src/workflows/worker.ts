import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker'
import type { MqttClient } from 'mqtt'
import { Registry } from 'prom-client'
import { createActivities } from '../activities/index.ts'
import type { Db } from '../db/client.ts'
import { freePort } from '../embedded/ports.ts'
import { twinMetrics } from '../metrics/twins.ts'
import { CHECK_TIMEOUT_MS } from '../probes/readiness.ts'
import type { Topics } from '../protocol/topics.ts'

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
  /** Where the activities' metrics are registered (the process's /metrics). */
  registry?: Registry
}

/** Where the SDK's own Prometheus exporter listens, once the runtime is installed. */
let sdkMetricsUrl: string | undefined

/**
 * Installs the SDK's process-wide runtime, once: its logs at WARN (it logs every worker state
 * change at INFO; devtwin's own log says what matters), and its metrics (`temporal_*`: workflow
 * and activity tasks, polls, slots, sticky cache) on its own Prometheus exporter. That exporter
 * is the Rust core's own HTTP server and cannot share a port with Node's, so it listens on a
 * free loopback port and devtwin's /metrics passes its text on (`temporalSdkMetrics`).
 */
export async function installTemporalRuntime(): Promise<void> {
  if (sdkMetricsUrl) return
  const bindAddress = `127.0.0.1:${await freePort()}`
  if (sdkMetricsUrl) return
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { metrics: { prometheus: { bindAddress } } },
  })
  sdkMetricsUrl = `http://${bindAddress}/metrics`
}

/** The SDK's metrics in Prometheus text, or nothing where no worker runs in this process. */
export async function temporalSdkMetrics(): Promise<string> {
  if (!sdkMetricsUrl) return ''
  const response = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(2_000) })
  if (!response.ok) throw new Error(`Temporal SDK metrics: HTTP ${response.status}`)
  return response.text()
}

export const workflowsPath = new URL('./index.ts', import.meta.url).pathname

/** Runs twin workflows and their activities until `stop()`. */
export async function startWorker(opts: WorkerOptions) {
  await installTemporalRuntime()
  const connection = await NativeConnection.connect({ address: opts.address })
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.workflowBundlePath
      ? { workflowBundle: { codePath: opts.workflowBundlePath } }
      : { workflowsPath }),
    activities: createActivities({
      ...opts,
      metrics: twinMetrics(opts.registry ?? new Registry()),
    }),
    ...(opts.cachedWorkflows ? { maxCachedWorkflows: opts.cachedWorkflows } : {}),
    ...(opts.workflowTaskSlots
      ? { maxConcurrentWorkflowTaskExecutions: opts.workflowTaskSlots }
      : {}),
    // Half the polls on the shared queue, not the SDK's fifth: a twin's first task, the first of
    // each new run (every 150 events) and every task after a restart come from there, and with
    // 2 polls those waited 48 s on average at the seed fleet's load.
    nonStickyToStickyPollRatio: 0.5,
    // A task left on this worker's sticky queue this long goes to the shared queue, behind every
    // other twin's task there (minutes under load), and is replayed from its history. The SDK's
    // 10 s let a short burst do that to thousands of twins. A dead worker costs no more: once it
    // has not polled for 10 s, Temporal gives its twins' new tasks to the shared queue at once.
    stickyQueueScheduleToStartTimeout: '30 seconds',
    shutdownGraceTime: '5 seconds',
  })
  const running = worker.run()
  return {
    /** Ready: running, and Temporal answers on the worker's connection. */
    async check() {
      const state = worker.getState()
      if (state !== 'RUNNING') throw new Error(`worker is ${state}`)
      await connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
        connection.workflowService.getSystemInfo({}),
      )
    },
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown()
      await running
      await connection.close()
    },
  }
}
