import { clamp, gaussian, happened, type Rng, roundTo, uniform } from './random.ts'

export type Model = 'charge-point' | 'sensor'
export const MODELS: readonly Model[] = ['charge-point', 'sensor']

export type SensorValue = number | boolean | string | null
export type Values = Record<string, SensorValue>

/** The readings of one device over time: a stateful generator fed the (real) time of each reading. */
export interface Profile {
  /** Readings at `now` (epoch ms). Called once per telemetry message; time never goes back. */
  next(now: number): Values
  /** A misbehaving device: one of its discrete sensors toggles on every reading. */
  flapping: boolean
  /** A misbehaving device: its temperature probe reads above its physical range. */
  outOfRange: boolean
}

export interface ProfileOptions {
  rng: Rng
  flapping?: boolean
  outOfRange?: boolean
  /**
   * How many times faster than real life the discrete events happen (a car plugged in, a door
   * opened), so a short test sees some. Readings keep their real timestamps.
   */
  tempo?: number
}

/** Physical ranges: what the service's device models may declare as min/max. */
export const RANGES = {
  'charge-point': { power: [0, 22_000], temperature: [15, 35] },
  sensor: { temperature: [-10, 40], humidity: [0, 100], pressure: [950, 1050] },
} as const satisfies Record<Model, Record<string, readonly [number, number]>>

/** Real-life durations of a charge point's cycle (ms), before `tempo`. */
export const CHARGE_POINT_TIMING = {
  /** Unplugged with the door shut, between sessions. */
  idle: [60_000, 300_000],
  /** Plugged in (charging). */
  session: [120_000, 600_000],
  /** Door open before the cable changes: the service requires it within the 30 s before. */
  doorBeforeCable: [2_000, 8_000],
  /** Door still open after the cable changed. */
  doorAfterCable: [3_000, 15_000],
  /** Mean interval of a standby blip (a few W) while unplugged, so power is not STUCK at 0. */
  standbyBlip: 60_000,
} as const

/** A broken probe's reading: 5 to 15 above the sensor's physical range. */
const beyond = (rng: Rng, [, max]: readonly [number, number]) =>
  roundTo(max + uniform(rng, 5, 15), 0.1)

/** Above this gap between readings a device is taken to have been off: no drift is invented. */
const MAX_STEP_MS = 3_600_000

export function createProfile(model: Model, opts: ProfileOptions): Profile {
  return model === 'charge-point' ? new ChargePoint(opts) : new EnvironmentSensor(opts)
}

/**
 * Ornstein–Uhlenbeck step: a random walk pulled back towards `mean` with time constant `tauS`,
 * so values drift slowly and plausibly but never wander off. `sigma` is noise per √s.
 */
function drift(x: number, mean: number, tauS: number, sigma: number, dtS: number, rng: Rng) {
  return x + (mean - x) * (1 - Math.exp(-dtS / tauS)) + sigma * Math.sqrt(dtS) * gaussian(rng)
}

type Phase = 'idle' | 'door-opened' | 'cable-changed'

/**
 * A charge point whose cable sits behind a door: open the door, change the cable (at a later
 * reading, with the door still open), close the door at a later reading still. Every cable
 * change thus follows a reading with the door open, which is what the service's consistency
 * rule (cable requires door === true within 30 s) checks.
 */
class ChargePoint implements Profile {
  flapping: boolean
  outOfRange: boolean
  private readonly rng: Rng
  private readonly tempo: number
  private last: number | null = null
  private phase: Phase = 'idle'
  private phaseUntil = 0
  private cable: 'connected' | 'disconnected'
  private door = false
  private power = 0
  private target = 0
  private readonly ambientBase: number
  private ambient: number
  private temperature: number

  constructor(opts: ProfileOptions) {
    this.rng = opts.rng
    this.flapping = opts.flapping ?? false
    this.outOfRange = opts.outOfRange ?? false
    this.tempo = opts.tempo ?? 1
    this.cable = this.rng() < 0.3 ? 'connected' : 'disconnected'
    if (this.cable === 'connected') this.plugIn()
    this.power = this.target
    this.ambientBase = uniform(this.rng, 18, 26)
    this.ambient = this.ambientBase
    this.temperature = this.ambient + this.heat()
  }

  next(now: number): Values {
    if (this.last === null) {
      // Somewhere in the middle of its current stay, so a fleet does not change in lockstep.
      this.phaseUntil = now + this.rng() * this.dwell()
    }
    const dtMs = this.last === null ? 0 : clamp(now - this.last, 0, MAX_STEP_MS)
    this.last = now
    if (this.flapping) this.flap(now)
    else this.advance(now)
    this.updatePower(dtMs)
    this.updateTemperature(dtMs)
    return {
      power: this.standby(dtMs) ?? roundTo(this.power, 10),
      cable: this.cable,
      door: this.door,
      temperature: this.outOfRange
        ? beyond(this.rng, RANGES['charge-point'].temperature)
        : roundTo(this.temperature, 0.1),
    }
  }

