import type { Command, CommandRefusal } from './commands.ts'

// What `sendCommand` asks for: its arguments' bounds and refusals, idempotency keys, and the new
// command a request makes. The state machine that moves a command on is commands.ts.

/** Defaults and bounds of `sendCommand`'s arguments. */
export const COMMAND_LIMITS = {
  /** How long one attempt waits for the device's ack (and, once accepted, for its result). */
  timeoutSeconds: { default: 30, min: 1, max: 3600 },
  maxAttempts: { default: 3, min: 1, max: 20 },
  /** How long a command may wait for an offline device before it EXPIRES. */
  ttlSeconds: { default: 3600, min: 1, max: 7 * 24 * 3600 },
} as const

export interface CommandRequest {
  name: string
  args: unknown
  timeoutSeconds?: number | null
  maxAttempts?: number | null
  ttlSeconds?: number | null
  idempotencyKey?: string | null
  reservationId?: string | null
  requestedBy: string
}

const NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/

/** Why `sendCommand`'s arguments are wrong, or null (reservations are checked apart). */
export function refuseCommandRequest(request: CommandRequest): CommandRefusal | null {
  const bad = (message: string): CommandRefusal => ({ code: 'BAD_USER_INPUT', message })
  if (!NAME.test(request.name)) {
    return bad('name is 1-64 characters of letters, digits and _.:- starting with a letter')
  }
  for (const key of ['timeoutSeconds', 'maxAttempts', 'ttlSeconds'] as const) {
    const value = request[key]
    const { min, max } = COMMAND_LIMITS[key]
    if (value != null && (!Number.isInteger(value) || value < min || value > max)) {
      return bad(`${key} must be a whole number from ${min} to ${max}, not ${value}`)
    }
  }
  const key = request.idempotencyKey
  if (key != null && (key.length === 0 || key.length > 200)) {
    return bad('idempotencyKey must be 1-200 characters')
  }
  if (request.args !== undefined && JSON.stringify(request.args ?? null).length > 16_384) {
    return bad('args must be at most 16 KiB of JSON')
  }
  return null
}

/** Why a repeated idempotency key cannot return the command it made, or null. */
export function refuseRepeat(
  existing: Pick<Command, 'id' | 'name' | 'args' | 'idempotencyKey'>,
  request: Pick<CommandRequest, 'name' | 'args'>,
): CommandRefusal | null {
  const sameArgs = JSON.stringify(existing.args) === JSON.stringify(request.args ?? null)
  if (existing.name === request.name && sameArgs) return null
  return {
    code: 'BAD_USER_INPUT',
    message: `idempotencyKey "${existing.idempotencyKey}" already made command ${existing.id} (${existing.name}) with other arguments`,
  }
}

/** A new command, to be sent as soon as the device is online. */
export function newCommand(
  deviceId: string,
  id: string,
  request: CommandRequest,
  now: number,
): Command {
  const ttl = request.ttlSeconds ?? COMMAND_LIMITS.ttlSeconds.default
  return {
    id,
    deviceId,
    name: request.name,
    args: request.args ?? null,
    status: 'PENDING',
    attempts: 0,
    maxAttempts: request.maxAttempts ?? COMMAND_LIMITS.maxAttempts.default,
    timeoutSeconds: request.timeoutSeconds ?? COMMAND_LIMITS.timeoutSeconds.default,
    createdAt: now,
    updatedAt: now,
    expiresAt: now + ttl * 1000,
    result: null,
    error: null,
    idempotencyKey: request.idempotencyKey ?? null,
    requestedBy: request.requestedBy,
    reservationId: request.reservationId ?? null,
    ackDeadline: null,
    sendAt: now,
    revision: 1,
    events: [{ status: 'PENDING', attempt: 0, at: now, error: null }],
  }
}

/** The command an idempotency key already made, or null. */
export function commandForKey(commands: readonly Command[], key: string | null | undefined) {
  return key ? (commands.find((c) => c.idempotencyKey === key) ?? null) : null
}
