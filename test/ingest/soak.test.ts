import { count, inArray, like } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rejectedMessages, telemetry } from '../../src/db/schema.ts'
import type { Ingest } from '../../src/ingest/ingest.ts'
import { MODES, startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

const DEVICES = 50
const READINGS = 40
const MALFORMED_PER_DEVICE = 60

/** Garbage of every kind a broken or hostile device sends. */
const malformed = (n: number): string | Buffer =>
  [
    () => '{"values":',
    () => Buffer.from([0xff, 0xfe, 0x00, n % 256]),
    () => JSON.stringify({ values: { deep: { deeper: [n] } } }),
    () => JSON.stringify({ values: { s: 'x'.repeat(300) } }),
    () => JSON.stringify({ ts: 'yesterday', values: { a: n } }),
    () => '{"values":{"a":1e999}}',
    () =>
      JSON.stringify({
        values: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i])),
      }),
    () => JSON.stringify([]),
    () => 'null',
    () => JSON.stringify({ seq: -5, values: { a: 1 } }),
  ][n % 10]?.() ?? ''

describe.each(MODES)('ingest soak (%s)', (mode) => {
  let stack: TestStack
  beforeAll(async () => {
    stack = await startTestStack(mode)
  })
  afterAll(() => stack?.close())

  it(`keeps every valid reading among ${DEVICES * MALFORMED_PER_DEVICE} malformed messages, and keeps serving`, async () => {
    const ingest = stack.ingest as Ingest
    const prefix = stack.deviceId('soak')
    const ids = Array.from({ length: DEVICES }, (_, d) => `${prefix}-${d}`)
    const rejectedBefore = Object.values(ingest.stats.rejected).reduce((a, b) => a + (b ?? 0), 0)
    const t0 = Date.now() - 3_600_000

    for (let round = 0; round < READINGS; round++) {
      const sends: Promise<unknown>[] = []
      for (const [d, id] of ids.entries()) {
        const topic = stack.topics.device(id, 'telemetry')
        sends.push(
          stack.publish(topic, { seq: round, ts: t0 + round * 1000, values: { n: round, d } }),
        )
        // One malformed message in even rounds, two in odd ones: 60 per device in all.
        for (let k = 0; k < 1 + (round % 2); k++) {
          sends.push(stack.publish(topic, malformed(round * 7 + d + k)))
        }
      }
      await Promise.all(sends)
      // The API keeps answering while the flood goes on.
      if (round % 10 === 0)
        expect(
          (await stack.graphql('{ devices(first: 1) { edges { cursor } } }')).errors,
        ).toBeUndefined()
    }

    const stored = await waitFor(
      async () => {
        const [row] = await stack.database.db
          .select({ n: count() })
          .from(telemetry)
          .where(inArray(telemetry.deviceId, ids))
        return row?.n === DEVICES * READINGS * 2 && row.n
      },
      { timeout: 60_000, what: 'every valid reading stored' },
    )
    expect(stored).toBe(DEVICES * READINGS * 2)

    const malformedSent = DEVICES * MALFORMED_PER_DEVICE
    const kept = await waitFor(
      async () => {
        const [row] = await stack.database.db
          .select({ n: count() })
          .from(rejectedMessages)
          .where(like(rejectedMessages.deviceId, `${prefix}-%`))
        return row?.n === malformedSent && row.n
      },
      { timeout: 30_000, what: `${malformedSent} rejected messages kept` },
    )
    const rejectedNow = Object.values(ingest.stats.rejected).reduce((a, b) => a + (b ?? 0), 0)
    expect(rejectedNow - rejectedBefore).toBe(kept)

    // Every twin ends on its last valid reading.
    for (const id of [ids[0], ids[DEVICES - 1]] as string[]) {
      await waitFor(
        async () => {
          const r = await stack.graphql(
            `query ($id: ID!) { device(id: $id) { twin { reported } } }`,
            { id },
          )
          return r.data?.device?.twin.reported.n === READINGS - 1
        },
        { what: `the last reading on ${id}` },
      )
    }
  })
})
