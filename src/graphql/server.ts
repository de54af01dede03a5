import { readFileSync } from 'node:fs'
import { createServer, type RequestListener, type Server } from 'node:http'
import type { ExecutionArgs } from 'graphql'
import { useServer } from 'graphql-ws/use/ws'
import { createSchema, createYoga } from 'graphql-yoga'
import type { Registry } from 'prom-client'
import { WebSocketServer } from 'ws'
import type { Db } from '../db/client.ts'
import { connectHost } from '../embedded/ports.ts'
import { Announcements } from '../events/announcements.ts'
import type { TopicHub } from '../events/topic-hub.ts'
import { graphqlMetricsPlugins } from '../metrics/graphql.ts'
import type { ProbeHandler } from '../probes/endpoints.ts'
import type { Topics } from '../protocol/topics.ts'
import type { TwinClient } from '../workflows/client.ts'
import { authenticate } from './auth.ts'
import type { ApiContext } from './context.ts'
import { queryLimitPlugins } from './limits.ts'
import { resolvers } from './resolvers/index.ts'
import { storableArgumentsPlugin } from './storable-arguments.ts'

const typeDefs = readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8')

export interface ApiDeps {
  db: Db
  twins: TwinClient
  topics: Topics
  hub: TopicHub
  jwtSecret: string
  /** `npm run dev`'s admin token: GraphiQL opens with it in its headers pane. Never in production. */
  devToken?: string
  /** Where GraphQL operations are counted (the process's /metrics). */
  registry: Registry
}

/** The GraphQL server: HTTP through Yoga (`yoga.fetch` in tests), its context per request. */
export function createApi(deps: ApiDeps) {
  const announcements = new Announcements(deps.topics.root)
  return createYoga<{ authorization?: unknown }, ApiContext>({
    schema: createSchema({ typeDefs, resolvers }),
    plugins: [
      ...queryLimitPlugins(),
      storableArgumentsPlugin(),
      ...graphqlMetricsPlugins(deps.registry),
    ],
    // GraphiQL subscribes over SSE on the same endpoint, sending the headers pane's Authorization.
    // In dev, `headers` fills the first tab with the admin token, `defaultHeaders` every new tab.
    graphiql: deps.devToken ? graphiqlWithToken(deps.devToken) : true,
    logging: 'warn',
    context: async ({ request, authorization }) => ({
      db: deps.db,
      twins: deps.twins,
      topics: deps.topics,
      announcements,
      hub: deps.hub,
      viewer: await authenticate(
        deps.jwtSecret,
        authorization ?? request.headers.get('authorization') ?? undefined,
      ),
    }),
  })
}

export type Api = ReturnType<typeof createApi>

function graphiqlWithToken(token: string) {
  const headers = JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2)
  return { headers, defaultHeaders: headers, title: 'devtwin GraphiQL (dev admin token)' }
}

/**
 * Serves the API on one port: queries and mutations over HTTP, subscriptions over graphql-ws,
 * the process's probes (/metrics, /healthz, /readyz) when they share this port; `wrap` puts
 * other handlers (the dashboard) in front of the API.
 */
export async function listenApi(
  api: Api,
  jwtSecret: string,
  port: number,
  host = '127.0.0.1',
  probes?: ProbeHandler,
  wrap: (api: RequestListener) => RequestListener = (handler) => handler,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const handler = wrap(api)
  const server = createServer((req, res) => {
    if (!probes?.(req, res)) handler(req, res)
  })
  const wss = new WebSocketServer({ server, path: api.graphqlEndpoint })
  type Enveloped = ReturnType<Api['getEnveloped']>
  const ws = useServer(
    {
      // A socket without a valid token is closed before it can subscribe, saying why; one whose
      // token expires is closed then.
      onConnect: async (ctx) => {
        const refuse = (why: string) =>
          ctx.extra.socket.close(4401, `UNAUTHENTICATED: ${why}`.slice(0, 120))
        try {
          const viewer = await authenticate(jwtSecret, ctx.connectionParams?.authorization)
          if (viewer.expiresAt !== undefined) {
            const cancel = at(viewer.expiresAt, () => refuse('the token expired'))
            ctx.extra.socket.once('close', cancel)
          }
          return true
        } catch (error) {
          refuse((error as Error).message)
          return false
        }
      },
      execute: (args) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const enveloped = api.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          authorization: ctx.connectionParams?.authorization,
        })
        const document = enveloped.parse(params.query)
        const errors = enveloped.validate(enveloped.schema, document)
        if (errors.length > 0) return errors
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          document,
          operationName: params.operationName,
          variableValues: params.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: enveloped,
        }
        return args
      },
    },
    wss,
  )
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const address = server.address()
  const boundPort = typeof address === 'object' && address ? address.port : port
  return {
    server,
    url: `http://${connectHost(host)}:${boundPort}`,
    async close() {
      await ws.dispose()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
    },
  }
}

/** Node's timers overflow past this (about 24.8 days) and fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** Runs `fn` at epoch ms `time`, however far off; returns a cancel. */
function at(time: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout | undefined
  const arm = () => {
    const wait = time - Date.now()
    timer = wait > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fn, Math.max(0, wait))
  }
  arm()
  return () => clearTimeout(timer)
}
