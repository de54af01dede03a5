import type { HealthReport } from './health/types.ts'
import type { AggregateRule, DeviceModel } from './model.ts'
import type { SensorValue } from './reading.ts'
import type { AggregateBucket, AggregateWindow, AggregateWindows, SensorState } from './state.ts'

/** A window moves on in steps of 1/60 of it: a 5-minute window in steps of 5 s. */
export const STEPS_PER_WINDOW = 60

export const windowKey = (rule: Pick<AggregateRule, 'sensor' | 'windowSeconds'>) =>
  `${rule.sensor}/${rule.windowSeconds}s`

const ruleKey = (rule: AggregateRule) => `${rule.fn}>${rule.above ?? ''}<${rule.below ?? ''}`

/** Step length of a window: 1/60 of it, at least a second. */
const stepMs = (windowSeconds: number) =>
  Math.max(1000, Math.ceil((windowSeconds * 1000) / STEPS_PER_WINDOW))

/** Models stored before aggregate rules existed have none. */
const rulesOf = (model: DeviceModel | null): AggregateRule[] => model?.aggregates ?? []

const numeric = (value: SensorValue) => (typeof value === 'number' ? value : null)

/**
 * Notes that `sensor`'s last-known value became `value` at ordering time `time` (called in
 * device-time order, for each change the twin applies), in every window the model's aggregate
 * rules keep for it. The twin sees the first and last reading of each run of equal values
 * (see batch.ts), which is all a measure of time spent at each value needs.
 */
export function feedAggregates(
  windows: AggregateWindows,
  sensor: string,
  time: number,
  value: SensorValue,
  model: DeviceModel | null,
): AggregateWindows {
  const lengths = new Set(
    rulesOf(model)
      .filter((r) => r.sensor === sensor)
      .map((r) => r.windowSeconds),
  )
  if (lengths.size === 0) return windows
  const next = { ...windows }
  for (const windowSeconds of lengths) {
    const key = windowKey({ sensor, windowSeconds })
    const before = windows[key]
    const closed = before ? close(before, time, windowSeconds) : []
    next[key] = {
      buckets: closed,
      value: numeric(value),
      since: time,
      raised: before?.raised ?? [],
    }
  }
  return next
}

/** The window's buckets with the value in force until `until` added, pruned to the window. */
function close(window: AggregateWindow, until: number, windowSeconds: number): AggregateBucket[] {
  const step = stepMs(windowSeconds)
  const buckets = window.buckets.map((b) => ({ ...b }))
  const { value } = window
  const opens = windowStart(until, windowSeconds)
  if (value !== null) {
    // What the sensor held before the window opened no longer counts.
    for (let from = Math.max(window.since, opens); from < until; ) {
      const start = Math.floor(from / step) * step
      const to = Math.min(until, start + step)
      let bucket = buckets.at(-1)
      if (bucket?.start !== start) {
        bucket = { start, ms: 0, sum: 0, min: value, max: value }
        buckets.push(bucket)
      }
      bucket.ms += to - from
      bucket.sum += value * (to - from)
      bucket.min = Math.min(bucket.min, value)
      bucket.max = Math.max(bucket.max, value)
      from = to
    }
  }
  return buckets.filter((b) => b.start >= opens)
}

/**
 * Where the window that ends at `end` opens: `windowSeconds` before it, moved on to the next
 * step, so a window is never longer than asked and at most one step shorter.
 */
const windowStart = (end: number, windowSeconds: number): number => {
  const step = stepMs(windowSeconds)
  return Math.ceil((end - windowSeconds * 1000) / step) * step
}

export interface WindowStats {
  avg: number
  min: number
  max: number
}

/**
 * The sensor's numeric values over the window that ends at `end`: time-weighted average (each
 * value counts for as long as it was the sensor's value, so neither the device's rate nor
 * repeated readings bias it), minimum and maximum. Null when it held no number in the window.
 */
