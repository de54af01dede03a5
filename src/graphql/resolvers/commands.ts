import { and, asc, eq } from 'drizzle-orm'
import { filter, map, pipe } from 'graphql-yoga'
import { commandEvents, commands } from '../../db/schema.ts'
import {
  type Command,
  type CommandRequest,
  isTerminal,
  refuseRepeat,
} from '../../twins/commands.ts'
import { cancelCommandUpdate, sendCommandUpdate } from '../../workflows/messages.ts'
import type { ApiContext } from '../context.ts'
import { apiError, badInput } from '../errors.ts'
import { requireRole } from '../roles.ts'
import { connection, pageSize } from './connection.ts'
import type { DeviceParent } from './device-row.ts'
import { newestFirst } from './newest-first.ts'
import { updateTwin } from './twin-update.ts'
import { UUID } from './uuid.ts'

type CommandRow = typeof commands.$inferSelect
/** A command as Postgres stores it or as a twin holds it (times in epoch ms). */
type CommandParent = CommandRow | Command

async function findCommand(ctx: ApiContext, id: string): Promise<CommandRow | null> {
  if (!UUID.test(id)) return null
  const [row] = await ctx.db.select().from(commands).where(eq(commands.id, id))
  return row ?? null
}

const paging = newestFirst<CommandRow>(commands.createdAt, commands.id, (c) => c.createdAt)

export const commandFields = {
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

export const commandSubscription = {
  async subscribe(
    _: unknown,
    args: { id?: string | null; deviceId?: string | null },
    ctx: ApiContext,
  ) {
    let deviceId = args.deviceId ?? '+'
    if (args.id) {
      const row = await findCommand(ctx, args.id)
      if (!row) throw apiError('COMMAND_NOT_FOUND', `no command "${args.id}"`)
      deviceId = row.deviceId
    }
    return pipe(
      ctx.hub.listen(ctx.topics.commandUpdates(deviceId)),
      map((payload) => JSON.parse(payload.toString('utf8')) as Command),
      filter(
        (c) => (!args.id || c.id === args.id) && (!args.deviceId || c.deviceId === args.deviceId),
      ),
    )
  },
  resolve: (command: Command) => command,
}
