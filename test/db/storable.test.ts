import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  describeUnstorable,
  findUnstorable,
  storableJson,
  storableText,
  unstorableReason,
} from '../../src/db/storable.ts'

describe('storable strings', () => {
  it('refuses NUL and lone surrogates, and nothing else', () => {
    expect(unstorableReason('a\u0000b')).toMatch(/U\+0000/)
    expect(unstorableReason('\ud800')).toMatch(/surrogate/)
    expect(unstorableReason('x\udc00')).toMatch(/surrogate/)
    expect(unstorableReason('\ud83d\ude00 \uffff \ue000 ü')).toBeNull()
  })

  it('finds the first refused string in values and keys, with its path', () => {
    expect(findUnstorable({ a: [1, 'ok', { b: 'x\u0000' }] })).toMatchObject({
      path: '$.a[2].b',
      key: false,
    })
    const key = findUnstorable({ ok: { 'k\ud800': 1 } })
    expect(key).toMatchObject({ key: true })
    expect(describeUnstorable(key as NonNullable<typeof key>)).toMatch(/^\$\.ok\..*\(a key\)/)
    expect(findUnstorable({ a: [1, true, null, 'fine'] })).toBeNull()
  })

  it('normalises any string into one that is stored as it is', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = storableText(s)
        expect(unstorableReason(out)).toBeNull()
        if (unstorableReason(s) === null) expect(out).toBe(s)
      }),
    )
    expect(storableJson({ 'a\u0000': ['\ud800'] })).toEqual({ 'a\uFFFD': ['\uFFFD'] })
  })
})
