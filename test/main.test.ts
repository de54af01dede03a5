import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { connect, createServer, type Server } from 'node:net'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import { getIntrospectionQuery } from 'graphql'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { DEFAULT_PORTS } from '../src/embedded/choose-ports.ts'
import { freePort } from '../src/embedded/ports.ts'
import { authenticate } from '../src/graphql/auth.ts'
import { request, subscribe } from './support/graphql.ts'
import { JWT_SECRET, startTestStack, type TestStack } from './support/stack.ts'
import { waitFor } from './support/wait.ts'

const main = new URL('../src/main.ts', import.meta.url).pathname
const tokenCommand = new URL('../src/token.ts', import.meta.url).pathname

/** `node --import tsx src/main.ts <role>` as its own process, the way `npm run <role>` runs it. */
function run(role: string, env: Record<string, string>, script = main) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...role.split(' ')], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => (stdout += chunk))
  child.stderr?.on('data', (chunk) => (stderr += chunk))
  return { child, output: () => ({ stdout, stderr }) }
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  await once(child, 'exit')
}

describe('npm run dev', () => {
  it('names the busy port and the variable to change, in one line', async () => {
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '0.0.0.0', resolve))
    const port = (busy.address() as { port: number }).port
    try {
      const { child, output } = run('all', {
        MQTT_PORT: String(port),
        TEMPORAL_ADDRESS: '127.0.0.1:1',
        PORT: String(await freePort()),
      })
      const [code] = await once(child, 'exit')
      expect(code).toBe(1)
      const lines = output().stderr.trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain(`port ${port} (MQTT) is already in use`)
      expect(lines[0]).toContain('MQTT_PORT')
    } finally {
      busy.close()
    }
  })

  it('tells a role run alone which shared services it needs', async () => {
    const { child, output } = run('worker', {
      DATABASE_URL: '',
      MQTT_URL: '',
      TEMPORAL_ADDRESS: '',
    })
    const [code] = await once(child, 'exit')
    expect(code).toBe(1)
    expect(output().stderr).toContain('set DATABASE_URL, MQTT_URL, TEMPORAL_ADDRESS')
  })
})

describe('npm run dev on a machine whose port 1883 is taken (a local Mosquitto)', () => {
  let dataDir: string
  let held: Server | null = null
  let dev: ReturnType<typeof run>
  let ready: string
  const line = (label: string) =>
    ready.split('\n').find((l) => l.trimStart().startsWith(label)) ?? ''
  const url = (label: string) => line(label).trim().split(/\s+/)[1] ?? ''

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'devtwin-dev-'))
    // 1883 is taken either way: by the machine's Mosquitto, or else by this test.
    const probe = createServer()
    held = await new Promise<Server | null>((resolve) => {
      probe.once('error', () => resolve(null))
      probe.listen(DEFAULT_PORTS.mqtt, '127.0.0.1', () => resolve(probe))
    })
    // No port set: the defaults, as a fresh clone runs it. Temporal is the run's own server.
    dev = run('all', {
      LOG_LEVEL: 'info',
      DEVTWIN_DATA_DIR: dataDir,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      DEVTWIN_TASK_QUEUE: `dev-${process.pid}`,
      DEVTWIN_JWT_SECRET: '',
      MQTT_URL: '',
      MQTT_PORT: '',
      PORT: '',
      DATABASE_URL: '',
    })
    ready = await waitFor(
      () => {
        const { stdout } = dev.output()
        if (dev.child.exitCode !== null)
          throw new Error(`dev exited: ${JSON.stringify(dev.output())}`)
        const at = stdout.indexOf('devtwin all ready')
        return at >= 0 && stdout.includes('Try:') && stdout.slice(at)
      },
      { timeout: 110_000, interval: 200, what: 'npm run dev to be ready' },
    )
  })
  afterAll(async () => {
    if (dev) await stop(dev.child)
    held?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('starts the broker on another port, prints it and how to use the broker on 1883', async () => {
    const mqttUrl = url('MQTT')
    const port = Number(new URL(mqttUrl).port)
    expect(port).not.toBe(DEFAULT_PORTS.mqtt)
    expect(ready).toContain(`Note: port 1883 (MQTT) is taken`)
    expect(ready).toContain(`using ${port} instead`)
    expect(ready).toContain('MQTT_URL=mqtt://127.0.0.1:1883 npm run dev')
    expect(line('Try:')).toContain(`npx mqtt pub -p ${port} -t devices/demo-1/telemetry`)
    // And it works there: a reading published on the printed port reaches the twin.
    const device = await mqtt.connectAsync(mqttUrl, { clientId: `main-test-${process.pid}` })
    await device.publishAsync('devices/demo-1/telemetry', '{"values":{"temperature":21.5}}', {
      qos: 1,
    })
    await device.endAsync()
    const token = readFileSync(join(dataDir, 'dev-token'), 'utf8').trim()
    const twin = await waitFor(
      async () => {
        const result = await request(
          url('GraphQL'),
          '{ device(id: "demo-1") { twin { reported } } }',
          {},
          `Bearer ${token}`,
        )
        return result.data?.device?.twin
      },
      { what: 'the twin of demo-1' },
    )
    expect(twin.reported).toEqual({ temperature: 21.5 })
  })

  it('said what it was doing while it started', () => {
    const { stdout } = dev.output()
    for (const doing of [
      'opening PGlite and migrating it…',
      'opening PGlite and migrating it: done in',
      'bundling the twin workflows for the worker…',
      'bundling the twin workflows for the worker: done in',
    ]) {
      expect(stdout).toContain(doing)
    }
  })

  it('listens on 127.0.0.1 only: the API and the broker refuse a non-loopback address', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)
    expect(external, 'this test needs a non-loopback IPv4 address on the machine').toBeDefined()
    for (const port of [new URL(url('GraphQL')).port, new URL(url('MQTT')).port]) {
      const refused = await new Promise<string>((resolve) => {
        const socket = connect(Number(port), external?.address)
        socket.once('connect', () => {
          socket.destroy()
          resolve('connected')
        })
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? ''))
      })
      expect(refused).toBe('ECONNREFUSED')
    }
  })

  it('writes the dev token to .devtwin/dev-token, for this user only, and the API takes it', async () => {
    const file = join(dataDir, 'dev-token')
    expect(line('Dev admin token')).toContain(file)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const token = readFileSync(file, 'utf8').trim()
    expect(ready).toContain(token)
    const result = await request(url('GraphQL'), '{ __typename }', {}, `Bearer ${token}`)
    expect(result).toEqual({ data: { __typename: 'Query' } })
  })

  it('opens GraphiQL with the dev token in its headers, and introspection works', async () => {
    const token = readFileSync(join(dataDir, 'dev-token'), 'utf8').trim()
    const page = await (await fetch(url('GraphQL'), { headers: { accept: 'text/html' } })).text()
    expect(page).toContain('GraphiQL')
    expect(page).toContain(`Bearer ${token}`)
    const schema = await request(url('GraphQL'), getIntrospectionQuery(), {}, `Bearer ${token}`)
    expect(schema.errors).toBeUndefined()
    expect(schema.data?.__schema.queryType.name).toBe('Query')
  })
})

