import mqtt, { type MqttClient } from 'mqtt'
import {
  type Ack,
  AckMemory,
  type CommandMessage,
  isExpired,
  parseCommand,
} from '../protocol/commands.ts'
import type { Profile, Values } from './profiles.ts'
import type { Rng } from './random.ts'

/**
 * How a device misbehaves, if it does. One at a time: a fleet's shares of each are disjoint.
 * - `failing`: commands accepted, then failed ("simulated failure")
 * - `slow`: commands accepted, then succeeded only after `slowMs`
 * - `deaf`: commands never answered
 * - `flapping`: a discrete sensor toggles on every reading, several readings a second
 * - `out-of-range`: its temperature reads above its physical range (a broken probe)
 * - `silent`: online, but no telemetry
 */
export type Behaviour =
  | 'normal'
  | 'failing'
  | 'slow'
  | 'deaf'
  | 'flapping'
  | 'out-of-range'
  | 'silent'

/** A telemetry reading as a device published it; `ts` is the time it was published. */
export interface SentReading {
  ts: number
  seq: number
  values: Values
}

/** Counters shared by every device of a fleet. */
export interface Counters {
  /** Telemetry readings the broker acknowledged. */
  sent: number
  /** Readings not published because too many were still unacknowledged (a full buffer). */
  dropped: number
  /** Well-formed commands received, retries included. */
  commandsReceived: number
  /** Commands a device started working on (each id once). */
  commandsExecuted: number
  /** Acks the broker acknowledged, re-sent ones included. */
  acksSent: number
  /** Malformed commands, failed publishes, connection errors. */
  errors: number
}

export const zeroCounters = (): Counters => ({
  sent: 0,
  dropped: 0,
  commandsReceived: 0,
  commandsExecuted: 0,
  acksSent: 0,
  errors: 0,
})

export interface DeviceTopics {
  telemetry: string
  status: string
  commands: string
  acks: string
}

export interface DeviceOptions {
  id: string
  password?: string
  url: string
  topics: DeviceTopics
  profile: Profile
  behaviour: Behaviour
  commandDelayMs: number
  slowMs: number
  protocolVersion: 4 | 5
  connectTimeoutMs: number
  counters: Counters
  rng: Rng
  onCommand?: (deviceId: string, command: CommandMessage) => void
  onReading?: (deviceId: string, reading: SentReading) => void
  /** Told when the device (re)connects or changes behaviour: its telemetry needs (re)scheduling. */
  onChange?: (device: SimulatedDevice) => void
}

const ONLINE = JSON.stringify({ online: true })
const OFFLINE = JSON.stringify({ online: false })
/** Unacknowledged readings a device holds before it drops new ones (its buffer is full). */
const MAX_IN_FLIGHT = 1000

/** One simulated device: its own MQTT connection, telemetry on demand, commands answered. */
export class SimulatedDevice {
  readonly id: string
  private client: MqttClient | null = null
  private connecting: Promise<void> | null = null
  /** Settles a connect() still waiting for its first connection. */
  private abandon: ((why: string) => void) | null = null
  private seq = 0
  private inFlight = 0
  private current: Behaviour
  private readonly acks = new AckMemory()
  private readonly pending = new Set<NodeJS.Timeout>()

  constructor(private readonly opts: DeviceOptions) {
    this.id = opts.id
    this.current = opts.behaviour
    this.shapeProfile()
  }

  get connected(): boolean {
    return this.client?.connected ?? false
  }

  get behaviour(): Behaviour {
    return this.current
  }

  set behaviour(behaviour: Behaviour) {
    this.current = behaviour
    this.shapeProfile()
    this.opts.onChange?.(this)
  }

  /** The behaviours that change readings are the profile's to produce. */
  private shapeProfile() {
    this.opts.profile.flapping = this.current === 'flapping'
    this.opts.profile.outOfRange = this.current === 'out-of-range'
  }

