import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { Client } from '@temporalio/client'
import { sql } from 'drizzle-orm'
import mqtt, { type MqttClient } from 'mqtt'
import type { Registry } from 'prom-client'
import { findTemporalCli } from '../temporal/cli.ts'
import { startDevServer } from '../temporal/dev-server.ts'
import { type Config, ConfigError } from './config.ts'
import { type Database, openDatabase } from './db/client.ts'
import { jwtSecret, writeDevToken } from './dev-secret.ts'
import { startBroker } from './embedded/broker.ts'
import { choosePort, connectHost, isLoopback } from './embedded/ports.ts'
import { TopicHub } from './events/topic-hub.ts'
import { createApi, listenApi } from './graphql/server.ts'
import { type Ingest, startIngest } from './ingest/ingest.ts'
import type { Logger } from './log.ts'
import { createRegistry } from './metrics/registry.ts'
import { listenProbes, probeHandler } from './probes/endpoints.ts'
import { CHECK_TIMEOUT_MS, type Check, readiness } from './probes/readiness.ts'
import { step } from './progress.ts'
import { newSecret } from './registry/credentials.ts'
import { findDeviceCredentials } from './registry/device-credentials.ts'
import { Topics } from './topics.ts'
import { dashboard } from './web/serve.ts'
import { startWorker, temporalSdkMetrics } from './worker.ts'
import { TwinClient } from './workflows/client.ts'
import { ensureRetentionSchedule, retentionPolicy } from './workflows/retention-schedule.ts'
import { connectTemporal } from './workflows/temporal-connection.ts'

export const ROLES = ['ingest', 'worker', 'api'] as const
export type Role = (typeof ROLES)[number]

export interface StackOptions {
  config: Config
  roles: readonly Role[]
  log: Logger
  workflowBundlePath?: string
  /** `npm run dev`: mint an admin token, keep it in the data dir and put it in GraphiQL. */
  devToken?: boolean
}

/** Where devtwin listens unless told otherwise. */
export const DEFAULT_PORTS = { mqtt: 1883, temporal: 7233, api: 4000 }

export interface Stack {
  graphqlUrl: string | null
  dashboardUrl: string | null
  mqttUrl: string
  temporalAddress: string
  temporalUiUrl: string | null
  /** What a person starting devtwin should know: a default port that was taken, an open bind. */
  notices: string[]
  /** Where /metrics, /healthz and /readyz of this process are served. */
  probesUrl: string
  jwtSecret: string
  /** The dev admin token and the file that holds it, when asked for (never in production). */
  devToken: { token: string; file: string } | null
  database: Database
  ingest: Ingest | null
  /** This process's metrics (devtwin's own, Yoga's and Node's; not the Temporal SDK's). */
  registry: Registry
  stop(): Promise<void>
}

/**
 * Starts the given roles, and beside them every service the configuration leaves embedded:
 * a Temporal dev server, an aedes broker, PGlite. Stops in reverse order.
 */
