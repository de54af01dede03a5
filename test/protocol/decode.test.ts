import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeMessage } from '../../src/protocol/decode.ts'
import { Topics } from '../../src/protocol/topics.ts'

const NOW = Date.parse('2026-11-23T12:00:00Z')
const limits = { maxPayloadBytes: 64 * 1024 }
const decode = (payload: unknown, topic = 'devices/cp-1/telemetry') =>
  decodeMessage(
    topic,
    Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
    NOW,
    limits,
  )

describe('Topics.parse', () => {
  const parseTopic = (topic: string) => new Topics().parse(topic)
  it('splits device topics and refuses others', () => {
    expect(new Topics('tenant-a').parse('tenant-a/cp-1/status')).toEqual({
      deviceId: 'cp-1',
      kind: 'status',
    })
    expect(new Topics('tenant-a').parse('devices/cp-1/status')).toBeNull()
    expect(parseTopic('devices/cp-1:a_b.c/telemetry')).toEqual({
      deviceId: 'cp-1:a_b.c',
      kind: 'telemetry',
    })
    expect(parseTopic('devices/has space/telemetry')).toBeNull()
    expect(parseTopic(`devices/${'x'.repeat(65)}/telemetry`)).toBeNull()
    expect(parseTopic('devices/cp-1/telemetry/extra')).toBeNull()
    expect(parseTopic('things/cp-1/telemetry')).toBeNull()
  })
})

describe('decodeMessage', () => {
  it('accepts a single reading, filling the device time from the receive time', () => {
    const decoded = decode({
      values: { temperature: 21.4, cable: 'connected', door: false, x: null },
    })
    expect(decoded).toMatchObject({ ok: true, kind: 'telemetry', deviceId: 'cp-1' })
    if (!decoded.ok || decoded.kind !== 'telemetry') throw new Error('expected readings')
    expect(decoded.readings).toEqual([
      {
        time: NOW,
        deviceTime: null,
        receivedAt: NOW,
        seq: null,
        clockSkewed: false,
        values: { temperature: 21.4, cable: 'connected', door: false, x: null },
      },
    ])
  })

  it('accepts an array of readings with epoch or RFC 3339 times and a seq', () => {
    const decoded = decode([
      { ts: NOW - 2000, seq: 1, values: { a: 1 } },
      { ts: '2026-11-23T11:59:59.000Z', seq: 2, values: { a: 2 } },
    ])
    if (!decoded.ok || decoded.kind !== 'telemetry') throw new Error('expected readings')
    expect(decoded.readings.map((r) => [r.time, r.seq])).toEqual([
      [NOW - 2000, 1],
      [NOW - 1000, 2],
    ])
  })

  it('takes a buffered flush of thousands of readings within the default size limit', () => {
    const flush = Array.from({ length: 2000 }, (_, i) => ({ seq: i, values: { p: i % 10 } }))
    const decoded = decode(flush)
    expect(decoded).toMatchObject({ ok: true })
    if (decoded.ok && decoded.kind === 'telemetry') expect(decoded.readings).toHaveLength(2000)
  })

  it('does not trust a device clock far in the future', () => {
    const decoded = decode({ ts: NOW + 3_600_000, values: { a: 1 } })
    if (!decoded.ok || decoded.kind !== 'telemetry') throw new Error('expected readings')
    expect(decoded.readings[0]).toMatchObject({
      time: NOW,
      deviceTime: NOW + 3_600_000,
      clockSkewed: true,
    })
  })

  it('reads status reports', () => {
    expect(decode({ online: false }, 'devices/cp-1/status')).toEqual({
      ok: true,
      kind: 'status',
      deviceId: 'cp-1',
      status: { online: false, receivedAt: NOW },
    })
  })

  it.each([
    ['not JSON', '{"values":', 'bad_json'],
    ['no values', { ts: NOW }, 'bad_payload'],
    ['an object value', { values: { a: { nested: 1 } } }, 'bad_payload'],
    ['a long string', { values: { a: 'x'.repeat(257) } }, 'bad_payload'],
    ['an unknown field', { values: { a: 1 }, extra: true }, 'bad_payload'],
    ['a negative seq', { seq: -1, values: { a: 1 } }, 'bad_payload'],
    ['a bad date', { ts: 'yesterday', values: { a: 1 } }, 'bad_payload'],
    ['an empty array', [], 'bad_payload'],
    [
      'too many sensors',
      { values: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`s${i}`, i])) },
      'bad_payload',
    ],
    ['a number too large for JSON to hold exactly', '{"values":{"a":1e400}}', 'bad_payload'],
  ])('rejects %s', (_, payload, reason) => {
    expect(decode(payload)).toMatchObject({ ok: false, reason, deviceId: 'cp-1' })
  })

  it('says where a payload is wrong', () => {
    expect(decode({ values: { a: [1] } })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^values\.a: /),
    })
  })

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'refuses the sensor name %s, which every JavaScript object already has',
    (name) => {
      // As a device sends it: JSON.parse keeps "__proto__" as an own key.
      const decoded = decode(`{"values":{"${name}":1,"ok":2}}`)
      expect(decoded).toMatchObject({ ok: false, reason: 'bad_payload' })
      expect(decoded.ok === false && decoded.message).toContain(
        `sensor name "${name}" is refused: every JavaScript object already has it`,
      )
    },
  )

  it('rejects payloads over the size limit before parsing them', () => {
    const big = JSON.stringify({ values: { a: 'x'.repeat(200) } })
    const decoded = decodeMessage('devices/cp-1/telemetry', Buffer.from(big), NOW, {
      maxPayloadBytes: 100,
    })
    expect(decoded).toMatchObject({ ok: false, reason: 'too_large' })
  })

  it('rejects other topics', () => {
    expect(decode({ values: { a: 1 } }, 'devices/cp-1/commands')).toMatchObject({
      ok: false,
      reason: 'bad_topic',
    })
  })

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.string(), (bytes, topic) => {
        expect(() => decodeMessage(topic, bytes, NOW, limits)).not.toThrow()
        expect(() => decodeMessage('devices/d/telemetry', bytes, NOW, limits)).not.toThrow()
      }),
    )
  })
})

