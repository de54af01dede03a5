import { setTimeout as sleep } from 'node:timers/promises'
import { classifyDbError } from './errors.ts'

export interface RetryOptions {
  /** Stops retrying: the wait in progress ends and the signal's reason is thrown. */
  signal?: AbortSignal
  /** Called before each wait; `attempt` is the 1-based number of the attempt that failed. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
  /** Attempts in all, the first included; the last transient error is thrown after them. */
  maxAttempts?: number
  baseMs?: number
  maxMs?: number
}

/**
 * Runs `fn` until it succeeds, retrying only transient database errors (`classifyDbError`);
 * a permanent one is thrown at once. Waits use exponential backoff with full jitter, so callers
 * that failed together (a Postgres restart) do not come back together.
 */
export async function retryTransient<T>(
  fn: () => Promise<T>,
  { signal, onRetry, maxAttempts = Infinity, baseMs = 100, maxMs = 30_000 }: RetryOptions = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted()
    try {
      return await fn()
    } catch (error) {
      if (attempt >= maxAttempts || classifyDbError(error).kind === 'permanent') throw error
      const delayMs = Math.random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1))
      onRetry?.(error, attempt, delayMs)
      // An abort ends the wait early; the loop's first line then throws the signal's reason.
      await sleep(delayMs, undefined, { signal }).catch(() => {})
    }
  }
}
