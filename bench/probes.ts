import { createClient } from 'graphql-ws'
import WebSocket from 'ws'
import type { SentReading } from '../src/simulator/fleet.ts'

export interface Sample {
  /** When it was observed (epoch ms). */
  at: number
  ms: number
}

type Sensors = readonly { deviceTime: string | null }[]

/** A twin's newest sensor device time (epoch ms), 0 for none. */
const newestOf = (sensors: Sensors) =>
  Math.max(0, ...sensors.map((s) => (s.deviceTime ? Date.parse(s.deviceTime) : 0)))

/**
 * How old a twin's newest reading is when a device's twin first shows it: now − the newest
 * sensor device time (the simulator's publish time; simulator and probes share this machine's
 * clock), once per new device time. Later sightings of the same reading (another event, the
 * next poll, a version made by a timer) would only measure how long it stayed newest.
 */
export function freshness() {
  const samples: Sample[] = []
  const newest = new Map<string, number>()
  return {
    samples,
    see(deviceId: string, sensors: Sensors) {
      const time = newestOf(sensors)
      if (time <= (newest.get(deviceId) ?? 0)) return
      newest.set(deviceId, time)
      const now = Date.now()
      samples.push({ at: now, ms: now - time })
    },
  }
}

/** A graphql-ws client authenticated as `token`, for the bench's subscriptions. */
export function subscriber(url: string, token: string) {
  const errors: unknown[] = []
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  })
  const disposers: (() => void)[] = []
  return {
    errors,
    listen<T>(query: string, variables: Record<string, unknown>, on: (data: T) => void) {
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
    },
    async stop() {
      for (const dispose of disposers.splice(0)) dispose()
      await client.dispose()
    },
  }
}

interface TwinChanged {
  twinChanged: { live: boolean; twin: { sensors: { deviceTime: string | null }[] } }
}

/**
 * Publish → the twin version that applied it, for each published reading that changed a value:
 * only those make a new version (a reading that changes nothing only moves times on, and shows
 * in the twin's lag instead). A version applied every reading up to its newest device time.
 */
function appliedReadings() {
  const samples: Sample[] = []
  const last = new Map<string, SentReading['values']>()
  const pending = new Map<string, number[]>()
  return {
    samples,
    published(deviceId: string, reading: SentReading) {
      const before = last.get(deviceId) ?? {}
      last.set(deviceId, { ...before, ...reading.values })
      if (Object.entries(reading.values).every(([name, value]) => before[name] === value)) return
      pending.set(deviceId, [...(pending.get(deviceId) ?? []), reading.ts])
    },
    see(deviceId: string, sensors: Sensors) {
      const newest = newestOf(sensors)
      const waiting = pending.get(deviceId) ?? []
      const applied = waiting.filter((ts) => ts <= newest)
      if (applied.length === 0) return
      pending.set(
        deviceId,
        waiting.filter((ts) => ts > newest),
      )
      const now = Date.now()
      for (const ts of applied) samples.push({ at: now, ms: now - ts })
    },
  }
}

/**
 * What an app subscribed to a sample of devices sees:
 * - `telemetry`: a reading's publish → its `telemetry` subscription event;
 * - `live`: publish → the live `twinChanged` event (live: true) carrying it, from ingest's commit;
 * - `applied`: publish → the twin version (live: false) that applied it, i.e. the workflow's lag
 *   (routine readings may wait up to the maximum twin lag, by design). `published` must see
 *   every reading the sample's devices publish (the fleet's `onReading`).
 */
export function startProbes(url: string, token: string, deviceIds: readonly string[]) {
  const telemetry: Sample[] = []
  const live = freshness()
  const applied = appliedReadings()
  const sampled = new Set(deviceIds)
  const ws = subscriber(url, token)
  for (const deviceId of deviceIds) {
    ws.listen<{ telemetry: { deviceTime: string | null } }>(
      'subscription ($d: ID!) { telemetry(deviceId: $d) { deviceTime } }',
      { d: deviceId },
      ({ telemetry: r }) => {
        const now = Date.now()
        if (r.deviceTime) telemetry.push({ at: now, ms: now - Date.parse(r.deviceTime) })
      },
    )
    ws.listen<TwinChanged>(
      'subscription ($d: ID!) { twinChanged(deviceId: $d) { live twin { sensors { deviceTime } } } }',
      { d: deviceId },
      ({ twinChanged: event }) => (event.live ? live : applied).see(deviceId, event.twin.sensors),
    )
  }
  return {
    telemetry,
    live: live.samples,
    applied: applied.samples,
    published(deviceId: string, reading: SentReading) {
      if (sampled.has(deviceId)) applied.published(deviceId, reading)
    },
    errors: ws.errors,
    stop: ws.stop,
  }
}

/** The samples observed within [from, to). */
export const within = (samples: readonly Sample[], from: number, to: number) =>
  samples.filter((s) => s.at >= from && s.at < to).map((s) => s.ms)
