/**
 * A fleet of simulated devices speaking the device protocol (docs/device-protocol.md) over MQTT, for demos, integration tests and
 * throughput benchmarks.
 *
 *   const fleet = await startFleet({ url, devices: 100, rate: 0.2, failing: 0.1 })
 *   fleet.stats()                       // { devices, connected, sent, dropped, commandsReceived,
 *                                       //   commandsExecuted, acksSent, errors }
 *   const d = fleet.device('sim-1')     // ids: `${prefix}-1` … `${prefix}-N` (fleet.ids)
 *   await d.publish({ door: true })     // one reading now, with the next seq
 *   await d.goOffline()                 // socket dropped: the broker sends the will
 *   await d.connect()                   // back, `{"online":true}` retained again
 *   await d.disconnect()                // clean: says `{"online":false}` itself (no will)
 *   d.behaviour = 'deaf'                // normal | failing | slow | deaf | flapping |
 *                                       //   out-of-range | silent
 *   await fleet.stop()
 *
 * `createFleet` builds without connecting (`fleet.start()` connects), for callers that want to
 * watch `stats()` while thousands of devices connect.
 *
 * Devices: MQTT client id and username = device id, password from the spec. Will
 * `{"online":false}` (QoS 1, retained) on `{root}/{id}/status`; `{"online":true}` retained there
 * on every connect. Telemetry `{"ts","seq","values"}` QoS 1 on `{root}/{id}/telemetry`, `rate` a
 * second per device, first readings staggered across one period, all driven by one timer.
 * Commands on `{root}/{id}/commands` are answered on `{root}/{id}/acks`: `accepted` at once,
 * then after `commandDelayMs` `succeeded` (`result: {name, handledAt}`), or `failed` for the
 * command named `fail` and for failing devices. A repeated id is not run again: its latest ack
 * is sent again. A command past its `expiresAt` is `rejected` with error "expired". Malformed
 * commands are counted in `errors` and ignored.
 *
 * Misbehaving shares go to devices in order: the first `failing` share of the ids, then `slow`,
 * `deaf`, `flapping`, `outOfRange`, `silent`, `offline` (offline devices wait for
 * `device(id).connect()`). `onReading` sees every reading as it is published, so a caller can
 * tell which reading made a twin change (a benchmark timing alerts, say).
 */
import pMap from 'p-map'
import type { CommandMessage } from '../protocol/commands.ts'
import { DEVICE_ID, ID_CHARACTERS } from '../protocol/ids.ts'
import { Topics } from '../protocol/topics.ts'
import {
  type Behaviour,
  type Counters,
  type SentReading,
  SimulatedDevice,
  zeroCounters,
} from './device.ts'
import { createProfile, MODELS, type Model } from './profiles.ts'
import { seededRng } from './random.ts'
import { Ticker } from './ticker.ts'

export type { Ack, AckStatus, CommandMessage } from '../protocol/commands.ts'
export type { Behaviour, SentReading } from './device.ts'
export { SimulatedDevice } from './device.ts'
export type { Model, Values } from './profiles.ts'

export interface SimulatedDeviceSpec {
  id: string
  password?: string
}

export interface FleetOptions {
  /** mqtt://host:port (or mqtts:, ws:, wss:) */
  url: string
  /** First topic level; default 'devices'. */
  topicRoot?: string
  /** A count (ids `${prefix}-1` … `${prefix}-N`) or the devices themselves. */
  devices: number | SimulatedDeviceSpec[]
  /** Default 'sim'. */
  prefix?: string
  /** Telemetry readings a second per device (0.2 = one every 5 s); 0 = none at all. */
  rate: number
  model?: Model
  /** Shares (0..1) of the fleet that misbehave; disjoint, in this order from the first id. */
  failing?: number
  slow?: number
  deaf?: number
  /** Flapping devices report at least 4 readings a second (while `rate` > 0). */
  flapping?: number
  /** Devices whose temperature reads above its physical range. */
  outOfRange?: number
  silent?: number
  offline?: number
  /** Between `accepted` and the terminal ack; default 200. */
  commandDelayMs?: number
  /** Between `accepted` and `succeeded` on slow devices; default 30 000. */
  slowMs?: number
  mqtt?: { protocolVersion?: 4 | 5; connectTimeoutMs?: number }
  /** Devices connecting at the same time at start; default 100. */
  connectConcurrency?: number
  /** Same seed, same readings and same jitter; default random. */
  seed?: number
  /** Discrete events (a car plugged in, a door opened) this many times faster; default 1. */
  tempo?: number
  /** Every well-formed command a device receives, retries and deaf devices' included. */
  onCommand?: (deviceId: string, command: CommandMessage) => void
  /** Every telemetry reading a device publishes, as it is published. */
  onReading?: (deviceId: string, reading: SentReading) => void
}

