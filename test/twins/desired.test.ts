import { describe, expect, it } from 'vitest'
import { applyDesiredPatch, refuseDesiredPatch } from '../../src/twins/desired.ts'
import { newTwin } from '../../src/twins/twin.ts'

const twin = newTwin('cp-1')

describe('desired-state patches', () => {
  it.each(['__proto__', 'constructor', 'toString'])(
    'refuses the key %s, which every object already has, naming it',
    (key) => {
      // As JSON arrives: `__proto__` is then a key of the patch's own.
      const patch = JSON.parse(`{"${key}": {"mode": "boost"}, "maxPower": 11000}`)
      expect(refuseDesiredPatch(twin, patch, null)).toEqual({
        code: 'BAD_USER_INPUT',
        message: `desired key "${key}" is refused: every JavaScript object already has it`,
      })
    },
  )

  it('takes a patch of ordinary keys, and a null removes its key', () => {
    const patch = { maxPower: 11_000, mode: 'eco' }
    expect(refuseDesiredPatch(twin, patch, 0)).toBeNull()
    const first = applyDesiredPatch(twin, patch)
    expect(first.desired).toEqual({ version: 1, state: { maxPower: 11_000, mode: 'eco' } })
    const second = applyDesiredPatch(first, { mode: null })
    expect(second.desired).toEqual({ version: 2, state: { maxPower: 11_000 } })
  })
})
