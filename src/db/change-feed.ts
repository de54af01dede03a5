import { sql } from 'drizzle-orm'
import type { Db } from './client.ts'

/** Any number, the same in every devtwin process. */
const CHANGE_FEED_LOCK = 7_233_002

/**
 * Alerts (`change_seq`) and command status changes (`feed_seq`) are numbered from sequences, and
 * a sequence hands numbers out in call order, not commit order: a subscriber could see 11 before
 * 10 commits and then resume after 11, skipping 10. Every transaction that takes such a number
 * first takes this lock, which it holds until it commits, so the numbers commit in order and a
 * resume point is exact. These writes are rare next to readings, and the lock is taken at the
 * end of a transaction, so it is held briefly.
 */
export async function lockChangeFeed(tx: Db): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${CHANGE_FEED_LOCK})`)
}

/** The next number of a table's `bigserial` change column, for an update. */
export const nextSeq = (table: string, column: string) =>
  sql`nextval(pg_get_serial_sequence(${table}, ${column}))`
