import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../src/embedded/ports.ts'
import { authenticate } from '../src/graphql/auth.ts'
import { subscribe } from './support/graphql.ts'
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
    await waitFor(() => fetch(url, { method: 'POST' }).then(() => true), {
      timeout: 30_000,
      what: 'the api process',
    })
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
