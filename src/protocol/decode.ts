import { z } from 'zod'
import { describeUnstorable, findUnstorable } from '../db/storable.ts'
import type { CommandAck } from '../twins/commands.ts'
import { inheritedNameProblem } from '../twins/names.ts'
import { type Reading, type StatusReport, toReading } from '../twins/reading.ts'
import { Topics } from './topics.ts'

const sensorValue = z.union([z.number(), z.boolean(), z.string().max(256), z.null()], {
  error:
    'a sensor value is a finite number, a boolean, a string of at most 256 characters, or null',
})

const deviceTime = z.union(
  [
    z.number().int().min(0).max(8.64e15),
    z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
  ],
  { error: 'ts is epoch milliseconds or an RFC 3339 date-time' },
)

/** Sensor values in one reading: more is a broken or hostile device, not a richer one. */
export const MAX_SENSORS = 256

/**
 * Refuses sensor names every JavaScript object already has (see `inheritedNameProblem`). Checked
 * on the parsed JSON, which keeps `__proto__` as a key of its own: zod drops it, and the reading
 * was stored with no values at all.
 */
const refuseInheritedNames = (values: unknown, ctx: z.core.$RefinementCtx) => {
  if (values === null || typeof values !== 'object') return values
  for (const name of Object.keys(values)) {
    const problem = inheritedNameProblem(name)
    if (problem) ctx.issues.push({ code: 'custom', input: values, path: [name], message: problem })
  }
  return values
}

const readingSchema = z.strictObject({
  ts: deviceTime.optional(),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  values: z.preprocess(
    refuseInheritedNames,
    z
      .record(z.string().min(1).max(128), sensorValue)
      .refine((values) => Object.keys(values).length <= MAX_SENSORS, {
        error: `a reading has at most ${MAX_SENSORS} sensor values`,
      }),
  ),
})

const readingsSchema = z.array(readingSchema).min(1).max(10_000)

const statusSchema = z.object({ online: z.boolean() })

const ackSchema = z.strictObject({
  id: z.string().min(1).max(100),
  status: z.enum(['accepted', 'succeeded', 'failed', 'rejected']),
  result: z.json().optional(),
  error: z.string().max(1000).nullable().optional(),
})

export type RejectReason = 'bad_topic' | 'too_large' | 'bad_encoding' | 'bad_json' | 'bad_payload'

/**
 * Deeper JSON than this is refused: a reading is flat, an ack's result a small document, and
 * Postgres's jsonb parser runs out of stack at a few thousand levels (a 40 KB payload).
 */
export const MAX_JSON_DEPTH = 32

/** Payloads are UTF-8: invalid bytes are refused, never replaced by U+FFFD. */
const utf8 = new TextDecoder('utf-8', { fatal: true })

export type Decoded =
  | { ok: true; kind: 'telemetry'; deviceId: string; readings: Reading[] }
  | { ok: true; kind: 'status'; deviceId: string; status: StatusReport }
  | { ok: true; kind: 'ack'; deviceId: string; ack: CommandAck }
  | { ok: false; reason: RejectReason; message: string; deviceId?: string }

export interface DecodeOptions {
  maxPayloadBytes: number
  maxClockSkewMs?: number
  topics?: Topics
}

const defaultTopics = new Topics()

/**
 * Checks one MQTT message against the device protocol and turns it into readings, a status or a
 * command ack.
 */
export function decodeMessage(
  topic: string,
  payload: Uint8Array,
  receivedAt: number,
  limits: DecodeOptions,
): Decoded {
  return decodeParsed(
    (limits.topics ?? defaultTopics).parse(topic),
    topic,
    payload,
    receivedAt,
    limits,
  )
}

/** `decodeMessage` for a topic its caller has parsed already (ingest parses each topic once). */
export function decodeParsed(
  parsed: { deviceId: string; kind: string } | null,
  topic: string,
  payload: Uint8Array,
  receivedAt: number,
  limits: DecodeOptions,
): Decoded {
  if (!parsed || !['telemetry', 'status', 'acks'].includes(parsed.kind)) {
    return { ok: false, reason: 'bad_topic', message: `not a device topic: ${topic.slice(0, 200)}` }
  }
  const { deviceId, kind } = parsed
  if (payload.byteLength > limits.maxPayloadBytes) {
    const message = `payload of ${payload.byteLength} bytes exceeds ${limits.maxPayloadBytes}`
    return { ok: false, reason: 'too_large', message, deviceId }
  }
  let text: string
  try {
    text = utf8.decode(payload)
  } catch {
    return { ok: false, reason: 'bad_encoding', message: 'payload is not valid UTF-8', deviceId }
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return { ok: false, reason: 'bad_json', message: (error as Error).message, deviceId }
  }
  if (depth(json) > MAX_JSON_DEPTH) {
    const message = `JSON nests deeper than ${MAX_JSON_DEPTH} levels`
    return { ok: false, reason: 'bad_payload', message, deviceId }
  }
  // Strings Postgres cannot store (NUL, lone surrogates) are refused here, with where they are,
  // rather than failing the write of every message stored with them.
  const unstorable = findUnstorable(json)
  if (unstorable) {
    return { ok: false, reason: 'bad_payload', message: describeUnstorable(unstorable), deviceId }
  }
  if (kind === 'status') {
    const status = statusSchema.safeParse(json)
    if (!status.success) return invalid(status.error, deviceId)
    return {
      ok: true,
      kind: 'status',
      deviceId,
      status: { online: status.data.online, receivedAt },
    }
  }
  if (kind === 'acks') {
    const ack = ackSchema.safeParse(json)
    if (!ack.success) return invalid(ack.error, deviceId)
    return { ok: true, kind: 'ack', deviceId, ack: { ...ack.data, receivedAt } }
  }
  // A device flushing buffered data sends an array; checked apart so errors point at the reading.
  const telemetry = Array.isArray(json)
    ? readingsSchema.safeParse(json)
    : readingSchema.safeParse(json)
  if (!telemetry.success) return invalid(telemetry.error, deviceId)
  const raw = Array.isArray(telemetry.data) ? telemetry.data : [telemetry.data]
  const readings = raw.map((r) => toReading(r, receivedAt, limits.maxClockSkewMs))
  return { ok: true, kind: 'telemetry', deviceId, readings }
}

/** How deeply a parsed JSON value nests (a scalar is 0), stopping once past the limit. */
function depth(value: unknown, level = 0): number {
  if (level > MAX_JSON_DEPTH || value === null || typeof value !== 'object') return level
  let deepest = level
  for (const item of Object.values(value)) deepest = Math.max(deepest, depth(item, level + 1))
  return deepest
}

function invalid(error: z.ZodError, deviceId: string): Decoded {
  const first = error.issues[0]
  const where = first?.path.length ? `${first.path.join('.')}: ` : ''
  return { ok: false, reason: 'bad_payload', message: `${where}${first?.message}`, deviceId }
}
