/** A source of uniform numbers in [0, 1), like Math.random. */
export type Rng = () => number

/**
 * mulberry32: tiny and fast, and seeded, so a test (or a benchmark run) can replay the exact
 * same fleet. Not for anything that needs to be unpredictable.
 */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const uniform = (rng: Rng, min: number, max: number) => min + (max - min) * rng()

/** Standard normal (Box–Muller). */
export function gaussian(rng: Rng): number {
  const u = 1 - rng() // (0, 1]: log(0) would be -Infinity
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng())
}

/** Did an event with a mean interval of `meanMs` happen within `dtMs`? (Poisson process) */
export const happened = (rng: Rng, dtMs: number, meanMs: number) =>
  rng() < 1 - Math.exp(-dtMs / meanMs)

export const clamp = (value: number, min: number, max: number) =>
  Math.min(max, Math.max(min, value))

/** Rounds to a multiple of `step` without the float noise (21.400000000000002) of `x * step`. */
export const roundTo = (value: number, step: number) => {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)))
  return Number((Math.round(value / step) * step).toFixed(decimals))
}
