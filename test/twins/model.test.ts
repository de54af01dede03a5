import { describe, expect, it } from 'vitest'
import { parseDeviceModel } from '../../src/twins/model.ts'

const withSensors = (...names: string[]) =>
  parseDeviceModel({
    id: 'm',
    name: 'M',
    sensors: names.map((name) => ({ name, kind: 'NUMBER' })),
  })

describe('parseDeviceModel', () => {
  it.each(['__proto__', 'constructor', 'toString'])(
    'refuses a sensor named %s, which every JavaScript object already has, saying where',
    (name) => {
      expect(withSensors('ok', name)).toEqual({
        ok: false,
        message: `sensors.1.name: sensor name "${name}" is refused: every JavaScript object already has it`,
      })
    },
  )

  it('takes ordinary sensor names, also ones that look like code', () => {
    expect(withSensors('proto', 'valueOf_x').ok).toBe(true)
  })
})
