import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { findTemporalCli } from '../../temporal/cli.ts'
import { startDevServer } from '../../temporal/dev-server.ts'
import type { Config } from '../config.ts'
import { openDatabase } from '../db/client.ts'
import { newSecret } from '../device-access/credentials.ts'
import { findDeviceCredentials } from '../device-access/device-credentials.ts'
import type { Logger } from '../log.ts'
import { step } from '../progress.ts'
import type { Lifecycle } from '../roles/lifecycle.ts'
import type { ServiceCredentials } from '../roles/services.ts'
import { startBroker } from './broker.ts'
import type { choosePorts } from './choose-ports.ts'

type Ports = Awaited<ReturnType<typeof choosePorts>>['ports']

/**
 * Reaches the shared services, starting each one the configuration leaves embedded: a Temporal
 * dev server (no TEMPORAL_ADDRESS), PGlite (no DATABASE_URL; either way migrated) and an aedes
 * broker (no MQTT_URL). Each is stopped through `lifecycle`.
 */
export async function startServices(
  config: Config,
  ports: Ports,
  lifecycle: Lifecycle,
  log: Logger,
) {
  const say = (line: string) => log.info(line)
  const host = config.DEVTWIN_BIND
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
    lifecycle.onStop(server.stop)
    temporalAddress = server.address
    temporalUiUrl = server.uiUrl
  }

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
  lifecycle.onStop(database.close)
  lifecycle.check('postgres', async () => {
    await database.db.execute(sql`select 1`)
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
    lifecycle.onStop(broker.close)
    mqttUrl = broker.url
  }
  // A broker that lets anyone in (the machine's Mosquitto in development) gets no username.
  const credentials: ServiceCredentials =
    service.password === undefined ? {} : { username: service.username, password: service.password }
  return { temporalAddress, temporalUiUrl, database, mqttUrl, credentials }
}
