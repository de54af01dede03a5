import { eq } from 'drizzle-orm'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rejectedMessages, telemetry } from '../../src/db/schema.ts'
import type { Ingest } from '../../src/ingest/ingest.ts'
import { MODES, startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

/** Any string at all: every code point class, lone surrogates and NUL included. */
const anyString = fc.string({ unit: 'binary', maxLength: 24 })

/** The inputs that once stopped ingest, and their relatives. */
const known = [
  Buffer.from('{"values":{"label":"a\u0000b"}}'),
  Buffer.from('{"values":{"label":"a\\u0000b"}}'),
  Buffer.from('{"values":{"a\\u0000":1}}'),
  Buffer.from('{"values":{"s":"\\ud800"}}'),
  Buffer.from('{"values":{"s":"\\udfff\\ud800"}}'),
  Buffer.from([0x7b, 0x00, 0x7d]),
  Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
  Buffer.from('{"id":"x","status":"failed","error":"e\\u0000","result":{"k":"\\u0000"}}'),
  Buffer.from(`{"id":"x","status":"succeeded","result":${'['.repeat(5000)}${']'.repeat(5000)}}`),
  Buffer.from('{"values":{"t":1e308,"u":-5e-324},"ts":8640000000000000,"seq":9007199254740991}'),
  Buffer.from('{"online":true,"x":"\\u0000"}'),
]

const payloads = fc.oneof(
  fc.constantFrom(...known),
  fc.uint8Array({ maxLength: 120 }),
  anyString.map((s) => JSON.stringify({ values: { label: s } })),
  anyString.map((s) => JSON.stringify({ ts: Date.now(), values: { [s || 'k']: 1 } })),
  anyString.map((s) => JSON.stringify({ id: s || 'id', status: 'failed', error: s, result: [s] })),
  anyString.map((s) => JSON.stringify({ online: true, note: s })),
)

describe.each(MODES)('any bytes on any device topic (%s)', (mode) => {
  let stack: TestStack
  beforeAll(async () => {
    stack = await startTestStack(mode)
  })
  afterAll(() => stack?.close())

  it('stores or keeps byte-exact every payload, and the next device is not held up', async () => {
    const ingest = stack.ingest as Ingest
    const good = stack.deviceId('good')
    let n = 0
    await fc.assert(
      fc.asyncProperty(
        payloads,
        fc.constantFrom('telemetry', 'status', 'acks'),
        async (payload, kind) => {
          n++
          const bytes = Buffer.from(payload)
          const id = stack.deviceId('any')
          const acceptedBefore = ingest.stats.accepted
          await stack.publish(stack.topics.device(id, kind), bytes)
          const sentAt = Date.now()
          await stack.publish(stack.topics.device(good, 'telemetry'), { seq: n, values: { n } })

          const kept = await waitFor(
            async () => {
              const [letter] = await stack.database.db
                .select()
                .from(rejectedMessages)
                .where(eq(rejectedMessages.deviceId, id))
              const accepted = ingest.stats.accepted - acceptedBefore
              if (letter && accepted >= 1) return { letter }
              return accepted >= 2 && { letter: null }
            },
            { timeout: 10_000, what: `payload ${bytes.toString('hex').slice(0, 80)} settled` },
          )
          if (kept.letter) {
            expect(Buffer.from(kept.letter.payload).equals(bytes)).toBe(true)
            expect(kept.letter.detail.length).toBeGreaterThan(0)
            // And read back through the API as the bytes that arrived.
            const api = await stack.graphql(
              'query ($id: ID!) { rejectedMessages(where: { deviceId: $id }) { edges { node { payloadBase64 size } } } }',
              { id },
            )
            expect(api.data?.rejectedMessages.edges[0]?.node).toEqual({
              payloadBase64: bytes.toString('base64'),
              size: bytes.length,
            })
          } else if (kind === 'telemetry' && /"values":\{"/.test(bytes.toString('utf8'))) {
            const rows = await stack.database.db
              .select()
              .from(telemetry)
              .where(eq(telemetry.deviceId, id))
            expect(rows.length).toBeGreaterThan(0)
          }
          // The reading after it is stored and on its twin within 2 s of its publish.
          await waitFor(
            async () => {
              const r = await stack.graphql(
                'query ($id: ID!) { device(id: $id) { twin { reported } } }',
                { id: good },
              )
              return r.data?.device?.twin?.reported?.n === n
            },
            { timeout: Math.max(0, sentAt + 2_000 - Date.now()), what: `n = ${n} on ${good}` },
          )
        },
      ),
      {
        numRuns: 40,
        // Found by this property: zod dropped the key, and the reading was stored with no values.
        examples: [['{"ts":1796015826445,"values":{"__proto__":1}}', 'telemetry']],
      },
    )
  })
})
