import { asc, eq } from 'drizzle-orm'
import type { Db } from '../../src/db/client.ts'
import { twinEvents } from '../../src/db/schema.ts'

/** The versions a twin's change log holds, oldest first. */
export async function loggedVersions(db: Db, deviceId: string): Promise<number[]> {
  const rows = await db
    .select({ version: twinEvents.version })
    .from(twinEvents)
    .where(eq(twinEvents.deviceId, deviceId))
    .orderBy(asc(twinEvents.version))
  return rows.map((r) => r.version)
}