export async function startStack({
  config,
  roles,
  log,
  workflowBundlePath,
  devToken: wantDevToken = false,
}: StackOptions): Promise<Stack> {
  const stops: (() => Promise<void>)[] = []
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err) => log.error({ err }, 'stop failed'))
  }
  // What /readyz asks: every connection of the roles in this process.
  const checks: Check[] = []
  const registry = createRegistry()
  try {
    const say = (line: string) => log.info(line)
    const host = config.DEVTWIN_BIND
    const { ports, notices } = await choosePorts(config, roles)
    const secret = jwtSecret({
      secret: config.DEVTWIN_JWT_SECRET,
      production: config.NODE_ENV === 'production',
      dataDir: config.DEVTWIN_DATA_DIR,
    })
    const devToken =
      wantDevToken && config.NODE_ENV !== 'production'
        ? await writeDevToken(secret, config.DEVTWIN_DATA_DIR)
        : null

    let temporalAddress = config.TEMPORAL_ADDRESS
    let temporalUiUrl: string | null = null
    if (!temporalAddress) {
      const cli = await findTemporalCli(say)
      const server = await step(
        say,
        `starting the Temporal dev server on ${host}:${ports.temporal}`,
        () =>
          startDevServer({
            cli,
            host,
            port: ports.temporal,
            uiPort: ports.temporalUi,
            dbFile: join(config.DEVTWIN_DATA_DIR, 'temporal.db'),
            namespace: config.TEMPORAL_NAMESPACE,
          }),
      )
      stops.push(server.stop)
      temporalAddress = server.address
      temporalUiUrl = server.uiUrl
    }

    const topics = new Topics(config.DEVTWIN_TOPIC_ROOT)
    const pgdata = join(config.DEVTWIN_DATA_DIR, 'pgdata')
    const firstPglite = !config.DATABASE_URL && !existsSync(pgdata)
    if (firstPglite) say(`first start: PGlite creates its database in ${pgdata}, up to a minute`)
    const database = await step(
      say,
      config.DATABASE_URL ? 'migrating Postgres' : 'opening PGlite and migrating it',
      () => openDatabase({ url: config.DATABASE_URL, dataDir: config.DEVTWIN_DATA_DIR }),
      undefined,
      // initdb runs inside PGlite's WASM and holds the event loop.
      { blocking: firstPglite },
    )
    stops.push(database.close)
    checks.push({
      name: 'postgres',
      check: async () => {
        await database.db.execute(sql`select 1`)
      },
    })

    // devtwin's own MQTT account; the embedded broker takes a made-up password when none is set.
    const service = {
      username: config.DEVTWIN_MQTT_USERNAME,
      password: config.DEVTWIN_MQTT_PASSWORD ?? (config.MQTT_URL ? undefined : newSecret()),
    }
    let mqttUrl = config.MQTT_URL
    if (!mqttUrl) {
      const broker = await startBroker(ports.mqtt, host, {
        service: { username: service.username, password: service.password ?? '' },
        findDevice: (id) => findDeviceCredentials(database.db, id),
        autoProvision: config.DEVTWIN_AUTO_PROVISION ?? false,
        topicRoot: config.DEVTWIN_TOPIC_ROOT,
        log: log.child({ role: 'broker' }),
      })
      stops.push(broker.close)
      mqttUrl = broker.url
    }
    // A broker that lets anyone in (the machine's Mosquitto in development) gets no username.
    const credentials = service.password === undefined ? {} : service

    const serviceMqtt = async (name: string): Promise<MqttClient> => {
      const client = await mqtt.connectAsync(mqttUrl, {
        clientId: `devtwin-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
        reconnectPeriod: 1000,
        ...credentials,
      })
      stops.push(() => client.endAsync())
      checks.push({
        name: `mqtt (${name})`,
        check: async () => {
          if (!client.connected) throw new Error(`the ${name}'s MQTT client is not connected`)
        },
      })
      return client
    }

    const temporalConnection = async () => {
      const { connection, close } = await connectTemporal(temporalAddress)
      stops.push(close)
      return connection
    }

    if (roles.includes('worker')) {
      const mqttClient = await serviceMqtt('worker')
      const worker = await step(
        say,
        workflowBundlePath ? 'starting the worker' : 'bundling the twin workflows for the worker',
        () =>
          startWorker({
            address: temporalAddress,
            namespace: config.TEMPORAL_NAMESPACE,
            taskQueue: config.DEVTWIN_TASK_QUEUE,
            db: database.db,
            mqtt: mqttClient,
            topics,
            workflowBundlePath,
            cachedWorkflows: config.DEVTWIN_WORKER_CACHE,
            workflowTaskSlots: config.DEVTWIN_WORKFLOW_TASK_SLOTS,
            registry,
          }),
      )
      stops.push(worker.stop)
      checks.push({ name: 'temporal (worker)', check: worker.check })
      // Every worker makes the retention Schedule match its settings: the last one started wins.
      const client = new Client({
        connection: await temporalConnection(),
        namespace: config.TEMPORAL_NAMESPACE,
      })
      await ensureRetentionSchedule(client, {
        taskQueue: config.DEVTWIN_TASK_QUEUE,
        policy: retentionPolicy(config),
        everyMs: config.DEVTWIN_RETENTION_INTERVAL,
      })
    }

    const twinClient = async (name: string) => {
      const connection = await temporalConnection()
      checks.push({
        name: `temporal (${name})`,
        check: async () => {
          await connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
            connection.workflowService.getSystemInfo({}),
          )
        },
      })
      const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE })
      return new TwinClient(client, config.DEVTWIN_TASK_QUEUE)
    }

    let ingest: Ingest | null = null
    if (roles.includes('ingest')) {
      ingest = await startIngest({
        mqtt: {
          url: mqttUrl,
          clientId: config.DEVTWIN_INGEST_CLIENT_ID,
          protocolVersion: config.MQTT_PROTOCOL_VERSION ?? (config.MQTT_URL ? 5 : 4),
          ...credentials,
        },
        db: database.db,
        twins: await twinClient('ingest'),
        batchMs: config.DEVTWIN_BATCH_MS,
        checkpointMs: config.DEVTWIN_CHECKPOINT_MS,
        renudgeMs: config.DEVTWIN_RENUDGE_MS,
        maxDeliveriesInFlight: config.DEVTWIN_MAX_DELIVERIES_IN_FLIGHT,
        shareGroup: config.DEVTWIN_INGEST_SHARE_GROUP,
        autoProvision: config.DEVTWIN_AUTO_PROVISION ?? false,
        maxPayloadBytes: config.DEVTWIN_MAX_PAYLOAD_BYTES,
        rateLimit: { perSecond: config.DEVTWIN_DEVICE_RATE, burst: config.DEVTWIN_DEVICE_BURST },
        topics,
        log: log.child({ role: 'ingest' }),
        statsEveryMs: config.DEVTWIN_STATS_MS,
        registry,
      })
      stops.push(ingest.stop)
      checks.push({ name: 'mqtt (ingest)', check: ingest.check })
    }

    const probes = probeHandler({
      registry,
      ready: readiness(checks),
      moreMetrics: roles.includes('worker') ? temporalSdkMetrics : undefined,
      log,
    })
    const ownProbePort = probePort(config, roles)
    if (ownProbePort !== null) {
      const server = await listenProbes(probes, ownProbePort, host)
      stops.push(server.close)
    }

    let graphqlUrl: string | null = null
    let dashboardUrl: string | null = null
    if (roles.includes('api')) {
      const hub = new TopicHub(await serviceMqtt('api'))
      const api = createApi({
        db: database.db,
        twins: await twinClient('api'),
        topics,
        hub,
        jwtSecret: secret,
        devToken: devToken?.token,
        registry,
      })
      const dashboardConfig = {
        temporalUiUrl: config.TEMPORAL_UI_URL ?? temporalUiUrl,
        temporalNamespace: config.TEMPORAL_NAMESPACE,
      }
      const server = await listenApi(
        api,
        secret,
        ports.api,
        host,
        ownProbePort === null ? probes : undefined,
        (next) => dashboard(dashboardConfig, next, { dev: config.NODE_ENV !== 'production' }),
      )
      stops.push(server.close)
      graphqlUrl = `${server.url}${api.graphqlEndpoint}`
      dashboardUrl = `${server.url}/`
    }

    return {
      graphqlUrl,
      dashboardUrl,
      mqttUrl,
      temporalAddress,
      temporalUiUrl,
      notices,
      probesUrl: `http://${connectHost(host)}:${ownProbePort ?? ports.api}`,
      jwtSecret: secret,
      devToken,
      database,
      ingest,
      registry,
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/**
 * Every port this process will listen on, chosen before anything starts: a default that is taken
 * moves to the next free port (said in a notice), a port set on purpose that is taken stops the
 * start with the setting to change.
 */
export async function choosePorts(config: Config, roles: readonly Role[]) {
  const host = config.DEVTWIN_BIND
  const notices: string[] = []
  const pick = async (
    what: string,
    setting: 'MQTT_PORT' | 'TEMPORAL_PORT' | 'PORT',
    wanted: number,
    hint: string,
    also = '',
  ) => {
    const strict = config[setting] !== undefined
    const port = await choosePort({ what, port: wanted, strict, hint }, host)
    if (port !== wanted)
      notices.push(`port ${wanted} (${what}) is taken: using ${port} instead${also}`)
    return port
  }
  const ports = { mqtt: 0, temporal: 0, temporalUi: 0, api: 0 }
  if (!config.TEMPORAL_ADDRESS) {
    const hint = 'set TEMPORAL_PORT to another port, or TEMPORAL_ADDRESS to use that server'
    const wanted = config.TEMPORAL_PORT ?? DEFAULT_PORTS.temporal
    ports.temporal = await pick('Temporal', 'TEMPORAL_PORT', wanted, hint)
    ports.temporalUi = await pick('Temporal UI', 'TEMPORAL_PORT', wanted + 1000, hint)
  }
  if (!config.MQTT_URL) {
    const wanted = config.MQTT_PORT ?? DEFAULT_PORTS.mqtt
    const useIt = `MQTT_URL=mqtt://127.0.0.1:${wanted}`
    ports.mqtt = await pick(
      'MQTT',
      'MQTT_PORT',
      wanted,
      `set MQTT_PORT to another port for the embedded broker, or ${useIt} to use the broker there`,
      // Mosquitto, most likely: say how to use it instead of the embedded one.
      `. If a broker runs there, use it instead with ${useIt} npm run dev`,
    )
  }
  if (roles.includes('api')) {
    const wanted = config.PORT ?? DEFAULT_PORTS.api
    ports.api = await pick('GraphQL', 'PORT', wanted, 'set PORT to another port')
  }
  const probes = probePort(config, roles)
  if (probes !== null) {
    const hint = 'set DEVTWIN_METRICS_PORT to another port'
    await choosePort({ what: 'metrics and probes', port: probes, strict: true, hint }, host)
  }
  const reachable = [
    ports.api && 'the API',
    ports.mqtt &&
      `the embedded broker${config.DEVTWIN_AUTO_PROVISION ? ', which lets any device in (auto-provisioning)' : ''}`,
    ports.temporal && 'the Temporal dev server and its UI, which ask for no login',
  ].filter(Boolean)
  if (!isLoopback(host) && reachable.length > 0) {
    notices.push(
      `listening on ${host} (DEVTWIN_BIND): other machines can reach ${reachable.join('; ')}`,
    )
  }
  return { ports, notices }
}

/**
 * The port of this process's own probe server, or null when the probes share the GraphQL port
 * (the api runs here and DEVTWIN_METRICS_PORT is unset). Ingest and worker default to ports of
 * their own, so that both can run on one host without settings.
 */
export function probePort(config: Config, roles: readonly Role[]): number | null {
  if (config.DEVTWIN_METRICS_PORT !== undefined) return config.DEVTWIN_METRICS_PORT
  if (roles.includes('api')) return null
  return roles.includes('ingest') ? 9464 : 9465
}

/** A role run alone shares Postgres, the broker and Temporal with the others: none embedded. */
export function requireSharedServices(config: Config, role: Role): void {
  const missing = (['DATABASE_URL', 'MQTT_URL', 'TEMPORAL_ADDRESS'] as const).filter(
    (k) => !config[k],
  )
  if (missing.length > 0) {
    throw new ConfigError(
      `npm run ${role} runs against shared services: set ${missing.join(', ')} (or run npm run dev for everything in one process)`,
    )
  }
}
