import type { ConsistencyRule } from '../model.ts'
import type { SensorTrack } from './types.ts'

/**
 * Was a change of `rule.sensor` at `time` plausible? Only if `rule.requires` had the value
 * `rule.equals` at some moment of [time − withinSeconds, time]: the value it had as the window
 * opened counts, and so does any value it took inside the window. Returns why not, or null.
 */
export function implausibleChange(
  rule: ConsistencyRule,
  time: number,
  requires: SensorTrack | undefined,
): string | null {
  const windowStart = time - rule.withinSeconds * 1000
  const values = requires?.values ?? []
  const atStart = values.filter((v) => v.time <= windowStart).at(-1)
  const inside = values.filter((v) => v.time > windowStart && v.time <= time)
  const seen = [...(atStart ? [atStart] : []), ...inside]
  if (seen.some((v) => v.value === rule.equals)) return null
  const at = new Date(time).toISOString().slice(11, 19)
  return `${rule.sensor} changed at ${at} but ${rule.requires} was not ${JSON.stringify(rule.equals)} within ${rule.withinSeconds} s before`
}
