import { and, asc, eq, gt, inArray, lte, max } from 'drizzle-orm'
import { filter, map, pipe } from 'graphql-yoga'
import type { FedCommand } from '../../activities/records.ts'
import { commandEvents, commands } from '../../db/schema.ts'
import { newChanges, replayThenLive } from '../../events/resume.ts'
import { type CommandRequest, refuseRepeat } from '../../twins/command-requests.ts'
import { type Command, isTerminal } from '../../twins/commands.ts'
import { cancelCommandUpdate, sendCommandUpdate } from '../../workflows/messages.ts'
import type { ApiContext } from '../context.ts'
import { apiError, badInput } from '../errors.ts'
import { requireRole } from '../roles.ts'
import { connection, pageSize } from './connection.ts'
import type { DeviceParent } from './device-row.ts'
import { newestFirst } from './newest-first.ts'
import { followThenReplay, MAX_REPLAY, parseFeedCursor } from './resume-point.ts'
import { updateTwin } from './twin-update.ts'
import { UUID } from './uuid.ts'

type CommandRow = typeof commands.$inferSelect
type CommandEventRow = typeof commandEvents.$inferSelect
/** A command as Postgres stores it or as a twin holds it (times in epoch ms). */
type CommandParent = CommandRow | Command
/** A command with its trail of status changes, as a row with its events or as a twin holds it. */
type Trailed = (CommandRow & { events: CommandEventRow[] }) | Command
/** A command as `commandUpdated` sends it: at one status change, with its place in the feed. */
type CommandUpdate = Trailed & { feedSeq: number }

/**
 * The command as it was at its `index`th status change: its trail so far, and the result only at
 * its newest.
 */
function commandAt(command: Trailed, index: number, feedSeq: number): CommandUpdate {
  const event = command.events[index]
  if (!event || index === command.events.length - 1) return { ...command, feedSeq }
  return {
    ...command,
    status: event.status,
    attempts: event.attempt,
    updatedAt: event.at,
    error: event.error,
    result: null,
    events: command.events.slice(0, index + 1),
    feedSeq,
  } as CommandUpdate
}

/** Each status change a snapshot carries, as its own update (the replay's admit drops repeats). */
async function* statusChangesOf(snapshots: AsyncIterable<FedCommand>) {
  for await (const command of snapshots) {
    yield* command.feedSeqs.map((feedSeq, index) => commandAt(command, index, feedSeq))
  }
}

async function findCommand(ctx: ApiContext, id: string): Promise<CommandRow | null> {
  if (!UUID.test(id)) return null
  const [row] = await ctx.db.select().from(commands).where(eq(commands.id, id))
  return row ?? null
}

const paging = newestFirst<CommandRow>(commands.createdAt, commands.id, (c) => c.createdAt)

export const commandFields = {
  changeCursor: (command: CommandParent) =>
    'feedSeq' in command ? String((command as CommandUpdate).feedSeq) : null,
  // A command from a twin (pendingCommands, commandUpdated) carries its trail; a row does not.
  events: (command: CommandParent, _: unknown, ctx: ApiContext) =>
    'events' in command
      ? command.events
      : ctx.db
          .select()
          .from(commandEvents)
          .where(eq(commandEvents.commandId, command.id))
          .orderBy(asc(commandEvents.seq)),
}

export const commandQueries = {
  command: (_: unknown, args: { id: string }, ctx: ApiContext) => findCommand(ctx, args.id),
}

/** `Device.commands`: newest first. */
export async function deviceCommands(
  device: DeviceParent,
  args: { first: number; after?: string | null },
  ctx: ApiContext,
) {
  const rows = await ctx.db
    .select()
    .from(commands)
    .where(and(eq(commands.deviceId, device.id), args.after ? paging.after(args.after) : undefined))
    .orderBy(...paging.orderBy)
    .limit(pageSize(args.first) + 1)
  return connection(rows, args.first, paging.cursorOf)
}

