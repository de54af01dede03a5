// Temporal's own limit: the signal that ingest makes for every device batch, as fast as the
// server accepts it, into running workflows that only count. What ingest reaches is judged
// against it.
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client'
import { NativeConnection, Worker } from '@temporalio/worker'
import pMap from 'p-map'
import { installTemporalRuntime } from '../../src/worker.ts'
import { sinkBatchSignal, type sinkWorkflow } from './sink-workflow.ts'

export interface TemporalLimit {
  signalsPerSecond: number
  signals: number
  seconds: number
  workflows: number
  concurrency: number
}

export interface TemporalLimitOptions {
  address: string
  namespace?: string
  seconds: number
  workflows?: number
  concurrency?: number
  taskQueue?: string
}

const workflowsPath = new URL('./sink-workflow.ts', import.meta.url).pathname

/** A device batch of a few readings, about the size ingest sends. */
const BATCH = {
  readings: Array.from({ length: 5 }, (_, i) => ({
    ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    values: { temperature: 21.5 + i / 10, humidity: 40 },
  })),
  statuses: [],
  acks: [],
  messages: 5,
  lastTelemetryAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 4)).toISOString(),
}

export async function measureTemporalLimit(opts: TemporalLimitOptions): Promise<TemporalLimit> {
  const namespace = opts.namespace ?? 'default'
  const taskQueue = opts.taskQueue ?? `bench-limit-${process.pid}`
  const workflows = opts.workflows ?? 1000
  const concurrency = opts.concurrency ?? 64
  const ids = Array.from({ length: workflows }, (_, i) => `${taskQueue}/sink-${i}`)

  // The runtime is process-wide and installed once: devtwin's own worker may share this process.
  installTemporalRuntime()
  const workerConnection = await NativeConnection.connect({ address: opts.address })
  const connection = await Connection.connect({ address: opts.address })
  const client = new Client({ connection, namespace })
  let worker: Worker | null = null
  let running: Promise<void> = Promise.resolve()
  let result: TemporalLimit
  try {
    worker = await Worker.create({
      connection: workerConnection,
      namespace,
      taskQueue,
      workflowsPath,
      shutdownGraceTime: '5 seconds',
    })
    running = worker.run()
    // Its failure is rethrown at the end; meanwhile it must not crash the process.
    running.catch(() => undefined)
    result = await signalLoop(client, { ...opts, taskQueue, ids, concurrency })
  } finally {
    // Worker first: terminating under a running worker makes it warn of every task it loses.
    if (worker?.getState() === 'RUNNING') worker.shutdown()
    await running.catch(() => undefined)
    // The sinks would otherwise wait forever on a task queue nobody polls again.
    await pMap(
      ids,
      (id) =>
        client.workflow
          .getHandle(id)
          .terminate('bench limit probe done')
          .catch((error) => {
            if (!(error instanceof WorkflowNotFoundError)) throw error
          }),
      { concurrency: 32 },
    ).catch(() => undefined)
    await connection.close()
    await workerConnection.close()
  }
  await running
  return result
}

/**
 * `concurrency` loops of signals, round-robin over the ids; counts the accepted. As ingest does,
 * the first signal of each workflow starts it (signalWithStart) and the rest are plain signals.
 */
async function signalLoop(
  client: Client,
  opts: { seconds: number; taskQueue: string; ids: string[]; concurrency: number },
): Promise<TemporalLimit> {
  const { ids, concurrency } = opts
  let next = 0
  let signals = 0
  const start = () =>
    client.workflow.signalWithStart<typeof sinkWorkflow, [unknown]>('sinkWorkflow', {
      workflowId: ids[next++ % ids.length] as string,
      taskQueue: opts.taskQueue,
      args: [],
      signal: sinkBatchSignal,
      signalArgs: [BATCH],
    })
  const signal = () =>
    client.workflow.getHandle(ids[next++ % ids.length] as string).signal(sinkBatchSignal, BATCH)
  const loops = (call: () => Promise<unknown>, until: () => boolean) =>
    Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (!until()) {
          await call()
          signals++
        }
      }),
    )

  // Warm-up: one round over every id starts the fleet, which costs more than a signal; the
  // measurement is of twins that already run, as ingest's are.
  await loops(start, () => next >= ids.length)
  const from = { at: performance.now(), signals }
  const end = from.at + opts.seconds * 1000
  await loops(signal, () => performance.now() >= end)
  const to = { at: performance.now(), signals }

  const seconds = (to.at - from.at) / 1000
  return {
    signalsPerSecond: Math.round((to.signals - from.signals) / seconds),
    signals: to.signals - from.signals,
    seconds: Math.round(seconds * 100) / 100,
    workflows: ids.length,
    concurrency,
  }
}
