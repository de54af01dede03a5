import { createClient } from 'graphql-ws'
import WebSocket from 'ws'

export interface Sample {
  /** When it was observed (epoch ms). */
  at: number
  ms: number
}

/**
 * What an app sees, measured by a real graphql-ws client on a sample of devices:
 * - `telemetry`: a reading's device time (the simulator's publish time) → its `telemetry`
 *   subscription event;
 * - `freshness`: the newest reading in a twin change → its `twinChanged` event, i.e. a changed
 *   value published → visible in the twin (written and announced).
 * Simulator and probes share this machine's clock.
 */
export async function startProbes(url: string, token: string, deviceIds: readonly string[]) {
  const telemetry: Sample[] = []
  const freshness: Sample[] = []
  const errors: unknown[] = []
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  })
  const disposers: (() => void)[] = []
  const listen = <T>(query: string, variables: Record<string, unknown>, on: (data: T) => void) =>
    disposers.push(
      client.subscribe<T>(
        { query, variables },
        {
          next: (result) => result.data && on(result.data as T),
          error: (error) => errors.push(error),
          complete: () => {},
        },
      ),
    )
  for (const deviceId of deviceIds) {
    listen<{ telemetry: { deviceTime: string | null } }>(
      'subscription ($d: ID!) { telemetry(deviceId: $d) { deviceTime } }',
      { d: deviceId },
      ({ telemetry: r }) => {
        const now = Date.now()
        if (r.deviceTime) telemetry.push({ at: now, ms: now - Date.parse(r.deviceTime) })
      },
    )
    listen<{ twinChanged: { twin: { sensors: { deviceTime: string | null }[] } } }>(
      'subscription ($d: ID!) { twinChanged(deviceId: $d) { twin { sensors { deviceTime } } } }',
      { d: deviceId },
      ({ twinChanged }) => {
        const now = Date.now()
        const newest = Math.max(
          ...twinChanged.twin.sensors.map((s) => (s.deviceTime ? Date.parse(s.deviceTime) : 0)),
        )
        if (newest > 0) freshness.push({ at: now, ms: now - newest })
      },
    )
  }
  return {
    telemetry,
    freshness,
    errors,
    async stop() {
      for (const dispose of disposers.splice(0)) dispose()
      await client.dispose()
    },
  }
}

/** The samples observed within [from, to). */
export const within = (samples: readonly Sample[], from: number, to: number) =>
  samples.filter((s) => s.at >= from && s.at < to).map((s) => s.ms)