export interface FleetStats extends Counters {
  devices: number
  connected: number
}

export interface Fleet {
  readonly ids: string[]
  /** Throws for an id not in the fleet. */
  device(id: string): SimulatedDevice
  stats(): FleetStats
  /** Telemetry readings a second per device from now on (a ramp); 0 pauses telemetry. */
  setRate(rate: number): void
  /**
   * Connects every device but the offline ones. Rejects (with the fleet stopped) if any device
   * could not connect.
   */
  start(): Promise<void>
  /** Stops telemetry and pending command work, and disconnects every device cleanly. */
  stop(): Promise<void>
}

/** Flapping is "several changes a second", whatever the fleet's rate. */
const FLAPPING_PERIOD_MS = 250
/** Each misbehaving share's option and the role it gives, in the order shares are handed out. */
const MISBEHAVIOURS = [
  ['failing', 'failing'],
  ['slow', 'slow'],
  ['deaf', 'deaf'],
  ['flapping', 'flapping'],
  ['outOfRange', 'out-of-range'],
  ['silent', 'silent'],
  ['offline', 'offline'],
] as const

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const fleet = createFleet(opts)
  await fleet.start()
  return fleet
}

/** Validates `opts` (throws RangeError) and builds the fleet, nothing connected yet. */
export function createFleet(opts: FleetOptions): Fleet {
  const specs = deviceSpecs(opts)
  const roles = assignRoles(specs.length, opts)
  const model = opts.model ?? 'charge-point'
  if (!MODELS.includes(model)) throw new RangeError(`unknown model '${model}'`)
  if (!Number.isFinite(opts.rate) || opts.rate < 0) {
    throw new RangeError(`rate must be a number >= 0, got ${opts.rate}`)
  }
  const topicRoot = opts.topicRoot ?? 'devices'
  if (!ID_CHARACTERS.test(topicRoot)) throw new RangeError(`bad topic root '${topicRoot}'`)
  const topics = new Topics(topicRoot)
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32)
  const rng = seededRng(seed)
  const counters = zeroCounters()
  let basePeriod = opts.rate > 0 ? 1000 / opts.rate : null

  const period = (device: SimulatedDevice): number | null => {
    if (basePeriod === null || device.behaviour === 'silent') return null
    return device.behaviour === 'flapping' ? Math.min(basePeriod, FLAPPING_PERIOD_MS) : basePeriod
  }

  const ticker = new Ticker<SimulatedDevice>((device, due, now) => {
    const every = period(device)
    // Off the clock until it connects again (its `onChange` puts it back).
    if (every === null || !device.connected) return null
    try {
      device.tick(now)
    } catch {
      counters.errors++
    }
    const next = due + every
    // Far behind (the event loop was blocked): skip the backlog instead of bursting it out.
    return next < now - 1000 ? now + every : next
  })

  // Staggered across one period, so a fleet that connects together does not report together.
  const reschedule = (device: SimulatedDevice) => {
    const every = period(device)
    if (every === null || !device.connected) ticker.unschedule(device)
    else ticker.schedule(device, Date.now() + rng() * every)
  }

  const devices = new Map<string, SimulatedDevice>()
  const startsOffline = new Set<string>()
  specs.forEach((spec, i) => {
    const role = roles[i] ?? 'normal'
    if (role === 'offline') startsOffline.add(spec.id)
    const deviceRng = seededRng((seed + i * 0x9e3779b9) >>> 0)
    devices.set(
      spec.id,
      new SimulatedDevice({
        id: spec.id,
        ...(spec.password !== undefined ? { password: spec.password } : {}),
        url: opts.url,
        topics: {
          telemetry: topics.device(spec.id, 'telemetry'),
          status: topics.device(spec.id, 'status'),
          commands: topics.device(spec.id, 'commands'),
          acks: topics.device(spec.id, 'acks'),
        },
        profile: createProfile(model, { rng: deviceRng, tempo: opts.tempo ?? 1 }),
        behaviour: role === 'offline' ? 'normal' : role,
        commandDelayMs: opts.commandDelayMs ?? 200,
        slowMs: opts.slowMs ?? 30_000,
        protocolVersion: opts.mqtt?.protocolVersion ?? 4,
        connectTimeoutMs: opts.mqtt?.connectTimeoutMs ?? 30_000,
        counters,
        rng: deviceRng,
        ...(opts.onCommand ? { onCommand: opts.onCommand } : {}),
        ...(opts.onReading ? { onReading: opts.onReading } : {}),
        onChange: reschedule,
      }),
    )
  })
  const ids = [...devices.keys()]
  let stopped = false

  const fleet: Fleet = {
    ids,
    device(id) {
      const device = devices.get(id)
      if (!device) throw new RangeError(`no device '${id}' in this fleet`)
      return device
    },
    setRate(rate) {
      if (!Number.isFinite(rate) || rate < 0) throw new RangeError(`rate must be >= 0, got ${rate}`)
      basePeriod = rate > 0 ? 1000 / rate : null
      for (const device of devices.values()) reschedule(device)
    },
    stats() {
      let connected = 0
      for (const device of devices.values()) if (device.connected) connected++
      return { devices: devices.size, connected, ...counters }
    },
    async start() {
      ticker.start()
      const failures: Error[] = []
      const initial = ids.filter((id) => !startsOffline.has(id))
      await pMap(
        initial,
        (id) =>
          fleet
            .device(id)
            .connect()
            .catch((error: Error) => void failures.push(error)),
        { concurrency: opts.connectConcurrency ?? 100 },
      )
      // Stopped while connecting (Ctrl-C during a slow start): not a failure.
      if (failures.length > 0 && !stopped) {
        await fleet.stop()
        throw new Error(
          `${failures.length} of ${initial.length} devices could not connect to ${opts.url}: ${failures[0]?.message}`,
        )
      }
    },
    async stop() {
      if (stopped) return
      stopped = true
      ticker.stop()
      for (const device of devices.values()) device.cancelPending()
      await pMap(devices.values(), (device) => device.disconnect(), { concurrency: 500 })
    },
  }
  return fleet
}