describe('what Postgres could not store', () => {
  const refusal = (payload: string | Buffer, topic?: string) => {
    const decoded = decodeMessage(
      topic ?? 'devices/cp-1/telemetry',
      Buffer.from(payload),
      NOW,
      limits,
    )
    return decoded.ok ? null : { reason: decoded.reason, message: decoded.message }
  }

  it('refuses bytes that are not UTF-8, rather than replacing them', () => {
    expect(refusal(Buffer.from([0x7b, 0xff, 0x7d]))).toEqual({
      reason: 'bad_encoding',
      message: 'payload is not valid UTF-8',
    })
  })

  it('refuses NUL and lone surrogates in values, sensor names and acks, saying where', () => {
    expect(refusal('{"values":{"label":"a\\u0000b"}}')).toEqual({
      reason: 'bad_payload',
      message: expect.stringMatching(/^\$\.values\.label: contains U\+0000/),
    })
    expect(refusal('{"values":{"\\ud800x":1}}')?.message).toMatch(/\(a key\): .*surrogate/)
    expect(
      refusal('{"id":"c","status":"failed","result":{"k":["\\udc00"]}}', 'devices/cp-1/acks')
        ?.message,
    ).toMatch(/^\$\.result\.k\[0\]: .*surrogate/)
    // A pair is a real character, stored as it is.
    expect(refusal('{"values":{"smile":"\\ud83d\\ude00"}}')).toBeNull()
  })

  it('refuses JSON nested deeper than Postgres parses', () => {
    const deep = `{"id":"c","status":"succeeded","result":${'['.repeat(40)}${']'.repeat(40)}}`
    expect(refusal(deep, 'devices/cp-1/acks')).toEqual({
      reason: 'bad_payload',
      message: 'JSON nests deeper than 32 levels',
    })
  })
})
