import { PGlite } from '@electric-sql/pglite'
import { SQL, sql } from 'drizzle-orm'
import {
  integer,
  type PgDatabase,
  type PgQueryResultHKT,
  pgTable,
  text,
  timestamp,
} from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { classifyDbError } from '../../src/db/errors.ts'
import { retryTransient } from '../../src/db/retry.ts'
import { freePort } from '../../src/embedded/ports.ts'
import { createTestDatabase, SERVICES } from '../support/services.ts'
import { waitFor } from '../support/wait.ts'

const things = pgTable('things', {
  id: integer().primaryKey(),
  name: text(),
  at: timestamp({ withTimezone: true, mode: 'date' }),
})

/** The error `work` fails with; the test fails if it succeeds. */
async function failure(work: PromiseLike<unknown>): Promise<unknown> {
  try {
    await work
  } catch (error) {
    return error
  }
  throw new Error('expected the database to refuse')
}

const raise = (sqlstate: string) =>
  sql.raw(`do $$ begin raise exception 'raised by the test' using errcode = '${sqlstate}'; end $$`)

interface Opened {
  db: PgDatabase<PgQueryResultHKT>
  close(): Promise<void>
}

async function openPostgres(): Promise<Opened> {
  const database = await createTestDatabase()
  const client = postgres(database.url, { max: 2, onnotice: () => {} })
  return {
    db: drizzlePostgres(client),
    async close() {
      await client.end()
      await database.drop()
    },
  }
}

async function openPglite(): Promise<Opened> {
  const client = new PGlite()
  return { db: drizzlePglite(client), close: () => client.close() }
}

describe.each([
  ['postgres', openPostgres],
  ['pglite', openPglite],
] as const)('database errors (%s)', (kind, open) => {
  let opened: Opened
  beforeAll(async () => {
    opened = await open()
    await opened.db.execute(
      sql`create table things (id integer primary key, name text, at timestamptz)`,
    )
  })
  afterAll(() => opened?.close())

  const classify = async (work: SQL | PromiseLike<unknown>) =>
    classifyDbError(await failure(work instanceof SQL ? opened.db.execute(work) : work))

  it('calls refused data permanent, with the database reason and its code', async () => {
    expect(await classify(sql`insert into things (id, name) values (1, ${'a\u0000b'})`)).toEqual({
      kind: 'permanent',
      code: '22021',
      message: '22021: invalid byte sequence for encoding "UTF8": 0x00',
    })
    // The JSON escape \u0000, as a parameter and as a literal.
    expect(await classify(sql`select ${'"\\u0000"'}::jsonb`)).toMatchObject({
      kind: 'permanent',
      code: '22P05',
      message: '22P05: unsupported Unicode escape sequence',
    })
    expect(await classify(sql.raw(String.raw`select '"\u0000"'::jsonb`))).toMatchObject({
      kind: 'permanent',
      code: '22P05',
    })
    const float = await classify(sql`select 1e400::float8`)
    expect(float).toMatchObject({ kind: 'permanent', code: '22003' })
    expect(float.message.length).toBeLessThanOrEqual(300)
    expect(await classify(sql`select 2147483647::integer + 1`)).toEqual({
      kind: 'permanent',
      code: '22003',
      message: '22003: integer out of range',
    })
    expect(await classify(sql`select to_timestamp(1e20)`)).toMatchObject({
      kind: 'permanent',
      code: '22008',
      message: expect.stringMatching(/^22008: timestamp out of range/),
    })
    expect(await classify(sql`selec 1`)).toMatchObject({ kind: 'permanent', code: '42601' })
  })

  it('calls a unique violation permanent', async () => {
    await opened.db.insert(things).values({ id: 2, name: 'first' })
    expect(await classify(opened.db.insert(things).values({ id: 2, name: 'again' }))).toMatchObject(
      { kind: 'permanent', code: '23505' },
    )
  })

  it('calls a NUL inside the SQL text permanent, though its SQLSTATE is in class 08', async () => {
    // The wire protocol ends the statement at the NUL: the server refuses the message itself.
    expect(await classify(sql.raw(`select '"\u0000"'::jsonb`))).toMatchObject({
      kind: 'permanent',
      code: '08P01',
    })
    expect(await opened.db.execute(sql`select 1 as one`)).toBeTruthy()
  })

  it('calls a value the driver cannot serialise permanent', async () => {
    const error = await failure(
      opened.db.insert(things).values({ id: 3, at: new Date(Number.NaN) }),
    )
    expect(classifyDbError(error)).toEqual({ kind: 'permanent', message: 'Invalid time value' })
  })

  it('calls serialization failures, deadlocks and lock timeouts transient', async () => {
    for (const code of ['40001', '40P01', '55P03', '53300', '57P03', '58030']) {
      expect(await classify(raise(code))).toEqual({
        kind: 'transient',
        code,
        message: `${code}: raised by the test`,
      })
    }
  })

  it('calls a statement timeout transient', async () => {
    // PGlite runs in one thread and never interrupts a statement: there the server raises 57014.
    const timedOut =
      kind === 'pglite'
        ? opened.db.execute(raise('57014'))
        : opened.db.transaction(async (tx) => {
            await tx.execute(sql`set local statement_timeout = 50`)
            await tx.execute(sql`select pg_sleep(5)`)
          })
    expect(await classify(timedOut)).toMatchObject({
      kind: 'transient',
      code: '57014',
      message: expect.stringMatching(kind === 'pglite' ? /^57014: / : /statement timeout/),
    })
  })

  it('retries a transient error until the statement succeeds', async () => {
    let calls = 0
    const retries: number[] = []
    const result = await retryTransient(
      async () => {
        calls++
        return opened.db.execute(calls < 3 ? raise('40001') : sql`select 7 as seven`)
      },
      { baseMs: 1, onRetry: (_error, attempt) => retries.push(attempt) },
    )
    expect(calls).toBe(3)
    expect(retries).toEqual([1, 2])
    expect(JSON.stringify(result)).toContain('"seven":7')
  })

  it('does not retry a permanent error, and gives up on a transient one after maxAttempts', async () => {
    let calls = 0
    const nul = () => {
      calls++
      return opened.db.execute(sql`select ${'a\u0000'}::text`)
    }
    expect(classifyDbError(await failure(retryTransient(nul, { baseMs: 1 })))).toMatchObject({
      code: '22021',
    })
    expect(calls).toBe(1)

    calls = 0
    const deadlock = () => {
      calls++
      return opened.db.execute(raise('40P01'))
    }
    const error = await failure(retryTransient(deadlock, { baseMs: 1, maxAttempts: 3 }))
    expect(classifyDbError(error)).toMatchObject({ kind: 'transient', code: '40P01' })
    expect(calls).toBe(3)
  })

  it('stops retrying when its signal aborts', async () => {
    const controller = new AbortController()
    let calls = 0
    const error = await failure(
      retryTransient(
        () => {
          calls++
          return opened.db.execute(raise('40001'))
        },
        { signal: controller.signal, baseMs: 60_000, onRetry: () => controller.abort() },
      ),
    )
    expect((error as Error).name).toBe('AbortError')
    expect(calls).toBe(1)
  })
})

