import { createClient as createWsClient } from 'graphql-ws'
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql'

/**
 * The public GraphQL API with the viewer's token: queries and mutations over HTTP, subscriptions
 * over graphql-ws on the same endpoint. `dispose` closes the socket (on sign-out).
 */
export function graphqlClient(token: string) {
  const authorization = `Bearer ${token}`
  const endpoint = new URL('/graphql', window.location.href)
  const ws = createWsClient({
    url: endpoint.href.replace(/^http/, 'ws'),
    connectionParams: { authorization },
    // Keep trying while the api restarts; a refused token closes for good (4401).
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: (event) => (event as CloseEvent).code !== 4401,
  })
  const client = new Client({
    url: endpoint.href,
    fetchOptions: { headers: { authorization } },
    requestPolicy: 'cache-and-network',
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink),
          }),
        }),
      }),
    ],
  })
  return { client, dispose: () => void ws.dispose() }
}