  /** The seq of the last reading published (0 before the first). */
  get lastSeq(): number {
    return this.seq
  }

  /**
   * Connects (or returns the connection in progress), announces `{"online":true}` and subscribes
   * to its commands. Rejects when the broker refuses the device, or nothing connected within
   * `connectTimeoutMs`. Once connected, a lost connection is retried in the background.
   */
  connect(): Promise<void> {
    if (this.connecting) return this.connecting
    this.connecting = new Promise<void>((resolve, reject) => this.open(resolve, reject))
    // Nobody may be waiting (a reconnect after `goOffline`): a failure is in `errors` already.
    this.connecting.catch(() => {})
    return this.connecting
  }

  private open(ready: () => void, refused: (error: Error) => void) {
    const { id, topics, counters, url, connectTimeoutMs } = this.opts
    const client = mqtt.connect(url, {
      clientId: id,
      username: id,
      ...(this.opts.password !== undefined ? { password: this.opts.password } : {}),
      clean: true,
      protocolVersion: this.opts.protocolVersion,
      connectTimeout: Math.min(connectTimeoutMs, 30_000),
      // Jittered, so a fleet cut off by a broker restart does not come back all at one instant.
      reconnectPeriod: 1_000 + Math.round(this.opts.rng() * 2_000),
      // Subscribed again on every connect below: a clean session forgets subscriptions.
      resubscribe: false,
      will: { topic: topics.status, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
    })
    this.client = client
    let lastError: Error | null = null
    const fail = (error: Error) => {
      clearTimeout(timer)
      this.abandon = null
      this.drop(client)
      refused(error)
    }
    this.abandon = (why) => {
      clearTimeout(timer)
      this.abandon = null
      refused(new Error(`${id}: ${why} before it connected`))
    }
    const timer = setTimeout(() => {
      const why = lastError ? `: ${lastError.message}` : ''
      fail(new Error(`${id}: no connection to ${url} within ${connectTimeoutMs} ms${why}`))
    }, connectTimeoutMs)

    client.on('connect', () => {
      // Announced before anything else this connection carries (QoS 1 keeps the order).
      client.publish(topics.status, ONLINE, { qos: 1, retain: true }, (error) => {
        if (error) counters.errors++
      })
      client.subscribe(topics.commands, { qos: 1 }, (error, granted) => {
        // Refused (0x80, an ACL): the device still reports, it just hears no commands.
        if (error || granted?.some((g) => g.qos === 128)) counters.errors++
        clearTimeout(timer)
        this.abandon = null
        ready()
        this.opts.onChange?.(this)
      })
    })
    client.on('message', (topic, payload) => {
      if (topic === topics.commands) this.receive(payload)
    })
    client.on('error', (error: Error & { code?: unknown }) => {
      counters.errors++
      lastError = error
      // A numeric code is the broker's answer (bad credentials, not authorized): retrying the
      // same credentials would only be refused again.
      if (typeof error.code === 'number' && client === this.client && !client.connected) {
        fail(new Error(`${id}: the broker refused the device: ${error.message}`))
      }
    })
  }

  /** Lets go of the current connection (or attempt) and returns it, to be ended. */
  private detach(): MqttClient | null {
    const client = this.client
    if (!client) return null
    this.client = null
    this.connecting = null
    this.abandon?.('disconnected')
    return client
  }

  /**
   * A clean disconnect. The broker does not send the will then, so the device says
   * `{"online":false}` itself first.
   */
  async disconnect(): Promise<void> {
    const client = this.detach()
    if (!client) return
    if (client.connected) {
      await new Promise<void>((resolve) => {
        client.publish(this.opts.topics.status, OFFLINE, { qos: 1, retain: true }, (error) => {
          if (error) this.opts.counters.errors++
          resolve()
        })
      })
    }
    await new Promise<void>((resolve) => client.end(!client.connected, {}, () => resolve()))
  }

  /**
   * Network loss: the socket dies without an MQTT DISCONNECT (`end(true)`), so the broker
   * publishes the will `{"online":false}`. The device stays off until `connect()`. Work on
   * commands goes on; their acks are answered to the service's retries once back.
   */
  async goOffline(): Promise<void> {
    const client = this.detach()
    if (!client) return
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()))
  }

  /**
   * Publishes one reading now: `values`, or the profile's next ones. Resolves when the broker
   * acknowledged it.
   */
  publish(values?: Values): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.connected) return reject(new Error(`${this.id} is not connected`))
      const now = Date.now()
      this.send(values ?? this.opts.profile.next(now), now, (error) =>
        error ? reject(error) : resolve(),
      )
    })
  }

  /** The fleet's clock says a reading is due. */
  tick(now: number): void {
    if (this.current === 'silent' || !this.connected) return
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.opts.counters.dropped++
      return
    }
    this.send(this.opts.profile.next(now), now)
  }

  /** Forgets work in progress (pending acks): for a fleet that stops. */
  cancelPending(): void {
    for (const timer of this.pending) clearTimeout(timer)
    this.pending.clear()
  }

  private send(values: Values, now: number, done?: (error?: Error) => void): boolean {
    const client = this.client
    if (!client?.connected) return false
    const { counters } = this.opts
    this.seq += 1
    this.inFlight += 1
    const reading = { ts: now, seq: this.seq, values }
    this.opts.onReading?.(this.id, reading)
    client.publish(this.opts.topics.telemetry, JSON.stringify(reading), { qos: 1 }, (error) => {
      this.inFlight -= 1
      if (error) counters.errors++
      else counters.sent++
      done?.(error)
    })
    return true
  }

  private receive(payload: Buffer) {
    const { counters } = this.opts
    const command = parseCommand(payload)
    if (!command) {
      counters.errors++
      return
    }
    counters.commandsReceived++
    try {
      this.opts.onCommand?.(this.id, command)
    } catch {
      counters.errors++
    }
    if (this.current === 'deaf') return
    // A retry (the ack got lost, or the service restarted): answer again, do not run again.
    const previous = this.acks.get(command.id)
    if (previous) return this.sendAck(previous)
    if (isExpired(command, Date.now())) {
      return this.answer({ id: command.id, status: 'rejected', error: 'expired' })
    }
    this.execute(command)
  }

  private execute(command: CommandMessage) {
    this.opts.counters.commandsExecuted++
    this.answer({ id: command.id, status: 'accepted' })
    const { id, name } = command
    let outcome: () => Ack
    let delay = this.opts.commandDelayMs
    if (name === 'fail') {
      outcome = () => ({ id, status: 'failed', error: 'the "fail" command always fails' })
    } else if (this.current === 'failing') {
      outcome = () => ({ id, status: 'failed', error: 'simulated failure' })
    } else {
      if (this.current === 'slow') delay = this.opts.slowMs
      outcome = () => ({
        id,
        status: 'succeeded',
        result: { name, handledAt: new Date().toISOString() },
      })
    }
    const timer = setTimeout(() => {
      this.pending.delete(timer)
      this.answer(outcome())
    }, delay)
    this.pending.add(timer)
  }

  /** Remembers `ack` as this command's latest answer and sends it. */
  private answer(ack: Ack) {
    this.acks.set(ack)
    this.sendAck(ack)
  }

  private sendAck(ack: Ack) {
    const client = this.client
    // Offline: the ack stays remembered, and goes out when the service retries the command.
    if (!client?.connected) return
    const { counters } = this.opts
    client.publish(this.opts.topics.acks, JSON.stringify(ack), { qos: 1 }, (error) => {
      if (error) counters.errors++
      else counters.acksSent++
    })
  }

  /** Stops a client for good: no reconnect. */
  private drop(client: MqttClient) {
    if (this.client === client) {
      this.client = null
      this.connecting = null
    }
    client.end(true)
  }
}
