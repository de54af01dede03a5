/**
 * What Postgres (UTF-8) refuses in `text` and `jsonb`, in one place for every path that writes a
 * string: ingest's decoder, the GraphQL arguments, and the twin's own writes.
 *
 * - U+0000 (NUL): `text` cannot hold it ("invalid byte sequence for encoding UTF8: 0x00"), and
 *   `jsonb` refuses the escape `\u0000` ("unsupported Unicode escape sequence").
 * - Lone UTF-16 surrogates (U+D800–U+DFFF not in a pair): JSON can spell them (`"\ud800"`), but
 *   they are not Unicode scalar values. `jsonb` refuses them, and a `text` parameter silently
 *   turns them into U+FFFD on the way, so the stored string would not be the one sent.
 *
 * Every other code point, noncharacters and private use included, is stored as it is.
 */

/** Why Postgres would refuse or alter `s`, or null when it stores it as it is. */
export function unstorableReason(s: string): string | null {
  if (s.includes('\u0000')) return 'contains U+0000 (NUL), which Postgres text cannot hold'
  if (!s.isWellFormed()) {
    return 'contains a lone UTF-16 surrogate (\\uD800–\\uDFFF not in a pair), which is not Unicode text'
  }
  return null
}

export interface Unstorable {
  /** Where the string is: `$` for the value itself, `$.a[2]` for a nested one. */
  path: string
  /** True when the offending string is an object key, not a value. */
  key: boolean
  reason: string
}

/** The first string (value or object key) in a JSON-like value that Postgres refuses, or null. */
export function findUnstorable(value: unknown, path = '$'): Unstorable | null {
  if (typeof value === 'string') {
    const reason = unstorableReason(value)
    return reason ? { path, key: false, reason } : null
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findUnstorable(item, `${path}[${i}]`)
      if (found) return found
    }
    return null
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, item] of Object.entries(value)) {
      const reason = unstorableReason(k)
      if (reason) return { path: `${path}.${printable(k)}`, key: true, reason }
      const found = findUnstorable(item, `${path}.${k}`)
      if (found) return found
    }
  }
  return null
}

/** "$.a: contains …" or "$.a (a key): contains …": a sentence a person can act on. */
export const describeUnstorable = (u: Unstorable) =>
  `${u.path}${u.key ? ' (a key)' : ''}: ${u.reason}`

/**
 * The normalisation rule for text that only describes something (a topic kept with a dead
 * letter, an error message, a log line): each NUL and lone surrogate becomes U+FFFD, the
 * Unicode replacement character. Data is never normalised silently; it is refused instead.
 */
export function storableText(s: string): string {
  return s.toWellFormed().replaceAll('\u0000', '\uFFFD')
}

/** `storableText` applied to every string and key of a JSON-like value. */
export function storableJson<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T
  if (Array.isArray(value)) return value.map(storableJson) as T
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [storableText(k), storableJson(v)]),
    ) as T
  }
  return value
}

const printable = (s: string) => JSON.stringify(storableText(s)).slice(1, -1)
