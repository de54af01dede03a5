import parse from 'parse-duration'

/** One or more numbers, each with its unit: "90s", "5m", "1.5h", "1h30m", "30d". */
const WRITTEN = /^(\s*\d+(\.\d+)?\s*[a-z]+)+\s*$/i

/**
 * A duration written as people write them, in milliseconds, or null when `text` is not one
 * (units of `parse-duration`: ms, s, m, h, d, w, mo, y). A bare number is refused: it would
 * be read as milliseconds, which no one setting a retention or a bucket means.
 */
export function parseDuration(text: string): number | null {
  if (!WRITTEN.test(text)) return null
  const value = parse(text)
  return value !== null && Number.isFinite(value) ? value : null
}
