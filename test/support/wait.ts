import { setTimeout as delay } from 'node:timers/promises'

/**
 * Polls `probe` until it returns something other than undefined/false, or fails after `timeout`
 * ms with the last value it saw: tests wait for conditions, never for a fixed time.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeout = 15_000, interval = 50, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeout
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined && value !== false) return value
      last = value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeout} ms waiting for ${what}; last saw: ${String(last)}`,
      )
    }
    await delay(interval)
  }
}
