import { describe, expect, it } from 'vitest'
import { parseDeviceModel } from '../../src/twins/model.ts'

describe('parseDeviceModel', () => {
  it.each(['__proto__', 'constructor', 'toString'])(
    'refuses a sensor named %s, which every JavaScript object already has, saying where',
    (name) => {
      const parsed = parseDeviceModel({
        id: 'm',
        name: 'M',
        sensors: [
          { name: 'ok', kind: 'NUMBER' },
          { name, kind: 'NUMBER' },
        ],
      })
      expect(parsed).toEqual({
        ok: false,
        message: `sensors.1.name: sensor name "${name}" is refused: every JavaScript object already has it`,
      })
    },
  )

  it('takes ordinary sensor names, also ones that look like code', () => {
    const parsed = parseDeviceModel({
      id: 'm',
      name: 'M',
      sensors: [
        { name: 'proto', kind: 'NUMBER' },
        { name: 'valueOf_x', kind: 'BOOLEAN' },
      ],
    })
    expect(parsed.ok).toBe(true)
  })
})
