import { and, asc, eq, gt } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { twinInbox, twinLive } from '../db/schema.ts'
import type { InboxBatch } from '../twins/inbox.ts'

/** Batches a twin reads in one go when it catches up from Postgres. */
const READ_LIMIT = 200

/**
 * The inbox batches after `afterSeq`, oldest first, and the newest one stored: what a twin that
 * started, restarted or missed a delivery catches up from.
 */
export const readInbox =
  (deps: { db: Db }) =>
  async (deviceId: string, afterSeq: number): Promise<{ batches: InboxBatch[]; head: number }> => {
    const [batches, [live]] = await Promise.all([
      deps.db
        .select({ seq: twinInbox.seq, batch: twinInbox.batch })
        .from(twinInbox)
        .where(and(eq(twinInbox.deviceId, deviceId), gt(twinInbox.seq, afterSeq)))
        .orderBy(asc(twinInbox.seq))
        .limit(READ_LIMIT),
      deps.db
        .select({ head: twinLive.inboxSeq })
        .from(twinLive)
        .where(eq(twinLive.deviceId, deviceId)),
    ])
    return { batches, head: live?.head ?? 0 }
  }
