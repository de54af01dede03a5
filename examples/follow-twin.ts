// Follows one twin over graphql-ws and survives api restarts and network drops: every version
// once and in order, then live. Prints each event as a line of JSON.
//   TOKEN=<jwt> npx tsx examples/follow-twin.ts <deviceId> [sinceVersion]
import { createClient } from 'graphql-ws'
import WebSocket from 'ws'

const [deviceId, since] = process.argv.slice(2)
const client = createClient({
  url: process.env.GRAPHQL_WS_URL ?? 'ws://127.0.0.1:4000/graphql',
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${process.env.TOKEN}` },
  // Reconnect whatever closed the socket, for ever, waiting 0.5, 1, 2 ... at most 10 s between.
  shouldRetry: () => true,
  retryAttempts: Number.POSITIVE_INFINITY,
  retryWait: (retries) =>
    new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** retries))),
})

// graphql-ws sends this same payload object again on every reconnect, serialised afresh: keeping
// sinceVersion in it at the last version seen makes the server replay exactly what was missed.
const variables: { deviceId?: string; sinceVersion?: number } = { deviceId }
if (since !== undefined) variables.sinceVersion = Number(since)

const follow = () =>
  client.subscribe<{ twinChanged: { version: number; live: boolean } }>(
    {
      query: `subscription ($deviceId: ID!, $sinceVersion: Int) {
        twinChanged(deviceId: $deviceId, sinceVersion: $sinceVersion) {
          version live kind twin { reported health }
        }
      }`,
      variables,
    },
    {
      next: ({ data }) => {
        if (!data) return
        // Live reported changes are not versions: only a version event moves the resume point.
        if (!data.twinChanged.live) variables.sinceVersion = data.twinChanged.version
        console.log(JSON.stringify(data.twinChanged))
      },
      error: (error) => {
        console.error(JSON.stringify(error))
        // The api's broker is away for now (SERVICE_UNAVAILABLE): subscribe again shortly.
        const codes = Array.isArray(error) ? error.map((e) => e.extensions?.code) : []
        if (codes.includes('SERVICE_UNAVAILABLE')) setTimeout(follow, 2_000)
        // A refused resume point (BAD_USER_INPUT) says what to do instead: no retry helps then.
        else process.exit(1)
      },
      complete: () => process.exit(0),
    },
  )
follow()
