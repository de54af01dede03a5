import { setTimeout as delay } from 'node:timers/promises'
// Temporal's own limit: the signal that ingest makes for every device batch, as fast as the
// server accepts it, into running workflows that only count. The server accepts signals far
// faster than their workflows get to run (a workflow task each), so both are measured: what
// twins reach is judged against the signals handled when each workflow has one in flight.
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client'
import type { InjectedSinks } from '@temporalio/worker'
import { NativeConnection, Worker } from '@temporalio/worker'
import pMap from 'p-map'
import { installTemporalRuntime } from '../../src/workflows/worker.ts'
import { type ProbeSinks, sinkBatchSignal, type sinkWorkflow } from './sink-workflow.ts'

export interface TemporalLimit {
  /** Signals the server accepts, sent as fast as it takes them. */
  signalsPerSecond: number
  /** Signals handled by their workflows, each workflow given its next once it handled the last. */
  handledPerSecond: number
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
  await installTemporalRuntime()
  const workerConnection = await NativeConnection.connect({ address: opts.address })
  const connection = await Connection.connect({ address: opts.address })
  const client = new Client({ connection, namespace })
  let worker: Worker | null = null
  let running: Promise<void> = Promise.resolve()
  let result: TemporalLimit
  const handled = { count: 0, waiters: new Map<string, () => void>() }
  const sinks: InjectedSinks<ProbeSinks> = {
    probe: {
      handled: {
        fn: ({ workflowId }) => {
          handled.count++
          handled.waiters.get(workflowId)?.()
          handled.waiters.delete(workflowId)
        },
        callDuringReplay: false,
      },
    },
  }
  try {
    worker = await Worker.create({
      connection: workerConnection,
      namespace,
      taskQueue,
      workflowsPath,
      sinks,
      shutdownGraceTime: '5 seconds',
    })
    running = worker.run()
    // Its failure is rethrown at the end; meanwhile it must not crash the process.
    running.catch(() => undefined)
    result = await signalLoops(client, { ...opts, taskQueue, ids, concurrency }, handled)
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
 * After a warm-up that starts every workflow (signalWithStart, as ingest's first signal does):
 * - closed loop: `lanes` lanes, each signalling one of its own workflows and waiting until that
 *   workflow handled it before the next (one in flight per workflow): signals handled a second;
 * - open loop: `concurrency` loops of plain signals as fast as the server accepts them.
 */
async function signalLoops(
  client: Client,
  opts: { seconds: number; taskQueue: string; ids: string[]; concurrency: number },
  handled: { count: number; waiters: Map<string, () => void> },
): Promise<TemporalLimit> {
  const { ids, concurrency } = opts
  const signal = (id: string) => client.workflow.getHandle(id).signal(sinkBatchSignal, BATCH)
  const handledBy = (id: string) => new Promise<void>((resolve) => handled.waiters.set(id, resolve))
  let accepted = 0
  const measure = async (run: (end: number) => Promise<unknown>) => {
    const from = { at: performance.now(), handled: handled.count, accepted }
    await run(from.at + opts.seconds * 1000)
    const seconds = (performance.now() - from.at) / 1000
    return { seconds, handled: handled.count - from.handled, accepted: accepted - from.accepted }
  }

  await pMap(
    ids,
    (workflowId) =>
      client.workflow.signalWithStart<typeof sinkWorkflow, [unknown]>('sinkWorkflow', {
        workflowId,
        taskQueue: opts.taskQueue,
        args: [],
        signal: sinkBatchSignal,
        signalArgs: [BATCH],
      }),
    { concurrency },
  )
  while (handled.count < ids.length) await delay(100)

  const lanes = Math.min(ids.length, LANES)
  const closed = await measure((end) =>
    Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (let i = lane; performance.now() < end; i += lanes) {
          const id = ids[i % ids.length] as string
          const done = handledBy(id)
          await signal(id)
          await done
        }
      }),
    ),
  )
  let next = 0
  const open = await measure((end) =>
    Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          await signal(ids[next++ % ids.length] as string)
          accepted++
        }
      }),
    ),
  )
  return {
    signalsPerSecond: Math.round(open.accepted / open.seconds),
    handledPerSecond: Math.round(closed.handled / closed.seconds),
    seconds: Math.round((open.seconds + closed.seconds) * 100) / 100,
    workflows: ids.length,
    concurrency,
  }
}

/** Closed-loop lanes: enough signals in flight to keep the server busy. */
const LANES = 500
