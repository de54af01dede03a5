import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { type RoleProcess, startRole } from '../../bench/roles.ts'
import { freePort } from '../../src/embedded/ports.ts'
import type { Role } from '../../src/roles/index.ts'
import { findTemporalCli } from '../../temporal/cli.ts'
import { type DevServer, startDevServer } from '../../temporal/dev-server.ts'
import { startMosquitto } from '../support/mosquitto.ts'
import { postgresServer } from './postgres-server.ts'

export const COMPONENTS = ['ingest', 'worker', 'api', 'temporal', 'broker', 'postgres'] as const
export type Component = (typeof COMPONENTS)[number]

type Broker = Awaited<ReturnType<typeof startMosquitto>>

/**
 * devtwin as production runs it, every part a process of the suite's own that it may kill:
 * Postgres (initdb into a temporary directory), Mosquitto (the shipped config's queues and
 * persistence, no passwords), a Temporal dev server (its SQLite file kept across restarts), and
 * `tsx src/main.ts ingest|worker|api`. Each part comes back on the same port and the same files.
 */
export async function startRig(env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'devtwin-faults-'))
  // Postgres runs as its own user, which must reach its directory inside this one.
  chmodSync(dir, 0o711)
  const [pgPort, temporalPort, apiPort] = [await freePort(), await freePort(), await freePort()]
  const pg = postgresServer(join(dir, 'postgres'), pgPort)
  pg.init()
  await pg.start()
  const databaseUrl = pg.url.replace(/\/postgres$/, '/devtwin')
  await createDatabase(pg.url, 'devtwin')

  const cli = await findTemporalCli(() => {})
  const startTemporal = () =>
    startDevServer({ cli, port: temporalPort, uiPort: null, dbFile: join(dir, 'temporal.db') })
  let temporal: DevServer = await startTemporal()

  let broker: Broker = await startMosquitto(dir, { auth: false })
  const brokerPort = Number(new URL(broker.url).port)

  const roleEnv: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    MQTT_URL: broker.url,
    TEMPORAL_ADDRESS: temporal.address,
    PORT: String(apiPort),
    DEVTWIN_DATA_DIR: join(dir, 'devtwin'),
    ...env,
  }
  const roles = new Map<Role, RoleProcess>()
  /** Roles that ended without being killed by the suite, with what they logged last. */
  const exits: { role: Role; code: number | null; signal: string | null; problems: unknown }[] = []
  const watch = (started: RoleProcess) => {
    started.child.once('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && signal !== 'SIGTERM') {
        exits.push({ role: started.role as Role, code, signal, problems: started.problems() })
      }
    })
    return started
  }
  // Ingest first: it applies the migrations the others would otherwise race for.
  roles.set('ingest', watch(await startRole('ingest', roleEnv)))
  const [worker, api] = await Promise.all([
    startRole('worker', roleEnv).then(watch),
    startRole('api', roleEnv).then(watch),
  ])
  roles.set('worker', worker)
  roles.set('api', api)

  const role = (name: Role) => roles.get(name) as RoleProcess

  return {
    dir,
    databaseUrl,
    temporalAddress: temporal.address,
    graphqlUrl: `http://127.0.0.1:${apiPort}/graphql`,
    mqttUrl: broker.url,
    role,
    exits,
    /** The pid of each part now, to tell a part that was restarted from one that stayed up. */
    pids(): Record<Component, number | null> {
      return {
        ingest: role('ingest').child.pid ?? null,
        worker: role('worker').child.pid ?? null,
        api: role('api').child.pid ?? null,
        temporal: temporal.process.pid ?? null,
        broker: broker.process.pid ?? null,
        postgres: pg.pid(),
      }
    },
    /** SIGKILL: no shutdown, no flush, as a crash or an OOM kill would end it. */
    async kill(component: Component): Promise<void> {
      if (component === 'postgres') return pg.kill()
      const child =
        component === 'temporal'
          ? temporal.process
          : component === 'broker'
            ? broker.process
            : role(component).child
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    },
    /** Starts the part again where it was; resolves once it serves (a role: once it is ready). */
    async restart(component: Component): Promise<void> {
      if (component === 'postgres') return pg.start()
      if (component === 'temporal') {
        temporal = await startTemporal()
        return
      }
      if (component === 'broker') {
        broker = await startMosquitto(dir, { auth: false, port: brokerPort })
        return
      }
      roles.set(component, watch(await startRole(component, roleEnv)))
    },
    async stop() {
      await Promise.all([...roles.values()].map((r) => r.stop()))
      await Promise.all([temporal.stop(), broker.stop(), pg.stop()])
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export type Rig = Awaited<ReturnType<typeof startRig>>

async function createDatabase(adminUrl: string, name: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} })
  try {
    await sql.unsafe(`create database "${name}"`)
  } finally {
    await sql.end()
  }
}
