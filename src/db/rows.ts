import { sql } from 'drizzle-orm'

/** A list as one typed array parameter (`$1::text[]`): one statement for many rows. */
export const sqlArray = (values: unknown[], type: string) =>
  sql`${sql.param(values)}::${sql.raw(type)}[]`

/** postgres.js returns rows as the result itself, PGlite under `rows`. */
export function resultRows<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : ((result as { rows: T[] }).rows ?? [])
}
