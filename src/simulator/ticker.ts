/**
 * One timer for a whole fleet: a min-heap of due times, so 10,000 devices cost one setTimeout
 * and O(log n) per message instead of 10,000 intervals. `fire` does a key's work and says when
 * it is due next (or null to drop it).
 *
 * Rescheduling a key (`schedule` again) does not search the heap: the old entry is left behind,
 * marked stale by a generation number, and skipped when it comes up.
 */
export class Ticker<K> {
  private heap: { due: number; key: K; gen: number }[] = []
  private readonly gens = new Map<K, number>()
  private timer: NodeJS.Timeout | null = null
  private timerDue = Number.POSITIVE_INFINITY
  private running = false

  constructor(
    private readonly fire: (key: K, due: number, now: number) => number | null,
    private readonly clock: () => number = Date.now,
  ) {}

  schedule(key: K, due: number): void {
    const gen = (this.gens.get(key) ?? 0) + 1
    this.gens.set(key, gen)
    this.push({ due, key, gen })
    if (this.running && due < this.timerDue) this.arm()
  }

  unschedule(key: K): void {
    this.gens.delete(key)
  }

  start(): void {
    this.running = true
    this.arm()
  }

  stop(): void {
    this.running = false
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.timerDue = Number.POSITIVE_INFINITY
  }

  get size(): number {
    return this.gens.size
  }

  private run = () => {
    this.timer = null
    this.timerDue = Number.POSITIVE_INFINITY
    const now = this.clock()
    for (;;) {
      const top = this.heap[0]
      if (!top || top.due > now || !this.running) break
      this.pop()
      if (this.gens.get(top.key) !== top.gen) continue
      let next: number | null = null
      try {
        next = this.fire(top.key, top.due, now)
      } catch {
        // A device's failure must not stop the whole fleet's clock; `fire` counts its errors.
        next = null
      }
      if (next === null) this.gens.delete(top.key)
      // At most once per run, even for a key that is behind: no run can spin forever.
      else this.push({ due: Math.max(next, now + 1), key: top.key, gen: top.gen })
    }
    if (this.running) this.arm()
  }

  private arm() {
    while (this.heap[0] && this.gens.get(this.heap[0].key) !== this.heap[0].gen) this.pop()
    const top = this.heap[0]
    if (!top) return
    if (this.timer) clearTimeout(this.timer)
    this.timerDue = top.due
    this.timer = setTimeout(this.run, Math.max(0, top.due - this.clock()))
  }

  private push(entry: { due: number; key: K; gen: number }) {
    const h = this.heap
    h.push(entry)
    let i = h.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = h[parent] as (typeof h)[number]
      if (p.due <= entry.due) break
      h[i] = p
      i = parent
    }
    h[i] = entry
  }

  private pop() {
    const h = this.heap
    const last = h.pop()
    if (h.length === 0 || !last) return
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let smallest = i
      let due = last.due
      const left = h[l]
      const right = h[r]
      if (left && left.due < due) {
        smallest = l
        due = left.due
      }
      if (right && right.due < due) smallest = r
      if (smallest === i) break
      h[i] = h[smallest] as (typeof h)[number]
      i = smallest
    }
    h[i] = last
  }
}
