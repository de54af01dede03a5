import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { type Database, openDatabase } from '../../src/db/client.ts'
import { createTestDatabase } from './services.ts'

export const DATABASES = ['postgres', 'pglite'] as const

/** A migrated database of the test's own: on the machine's Postgres, or a PGlite in a temp dir. */
export async function openTestDatabase(
  kind: (typeof DATABASES)[number],
): Promise<Database & { dispose(): Promise<void> }> {
  if (kind === 'postgres') {
    const created = await createTestDatabase()
    const database = await openDatabase({ url: created.url, dataDir: '/nonexistent' })
    return {
      ...database,
      async dispose() {
        await database.close()
        await created.drop()
      },
    }
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'devtwin-db-'))
  const database = await openDatabase({ dataDir })
  return {
    ...database,
    async dispose() {
      await database.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/**
 * The tests of one `describe` share a database of their own (see `openTestDatabase`): opened
 * before the first, dropped after the last.
 */
export function useTestDatabase(kind: (typeof DATABASES)[number]) {
  let database: Awaited<ReturnType<typeof openTestDatabase>> | undefined
  beforeAll(async () => {
    database = await openTestDatabase(kind)
  })
  afterAll(() => database?.dispose())
  return {
    get db() {
      if (!database) throw new Error('the test database is opened in beforeAll: use it in a test')
      return database.db
    },
  }
}
