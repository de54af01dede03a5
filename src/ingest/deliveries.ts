import { sql } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { resultRows, sqlArray } from '../db/rows.ts'
import { twinInbox, twinLive } from '../db/schema.ts'
import type { TwinBatch } from '../twins/batch.ts'
import type { InboxDelivery } from '../twins/inbox.ts'

// Which twins to tell about their inboxes, and what Temporal did with each delivery: the
// nudger's queries over `twin_live` (see nudger.ts and docs/architecture.md, "Two speeds").

interface ClaimRow {
  device_id: string
  inbox_seq: string | number
  seq: string | number | null
  batch: TwinBatch | null
}

export interface NudgeOptions {
  /** A routine batch is folded into its twin once it has waited this long (DEVTWIN_CHECKPOINT_MS). */
  checkpointMs: number
  /**
   * A claim whose delivery Temporal did not accept (the call failed, or ingest died before it
   * was made) is told again after this long.
   */
  renudgeMs: number
  /** Twins claimed in one go, and inbox batches handed to each in its signal. */
  limit: number
  batchesPerTwin: number
  /**
   * Deliveries waiting in Temporal at most, fleet-wide: so that an urgent delivery never queues
   * behind more than Temporal runs in a few seconds, however far the fleet's load is beyond what
   * Temporal can take. Checkpoints may fill only `CHECKPOINT_SHARE` of it. Several ingests read
   * the same count, so rounds made at the same moment may each fill the room once.
   */
  maxInFlight: number
  now?: number
}

/**
 * Which twins one claim takes: those with an urgent batch (or their first), or those whose
 * routine batches are due at their checkpoint.
 */
export type Urgency = 'urgent' | 'checkpoint'

/**
 * The share of the in-flight limit checkpoints may hold: the rest is always there for urgent
 * deliveries, however many checkpoints fall due at once (a worker back after an outage).
 */
export const CHECKPOINT_SHARE = 1 / 2

/**
 * A delivery Temporal accepted is in the twin's history and will be applied however long its
 * worker takes: telling the twin again would only add load where there is too much already
 * (at the seed fleet's load, re-telling every twin more than 15 s behind tripled the signals
 * and the twins fell further behind). Only a twin that has applied nothing of it for this long
 * (its workflow ended behind ingest's back, say) is told again.
 */
export const DELIVERED_RETELL_MS = 300_000

/**
 * How many more deliveries Temporal may be given now: `maxInFlight` less those it accepted that
 * their twins have not applied yet, and of that how many may be checkpoints (their share less
 * the checkpoints in flight). Only accepted ones count: a claim whose call failed, or whose
 * ingest died before making it, is nothing Temporal has to run, and counting it would hold
 * every other twin back until it is retried.
 */
export async function deliveryRoom(
  db: Db,
  opts: Pick<NudgeOptions, 'maxInFlight' | 'now'>,
): Promise<{ urgent: number; checkpoint: number }> {
  const lostBefore = new Date((opts.now ?? Date.now()) - DELIVERED_RETELL_MS).toISOString()
  const [inFlight] = resultRows<{ urgent: string | number; checkpoint: string | number }>(
    await db.execute(sql`
      select count(*) filter (where nudged_urgent) as urgent,
        count(*) filter (where not nudged_urgent) as checkpoint
      from ${twinLive}
      where delivered_seq > applied_seq and nudged_at >= ${lostBefore}::timestamptz`),
  )
  const checkpoints = Number(inFlight?.checkpoint ?? 0)
  const urgent = Math.max(0, opts.maxInFlight - Number(inFlight?.urgent ?? 0) - checkpoints)
  const share = Math.max(1, Math.floor(opts.maxInFlight * CHECKPOINT_SHARE))
  return { urgent, checkpoint: Math.min(urgent, Math.max(0, share - checkpoints)) }
}

/**
 * Claims at most `room` twins to tell about their inbox now (see `deliveryRoom`), and returns
 * what to tell each. A twin is told when it has applied everything it was told before (so at
 * most one delivery is ever waiting in Temporal per twin, and a flapping device's urgent batches
 * coalesce into one delivery per round trip, which slows as Temporal does) and its inbox holds an
 * urgent batch or its very first (`urgent`), or a routine batch that has waited for its
 * checkpoint (`checkpoint`), oldest first. A claim Temporal never accepted (`markDelivered`) is
 * told again after `renudgeMs`, an
 * accepted one after `DELIVERED_RETELL_MS`, both without the batches. Claiming sets
 * `nudged_seq` in the same statement, and rows locked by another ingest are skipped, so two
 * ingests never tell a twin the same thing.
 */
