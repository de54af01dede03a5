import { TopicHub } from '../events/topic-hub.ts'
import { createApi, listenApi } from '../graphql/server.ts'
import type { ProbeHandler } from '../probes/endpoints.ts'
import { dashboard } from '../web/serve.ts'
import type { Services } from './services.ts'

export interface ApiRoleOptions {
  port: number
  jwtSecret: string
  /** `npm run dev`'s admin token, put in GraphiQL's headers. */
  devToken?: string
  /** The probes, when they share the GraphQL port (no probe port of this process's own). */
  probes?: ProbeHandler
  /** The Temporal UI the dashboard links to, when this process started one. */
  temporalUiUrl: string | null
}

/**
 * The api role: GraphQL over HTTP and graphql-ws, with the dashboard beside it. Subscriptions
 * hear the worker's and ingest's announcements through one MQTT client (the hub).
 */
export async function startApiRole(s: Services, opts: ApiRoleOptions) {
  const { config } = s
  const api = createApi({
    db: s.db,
    twins: await s.twins('api'),
    topics: s.topics,
    hub: new TopicHub(await s.mqtt('api')),
    jwtSecret: opts.jwtSecret,
    devToken: opts.devToken,
    registry: s.registry,
  })
  const dashboardConfig = {
    temporalUiUrl: config.TEMPORAL_UI_URL ?? opts.temporalUiUrl,
    temporalNamespace: config.TEMPORAL_NAMESPACE,
  }
  const server = await listenApi(
    api,
    opts.jwtSecret,
    opts.port,
    config.DEVTWIN_BIND,
    opts.probes,
    (next) => dashboard(dashboardConfig, next, { dev: config.NODE_ENV !== 'production' }),
  )
  s.lifecycle.onStop(server.close)
  return { graphqlUrl: `${server.url}${api.graphqlEndpoint}`, dashboardUrl: `${server.url}/` }
}
