import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { hashSecret, newSecret } from '../../src/device-access/credentials.ts'
import { REGISTER } from '../support/models.ts'
import { startMosquitto } from '../support/mosquitto.ts'
import { mqttClients } from '../support/mqtt.ts'
import { startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

const repo = new URL('../../', import.meta.url).pathname
const SERVICE_USER = 'devtwin'

describe('the shipped Mosquitto config, on the machine’s Mosquitto', () => {
  let stack: TestStack
  let broker: Awaited<ReturnType<typeof startMosquitto>>
  let dir: string
  let url: string
  const servicePassword = newSecret()
  const { connect, refusal, closeAll } = mqttClients(() => url, { protocolVersion: 5 })
  const asService = (clientId: string) =>
    connect({ clientId, username: SERVICE_USER, password: servicePassword })

  /** Registers a device, exports the password file with the CLI and reloads Mosquitto. */
  const register = async (name: string) => {
    const id = stack.deviceId(name)
    const result = await stack.graphql(REGISTER, { input: { id } })
    const password = result.data?.registerDevice.mqttPassword as string
    const cli = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/mqtt-passwords.ts', '--out', join(dir, 'passwords')],
      {
        cwd: repo,
        env: {
          ...process.env,
          DATABASE_URL: stack.env.DATABASE_URL,
          DEVTWIN_MQTT_PASSWORD: servicePassword,
        },
        stdio: 'inherit',
      },
    )
    expect((await once(cli, 'exit'))[0]).toBe(0)
    broker.process.kill('SIGHUP')
    await waitFor(
      () =>
        refusal({ clientId: `${id}-probe`, username: id, password }).then((r) => r === 'connected'),
      { what: `Mosquitto to know ${id}` },
    )
    return { id, password }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'devtwin-mosquitto-'))
    writeFileSync(join(dir, 'passwords'), `${SERVICE_USER}:${await hashSecret(servicePassword)}\n`)
    broker = await startMosquitto(dir, {
      auth: true,
      probe: { username: SERVICE_USER, password: servicePassword },
    })
    url = broker.url
    stack = await startTestStack('services', {
      env: {
        MQTT_URL: url,
        DEVTWIN_MQTT_USERNAME: SERVICE_USER,
        DEVTWIN_MQTT_PASSWORD: servicePassword,
        // The shipped ACL file is written for the default root.
        DEVTWIN_TOPIC_ROOT: 'devices',
      },
    })
  })
  afterEach(closeAll)
  afterAll(async () => {
    await stack?.close()
    await broker?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('carries a registered device’s telemetry to its twin', async () => {
    const device = await register('mq')
    const client = await connect({
      clientId: device.id,
      username: device.id,
      password: device.password,
    })
    await client.publishAsync(
      stack.topics.device(device.id, 'telemetry'),
      JSON.stringify({ values: { temperature: 19.5 } }),
      { qos: 1 },
    )
    await waitFor(
      async () =>
        (await stack.graphql(`query ($id: ID!) { device(id: $id) { twin { reported } } }`, device))
          .data?.device?.twin.reported?.temperature === 19.5,
      { what: 'the reading in the twin' },
    )
  })

  it('refuses anonymous clients, wrong secrets and unknown devices', async () => {
    const device = await register('mq-refused')
    expect(await refusal({ clientId: 'anon' })).toMatch(/not authorized|bad user name/i)
    expect(await refusal({ clientId: device.id, username: device.id, password: 'guess' })).toMatch(
      /not authorized|bad user name/i,
    )
    expect(await refusal({ clientId: 'who', username: 'who', password: 'x' })).toMatch(
      /not authorized|bad user name/i,
    )
  })

  it('holds each device to its own topics', async () => {
    const device = await register('mq-acl')
    const victim = await register('mq-victim')
    const service = await asService(`svc-${device.id}`)
    const heard: string[] = []
    service.on('message', (topic) => heard.push(topic))
    await service.subscribeAsync('devices/+/+', { qos: 1 })

    const client = await connect({
      clientId: device.id,
      username: device.id,
      password: device.password,
    })
    // Mosquitto grants any filter but delivers only what the ACL allows to be read.
    const received: string[] = []
    client.on('message', (topic) => received.push(topic))
    const own = stack.topics.device(device.id, 'commands')
    for (const filter of [stack.topics.device(victim.id, 'commands'), 'devtwin/#', own]) {
      await client.subscribeAsync(filter, { qos: 1 })
    }
    await service.publishAsync(stack.topics.device(victim.id, 'commands'), '{}', { qos: 1 })
    await service.publishAsync('devtwin/events/devices/x', '{}', { qos: 1 })
    await service.publishAsync(own, '{}', { qos: 1 })
    await waitFor(() => received.includes(own), { what: 'the device’s own command' })
    expect(received).toEqual([own])

    // MQTT v5: Mosquitto answers a refused publish with PUBACK "Not authorized".
    for (const kind of ['telemetry', 'commands'] as const) {
      await expect(
        client.publishAsync(stack.topics.device(victim.id, kind), '{"values":{}}', { qos: 1 }),
      ).rejects.toThrow(/not authorized/i)
    }
    await client.publishAsync(stack.topics.device(device.id, 'acks'), '{}', { qos: 1 })
    await waitFor(() => heard.includes(stack.topics.device(device.id, 'acks')), {
      what: 'the allowed publish',
    })
    // (the service's own command to the victim above is the only message on its topics)
    expect(heard.filter((t) => t.includes(victim.id))).toEqual([
      stack.topics.device(victim.id, 'commands'),
    ])
  })
})
