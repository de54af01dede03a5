import { describe, expect, it } from 'vitest'
import { RateLimiter } from '../../src/ingest/rate-limit.ts'

describe('RateLimiter', () => {
  it('allows a burst, then the rate, per device', () => {
    const limiter = new RateLimiter(2, 5)
    const t = 1_000_000
    const takes = (key: string, n: number, now: number) =>
      Array.from({ length: n }, () => limiter.take(key, now))
    expect(takes('flood', 6, t)).toEqual([true, true, true, true, true, false])
    // Another device is untouched by the first one's flood.
    expect(takes('quiet', 5, t).every(Boolean)).toBe(true)
    // Half a second refills one token at 2/s, not more.
    expect(takes('flood', 2, t + 500)).toEqual([true, false])
    // Idle long enough, the bucket is full again but never above the burst.
    expect(takes('flood', 6, t + 60_000).filter(Boolean)).toHaveLength(5)
  })
})