  /** One step of the door/cable cycle at most per reading: each step is seen before the next. */
  private advance(now: number) {
    if (now < this.phaseUntil) return
    if (this.phase === 'idle') {
      this.door = true
      this.phase = 'door-opened'
      this.phaseUntil = now + this.scaled(CHARGE_POINT_TIMING.doorBeforeCable)
    } else if (this.phase === 'door-opened') {
      this.toggleCable()
      this.phase = 'cable-changed'
      this.phaseUntil = now + this.scaled(CHARGE_POINT_TIMING.doorAfterCable)
    } else {
      this.door = false
      this.phase = 'idle'
      this.phaseUntil = now + this.dwell()
    }
  }

  /** Door held open (so the flapping cable stays plausible), cable toggling on every reading. */
  private flap(now: number) {
    if (this.door) this.toggleCable()
    this.door = true
    // Once flapping stops, the door closes after a while, as after any cable change.
    this.phase = 'cable-changed'
    this.phaseUntil = now + this.scaled(CHARGE_POINT_TIMING.doorAfterCable)
  }

  private toggleCable() {
    if (this.cable === 'connected') {
      this.cable = 'disconnected'
      this.target = 0
    } else {
      this.cable = 'connected'
      this.plugIn()
    }
  }

  private plugIn() {
    // What the car and the charger agree on for this session: 11 kW, or a bit less.
    this.target = uniform(this.rng, 7_000, 11_000)
  }

  private updatePower(dtMs: number) {
    if (this.cable === 'disconnected') {
      this.power = 0
      return
    }
    if (this.power === 0) this.power = this.target * uniform(this.rng, 0.4, 0.7) // ramping up
    const [min, max] = RANGES['charge-point'].power
    this.power = clamp(drift(this.power, this.target, 20, 60, dtMs / 1000, this.rng), min, max)
  }

  /** Unplugged power reads 0, but now and then the electronics draw a few W for a moment. */
  private standby(dtMs: number): number | null {
    if (this.cable === 'connected' || dtMs === 0) return null
    return happened(this.rng, dtMs * this.tempo, CHARGE_POINT_TIMING.standbyBlip)
      ? Math.round(uniform(this.rng, 1, 5))
      : null
  }

  private updateTemperature(dtMs: number) {
    const dtS = dtMs / 1000
    this.ambient = drift(this.ambient, this.ambientBase, 3600, 0.02, dtS, this.rng)
    const goal = this.ambient + this.heat()
    const [min, max] = RANGES['charge-point'].temperature
    this.temperature = clamp(drift(this.temperature, goal, 120, 0.01, dtS, this.rng), min, max)
  }

  /** Charging warms the charger up to 6 °C above ambient. */
  private heat() {
    return (6 * this.power) / RANGES['charge-point'].power[1]
  }

  private dwell() {
    return this.scaled(
      this.cable === 'connected' ? CHARGE_POINT_TIMING.session : CHARGE_POINT_TIMING.idle,
    )
  }

  private scaled([min, max]: readonly [number, number]) {
    return uniform(this.rng, min, max) / this.tempo
  }
}

/** An environment sensor: temperature, humidity and pressure drifting around their own normal. */
class EnvironmentSensor implements Profile {
  flapping: boolean
  outOfRange: boolean
  private readonly rng: Rng
  private last: number | null = null
  private readonly base: { temperature: number; humidity: number; pressure: number }
  private readonly value: { temperature: number; humidity: number; pressure: number }
  private contact = false

  constructor(opts: ProfileOptions) {
    this.rng = opts.rng
    this.flapping = opts.flapping ?? false
    this.outOfRange = opts.outOfRange ?? false
    this.base = {
      temperature: uniform(this.rng, 5, 25),
      humidity: uniform(this.rng, 30, 70),
      pressure: uniform(this.rng, 1000, 1025),
    }
    this.value = { ...this.base }
  }

  next(now: number): Values {
    const dtS = this.last === null ? 0 : clamp(now - this.last, 0, MAX_STEP_MS) / 1000
    this.last = now
    const r = RANGES.sensor
    const v = this.value
    const b = this.base
    v.temperature = clamp(
      drift(v.temperature, b.temperature, 1800, 0.03, dtS, this.rng),
      ...r.temperature,
    )
    v.humidity = clamp(drift(v.humidity, b.humidity, 1800, 0.05, dtS, this.rng), ...r.humidity)
    v.pressure = clamp(drift(v.pressure, b.pressure, 3600, 0.01, dtS, this.rng), ...r.pressure)
    const values: Values = {
      temperature: this.outOfRange ? beyond(this.rng, r.temperature) : roundTo(v.temperature, 0.1),
      humidity: roundTo(v.humidity, 0.1),
      pressure: roundTo(v.pressure, 0.1),
    }
    // The sensor model has no discrete sensor of its own: a flapping one grows a window contact.
    if (this.flapping) {
      this.contact = !this.contact
      values.contact = this.contact
    }
    return values
  }
}
