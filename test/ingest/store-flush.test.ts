import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { rejectedMessages, telemetry } from '../../src/db/schema.ts'
import { deadLetter } from '../../src/ingest/dead-letters.ts'
import { type Retry, storeFlush } from '../../src/ingest/store-flush.ts'
import type { SensorValue } from '../../src/twins/reading.ts'
import { DATABASES, useTestDatabase } from '../support/database.ts'
import { receivedReading } from '../support/received.ts'

const noRetry: Retry = (_what, fn) => fn()

/** A message as the decoder would hand it over, with a value it could never let through. */
const message = (deviceId: string, n: number, value: SensorValue) =>
  receivedReading(
    deviceId,
    n,
    { v: value },
    1_763_920_000_000 + n,
    Buffer.from(`payload ${n} \u0000\xff`, 'latin1'),
  )

describe.each(DATABASES)('storeFlush (%s)', (kind) => {
  const database = useTestDatabase(kind)

  it('dead-letters only the message Postgres refuses, with its reason, and stores the rest', async () => {
    const received = Array.from({ length: 20 }, (_, n) =>
      message(n % 2 ? 'odd' : 'even', n, n === 13 ? 'a\u0000b' : n),
    )
    const earlier = deadLetter(
      { topic: 'devices/x/telemetry', reason: 'bad_json', detail: 'nope', receivedAt: 1 },
      Buffer.from([0, 1, 2]),
    )
    const outcome = await storeFlush(
      database.db,
      received,
      [{ letter: earlier, ack: () => {} }],
      noRetry,
    )

    expect(outcome.refusedByDatabase).toBe(1)
    expect(outcome.readings).toBe(19)
    expect(outcome.kept).toHaveLength(2)
    expect(outcome.lost).toEqual([])
    expect(outcome.stored.map((b) => [b.deviceId, b.received.length])).toEqual([
      ['even', 10],
      ['odd', 9],
    ])
    const stored = await database.db.select().from(telemetry).where(eq(telemetry.deviceId, 'odd'))
    expect(stored.map((r) => r.value as number).sort((a, b) => a - b)).toEqual([
      1, 3, 5, 7, 9, 11, 15, 17, 19,
    ])

    const [refused] = await database.db
      .select()
      .from(rejectedMessages)
      .where(eq(rejectedMessages.reason, 'storage_refused'))
    expect(refused?.detail).toMatch(/^Postgres refused it: /)
    expect(
      Buffer.from(refused?.payload ?? []).equals(Buffer.from(received[13]?.payload ?? [])),
    ).toBe(true)
    const [kept] = await database.db
      .select()
      .from(rejectedMessages)
      .where(eq(rejectedMessages.reason, 'bad_json'))
    expect([...(kept?.payload ?? [])]).toEqual([0, 1, 2])
  })
})
