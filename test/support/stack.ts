import { mkdtempSync, rmSync } from 'node:fs'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client, Connection } from '@temporalio/client'
import mqtt, { type MqttClient } from 'mqtt'
import { inject } from 'vitest'
import { loadConfig } from '../../src/config.ts'
import { freePort } from '../../src/embedded/ports.ts'
import { TopicHub } from '../../src/events/topic-hub.ts'
import { mintToken, type Role } from '../../src/graphql/auth.ts'
import { createApi, listenApi } from '../../src/graphql/server.ts'
import { log } from '../../src/log.ts'
import { createRegistry } from '../../src/metrics/registry.ts'
import { Topics } from '../../src/protocol/topics.ts'
import { ROLES, type Role as StackRole } from '../../src/roles/index.ts'
import { type Stack, startStack } from '../../src/stack.ts'
import { TwinClient } from '../../src/workflows/client.ts'
import { startWorker } from '../../src/workflows/worker.ts'
import { type Data, request, subscribe } from './graphql.ts'
import { createTestDatabase, SERVICES } from './services.ts'
import { waitFor } from './wait.ts'

/** "embedded": aedes + PGlite; "services": the machine's Mosquitto + Postgres. */
export type Mode = 'embedded' | 'services'
export const MODES: Mode[] = ['embedded', 'services']

export const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256'

export type TestStack = Awaited<ReturnType<typeof startTestStack>>

const unique = () => `${process.pid}-${Math.random().toString(36).slice(2, 8)}`

/**
 * devtwin's roles against the run's Temporal dev server, on a task queue, ingest session and
 * database of their own, with the helpers tests talk to it through.
 */
