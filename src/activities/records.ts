import { inArray, sql } from 'drizzle-orm'
import { lockChangeFeed } from '../db/change-feed.ts'
import type { Db } from '../db/client.ts'
import { commandEvents, commands, reservations } from '../db/schema.ts'
import type { Command, CommandStatus } from '../twins/commands.ts'
import type { Reservation } from '../twins/state.ts'

const date = (ms: number | null) => (ms === null ? null : new Date(ms))

/** Keeps the newest snapshot of each object, by revision. */
function newestOf<T extends { id: string; revision: number }>(items: readonly T[]): T[] {
  const newest = new Map<string, T>()
  for (const item of items) {
    if ((newest.get(item.id)?.revision ?? -1) < item.revision) newest.set(item.id, item)
  }
  return [...newest.values()]
}

/** A command snapshot with the change-feed position of each of its status changes. */
export type FedCommand = Command & { feedSeqs: number[] }

/**
 * Writes command snapshots: each command's row at its newest revision (never replacing a newer
 * one: the twin's update handler and its write loop may both write a command) and its trail of
 * status changes. Safe to repeat. Returns the snapshots, each with where its status changes stand
 * in the change feed (for `commandUpdated`), and the statuses newly added to trails, each once
 * however often it is written (for the outcome metrics).
 */
export async function storeCommands(
  db: Db,
  changed: readonly Command[],
): Promise<{ fed: FedCommand[]; added: CommandStatus[] }> {
  if (changed.length === 0) return { fed: [], added: [] }
  const newest = newestOf(changed)
  const rows = newest.map((c) => ({
    id: c.id,
    deviceId: c.deviceId,
    name: c.name,
    args: c.args,
    status: c.status,
    attempts: c.attempts,
    maxAttempts: c.maxAttempts,
    timeoutSeconds: c.timeoutSeconds,
    createdAt: new Date(c.createdAt),
    updatedAt: new Date(c.updatedAt),
    expiresAt: new Date(c.expiresAt),
    result: c.result,
    error: c.error,
    idempotencyKey: c.idempotencyKey,
    requestedBy: c.requestedBy,
    reservationId: c.reservationId,
    revision: c.revision,
  }))
  await db
    .insert(commands)
    .values(rows)
    .onConflictDoUpdate({
      target: commands.id,
      set: {
        status: sql`excluded.status`,
        attempts: sql`excluded.attempts`,
        updatedAt: sql`excluded.updated_at`,
        result: sql`excluded.result`,
        error: sql`excluded.error`,
        revision: sql`excluded.revision`,
      },
      setWhere: sql`${commands.revision} < excluded.revision`,
    })
  await lockChangeFeed(db)
  const added = await db
    .insert(commandEvents)
    .values(
      newest.flatMap((c) =>
        c.events.map((e, seq) => ({ commandId: c.id, seq, ...e, at: new Date(e.at) })),
      ),
    )
    .onConflictDoNothing()
    .returning({ status: commandEvents.status })
  const stored = await db
    .select({ id: commandEvents.commandId, seq: commandEvents.seq, feedSeq: commandEvents.feedSeq })
    .from(commandEvents)
    .where(
      inArray(
        commandEvents.commandId,
        newest.map((c) => c.id),
      ),
    )
  const feedSeqs = new Map(stored.map((e) => [`${e.id}/${e.seq}`, e.feedSeq]))
  const fed = changed.map((c) => ({
    ...c,
    feedSeqs: c.events.map((_, seq) => feedSeqs.get(`${c.id}/${seq}`) ?? 0),
  }))
  return { fed, added: added.map((e) => e.status) }
}

/** Writes reservation snapshots, each at its newest revision. Safe to repeat. */
export async function storeReservations(db: Db, changed: readonly Reservation[]): Promise<void> {
  if (changed.length === 0) return
  await db
    .insert(reservations)
    .values(
      newestOf(changed).map((r) => ({
        ...r,
        createdAt: new Date(r.createdAt),
        expiresAt: new Date(r.expiresAt),
        releasedAt: date(r.releasedAt),
      })),
    )
    .onConflictDoUpdate({
      target: reservations.id,
      set: {
        status: sql`excluded.status`,
        expiresAt: sql`excluded.expires_at`,
        releasedAt: sql`excluded.released_at`,
        revision: sql`excluded.revision`,
      },
      setWhere: sql`${reservations.revision} < excluded.revision`,
    })
}
