import { and, desc, eq, lt, or, type SQL } from 'drizzle-orm'
import type { PgColumn } from 'drizzle-orm/pg-core'
import { badInput } from '../errors.ts'
import { UUID } from './uuid.ts'

/**
 * Paging a list newest first by (time, uuid id), as alerts and commands are: the order to
 * sort by, a row's cursor (`time|id`, base64url) and the condition for the rows after one.
 */
export function newestFirst<Row>(time: PgColumn, id: PgColumn, timeOf: (row: Row) => Date) {
  return {
    orderBy: [desc(time), desc(id)],
    cursorOf: (row: Row & { id: string }) =>
      Buffer.from(`${timeOf(row).toISOString()}|${row.id}`).toString('base64url'),
    after(cursor: string): SQL {
      const [at, rowId] = Buffer.from(cursor, 'base64url').toString('utf8').split('|')
      const t = new Date(at ?? '')
      if (!rowId || !UUID.test(rowId) || Number.isNaN(t.getTime())) {
        throw badInput(`after "${cursor}" is not a cursor of this list`)
      }
      return or(lt(time, t), and(eq(time, t), lt(id, rowId))) as SQL
    },
  }
}
