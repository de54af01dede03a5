import type { Registry } from 'prom-client'
import type { Config } from './config.ts'
import type { Database } from './db/client.ts'
import { jwtSecret, writeDevToken } from './dev-secret.ts'
import { choosePorts, probePort } from './embedded/choose-ports.ts'
import { connectHost } from './embedded/ports.ts'
import { startServices } from './embedded/start.ts'
import type { Ingest } from './ingest/ingest.ts'
import type { Logger } from './log.ts'
import { createRegistry } from './metrics/registry.ts'
import { listenProbes, probeHandler } from './probes/endpoints.ts'
import { readiness } from './probes/readiness.ts'
import { startApiRole } from './roles/api.ts'
import type { Role } from './roles/index.ts'
import { startIngestRole } from './roles/ingest.ts'
import { Lifecycle } from './roles/lifecycle.ts'
import { services } from './roles/services.ts'
import { startWorkerRole } from './roles/worker.ts'
import { temporalSdkMetrics } from './workflows/worker.ts'

export interface StackOptions {
  config: Config
  roles: readonly Role[]
  log: Logger
  workflowBundlePath?: string
  /** `npm run dev`: mint an admin token, keep it in the data dir and put it in GraphiQL. */
  devToken?: boolean
}

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
 * Starts the given roles (`src/roles/`), and beside them every service the configuration leaves
 * embedded (`src/embedded/start.ts`). Stops in reverse order; a start that fails halfway stops
 * what it had started.
 */
export async function startStack({
  config,
  roles,
  log,
  workflowBundlePath,
  devToken: wantDevToken = false,
}: StackOptions): Promise<Stack> {
  const lifecycle = new Lifecycle((err) => log.error({ err }, 'stop failed'))
  const registry = createRegistry()
  try {
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
    const started = await startServices(config, ports, lifecycle, log)
    const shared = services({
      ...started,
      db: started.database.db,
      config,
      log,
      lifecycle,
      registry,
    })

    if (roles.includes('worker')) await startWorkerRole(shared, workflowBundlePath)
    const ingest = roles.includes('ingest') ? await startIngestRole(shared) : null

    const probes = probeHandler({
      registry,
      ready: readiness(lifecycle.checks),
      moreMetrics: roles.includes('worker') ? temporalSdkMetrics : undefined,
      log,
    })
    const ownProbePort = probePort(config, roles)
    if (ownProbePort !== null) {
      const server = await listenProbes(probes, ownProbePort, host)
      lifecycle.onStop(server.close)
    }
    const api = roles.includes('api')
      ? await startApiRole(shared, {
          port: ports.api,
          jwtSecret: secret,
          devToken: devToken?.token,
          probes: ownProbePort === null ? probes : undefined,
          temporalUiUrl: started.temporalUiUrl,
        })
      : null

    return {
      graphqlUrl: api?.graphqlUrl ?? null,
      dashboardUrl: api?.dashboardUrl ?? null,
      mqttUrl: started.mqttUrl,
      temporalAddress: started.temporalAddress,
      temporalUiUrl: started.temporalUiUrl,
      notices,
      probesUrl: `http://${connectHost(host)}:${ownProbePort ?? ports.api}`,
      jwtSecret: secret,
      devToken,
      database: started.database,
      ingest,
      registry,
      stop: () => lifecycle.stop(),
    }
  } catch (error) {
    await lifecycle.stop()
    throw error
  }
}
