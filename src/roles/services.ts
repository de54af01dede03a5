import { Client, type Connection } from '@temporalio/client'
import mqtt, { type MqttClient } from 'mqtt'
import type { Registry } from 'prom-client'
import type { Config } from '../config.ts'
import type { Db } from '../db/client.ts'
import type { Logger } from '../log.ts'
import { CHECK_TIMEOUT_MS } from '../probes/readiness.ts'
import { Topics } from '../protocol/topics.ts'
import { TwinClient } from '../workflows/client.ts'
import { connectTemporal } from '../workflows/temporal-connection.ts'
import type { Lifecycle } from './lifecycle.ts'

/** devtwin's own MQTT account; none for a broker that lets anyone in. */
export type ServiceCredentials = { username: string; password: string } | Record<string, never>

/** What every role starts from: the shared services, reached the same way by each role. */
export interface Services {
  config: Config
  log: Logger
  /** Start-up progress, one line at a time. */
  say: (line: string) => void
  lifecycle: Lifecycle
  /** This process's metrics. */
  registry: Registry
  db: Db
  mqttUrl: string
  credentials: ServiceCredentials
  topics: Topics
  temporalAddress: string
  /** A client of devtwin's MQTT account for `role`: closed at stop, checked by /readyz. */
  mqtt(role: string): Promise<MqttClient>
  /** A Temporal connection, closed at stop. */
  temporal(): Promise<Connection>
  /** Starts, signals and updates twins for `role`, with a readiness check of its connection. */
  twins(role: string): Promise<TwinClient>
}

export function services(parts: {
  config: Config
  log: Logger
  lifecycle: Lifecycle
  registry: Registry
  db: Db
  mqttUrl: string
  credentials: ServiceCredentials
  temporalAddress: string
}): Services {
  const { config, lifecycle, mqttUrl, credentials, temporalAddress } = parts
  const temporal = async () => {
    const { connection, close } = await connectTemporal(temporalAddress)
    lifecycle.onStop(close)
    return connection
  }
  return {
    ...parts,
    say: (line) => parts.log.info(line),
    topics: new Topics(config.DEVTWIN_TOPIC_ROOT),
    temporal,
    async mqtt(role) {
      const client = await mqtt.connectAsync(mqttUrl, {
        clientId: `devtwin-${role}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
        reconnectPeriod: 1000,
        ...credentials,
      })
      lifecycle.onStop(() => client.endAsync())
      lifecycle.check(`mqtt (${role})`, async () => {
        if (!client.connected) throw new Error(`the ${role}'s MQTT client is not connected`)
      })
      return client
    },
    async twins(role) {
      const connection = await temporal()
      lifecycle.check(`temporal (${role})`, async () => {
        await connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
          connection.workflowService.getSystemInfo({}),
        )
      })
      const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE })
      return new TwinClient(client, config.DEVTWIN_TASK_QUEUE, config.DEVTWIN_UPDATE_TIMEOUT_MS)
    },
  }
}