export async function startTestStack(
  mode: Mode,
  opts: { roles?: readonly StackRole[]; env?: Record<string, string> } = {},
) {
  const dataDir = mkdtempSync(join(tmpdir(), 'devtwin-stack-'))
  const database = mode === 'services' ? await createTestDatabase() : null
  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    DEVTWIN_TASK_QUEUE: `test-${unique()}`,
    // Its own topic root: other test files and runs share the machine's broker.
    DEVTWIN_TOPIC_ROOT: `devices-${unique()}`,
    DEVTWIN_INGEST_CLIENT_ID: `devtwin-ingest-${unique()}`,
    DEVTWIN_DATA_DIR: dataDir,
    DEVTWIN_AUTO_PROVISION: 'true',
    DEVTWIN_BATCH_MS: '50',
    // Routine readings reach the workflow within a second or so, not the production default.
    DEVTWIN_CHECKPOINT_MS: '1500',
    DEVTWIN_RENUDGE_MS: '2000',
    DEVTWIN_JWT_SECRET: JWT_SECRET,
    PORT: String(await freePort()),
    // Probes on a port of their own: ingest's and the worker's defaults would clash across files.
    DEVTWIN_METRICS_PORT: String(await freePort()),
    ...(mode === 'services'
      ? { MQTT_URL: SERVICES.mqttUrl, DATABASE_URL: database?.url ?? '' }
      : {
          MQTT_PORT: String(await freePort()),
          // devtwin's own account on the embedded broker, for tests that connect as the service.
          DEVTWIN_MQTT_PASSWORD: `service-${unique()}`,
        }),
    ...opts.env,
  }
  const config = loadConfig(env)
  const stack: Stack = await startStack({
    config,
    roles: opts.roles ?? ROLES,
    log: log.child({ test: mode }),
    workflowBundlePath: inject('workflowBundlePath'),
  })
  // devtwin's own MQTT account, where the broker asks for one.
  const serviceCredentials = env.DEVTWIN_MQTT_PASSWORD
    ? { username: config.DEVTWIN_MQTT_USERNAME, password: env.DEVTWIN_MQTT_PASSWORD }
    : {}
  // Publishes for any device.
  const device: MqttClient = await mqtt.connectAsync(stack.mqttUrl, {
    clientId: `sim-${unique()}`,
    ...serviceCredentials,
  })
  const connection = await Connection.connect({ address: stack.temporalAddress })
  const token = (role: Role = 'admin', sub = 'tester') => mintToken(JWT_SECRET, { sub, role })
  const adminToken = await token()

  return {
    ...stack,
    mode,
    config,
    topics: new Topics(config.DEVTWIN_TOPIC_ROOT),
    /** A Temporal client of the test's own, to look at twins as an operator would. */
    temporal: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }),
    env,
    /** MQTT options of devtwin's own account, for tests that start a role's parts themselves. */
    serviceCredentials,
    /** A device id no other test (or test run) uses. */
    deviceId: (name = 'dev') => `${name}-${unique()}`,
    /** Publishes bytes and strings as they are, anything else as JSON. */
    publish: (topic: string, payload: unknown, qos: 0 | 1 = 1) =>
      device.publishAsync(
        topic,
        payload instanceof Uint8Array
          ? Buffer.from(payload)
          : typeof payload === 'string'
            ? payload
            : JSON.stringify(payload),
        { qos },
      ),
    token,

    graphql: <T = Data>(
      query: string,
      variables: Record<string, unknown> = {},
      authorization: string | null = `Bearer ${adminToken}`,
    ) => request<T>(stack.graphqlUrl ?? '', query, variables, authorization),

    subscribe: <T = Data>(query: string, variables: Record<string, unknown> = {}) =>
      subscribe<T>(stack.graphqlUrl ?? '', `Bearer ${adminToken}`, query, variables),

    /**
     * Waits until the twin's live state passes `check` and its workflow has applied all of it
     * (no inbox batch pending): what a test needs before it looks at versions or history.
     */
    async applied(deviceId: string, check: (reported: Record<string, unknown>) => boolean) {
      await waitFor(
        async () => {
          const result = await request(
            stack.graphqlUrl ?? '',
            'query ($id: ID!) { device(id: $id) { twin { reported lag { pendingBatches } } } }',
            { id: deviceId },
            `Bearer ${adminToken}`,
          )
          const twin = result.data?.device?.twin
          return Boolean(twin?.reported && check(twin.reported)) && twin.lag.pendingBatches === 0
        },
        { what: `${deviceId} applied by its twin` },
      )
    },

    /** A worker of the test's own, for stacks started without one, so tests can stop it. */
    async startWorker() {
      const client = await mqtt.connectAsync(stack.mqttUrl, serviceCredentials)
      const worker = await startWorker({
        address: stack.temporalAddress,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: config.DEVTWIN_TASK_QUEUE,
        db: stack.database.db,
        mqtt: client,
        topics: new Topics(config.DEVTWIN_TOPIC_ROOT),
        workflowBundlePath: inject('workflowBundlePath'),
      })
      return {
        async stop() {
          await worker.stop()
          await client.endAsync()
        },
      }
    },

    /**
     * An api of the test's own on `port` (a free one when left out), for stacks started without
     * one, so tests can kill it and start it again on the same port.
     */
    async startApi(port?: number) {
      const listenOn = port ?? (await freePort())
      const client = await mqtt.connectAsync(stack.mqttUrl, serviceCredentials)
      const temporal = await Connection.connect({ address: stack.temporalAddress })
      const api = createApi({
        db: stack.database.db,
        twins: new TwinClient(
          new Client({ connection: temporal, namespace: config.TEMPORAL_NAMESPACE }),
          config.DEVTWIN_TASK_QUEUE,
        ),
        topics: new Topics(config.DEVTWIN_TOPIC_ROOT),
        hub: new TopicHub(client),
        jwtSecret: JWT_SECRET,
        registry: createRegistry(),
      })
      const server = await listenApi(api, JWT_SECRET, listenOn)
      const sockets = new Set<Socket>()
      server.server.on('connection', (socket: Socket) => {
        sockets.add(socket)
        socket.once('close', () => sockets.delete(socket))
      })
      return {
        port: listenOn,
        graphqlUrl: `http://127.0.0.1:${listenOn}/graphql`,
        /** Stops it as a crash would: every connection cut, no close frame, then the rest shut. */
        async kill() {
          for (const socket of sockets) socket.destroy()
          await server.close()
          await client.endAsync(true)
          await temporal.close()
        },
      }
    },

    async close() {
      await device.endAsync()
      await connection.close()
      await stack.stop()
      await database?.drop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