describe('connection errors', () => {
  it('calls a refused connection transient', async () => {
    const port = await freePort()
    const client = postgres(`postgres://postgres@127.0.0.1:${port}/test`, { max: 1 })
    try {
      expect(
        classifyDbError(await failure(drizzlePostgres(client).execute(sql`select 1`))),
      ).toEqual({
        kind: 'transient',
        code: 'ECONNREFUSED',
        message: `connect ECONNREFUSED 127.0.0.1:${port}`,
      })
    } finally {
      await client.end()
    }
  })

  it('calls a connection terminated by the server transient', async () => {
    const admin = postgres(SERVICES.databaseUrl, { max: 1, onnotice: () => {} })
    const victim = postgres(SERVICES.databaseUrl, { max: 1, onnotice: () => {} })
    try {
      const [row] = await victim<{ pid: number }[]>`select pg_backend_pid() as pid`
      const pid = row?.pid ?? 0
      const sleeping = failure(drizzlePostgres(victim).execute(sql`select pg_sleep(10)`))
      await waitFor(
        async () =>
          (await admin`select 1 from pg_stat_activity where pid = ${pid} and state = 'active'`)
            .length > 0,
        { what: 'the victim connection running its statement' },
      )
      await admin`select pg_terminate_backend(${pid})`
      // Postgres sends 57P01 (admin_shutdown) and closes; postgres.js 3.4 reports the closed socket.
      const { kind, code } = classifyDbError(await sleeping)
      expect(kind).toBe('transient')
      expect(['57P01', 'CONNECTION_CLOSED']).toContain(code)
    } finally {
      // Its end() waits forever for the statement the server cut off: destroy it instead.
      await victim.end({ timeout: 0 })
      await admin.end()
    }
  })

  it('calls a closed PGlite transient: it says nothing but "closed"', async () => {
    const client = new PGlite()
    await client.close()
    expect(classifyDbError(await failure(drizzlePglite(client).execute(sql`select 1`)))).toEqual({
      kind: 'transient',
      message: 'PGlite is closed',
    })
  })
})
