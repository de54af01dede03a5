import { storableText } from './storable.ts'

/**
 * Whether a database error is worth retrying: `transient` when the same statement may succeed
 * later (the connection, the server's load or a lock conflict failed it), `permanent` when the
 * data or the statement itself is at fault and sending it again fails the same way.
 */
export interface DbErrorClass {
  kind: 'transient' | 'permanent'
  /** The SQLSTATE (Postgres, PGlite) or the client's own code (postgres.js, Node sockets). */
  code?: string
  /** The database's own reason, prefixed with the code when there is one. */
  message: string
}

/** Room for any server reason (a 1e400 literal repeats its hundreds of digits) in a log line. */
const MAX_MESSAGE = 300

const TRANSIENT_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57014', // query_canceled (statement_timeout)
  '57P01', // admin_shutdown (also pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, in recovery)
])

/** Classes 08 (connection exception), 53 (insufficient resources), 58 (system / I/O error). */
const TRANSIENT_CLASSES = new Set(['08', '53', '58'])

/**
 * 08P01 protocol_violation is in class 08 but is the server refusing the message we sent, not a
 * lost connection: a NUL inside SQL text ends the protocol's C string early and fails this way
 * on Postgres and PGlite alike, however often it is sent.
 */
const PERMANENT_SQLSTATES = new Set(['08P01'])

/** Client-side codes that mean the connection, not the statement, failed. */
const TRANSIENT_CLIENT_CODES = new Set([
  // postgres.js (src/connection.js, src/index.js)
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  // Node's sockets and DNS
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
])

const SQLSTATE = /^[0-9A-Z]{5}$/

export function classifyDbError(error: unknown): DbErrorClass {
  const { code, source } = unwrap(error)
  if (code === undefined) {
    // No code anywhere in the chain. Some dead connections say nothing more ("PGlite is closed"),
    // so the default is transient: callers bound their retries (an abort signal, maxAttempts).
    // TypeError and RangeError are the exception: the runtime throws them for a value the driver
    // cannot serialise (a BigInt in JSON, an invalid Date), and the same value fails every time.
    const permanent = source instanceof TypeError || source instanceof RangeError
    return { kind: permanent ? 'permanent' : 'transient', message: describe(source) }
  }
  return { kind: kindOf(code), code, message: describe(source, code) }
}

function kindOf(code: string): DbErrorClass['kind'] {
  // Checked before the SQLSTATE shape, which some of them (EPIPE) also fit.
  if (TRANSIENT_CLIENT_CODES.has(code)) return 'transient'
  if (!SQLSTATE.test(code) || PERMANENT_SQLSTATES.has(code)) return 'permanent'
  if (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_CLASSES.has(code.slice(0, 2))) return 'transient'
  return 'permanent'
}

/**
 * Follows `cause` (drizzle's DrizzleQueryError wraps the driver's error) to the first error that
 * carries a code, else to the end of the chain. Bounded, in case a chain loops.
 */
function unwrap(error: unknown): { code?: string; source: unknown } {
  let source = error
  for (let depth = 0; depth < 10; depth++) {
    const { code, cause } = (source ?? {}) as { code?: unknown; cause?: unknown }
    if (typeof code === 'string' && code !== '') return { code, source }
    if (cause === undefined || cause === null) break
    source = cause
  }
  return { source }
}

/** One storable line: the reason may be logged or kept with a dead letter. */
function describe(error: unknown, code?: string): string {
  const message = (error as { message?: unknown } | null)?.message
  const reason = typeof message === 'string' ? message : String(error)
  // Client messages often name their code already ("connect ECONNREFUSED 127.0.0.1:5432").
  const text = code && !reason.includes(code) ? `${code}: ${reason}` : reason
  return storableText(text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text)
}