function deviceSpecs(opts: FleetOptions): SimulatedDeviceSpec[] {
  let specs: SimulatedDeviceSpec[]
  if (typeof opts.devices === 'number') {
    if (!Number.isInteger(opts.devices) || opts.devices < 0) {
      throw new RangeError(`devices must be a whole number >= 0, got ${opts.devices}`)
    }
    const prefix = opts.prefix ?? 'sim'
    specs = Array.from({ length: opts.devices }, (_, i) => ({ id: `${prefix}-${i + 1}` }))
  } else {
    specs = opts.devices
  }
  const seen = new Set<string>()
  for (const { id } of specs) {
    if (!DEVICE_ID.test(id)) {
      throw new RangeError(`bad device id '${id}': 1-64 characters of A-Z a-z 0-9 _ . : -`)
    }
    if (seen.has(id)) throw new RangeError(`device id '${id}' appears twice`)
    seen.add(id)
  }
  return specs
}

type Role = Behaviour | 'offline'

/** Each device's role by position: the misbehaving shares, disjoint, from the first id on. */
export function assignRoles(
  count: number,
  opts: Partial<Record<(typeof MISBEHAVIOURS)[number][0], number>>,
): Role[] {
  const roles: Role[] = []
  for (const [option, role] of MISBEHAVIOURS) {
    const share = opts[option] ?? 0
    if (!Number.isFinite(share) || share < 0 || share > 1) {
      throw new RangeError(`${option} must be a share between 0 and 1, got ${share}`)
    }
    for (let n = Math.round(share * count); n > 0; n--) roles.push(role)
  }
  if (roles.length > count) {
    throw new RangeError(
      `the misbehaving shares add up to ${roles.length} devices, more than the ${count} there are`,
    )
  }
  while (roles.length < count) roles.push('normal')
  return roles
}