export function windowStats(
  window: AggregateWindow,
  end: number,
  windowSeconds: number,
): WindowStats | null {
  const opens = windowStart(end, windowSeconds)
  const buckets = window.buckets.filter((b) => b.start >= opens && b.ms > 0)
  const parts = buckets.map((b) => ({ ms: b.ms, sum: b.sum, min: b.min, max: b.max }))
  if (window.value !== null) {
    const ms = Math.max(0, end - Math.max(window.since, opens))
    parts.push({ ms, sum: window.value * ms, min: window.value, max: window.value })
  }
  if (parts.length === 0) return null
  const ms = parts.reduce((total, p) => total + p.ms, 0)
  const sum = parts.reduce((total, p) => total + p.sum, 0)
  return {
    // Only the value just reported, held for no time yet: that value is all there is to go by.
    avg: ms > 0 ? sum / ms : (window.value ?? Number.NaN),
    min: Math.min(...parts.map((p) => p.min)),
    max: Math.max(...parts.map((p) => p.max)),
  }
}

const FN_WORD = { AVG: 'avg', MIN: 'min', MAX: 'max' } as const

/** Whether a rule's alert is raised now: it rises past its bound, and clears past the hysteresis. */
function breach(rule: AggregateRule, value: number, raised: boolean): string | null {
  const margin = raised ? (rule.hysteresis ?? 0) : 0
  if (rule.above != null && value > rule.above - margin)
    return `above ${rule.above}${raised && margin ? ` (clears at ${rule.above - margin})` : ''}`
  if (rule.below != null && value < rule.below + margin)
    return `below ${rule.below}${raised && margin ? ` (clears at ${rule.below + margin})` : ''}`
  return null
}

/**
 * Judges the model's aggregate rules, each over the window ending at its sensor's newest
 * reading. A rule whose statistic leaves its bound makes the sensor OUT_OF_RANGE, with why
 * ("5 min avg 85.3 above 80"); it stays so until the statistic is back past the bound by the
 * rule's hysteresis. Returns each sensor's worst finding and the windows with their raised rules
 * (windows no rule keeps any more are dropped).
 */
export function judgeAggregates(
  windows: AggregateWindows,
  sensors: Record<string, SensorState>,
  model: DeviceModel | null,
): { windows: AggregateWindows; reports: Record<string, HealthReport> } {
  const kept: AggregateWindows = {}
  const reports: Record<string, HealthReport> = {}
  for (const rule of rulesOf(model)) {
    const sensor = sensors[rule.sensor]
    if (!sensor) continue
    const key = windowKey(rule)
    // A rule added to the model starts from the value the sensor holds.
    const window = kept[key] ??
      windows[key] ?? {
        buckets: [],
        value: numeric(sensor.value),
        since: sensor.changedAt,
        raised: [],
      }
    const stats = windowStats(window, sensor.time, rule.windowSeconds)
    const statistic = stats?.[FN_WORD[rule.fn]]
    const wasRaised = window.raised.includes(ruleKey(rule))
    const why = statistic === undefined ? null : breach(rule, statistic, wasRaised)
    const raised = window.raised.filter((k) => k !== ruleKey(rule))
    kept[key] = { ...window, raised: why ? [...raised, ruleKey(rule)] : raised }
    if (why && statistic !== undefined && !reports[rule.sensor]) {
      reports[rule.sensor] = {
        health: 'OUT_OF_RANGE',
        reason: `${duration(rule.windowSeconds)} ${FN_WORD[rule.fn]} ${round(statistic)} ${why}`,
      }
    }
  }
  return { windows: kept, reports }
}

const duration = (seconds: number) =>
  seconds % 3600 === 0
    ? `${seconds / 3600} h`
    : seconds % 60 === 0
      ? `${seconds / 60} min`
      : `${seconds} s`

const round = (value: number) => Math.round(value * 100) / 100
