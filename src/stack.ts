import { join } from 'node:path'
import { Client, Connection } from '@temporalio/client'
import mqtt, { type MqttClient } from 'mqtt'
import { findTemporalCli } from '../temporal/cli.ts'
import { startDevServer } from '../temporal/dev-server.ts'
import { type Config, ConfigError } from './config.ts'
import { type Database, openDatabase } from './db/client.ts'
import { jwtSecret } from './dev-secret.ts'
import { startBroker } from './embedded/broker.ts'
import { ensurePortFree } from './embedded/ports.ts'
import { TopicHub } from './events/topic-hub.ts'
import { createApi, listenApi } from './graphql/server.ts'
import { type Ingest, startIngest } from './ingest/ingest.ts'
import type { Logger } from './log.ts'
import { newSecret } from './registry/credentials.ts'
import { findDeviceCredentials } from './registry/device-credentials.ts'
import { Topics } from './topics.ts'
import { installTemporalRuntime, startWorker } from './worker.ts'
import { TwinClient } from './workflows/client.ts'

export const ROLES = ['ingest', 'worker', 'api'] as const
export type Role = (typeof ROLES)[number]

export interface StackOptions {
  config: Config
  roles: readonly Role[]
  log: Logger
  workflowBundlePath?: string
}

export interface Stack {
  graphqlUrl: string | null
  mqttUrl: string
  temporalAddress: string
  temporalUiUrl: string | null
  jwtSecret: string
  database: Database
  ingest: Ingest | null
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
}: StackOptions): Promise<Stack> {
  const stops: (() => Promise<void>)[] = []
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err) => log.error({ err }, 'stop failed'))
  }
  try {
    installTemporalRuntime()
    await checkPorts(config, roles)
    const secret = jwtSecret({
      secret: config.DEVTWIN_JWT_SECRET,
      production: config.NODE_ENV === 'production',
      dataDir: config.DEVTWIN_DATA_DIR,
    })

    let temporalAddress = config.TEMPORAL_ADDRESS
    let temporalUiUrl: string | null = null
    if (!temporalAddress) {
      const cli = await findTemporalCli((line) => log.info(line))
      const server = await startDevServer({
        cli,
        port: config.TEMPORAL_PORT,
        uiPort: config.TEMPORAL_PORT + 1000,
        dbFile: join(config.DEVTWIN_DATA_DIR, 'temporal.db'),
        namespace: config.TEMPORAL_NAMESPACE,
      })
      stops.push(server.stop)
      temporalAddress = server.address
      temporalUiUrl = server.uiUrl
    }

    const topics = new Topics(config.DEVTWIN_TOPIC_ROOT)
    const database = await openDatabase({
      url: config.DATABASE_URL,
      dataDir: config.DEVTWIN_DATA_DIR,
    })
    stops.push(database.close)

    // devtwin's own MQTT account; the embedded broker takes a made-up password when none is set.
    const service = {
      username: config.DEVTWIN_MQTT_USERNAME,
      password: config.DEVTWIN_MQTT_PASSWORD ?? (config.MQTT_URL ? undefined : newSecret()),
    }
    let mqttUrl = config.MQTT_URL
    if (!mqttUrl) {
      const broker = await startBroker(config.MQTT_PORT, '0.0.0.0', {
        service: { username: service.username, password: service.password ?? '' },
        findDevice: (id) => findDeviceCredentials(database.db, id),
        autoProvision: config.DEVTWIN_AUTO_PROVISION ?? false,
        topicRoot: config.DEVTWIN_TOPIC_ROOT,
        log: log.child({ role: 'broker' }),
      })
      stops.push(broker.close)
      mqttUrl = `mqtt://127.0.0.1:${config.MQTT_PORT}`
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
      return client
    }

    if (roles.includes('worker')) {
      const worker = await startWorker({
        address: temporalAddress,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: config.DEVTWIN_TASK_QUEUE,
        db: database.db,
        mqtt: await serviceMqtt('worker'),
        topics,
        workflowBundlePath,
        cachedWorkflows: config.DEVTWIN_WORKER_CACHE,
        workflowTaskSlots: config.DEVTWIN_WORKFLOW_TASK_SLOTS,
      })
      stops.push(worker.stop)
    }

    const twinClient = async () => {
      const connection = await Connection.connect({ address: temporalAddress })
      stops.push(() => connection.close())
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
        twins: await twinClient(),
        batchMs: config.DEVTWIN_BATCH_MS,
        maxTwinLagMs: config.DEVTWIN_MAX_TWIN_LAG_MS,
        renudgeMs: config.DEVTWIN_RENUDGE_MS,
        maxDeliveriesInFlight: config.DEVTWIN_MAX_DELIVERIES_IN_FLIGHT,
        shareGroup: config.DEVTWIN_INGEST_SHARE_GROUP,
        autoProvision: config.DEVTWIN_AUTO_PROVISION ?? false,
        maxPayloadBytes: config.DEVTWIN_MAX_PAYLOAD_BYTES,
        rateLimit: { perSecond: config.DEVTWIN_DEVICE_RATE, burst: config.DEVTWIN_DEVICE_BURST },
        topics,
        log: log.child({ role: 'ingest' }),
        statsEveryMs: config.DEVTWIN_STATS_MS,
      })
      stops.push(ingest.stop)
    }

    let graphqlUrl: string | null = null
    if (roles.includes('api')) {
      const hub = new TopicHub(await serviceMqtt('api'))
      const api = createApi({
        db: database.db,
        twins: await twinClient(),
        topics,
        hub,
        jwtSecret: secret,
      })
      const server = await listenApi(api, secret, config.PORT)
      stops.push(server.close)
      graphqlUrl = `http://127.0.0.1:${config.PORT}/graphql`
    }

    return {
      graphqlUrl,
      mqttUrl,
      temporalAddress,
      temporalUiUrl,
      jwtSecret: secret,
      database,
      ingest,
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/** Every port this process will listen on, checked before anything starts. */
async function checkPorts(config: Config, roles: readonly Role[]): Promise<void> {
  if (!config.TEMPORAL_ADDRESS) {
    const hint = 'set TEMPORAL_PORT to another port, or TEMPORAL_ADDRESS to use that server'
    await ensurePortFree(config.TEMPORAL_PORT, 'Temporal', hint)
    await ensurePortFree(config.TEMPORAL_PORT + 1000, 'Temporal UI', hint)
  }
  if (!config.MQTT_URL) {
    await ensurePortFree(
      config.MQTT_PORT,
      'MQTT',
      `set MQTT_PORT to another port for the embedded broker, or MQTT_URL=mqtt://127.0.0.1:${config.MQTT_PORT} to use the broker there`,
    )
  }
  if (roles.includes('api')) {
    await ensurePortFree(config.PORT, 'GraphQL', 'set PORT to another port')
  }
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
