import { setTimeout as sleep } from 'node:timers/promises'
import { Client, Connection } from '@temporalio/client'
import pMap from 'p-map'
import { lookAtLag } from './lag-probe.ts'
import type { Ledger } from './ledger.ts'
import { type RoleProcess, startRole } from './roles.ts'

export interface WorkerFault {
  /** How long the worker was gone (SIGKILL to restarted and ready), ms. */
  downMs: number
  /** From the restart until every twin's lag was within the bound again; null if never. */
  recoveredMs: number | null
  /** Twins with an urgent batch waiting at the restart; null where the bench cannot count. */
  urgentWaiting: number | null
  /** From the restart until each of those had applied it; null if never or unknown. */
  urgentAppliedMs: number | null
  /** Largest twin lag seen while recovering, ms. */
  worstLagMs: number
}

/**
 * Kills the worker with SIGKILL (no shutdown, its sticky cache lost), restarts it after `downMs`,
 * then looks at every twin's lag until all are within `maxLagMs`: a restarted worker must replay
 * each twin's run before the twin moves on.
 */
export async function killWorker(
  roles: RoleProcess[],
  env: Record<string, string>,
  opts: {
    url: string
    token: string
    downMs: number
    maxLagMs: number
    deadlineMs: number
    /** The urgent batches waiting (Postgres), where the bench can count them. */
    urgentWaiting?: Ledger['urgentWaiting']
  },
): Promise<WorkerFault> {
  const index = roles.findIndex((r) => r.role === 'worker')
  const worker = roles[index] as RoleProcess
  const killedAt = Date.now()
  worker.child.kill('SIGKILL')
  await sleep(opts.downMs)
  roles[index] = await startRole('worker', env)
  const restartedAt = Date.now()
  const waiting = (await opts.urgentWaiting?.().catch(() => null)) ?? null
  const urgentWaiting = waiting?.twins ?? null
  let worstLagMs = 0
  let urgentAppliedMs: number | null = null
  const downMs = restartedAt - killedAt
  while (Date.now() - restartedAt < opts.deadlineMs) {
    if (urgentAppliedMs === null && waiting && (await waiting.left().catch(() => null)) === 0)
      urgentAppliedMs = Date.now() - restartedAt
    const round = await lookAtLag(opts.url, opts.token).catch(() => null)
    const worst = round?.lagMs.reduce((m, l) => Math.max(m, l), 0) ?? 0
    worstLagMs = Math.max(worstLagMs, worst)
    if (round && worst <= opts.maxLagMs && (urgentAppliedMs !== null || !waiting)) {
      const recoveredMs = round.at - restartedAt
      return { downMs, recoveredMs, urgentWaiting, urgentAppliedMs, worstLagMs }
    }
    await sleep(1000)
  }
  return { downMs, recoveredMs: null, urgentWaiting, urgentAppliedMs, worstLagMs }
}

export interface WorkflowTaskTimes {
  runs: number
  tasks: number
  /** Started to completed, ms. */
  slowestMs: number | null
  over5s: number
  timedOut: number
}

/**
 * Workflow tasks of every twin run alive since `since` (runs continued as new included), from
 * their histories: how long each took from started to completed, and how many timed out.
 */
export async function workflowTaskTimes(
  address: string,
  since: number,
): Promise<WorkflowTaskTimes> {
  const connection = await Connection.connect({ address })
  try {
    const client = new Client({ connection })
    const sinceIso = new Date(since).toISOString()
    const runs: { workflowId: string; runId: string }[] = []
    const query = `WorkflowType = 'twinWorkflow' AND (ExecutionStatus = 'Running' OR CloseTime >= '${sinceIso}')`
    for await (const w of client.workflow.list({ query })) runs.push(w)
    const times = {
      runs: runs.length,
      tasks: 0,
      slowestMs: null as number | null,
      over5s: 0,
      timedOut: 0,
    }
    await pMap(
      runs,
      async ({ workflowId, runId }) => {
        const history = await client.workflow.getHandle(workflowId, runId).fetchHistory()
        const started = new Map<string, number>()
        for (const e of history.events ?? []) {
          const at =
            Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6)
          if (at < since) continue
          if (e.workflowTaskStartedEventAttributes) started.set(String(e.eventId), at)
          if (e.workflowTaskTimedOutEventAttributes) times.timedOut++
          const done = e.workflowTaskCompletedEventAttributes ?? e.workflowTaskFailedEventAttributes
          const from = done && started.get(String(done.startedEventId))
          if (!from) continue
          const ms = at - from
          times.tasks++
          if (ms > 5000) times.over5s++
          times.slowestMs = Math.max(times.slowestMs ?? 0, ms)
        }
      },
      { concurrency: 8 },
    )
    return times
  } finally {
    await connection.close()
  }
}
