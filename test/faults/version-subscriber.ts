import { type Client, createClient } from 'graphql-ws'
import WebSocket from 'ws'

const QUERY = `subscription ($deviceId: ID!, $sinceVersion: Int) {
  twinChanged(deviceId: $deviceId, sinceVersion: $sinceVersion) { version live }
}`

/**
 * A client written the way docs/graphql.md tells apps to: one graphql-ws connection that retries
 * forever (`ECONNREFUSED` while the api restarts is not fatal), and on every (re)connect it
 * subscribes to each twin again from the last version it saw (`sinceVersion`), so the server
 * sends what was missed first. It records every version event it receives, in order.
 */
export function subscribeToVersions(opts: {
  url: string
  authorization: string
  deviceIds: readonly string[]
}) {
  const versions = new Map<string, number[]>(opts.deviceIds.map((id) => [id, []]))
  const errors: unknown[] = []
  let connects = 0
  const client: Client = createClient({
    url: opts.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: opts.authorization },
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    // Back off up to 2 s: an api that comes back is found within a couple of seconds.
    retryWait: (retries) => new Promise((r) => setTimeout(r, Math.min(2000, 250 * 2 ** retries))),
    on: {
      connected: () => {
        connects++
      },
      // graphql-ws subscribes again with the arguments it was first given: drop those
      // subscriptions and subscribe anew from the last version seen.
      closed: () => {
        for (const id of opts.deviceIds) resubscribe(id)
      },
    },
  })
  const active = new Map<string, () => void>()
  const resubscribe = (deviceId: string) => {
    active.get(deviceId)?.()
    const seen = versions.get(deviceId) ?? []
    const sinceVersion = seen.at(-1) ?? null
    const dispose = client.subscribe<{ twinChanged: { version: number; live: boolean } }>(
      { query: QUERY, variables: { deviceId, sinceVersion } },
      {
        next: (result) => {
          if (result.errors) errors.push(...result.errors)
          const event = result.data?.twinChanged
          if (event && !event.live) seen.push(event.version)
        },
        // A subscription the server ended (an error, or complete) is taken up again as well.
        error: (error) => {
          errors.push(error)
          setTimeout(() => active.get(deviceId) === dispose && resubscribe(deviceId), 1000)
        },
        complete: () => {},
      },
    )
    active.set(deviceId, dispose)
  }
  for (const id of opts.deviceIds) resubscribe(id)

  return {
    versions,
    errors,
    connects: () => connects,
    async close() {
      for (const dispose of active.values()) dispose()
      await client.dispose()
    },
  }
}

/** Versions received out of order or twice, and versions skipped between two received. */
export function versionProblems(seen: readonly number[]) {
  let disorder = 0
  let missing = 0
  for (let i = 1; i < seen.length; i++) {
    const step = (seen[i] ?? 0) - (seen[i - 1] ?? 0)
    if (step <= 0) disorder++
    else missing += step - 1
  }
  return { disorder, missing }
}
