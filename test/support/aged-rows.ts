import { randomUUID } from 'node:crypto'
import { eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../../src/db/client.ts'
import {
  commandEvents,
  commands,
  rejectedMessages,
  telemetry,
  twinEvents,
} from '../../src/db/schema.ts'
import type { CommandStatus } from '../../src/twins/commands.ts'
import { newTwin } from '../../src/twins/twin.ts'

export const DAY = 86_400_000

/**
 * Rows `days` old in every table retention purges, for `deviceId`: `n` readings, versions and
 * dead letters, and one command with `status`, finished (or last moved) then, with a trail of
 * three events.
 */
export async function insertAgedRows(
  db: Db,
  deviceId: string,
  days: number,
  opts: { n?: number; status?: CommandStatus; firstVersion?: number } = {},
) {
  const n = opts.n ?? 3
  const at = new Date(Date.now() - days * DAY)
  const each = Array.from({ length: n }, (_, i) => i)
  await db.insert(telemetry).values(
    each.map((i) => ({
      deviceId,
      sensor: 'temp',
      value: i,
      time: at,
      deviceTime: at,
      receivedAt: at,
      seq: null,
    })),
  )
  await db.insert(twinEvents).values(
    each.map((i) => ({
      deviceId,
      version: (opts.firstVersion ?? 1) + i,
      at,
      kind: 'reported',
      changes: {},
      twin: newTwin(deviceId),
    })),
  )
  await db.insert(rejectedMessages).values(
    each.map(() => ({
      receivedAt: at,
      topic: `devices/${deviceId}/telemetry`,
      deviceId,
      reason: 'bad_json',
      detail: 'test',
      payload: new Uint8Array([1, 2, 3]),
    })),
  )
  const id = randomUUID()
  await db.insert(commands).values({
    id,
    deviceId,
    name: 'reboot',
    status: opts.status ?? 'SUCCEEDED',
    attempts: 1,
    maxAttempts: 3,
    timeoutSeconds: 30,
    createdAt: at,
    updatedAt: at,
    expiresAt: new Date(at.getTime() + DAY),
    requestedBy: 'tester',
    revision: 1,
  })
  await db
    .insert(commandEvents)
    .values(
      [0, 1, 2].map((seq) => ({ commandId: id, seq, status: 'SENT' as const, attempt: 1, at })),
    )
}

/** How many of `deviceId`'s rows each purged table holds. */
export async function countRows(db: Db, deviceId: string) {
  const count = async (query: Promise<{ n: number }[]>) => (await query)[0]?.n ?? 0
  const n = sql<number>`count(*)::int`
  const ids = db.select({ id: commands.id }).from(commands).where(eq(commands.deviceId, deviceId))
  return {
    telemetry: await count(
      db.select({ n }).from(telemetry).where(eq(telemetry.deviceId, deviceId)),
    ),
    twin_events: await count(
      db.select({ n }).from(twinEvents).where(eq(twinEvents.deviceId, deviceId)),
    ),
    rejected_messages: await count(
      db.select({ n }).from(rejectedMessages).where(eq(rejectedMessages.deviceId, deviceId)),
    ),
    command_events: await count(
      db.select({ n }).from(commandEvents).where(inArray(commandEvents.commandId, ids)),
    ),
  }
}
