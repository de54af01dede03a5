import type { TwinBatch } from './batch.ts'

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
