import type { Fleet } from '../src/simulator/fleet.ts'
import type { DeviceModel } from '../src/twins/model.ts'

/**
 * Every 1/share-th device of the fleet, so the probes' samples (the first ids) hold their share
 * of them; alternately flapping and going out of range.
 */
export function unhealthyDevices(ids: readonly string[], share: number) {
  if (share <= 0) return []
  const every = Math.max(1, Math.round(1 / share))
  return ids
    .filter((_, i) => i % every === every - 1)
    .map((id, i) => ({ id, kind: i % 2 === 0 ? ('flapping' as const) : ('out-of-range' as const) }))
}

/** A flapping device sends 4 readings a second: 5 s of them cross the model's limit of 6. */
const FLAPPING_MS = 5_000

/**
 * Runs health episodes on the unhealthy devices: each one now and then flaps (the simulator's
 * flapping behaviour) or reads out of range (its out-of-range behaviour), then goes back to
 * normal, so the run sees alerts raised all along rather than once at the start. First episodes
 * start at random within a cycle, or within the first half of a shorter step (`stepMs`) so a
 * short run sees some. The time between episodes outlasts the flapping window and quiet period,
 * so each episode raises a new alert rather than prolonging the last. An out-of-range episode
 * lasts 2.5 readings of a normal device (`readingPeriodMs()`, which a ramp changes), so it
 * always holds one.
 */
export function startEpisodes(
  fleet: Fleet,
  devices: ReturnType<typeof unhealthyDevices>,
  model: DeviceModel,
  readingPeriodMs: () => number,
  stepMs: number,
) {
  const flapping = model.sensors.find((s) => s.flapping)?.flapping
  const settleMs = flapping ? (flapping.windowSeconds + flapping.quietSeconds) * 1000 : 0
  const timers = new Set<NodeJS.Timeout>()
  const later = (ms: number, then: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      then()
    }, ms)
    timers.add(timer)
  }
  const episode = (id: string, kind: 'flapping' | 'out-of-range') => {
    const lasts = kind === 'flapping' ? FLAPPING_MS : Math.max(3_000, 2.5 * readingPeriodMs())
    const device = fleet.device(id)
    device.behaviour = kind
    later(lasts, () => {
      device.behaviour = 'normal'
    })
    later(cycleMs(lasts), () => episode(id, kind))
  }
  const cycleMs = (lasts: number) => Math.max(90_000, settleMs + lasts + 15_000, 4 * lasts)
  for (const { id, kind } of devices) {
    later(Math.random() * Math.min(cycleMs(FLAPPING_MS), stepMs / 2), () => episode(id, kind))
  }
  return {
    stop() {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      for (const { id } of devices) fleet.device(id).behaviour = 'normal'
    },
  }
}