describe('production', () => {
  it('refuses to start without a JWT secret', async () => {
    const { child, output } = run('api', {
      NODE_ENV: 'production',
      DEVTWIN_JWT_SECRET: '',
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      MQTT_URL: 'mqtt://127.0.0.1:1',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      PORT: String(await freePort()),
    })
    const [code] = await once(child, 'exit')
    expect(code).toBe(1)
    expect(output().stderr.trim()).toBe(
      'devtwin: DEVTWIN_JWT_SECRET is required in production (NODE_ENV=production)',
    )
  })
})

describe('npm run token', () => {
  it('mints a token the API accepts, with the role and subject asked for', async () => {
    const { child, output } = run(
      '--role operator --sub alice',
      { DEVTWIN_JWT_SECRET: JWT_SECRET },
      tokenCommand,
    )
    const [code] = await once(child, 'exit')
    expect(code).toBe(0)
    const viewer = await authenticate(JWT_SECRET, `Bearer ${output().stdout.trim()}`)
    expect(viewer).toMatchObject({ sub: 'alice', role: 'operator' })
  })

  it('refuses a role that does not exist', async () => {
    const { child, output } = run('--role root', { DEVTWIN_JWT_SECRET: JWT_SECRET }, tokenCommand)
    const [code] = await once(child, 'exit')
    expect(code).toBe(1)
    expect(output().stderr).toContain('--role must be one of viewer, operator, admin')
  })
})

describe('an api process of its own', () => {
  let stack: TestStack
  let api: ReturnType<typeof run>
  let url: string
  beforeAll(async () => {
    stack = await startTestStack('services', { roles: ['ingest', 'worker'] })
    const port = await freePort()
    url = `http://127.0.0.1:${port}/graphql`
    api = run('api', {
      DATABASE_URL: stack.env.DATABASE_URL as string,
      MQTT_URL: stack.mqttUrl,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      DEVTWIN_JWT_SECRET: JWT_SECRET,
      DEVTWIN_TOPIC_ROOT: stack.config.DEVTWIN_TOPIC_ROOT,
      PORT: String(port),
    })
    await waitFor(
      () => {
        if (api.child.exitCode !== null)
          throw new Error(`api exited: ${JSON.stringify(api.output())}`)
        return fetch(url, { method: 'POST' }).then(() => true)
      },
      { timeout: 30_000, what: 'the api process' },
    )
  })
  afterAll(async () => {
    if (api) await stop(api.child)
    await stack?.close()
  })

  it('receives the twin changes that a worker elsewhere makes', async () => {
    const id = stack.deviceId('remote')
    const sub = await subscribe(
      url,
      `Bearer ${await stack.token('viewer')}`,
      `subscription ($id: ID!) { twinChanged(deviceId: $id) { deviceId twin { reported } } }`,
      { id },
    )
    try {
      let value = 0
      const event = await waitFor(
        async () => {
          await stack.publish(stack.topics.device(id, 'telemetry'), { values: { level: ++value } })
          return sub.events.find((e) => e.twinChanged.deviceId === id)
        },
        { interval: 300, what: 'a twinChanged event in the api process' },
      )
      expect(event.twinChanged.twin.reported.level).toBeGreaterThanOrEqual(1)
    } finally {
      await sub.close()
    }
  })
})
