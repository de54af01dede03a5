/**
 * Flow control between ingest and the twins: at most one batch in flight per twin. A twin that
 * has not yet applied and written its last batch gets no new signal; its device's messages gather
 * into the next batch instead. When Temporal falls behind, batches grow and signals thin out, so
 * the twins lag by about one pass over the busy fleet instead of by a queue that only grows.
 *
 * A twin announces each batch it wrote (`Topics.applied`). An announcement can be lost (QoS 0,
 * a worker restart), so a batch counts as in flight for a while at most: `minTimeoutMs`, or
 * longer when twins are slow (four times the usual time to an announcement), so that a backlog
 * does not time out and double itself.
 */
export class InFlight {
  readonly #minTimeoutMs: number
  /** Device → the id of its batch in flight and when it was sent. */
  #sent = new Map<string, { batchId: number; at: number }>()
  #nextId: number
  /** Moving average of the time from a batch sent to its announcement. */
  #typicalMs = 0

  constructor(minTimeoutMs: number, firstId = Date.now()) {
    this.#minTimeoutMs = minTimeoutMs
    // Ids rise across restarts (they start at the clock), so an old announcement never frees a
    // newer batch.
    this.#nextId = firstId
  }

  /** Twins waiting for their last batch to be applied. */
  get size(): number {
    return this.#sent.size
  }

  /** How long a batch counts as in flight without an announcement. */
  get timeoutMs(): number {
    return Math.max(this.#minTimeoutMs, 4 * this.#typicalMs)
  }

  /** Is the device's twin still busy with a batch sent before `now`? */
  isBusy(deviceId: string, now: number): boolean {
    const sent = this.#sent.get(deviceId)
    if (!sent) return false
    if (now - sent.at < this.timeoutMs) return true
    this.#sent.delete(deviceId)
    return false
  }

  /** Records a batch about to be sent; returns its id, to travel with it to the twin. */
  send(deviceId: string, now: number): number {
    const batchId = this.#nextId++
    this.#sent.set(deviceId, { batchId, at: now })
    return batchId
  }

  /** The twin applied and wrote batch `batchId` (and so every earlier one) by `now`. */
  applied(deviceId: string, batchId: number, now: number): void {
    const sent = this.#sent.get(deviceId)
    if (!sent || batchId < sent.batchId) return
    this.#sent.delete(deviceId)
    this.#typicalMs += (now - sent.at - this.#typicalMs) * SMOOTHING
  }

  /** The batch was not accepted after all (the signal failed): the twin is not busy with it. */
  forget(deviceId: string, batchId: number): void {
    if (this.#sent.get(deviceId)?.batchId === batchId) this.#sent.delete(deviceId)
  }
}

/** Weight of the newest announcement in the moving average (about the last hundred count). */
const SMOOTHING = 0.01