export async function claimDeliveries(
  db: Db,
  urgency: Urgency,
  room: number,
  opts: NudgeOptions,
): Promise<{ deviceId: string; delivery: InboxDelivery }[]> {
  const now = opts.now ?? Date.now()
  // Routine batches go at their checkpoint, once they are this old.
  // Timestamps travel as ISO text: drizzle's postgres.js driver does not serialise a Date here.
  const checkpointBefore = new Date(now - opts.checkpointMs).toISOString()
  const staleBefore = new Date(now - opts.renudgeMs).toISOString()
  const lostBefore = new Date(now - DELIVERED_RETELL_MS).toISOString()
  const urgent = sql`(urgent_seq > applied_seq or applied_seq = 0)`
  const limit = Math.min(opts.limit, room)
  if (limit <= 0) return []
  const due =
    urgency === 'urgent'
      ? urgent
      : sql`not ${urgent} and pending_since <= ${checkpointBefore}::timestamptz`
  // A twin told before that has not applied it is told again with no batches, only how far its
  // inbox goes: it reads them from Postgres itself. Its workflow task may be failing; carrying
  // the batches again each time would grow its history by them for every retry.
  const rows = await db.execute(sql`
    with picked as (
      select device_id, nudged_seq > applied_seq as retold from ${twinLive}
      where inbox_seq > applied_seq
        and (
          nudged_seq <= applied_seq
          or (nudged_seq > delivered_seq and nudged_at < ${staleBefore}::timestamptz)
          or nudged_at < ${lostBefore}::timestamptz
        )
        and ${due}
      order by pending_since
      limit ${limit}
      for update skip locked
    ), claimed as (
      update ${twinLive} t set nudged_seq = inbox_seq, nudged_urgent = ${urgency === 'urgent'},
        nudged_at = ${new Date(now).toISOString()}::timestamptz
      from picked p where t.device_id = p.device_id
      returning t.device_id, t.applied_seq, t.inbox_seq, p.retold
    )
    select c.device_id, c.inbox_seq, i.seq, i.batch
    from claimed c left join lateral (
      select seq, batch from ${twinInbox}
      where device_id = c.device_id and seq > c.applied_seq and not c.retold
      order by seq limit ${opts.batchesPerTwin}
    ) i on true
    order by c.device_id, i.seq`)
  const deliveries = new Map<string, InboxDelivery>()
  for (const row of resultRows<ClaimRow>(rows)) {
    let delivery = deliveries.get(row.device_id)
    if (!delivery) {
      delivery = { upTo: Number(row.inbox_seq), batches: [] }
      deliveries.set(row.device_id, delivery)
    }
    if (row.seq !== null && row.batch)
      delivery.batches.push({ seq: Number(row.seq), batch: row.batch })
  }
  return [...deliveries].map(([deviceId, delivery]) => ({ deviceId, delivery }))
}

/** A delivery made to a twin: which twin, and how far its inbox went (`InboxDelivery.upTo`). */
export interface DeliveryMade {
  deviceId: string
  upTo: number
}

/** Deliveries as rows `d(device_id, seq)` to update `twin_live` from, in one statement. */
const deliveryRows = (deliveries: readonly DeliveryMade[]) => sql`unnest(
  ${sqlArray(
    deliveries.map((d) => d.deviceId),
    'text',
  )}, ${sqlArray(
    deliveries.map((d) => d.upTo),
    'int8',
  )}) as d(device_id, seq)`

/** Temporal accepted these deliveries (`upTo` each): they are not told again soon. */
export async function markDelivered(db: Db, delivered: readonly DeliveryMade[]): Promise<void> {
  if (delivered.length === 0) return
  await db.execute(sql`
    update ${twinLive} t set delivered_seq = greatest(t.delivered_seq, d.seq)
    from ${deliveryRows(delivered)}
    where t.device_id = d.device_id`)
}

/** A failed delivery is made again this soon (without its batches), not after `renudgeMs`. */
export const FAILED_RETRY_MS = 2_000

/**
 * These deliveries failed (Temporal away, a deadline): their claims are dated back so that they
 * count as stale `FAILED_RETRY_MS` from now. Once Temporal is back, every twin is told within
 * seconds, instead of up to `renudgeMs` after its last failed call; a call that fails at once
 * every time is still tried only every few seconds. A claim made again since is left alone.
 */
export async function retryFailedSoon(
  db: Db,
  failed: readonly DeliveryMade[],
  opts: Pick<NudgeOptions, 'renudgeMs' | 'now'>,
): Promise<void> {
  if (failed.length === 0) return
  const staleAt = (opts.now ?? Date.now()) + FAILED_RETRY_MS - opts.renudgeMs
  await db.execute(sql`
    update ${twinLive} t set nudged_at = ${new Date(staleAt).toISOString()}::timestamptz
    from ${deliveryRows(failed)}
    where t.device_id = d.device_id and t.nudged_seq = d.seq and t.delivered_seq < d.seq
      and t.nudged_at > ${new Date(staleAt).toISOString()}::timestamptz`)
}

/** The twins of devices that ended for good apply nothing more: their inboxes are let go. */
export async function dropInboxes(db: Db, deviceIds: readonly string[]): Promise<void> {
  if (deviceIds.length === 0) return
  await db.transaction(async (tx) => {
    await tx.execute(sql`
      update ${twinLive} set applied_seq = inbox_seq, pending_since = null
      where device_id = any(${sqlArray([...deviceIds], 'text')})`)
    await tx.execute(sql`
      delete from ${twinInbox} where device_id = any(${sqlArray([...deviceIds], 'text')})`)
  })
}
