import { receiveTimes, type TwinBatch } from './batch.ts'

/**
 * A device's inbox: every batch ingest stored for its twin, numbered 1, 2, 3, … per device in
 * commit order. The twin remembers the last number it applied (`TwinState.inboxSeq`), so a batch
 * delivered twice, or read again from Postgres after a restart, is applied once.
 */
export interface InboxBatch {
  seq: number
  batch: TwinBatch
}

/** What ingest tells a twin: the inbox holds batches up to `upTo`, and here are some of them. */
export interface InboxDelivery {
  upTo: number
  batches: InboxBatch[]
}

/**
 * The batches a twin at `applied` can apply now, in order: those right after it, without a gap.
 * Earlier ones were applied already; after a gap the twin reads its inbox from Postgres.
 */
export function nextBatches(applied: number, batches: readonly InboxBatch[]): InboxBatch[] {
  const next: InboxBatch[] = []
  let seq = applied
  for (const b of [...batches].sort((a, b) => a.seq - b.seq)) {
    if (b.seq <= seq) continue
    if (b.seq !== seq + 1) break
    next.push(b)
    seq = b.seq
  }
  return next
}

/** When the oldest message among these batches arrived: how long the twin made it wait. */
export function oldestArrival(batches: readonly InboxBatch[]): number | null {
  let oldest: number | null = null
  for (const { batch } of batches) {
    // A loop, not Math.min(...): a catching-up twin may get hundreds of thousands of readings.
    for (const at of receiveTimes(batch)) if (oldest === null || at < oldest) oldest = at
  }
  return oldest
}

/**
 * How far the twin is behind its inbox, for operators: "inbox #41 applied 12.3 s after arrival
 * · 2 batches waiting".
 */
export function describeInbox(applied: number, known: number, lagMs: number | null): string {
  const parts = [`inbox #${applied}`]
  if (lagMs !== null) parts[0] += ` applied ${(lagMs / 1000).toFixed(1)} s after arrival`
  if (known > applied)
    parts.push(`${known - applied} batch${known - applied === 1 ? '' : 'es'} waiting`)
  return parts.join(' · ')
}
