import { setTimeout as sleep } from 'node:timers/promises'
import { request } from '../test/support/graphql.ts'
import { percentiles } from './percentiles.ts'

const QUERY = `query ($after: String) {
  devices(first: 500, after: $after) {
    edges { node { twin { lag { seconds pendingBatches } } } }
    pageInfo { hasNextPage endCursor }
  }
}`

interface Page {
  devices: {
    edges: { node: { twin: { lag: { seconds: number; pendingBatches: number } } } }[]
    pageInfo: { hasNextPage: boolean; endCursor: string | null }
  }
}

/** One look at the whole fleet: each twin's lag (ms) and unapplied inbox batches. */
export interface LagRound {
  at: number
  lagMs: number[]
  pending: number[]
}

/**
 * Twin lag as GraphQL reports it (`Twin.lag`: how far each workflow is behind its live state),
 * for the whole fleet, a page of 500 at a time.
 */
export async function lookAtLag(url: string, token: string): Promise<LagRound> {
  const round: LagRound = { at: Date.now(), lagMs: [], pending: [] }
  let after: string | null = null
  do {
    const result: { data?: Page; errors?: { message: string }[] } = await request<Page>(
      url,
      QUERY,
      { after },
      `Bearer ${token}`,
    )
    if (!result.data) throw new Error(result.errors?.[0]?.message ?? 'no data')
    for (const { node } of result.data.devices.edges) {
      round.lagMs.push(node.twin.lag.seconds * 1000)
      round.pending.push(node.twin.lag.pendingBatches)
    }
    const { hasNextPage, endCursor } = result.data.devices.pageInfo
    after = hasNextPage ? endCursor : null
  } while (after !== null)
  return round
}

/** `lookAtLag` every `everyMs`, until stopped. */
export function startLagProbe(url: string, token: string, everyMs = 10_000) {
  const rounds: LagRound[] = []
  const errors: unknown[] = []
  let stopped = false
  const wake = new AbortController()
  const looking = (async () => {
    while (!stopped) {
      try {
        rounds.push(await lookAtLag(url, token))
      } catch (error) {
        errors.push(error)
      }
      await sleep(everyMs, undefined, { signal: wake.signal }).catch(() => {})
    }
  })()
  return {
    rounds,
    errors,
    async stop() {
      stopped = true
      wake.abort()
      await looking
    },
  }
}

export interface LagMinute {
  /** 1 for the step's first minute. */
  minute: number
  rounds: number
  p50: number | null
  p99: number | null
  max: number | null
  maxPendingBatches: number
}

export interface LagSummary {
  /** Looks at the whole fleet during the step. */
  rounds: number
  /** Over every twin in every round of the step (ms). */
  p50: number | null
  p99: number | null
  max: number | null
  maxPendingBatches: number
  byMinute: LagMinute[]
  /**
   * Whether the lag stopped growing: the last whole minute's p99 (minute 10 of a ten-minute run)
   * no larger than minute 2's, once the start-up minute is past; null for runs under 3 minutes.
   */
  bounded: { early: number | null; late: number | null; lateMinute: number; ok: boolean } | null
}

export function summarizeLag(rounds: readonly LagRound[], from: number, to: number): LagSummary {
  const inStep = rounds.filter((r) => r.at >= from && r.at < to)
  const summary = (some: readonly LagRound[]) => {
    const all = percentiles(some.flatMap((r) => r.lagMs))
    return {
      rounds: some.length,
      p50: all.p50,
      p99: all.p99,
      max: all.max,
      maxPendingBatches: some.reduce((m, r) => r.pending.reduce((n, p) => Math.max(n, p), m), 0),
    }
  }
  const minutes = Math.floor((to - from) / 60_000)
  const byMinute = Array.from({ length: minutes }, (_, i) => {
    const some = inStep.filter((r) => r.at >= from + i * 60_000 && r.at < from + (i + 1) * 60_000)
    return { minute: i + 1, ...summary(some) }
  })
  const [early, late] = [byMinute[1], byMinute.at(-1)]
  const bounded =
    minutes >= 3 && early && late
      ? {
          early: early.p99,
          late: late.p99,
          lateMinute: late.minute,
          ok: (late.p99 ?? 0) <= (early.p99 ?? 0),
        }
      : null
  return { ...summary(inStep), byMinute, bounded }
}
