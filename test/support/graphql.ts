import { createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { waitFor } from './wait.ts'

// Tests read results in the shape their query asked for; a loose type keeps them short.
// biome-ignore lint/suspicious/noExplicitAny: results are checked by the assertions, not types
export type Data = Record<string, any>

export interface GraphQLResult<T = Data> {
  data?: T
  errors?: { message: string; extensions?: { code?: string } }[]
}

/** One query or mutation over HTTP. */
export async function request<T = Data>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  authorization: string | null,
): Promise<GraphQLResult<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query, variables }),
  })
  return (await response.json()) as GraphQLResult<T>
}

/** A graphql-ws subscription whose events collect in `events`; `closed` tells why the socket shut. */
export async function subscribe<T = Data>(
  url: string,
  authorization: string,
  query: string,
  variables: Record<string, unknown> = {},
) {
  const events: T[] = []
  const errors: unknown[] = []
  let acknowledged = false
  let closed: { code: number; reason: string } | undefined
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization },
    retryAttempts: 0,
    on: {
      connected: () => {
        acknowledged = true
      },
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string }
        closed = { code, reason: String(reason) }
      },
    },
  })
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.data) events.push(value.data as T)
        if (value.errors) errors.push(...value.errors)
      },
      error: (error) => errors.push(error),
      complete: () => {},
    },
  )
  await waitFor(() => acknowledged || closed !== undefined, { what: 'graphql-ws connection' })
  return {
    events,
    errors,
    closed: () => closed,
    next: (match: (event: T) => boolean, what = 'a subscription event') =>
      waitFor(() => events.find(match), { what }),
    async close() {
      dispose()
      await client.dispose()
    },
  }
}
