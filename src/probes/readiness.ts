import { withTimeout } from '../with-timeout.ts'

/** How long one dependency may take to answer before it counts as down. */
export const CHECK_TIMEOUT_MS = 3_000

/** One connection a role depends on; `check` throws (or takes too long) when it does not work. */
export interface Check {
  name: string
  check(): Promise<void>
}

export interface ReadinessReport {
  ready: boolean
  /** Each check's name, and "ok" or why it failed. */
  checks: Record<string, string>
}

/**
 * Runs every check at once, each bounded by `CHECK_TIMEOUT_MS`, so a probe answers within that
 * however a dependency fails. Probes arriving while a round runs share it: a dependency that
 * hangs is never asked more than once at a time.
 */
export function readiness(checks: readonly Check[]): () => Promise<ReadinessReport> {
  let round: Promise<ReadinessReport> | undefined
  const run = async (): Promise<ReadinessReport> => {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS)
          return [name, 'ok'] as const
        } catch (error) {
          return [name, (error as Error).message || String(error)] as const
        }
      }),
    )
    return {
      ready: results.every(([, result]) => result === 'ok'),
      checks: Object.fromEntries(results),
    }
  }
  return () => {
    round ??= run().finally(() => {
      round = undefined
    })
    return round
  }
}
