import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  canPublish,
  canSubscribe,
  type MqttPrincipal,
  mosquittoAcl,
} from '../../src/device-access/topic-access.ts'

const root = 'devices'
const device: MqttPrincipal = { kind: 'device', deviceId: 'cp-1' }
const anonymous: MqttPrincipal = { kind: 'anonymous' }
const service: MqttPrincipal = { kind: 'service' }

describe('topic access', () => {
  it('lets a device publish its own telemetry, status and acks only', () => {
    for (const kind of ['telemetry', 'status', 'acks']) {
      expect(canPublish(device, `devices/cp-1/${kind}`, root)).toBe(true)
      expect(canPublish(device, `devices/cp-2/${kind}`, root)).toBe(false)
    }
    for (const topic of [
      'devices/cp-1/commands',
      'devices/cp-1/desired',
      'devices/cp-1/telemetry/x',
      'devices/+/telemetry',
      'other/cp-1/telemetry',
      'devtwin/events/devices/cp-1',
      '$SYS/broker/version',
    ]) {
      expect(canPublish(device, topic, root)).toBe(false)
    }
  })

  it('lets a device subscribe to its own commands and desired state, without wildcards', () => {
    expect(canSubscribe(device, 'devices/cp-1/commands', root)).toBe(true)
    expect(canSubscribe(device, 'devices/cp-1/desired', root)).toBe(true)
    for (const filter of ['devices/cp-2/commands', 'devices/+/commands', 'devices/cp-1/#', '#']) {
      expect(canSubscribe(device, filter, root)).toBe(false)
    }
  })

  it('lets anonymous dev devices use any device’s topics but not devtwin’s', () => {
    expect(canPublish(anonymous, 'devices/anything/telemetry', root)).toBe(true)
    expect(canSubscribe(anonymous, 'devices/anything/commands', root)).toBe(true)
    expect(canSubscribe(anonymous, 'devtwin/events/devices/+', root)).toBe(false)
    expect(canPublish(anonymous, 'devices/anything/commands', root)).toBe(false)
  })

  it('lets the service use every topic', () => {
    expect(canSubscribe(service, 'devices/+/telemetry', root)).toBe(true)
    expect(canPublish(service, 'devices/cp-1/commands', root)).toBe(true)
  })

  it('ships a Mosquitto ACL file that says the same', () => {
    const shipped = readFileSync(new URL('../../mosquitto/acl', import.meta.url), 'utf8')
    expect(shipped).toBe(mosquittoAcl('devices', 'devtwin'))
  })
})
