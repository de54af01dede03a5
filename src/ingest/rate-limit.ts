/**
 * A token bucket per device: `ratePerSecond` messages a second on average, bursts of up to
 * `burst`. One flooding device is refused alone; the others are not slowed by it.
 */
export class RateLimiter {
  #buckets = new Map<string, { tokens: number; at: number }>()

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes one token for `key`; false when its bucket is empty. */
  take(key: string, now: number): boolean {
    const bucket = this.#buckets.get(key) ?? { tokens: this.burst, at: now }
    bucket.tokens = Math.min(
      this.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond,
    )
    bucket.at = now
    const allowed = bucket.tokens >= 1
    if (allowed) bucket.tokens -= 1
    this.#buckets.set(key, bucket)
    // Full buckets carry no information: forget them, so idle devices cost no memory.
    if (this.#buckets.size > 10_000) this.#forgetFull(now)
    return allowed
  }

  #forgetFull(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond >= this.burst)
        this.#buckets.delete(key)
    }
  }
}
