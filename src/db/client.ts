import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import * as schema from './schema.ts'

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>

export interface Database {
  db: Db
  /** "postgres" for a server reached by DATABASE_URL, "pglite" for the embedded one. */
  kind: 'postgres' | 'pglite'
  close(): Promise<void>
}

const migrationsFolder = new URL('../../drizzle', import.meta.url).pathname

/** Any number to serialise migrations when several devtwin processes start at once. */
const MIGRATION_LOCK = 7_233_001

/**
 * Opens the database and brings its schema up to date: Postgres when `url` is given, else
 * PGlite (real Postgres in WASM) persisted under `dataDir`.
 */
export async function openDatabase(opts: { url?: string; dataDir: string }): Promise<Database> {
  if (opts.url) {
    await migrateServer(opts.url)
    const sql = postgres(opts.url, { max: 10, onnotice: () => {} })
    // A stop waits 5 s at most for queries under way: after an outage a connection can wait forever.
    const close = () => sql.end({ timeout: 5 })
    return { db: drizzlePostgres(sql, { schema }), kind: 'postgres', close }
  }
  const dir = join(opts.dataDir, 'pgdata')
  mkdirSync(dir, { recursive: true })
  const client = await PGlite.create(dir)
  const db = drizzlePglite(client, { schema })
  await migratePglite(db, { migrationsFolder })
  return { db, kind: 'pglite', close: () => client.close() }
}

async function migrateServer(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`
    await migratePostgres(drizzlePostgres(sql), { migrationsFolder })
  } finally {
    await sql.end()
  }
}