export const commandMutations = {
  async sendCommand(
    _: unknown,
    args: Omit<CommandRequest, 'requestedBy'> & { deviceId: string },
    ctx: ApiContext,
  ): Promise<CommandParent> {
    requireRole(ctx, 'operator')
    const { deviceId, ...request } = args
    // A key whose command the twin no longer holds (long finished) is answered from Postgres.
    if (request.idempotencyKey) {
      const [earlier] = await ctx.db
        .select()
        .from(commands)
        .where(
          and(eq(commands.deviceId, deviceId), eq(commands.idempotencyKey, request.idempotencyKey)),
        )
      if (earlier) {
        const refusal = refuseRepeat(earlier, request)
        if (refusal) throw badInput(refusal.message)
        return earlier
      }
    }
    return updateTwin(ctx, deviceId, sendCommandUpdate, [
      { ...request, requestedBy: ctx.viewer.sub },
    ])
  },

  async cancelCommand(_: unknown, args: { id: string }, ctx: ApiContext) {
    requireRole(ctx, 'operator')
    const row = await findCommand(ctx, args.id)
    if (!row) throw apiError('COMMAND_NOT_FOUND', `no command "${args.id}"`)
    if (isTerminal(row.status)) throw badInput(`command already ended ${row.status}`)
    return updateTwin(ctx, row.deviceId, cancelCommandUpdate, [args.id])
  },
}

/**
 * Each status change of one command (id) or of the commands of one device (deviceId); with
 * `after` (a changeCursor), first every status change since, oldest first, from the
 * command_events log. Each status change takes a new position in one feed, in commit order, so
 * the topic is subscribed before the log is read and a live change the read already held is
 * dropped (`newChanges`), as is a snapshot that repeats a status: nothing missed, nothing twice.
 */
export const commandSubscription = {
  async subscribe(
    _: unknown,
    args: { id?: string | null; deviceId?: string | null; after?: string | null },
    ctx: ApiContext,
  ) {
    let deviceId = args.deviceId ?? '+'
    if (args.id) {
      const row = await findCommand(ctx, args.id)
      if (!row) throw apiError('COMMAND_NOT_FOUND', `no command "${args.id}"`)
      deviceId = row.deviceId
    }
    const after =
      args.after == null ? null : parseFeedCursor(args.after, await newest(ctx), 'command')
    const { followed, replayed } = await followThenReplay(
      ctx,
      ctx.announcements.commandUpdate.topic(deviceId),
      async () => (after === null ? [] : statusChangesAfter(ctx, after, args)),
      'command status changes',
      'read the commands with device(id) { commands } or command(id), then subscribe without after',
    )
    // A snapshot may hold several status changes (they can happen within one step of the twin).
    const live = statusChangesOf(
      pipe(
        { [Symbol.asyncIterator]: () => followed },
        map((payload) => ctx.announcements.commandUpdate.decode(payload)),
        filter(
          (c) => (!args.id || c.id === args.id) && (!args.deviceId || c.deviceId === args.deviceId),
        ),
      ),
    )
    const admit = newChanges<CommandUpdate>(
      after ?? 0,
      (c) => c.id,
      (c) => c.feedSeq,
    )
    return replayThenLive<CommandUpdate>(replayed, live, admit, followed)
  },
  resolve: (command: CommandUpdate) => command,
}

/** The command feed's newest position (0 before the first command). */
async function newest(ctx: ApiContext): Promise<number> {
  const [row] = await ctx.db.select({ seq: max(commandEvents.feedSeq) }).from(commandEvents)
  return row?.seq ?? 0
}

/**
 * Status changes after a feed position, oldest first (one more than a replay sends), each as
 * its command then was.
 */
async function statusChangesAfter(
  ctx: ApiContext,
  after: number,
  args: { id?: string | null; deviceId?: string | null },
): Promise<CommandUpdate[]> {
  const changes = await ctx.db
    .select({ command: commands, event: commandEvents })
    .from(commandEvents)
    .innerJoin(commands, eq(commands.id, commandEvents.commandId))
    .where(
      and(
        gt(commandEvents.feedSeq, after),
        args.id ? eq(commands.id, args.id) : undefined,
        args.deviceId ? eq(commands.deviceId, args.deviceId) : undefined,
      ),
    )
    .orderBy(asc(commandEvents.feedSeq))
    .limit(MAX_REPLAY + 1)
  if (changes.length === 0) return []
  // Every change up to the newest replayed one has committed (the feed is in commit order).
  const upTo = changes[changes.length - 1]?.event.feedSeq ?? after
  const trails = await ctx.db
    .select()
    .from(commandEvents)
    .where(
      and(
        inArray(commandEvents.commandId, [...new Set(changes.map((c) => c.command.id))]),
        lte(commandEvents.feedSeq, upTo),
      ),
    )
    .orderBy(asc(commandEvents.seq))
  return changes.map(({ command, event }) => {
    const trail = trails.filter((e) => e.commandId === command.id)
    return commandAt({ ...command, events: trail }, event.seq, event.feedSeq)
  })
}
