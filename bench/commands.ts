// `npm run bench:commands -- [--commands 200] [--devices 20] [--services] [--batch-ms 250]`
//
// The round trip of a command to simulated devices: sendCommand over GraphQL → twin workflow →
// MQTT to the device → the device's acks through ingest → SUCCEEDED on the commandUpdated
// subscription. Starts the whole stack in this process (embedded broker and PGlite, or with
// --services the machine's Mosquitto and Postgres) beside a Temporal dev server of its own.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pMap from 'p-map'
import { loadConfig } from '../src/config.ts'
import { freePort } from '../src/embedded/ports.ts'
import { mintToken } from '../src/graphql/auth.ts'
import { log } from '../src/log.ts'
import { ROLES } from '../src/roles/index.ts'
import { startFleet } from '../src/simulator/fleet.ts'
import { startStack } from '../src/stack.ts'
import { request, subscribe } from '../test/support/graphql.ts'
import { createTestDatabase } from '../test/support/services.ts'
import { waitFor } from '../test/support/wait.ts'
import { describePercentiles, percentiles } from './percentiles.ts'

const { values } = parseArgs({
  options: {
    commands: { type: 'string', default: '200' },
    devices: { type: 'string', default: '20' },
    services: { type: 'boolean', default: false },
    'batch-ms': { type: 'string', default: '250' },
  },
})
const commands = Number(values.commands)
const deviceCount = Number(values.devices)
if (
  !Number.isInteger(commands) ||
  commands < 1 ||
  !Number.isInteger(deviceCount) ||
  deviceCount < 1
) {
  console.error('bench: --commands and --devices are whole numbers >= 1')
  process.exit(2)
}

const dataDir = mkdtempSync(join(tmpdir(), 'devtwin-bench-'))
const secret = 'bench-secret-that-is-long-enough-for-hs256'
const services = values.services ? await createTestDatabase() : null
const temporalPort = await freePort()
const config = loadConfig({
  DEVTWIN_DATA_DIR: dataDir,
  DEVTWIN_JWT_SECRET: secret,
  DEVTWIN_AUTO_PROVISION: 'true',
  DEVTWIN_BATCH_MS: values['batch-ms'],
  DEVTWIN_TOPIC_ROOT: `bench-${process.pid}`,
  DEVTWIN_INGEST_CLIENT_ID: `devtwin-bench-${process.pid}`,
  TEMPORAL_PORT: String(temporalPort),
  PORT: String(await freePort()),
  ...(services
    ? { DATABASE_URL: services.url, MQTT_URL: 'mqtt://127.0.0.1:1883' }
    : { MQTT_PORT: String(await freePort()) }),
  LOG_LEVEL: 'warn',
})
log.level = 'warn'
const stack = await startStack({ config, roles: ROLES, log })
const url = stack.graphqlUrl as string
const auth = `Bearer ${await mintToken(secret, { sub: 'bench', role: 'operator' })}`

const ids = Array.from({ length: deviceCount }, (_, i) => `bench-${i + 1}`)
const received = new Map<string, number>()
const fleet = await startFleet({
  url: stack.mqttUrl,
  topicRoot: config.DEVTWIN_TOPIC_ROOT,
  devices: ids.map((id) => ({ id })),
  rate: 0,
  commandDelayMs: 0,
  mqtt: { protocolVersion: services ? 5 : 4 },
  onCommand: (_, command) => received.set(command.id, performance.now()),
})

try {
  for (const id of ids) {
    await waitFor(
      async () =>
        (await request(url, `{ device(id: "${id}") { twin { online } } }`, {}, auth)).data?.device
          ?.twin.online === true,
      { what: `${id} online`, timeout: 60_000 },
    )
  }
  const done = new Map<string, number>()
  const updates = await subscribe(url, auth, 'subscription { commandUpdated { id status } }')
  updates.events.length = 0
  const watcher = setInterval(() => {
    for (const e of updates.events.splice(0)) {
      if (e.commandUpdated.status === 'SUCCEEDED') done.set(e.commandUpdated.id, performance.now())
    }
  }, 1)

  const SEND = `mutation ($d: ID!) { sendCommand(deviceId: $d, name: "ping", timeoutSeconds: 30) { id } }`
  const samples: { sent: number; id: string }[] = []
  const started = performance.now()
  // One command at a time per device, every device at once: the load of a backend team.
  await pMap(
    Array.from({ length: commands }, (_, i) => ids[i % ids.length] as string),
    async (deviceId) => {
      const sent = performance.now()
      const result = await request(url, SEND, { d: deviceId }, auth)
      const id = result.data?.sendCommand.id as string
      if (!id) throw new Error(`sendCommand failed: ${JSON.stringify(result.errors)}`)
      samples.push({ sent, id })
      await waitFor(() => done.has(id), { what: `command ${id}`, timeout: 60_000, interval: 2 })
    },
    { concurrency: deviceCount },
  )
  const elapsed = (performance.now() - started) / 1000
  clearInterval(watcher)
  await updates.close()

  const roundTrips = samples.map((s) => (done.get(s.id) as number) - s.sent)
  const toDevice = samples.map((s) => (received.get(s.id) as number) - s.sent)
  const result = {
    at: new Date().toISOString(),
    stack: services ? 'services (Mosquitto, Postgres)' : 'embedded (aedes, PGlite)',
    batchMs: config.DEVTWIN_BATCH_MS,
    devices: deviceCount,
    commands,
    commandsPerSecond: Math.round((commands / elapsed) * 10) / 10,
    roundTripMs: percentiles(roundTrips),
    toDeviceMs: percentiles(toDevice),
  }
  const lines = [
    `commands: ${commands} to ${deviceCount} simulated devices, ${result.stack}, batch ${result.batchMs} ms`,
    `round trip sendCommand → SUCCEEDED: ${describePercentiles(result.roundTripMs)}`,
    `sendCommand → device received:     ${describePercentiles(result.toDeviceMs)}`,
    `throughput: ${result.commandsPerSecond} commands/s`,
  ]
  console.log(lines.join('\n'))
  const dir = new URL('./results/', import.meta.url).pathname
  mkdirSync(dir, { recursive: true })
  const name = `commands-${result.at.replace(/[:.]/g, '-')}`
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`)
  writeFileSync(
    join(dir, `${name}.md`),
    `# Command round trip\n\n${lines.map((l) => `- ${l}`).join('\n')}\n`,
  )
} finally {
  await fleet.stop()
  await stack.stop()
  await services?.drop()
  rmSync(dataDir, { recursive: true, force: true })
}
