import { and, desc, eq, lt } from 'drizzle-orm'
import { rejectedMessages } from '../../db/schema.ts'
import type { ApiContext } from '../context.ts'
import { badInput } from '../errors.ts'
import { requireRole } from '../roles.ts'
import { connection, pageSize } from './connection.ts'

type RejectedRow = typeof rejectedMessages.$inferSelect

const utf8 = new TextDecoder('utf-8', { fatal: true })

export const RejectedMessage = {
  payloadBase64: (row: RejectedRow) => Buffer.from(row.payload).toString('base64'),
  payloadText: (row: RejectedRow) => {
    try {
      return utf8.decode(row.payload)
    } catch {
      return null
    }
  },
  size: (row: RejectedRow) => row.payload.byteLength,
}

export const rejectedMessageQueries = {
  /** Newest first by id (ids grow with arrival); the cursor is the id. */
  async rejectedMessages(
    _: unknown,
    args: {
      where?: { deviceId?: string | null; reason?: string | null } | null
      first: number
      after?: string | null
    },
    ctx: ApiContext,
  ) {
    requireRole(ctx, 'admin')
    const after = args.after ? Number(args.after) : null
    if (after !== null && !Number.isSafeInteger(after)) {
      throw badInput(`after "${args.after}" is not a cursor of this list`)
    }
    const where = args.where ?? {}
    const rows = await ctx.db
      .select()
      .from(rejectedMessages)
      .where(
        and(
          where.deviceId ? eq(rejectedMessages.deviceId, where.deviceId) : undefined,
          where.reason ? eq(rejectedMessages.reason, where.reason) : undefined,
          after !== null ? lt(rejectedMessages.id, after) : undefined,
        ),
      )
      .orderBy(desc(rejectedMessages.id))
      .limit(pageSize(args.first) + 1)
    return connection(rows, args.first, (row) => String(row.id))
  },
}
