import mqtt from 'mqtt'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Announcements } from '../../src/events/announcements.ts'
import { REGISTER } from '../support/models.ts'
import { grantedQos, mqttClients } from '../support/mqtt.ts'
import { startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

const TWIN = `query ($id: ID!) { device(id: $id) { twin { reported } } }`

describe('the embedded broker authenticates devices and holds each to its own topics', () => {
  let stack: TestStack
  const { connect, refusal, closeAll } = mqttClients(() => stack.mqttUrl)
  const register = async (name: string) => {
    const id = stack.deviceId(name)
    const result = await stack.graphql(REGISTER, { input: { id } })
    return { id, password: result.data?.registerDevice.mqttPassword as string }
  }
  const asDevice = (d: { id: string; password: string }) =>
    connect({ clientId: d.id, username: d.id, password: d.password })

  beforeAll(async () => {
    stack = await startTestStack('embedded', { env: { DEVTWIN_AUTO_PROVISION: 'false' } })
  })
  afterEach(closeAll)
  afterAll(() => stack?.close())

  it('lets a device in with its secret and takes its telemetry', async () => {
    const device = await register('auth')
    const client = await asDevice(device)
    const topic = stack.topics.device(device.id, 'telemetry')
    await client.publishAsync(topic, JSON.stringify({ values: { temperature: 21.5 } }), { qos: 1 })
    await waitFor(
      async () =>
        (await stack.graphql(TWIN, { id: device.id })).data?.device?.twin.reported?.temperature ===
        21.5,
      { what: 'the reading in the twin' },
    )
  })

  it('refuses wrong, missing, unknown, borrowed and retired credentials', async () => {
    const device = await register('refused')
    const { id } = device
    expect(await refusal({ clientId: id, username: id, password: 'guess' })).toMatch(
      /bad username or password/i,
    )
    expect(await refusal({ clientId: 'anon' })).toMatch(/not authorized/i)
    const stranger = stack.deviceId('stranger')
    expect(await refusal({ clientId: stranger, username: stranger, password: 'x' })).toMatch(
      /not authorized/i,
    )
    // Another device's client id would take over that device's session.
    const other = await register('other')
    expect(await refusal({ clientId: other.id, username: id, password: device.password })).toMatch(
      /identifier rejected/i,
    )
    expect(
      await refusal({ clientId: 'x', username: stack.config.DEVTWIN_MQTT_USERNAME, password: 'x' }),
    ).toMatch(/bad username or password/i)

    await stack.graphql(`mutation ($id: ID!) { decommissionDevice(id: $id) { id } }`, { id })
    expect(await refusal({ clientId: id, username: id, password: device.password })).toMatch(
      /not authorized/i,
    )
  })

  it('lets a rotated secret in and the old one no more', async () => {
    const device = await register('rotate')
    const rotated = await stack.graphql(
      `mutation ($id: ID!) { rotateDeviceSecret(id: $id) { mqttPassword } }`,
      { id: device.id },
    )
    const password = rotated.data?.rotateDeviceSecret.mqttPassword as string
    expect(
      await refusal({ clientId: device.id, username: device.id, password: device.password }),
    ).toMatch(/bad username or password/i)
    expect(await refusal({ clientId: device.id, username: device.id, password })).toBe('connected')
  })

  it('lets a device subscribe to its own commands and desired state only', async () => {
    const device = await register('sub')
    const other = await register('sub-other')
    const client = await asDevice(device)
    const granted = (topic: string) => grantedQos(client, topic)
    expect(await granted(stack.topics.device(device.id, 'commands'))).toBe(1)
    expect(await granted(stack.topics.device(device.id, 'desired'))).toBe(1)
    expect(await granted(stack.topics.device(other.id, 'commands'))).toBe('refused')
    expect(await granted(stack.topics.device(device.id, 'telemetry'))).toBe('refused')
    expect(await granted(`${stack.topics.root}/+/commands`)).toBe('refused')
    expect(await granted(new Announcements(stack.topics.root).twinChange.topic('#'))).toBe(
      'refused',
    )
    expect(await granted('#')).toBe('refused')
  })

  it('cuts off a device that publishes as another, and passes on none of it', async () => {
    const device = await register('pub')
    const victim = await register('victim')
    const service = await connect({
      clientId: `svc-${device.id}`,
      username: stack.config.DEVTWIN_MQTT_USERNAME,
      password: stack.env.DEVTWIN_MQTT_PASSWORD,
    })
    const heard: string[] = []
    service.on('message', (topic) => heard.push(topic))
    await service.subscribeAsync(`${stack.topics.root}/+/+`, { qos: 1 })

    const forbidden = [
      stack.topics.device(victim.id, 'telemetry'),
      stack.topics.device(victim.id, 'commands'),
      stack.topics.device(device.id, 'commands'),
      stack.topics.device(device.id, 'desired'),
    ]
    for (const topic of forbidden) {
      const client = await asDevice(device)
      const closed = new Promise((resolve) => client.once('close', () => resolve(true)))
      client.publish(topic, JSON.stringify({ values: { temperature: 99 } }), { qos: 1 })
      expect(await closed).toBe(true)
    }
    // Its own topic still works, and is heard after everything refused before it.
    const client = await asDevice(device)
    await client.publishAsync(stack.topics.device(device.id, 'acks'), '{}', { qos: 1 })
    await waitFor(() => heard.includes(stack.topics.device(device.id, 'acks')), {
      what: 'the allowed publish',
    })
    expect(heard).toEqual([stack.topics.device(device.id, 'acks')])
  })
})

describe('while auto-provisioning (npm run dev), anonymous devices are let in', () => {
  let stack: TestStack
  beforeAll(async () => {
    stack = await startTestStack('embedded')
  })
  afterAll(() => stack?.close())

  it('to device topics, never to devtwin’s own', async () => {
    const client = await mqtt.connectAsync(stack.mqttUrl, { reconnectPeriod: 0 })
    try {
      const granted = (topic: string) => grantedQos(client, topic)
      expect(await granted(stack.topics.device('any-device', 'commands'))).toBe(1)
      expect(await granted(new Announcements(stack.topics.root).twinChange.topic('+'))).toBe(
        'refused',
      )
      expect(await granted(new Announcements(stack.topics.root).alert.topic('+'))).toBe('refused')
    } finally {
      await client.endAsync()
    }
  })
})
