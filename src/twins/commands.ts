/**
 * A twin's commands: the state machine behind `sendCommand` (docs/twins.md, "Commands and
 * reservations"). Pure: the workflow feeds it requests, acks, cancellations and the time, and
 * publishes what `driveCommands` says is due.
 *
 *   PENDING ─send─▶ SENT ─accepted─▶ ACCEPTED ─succeeded/failed/rejected─▶ SUCCEEDED | FAILED | REJECTED
 *   no ack within timeoutSeconds: sent again after a backoff (same id, attempt + 1), until
 *   maxAttempts → TIMED_OUT; device offline: waits as PENDING; ttlSeconds over before the device
 *   accepted → EXPIRED; cancelCommand before it accepted → CANCELLED.
 */

export const COMMAND_STATUSES = [
  'PENDING',
  'SENT',
  'ACCEPTED',
  'SUCCEEDED',
  'FAILED',
  'REJECTED',
  'TIMED_OUT',
  'EXPIRED',
  'CANCELLED',
] as const
export type CommandStatus = (typeof COMMAND_STATUSES)[number]

/** Every other status is terminal: a command in one of these is still under way. */
export const OPEN_COMMAND_STATUSES: readonly CommandStatus[] = ['PENDING', 'SENT', 'ACCEPTED']
const OPEN = new Set<CommandStatus>(OPEN_COMMAND_STATUSES)
export const isTerminal = (status: CommandStatus) => !OPEN.has(status)

/** The commands still under way (the twin's `pendingCommands`). */
export const openCommands = (commands: readonly Command[]) =>
  commands.filter((c) => !isTerminal(c.status))

/** Backoff between attempts: 1 s, 2 s, 4 s, … at most 60 s. */
export const retryDelayMs = (attempt: number) => Math.min(60_000, 1000 * 2 ** (attempt - 1))

/** Finished commands a twin keeps (for idempotency keys and `pendingCommands` history). */
export const FINISHED_COMMANDS_KEPT = 50

export interface Command {
  id: string
  deviceId: string
  name: string
  args: unknown
  status: CommandStatus
  /** Times it was published to the device. */
  attempts: number
  maxAttempts: number
  timeoutSeconds: number
  createdAt: number
  updatedAt: number
  /** Past this, a command the device has not accepted EXPIRES. */
  expiresAt: number
  result: unknown
  error: string | null
  idempotencyKey: string | null
  requestedBy: string
  reservationId: string | null
  /** When the current attempt gives up waiting for an ack; null when not waiting. */
  ackDeadline: number | null
  /** When to publish next (the first send, or a retry); null when nothing is to be sent. */
  sendAt: number | null
  /** Increases on every change: orders the writes of its record. */
  revision: number
  /** Every status change (and every attempt sent), oldest first: the command's audit trail. */
  events: CommandEvent[]
}

export interface CommandEvent {
  status: CommandStatus
  attempt: number
  at: number
  error: string | null
}

/** What a device answers on `devices/{id}/acks`. */
export interface CommandAck {
  id: string
  status: 'accepted' | 'succeeded' | 'failed' | 'rejected'
  result?: unknown
  error?: string | null
  receivedAt: number
}

export type CommandRefusal = { code: 'BAD_USER_INPUT'; message: string }

function change(command: Command, now: number, fields: Partial<Command>): Command {
  const next = { ...command, ...fields, updatedAt: now, revision: command.revision + 1 }
  const moved = next.status !== command.status || next.attempts !== command.attempts
  if (!moved) return next
  const event = { status: next.status, attempt: next.attempts, at: now, error: next.error }
  return { ...next, events: [...command.events, event] }
}

/**
 * Moves every open command on with the clock: expires, times out, schedules retries and sends
 * what is due while the device is online. Returns the commands and those to publish now.
 */
export function driveCommands(
  commands: readonly Command[],
  online: boolean,
  now: number,
): { commands: Command[]; due: Command[] } {
  const due: Command[] = []
  const next = commands.map((command) => {
    if (isTerminal(command.status)) return command
    const accepted = command.status === 'ACCEPTED'
    if (!accepted && now >= command.expiresAt) {
      return change(command, now, {
        status: 'EXPIRED',
        error: `not accepted within its ttl (${Math.round((command.expiresAt - command.createdAt) / 1000)} s)`,
        ackDeadline: null,
        sendAt: null,
      })
    }
    let current = command
    if (current.ackDeadline !== null && now >= current.ackDeadline) {
      if (current.attempts >= current.maxAttempts) {
        return change(current, now, {
          status: 'TIMED_OUT',
          error: `no ${accepted ? 'result' : 'ack'} after ${current.attempts} attempt(s) of ${current.timeoutSeconds} s`,
          ackDeadline: null,
          sendAt: null,
        })
      }
      current = change(current, now, {
        ackDeadline: null,
        sendAt: now + retryDelayMs(current.attempts),
      })
    }
    if (current.sendAt !== null && now >= current.sendAt) {
      if (!online) {
        // Waits for the device; an accepted command stays accepted (it is being worked on).
        return accepted || current.status === 'PENDING'
          ? current
          : change(current, now, { status: 'PENDING' })
      }
      const sent = change(current, now, {
        status: accepted ? 'ACCEPTED' : 'SENT',
        attempts: current.attempts + 1,
        ackDeadline: now + current.timeoutSeconds * 1000,
        sendAt: null,
      })
      due.push(sent)
      return sent
    }
    return current
  })
  return { commands: next, due }
}

/** Applies a device's ack; acks of unknown or finished commands change nothing. */
export function applyAck(commands: readonly Command[], ack: CommandAck): Command[] {
  return commands.map((command) => {
    if (command.id !== ack.id || isTerminal(command.status)) return command
    const now = ack.receivedAt
    if (ack.status === 'accepted') {
      if (command.status === 'ACCEPTED') return command
      // A fresh timeout for the result; no more sending unless that passes too.
      return change(command, now, {
        status: 'ACCEPTED',
        ackDeadline: now + command.timeoutSeconds * 1000,
        sendAt: null,
      })
    }
    const status = ({ succeeded: 'SUCCEEDED', failed: 'FAILED', rejected: 'REJECTED' } as const)[
      ack.status
    ]
    return change(command, now, {
      status,
      result: ack.result ?? null,
      error: ack.error ?? null,
      ackDeadline: null,
      sendAt: null,
    })
  })
}

/** Why a command cannot be cancelled, or null. */
export function refuseCancel(command: Command): CommandRefusal | null {
  if (command.status === 'PENDING' || command.status === 'SENT') return null
  return {
    code: 'BAD_USER_INPUT',
    message: isTerminal(command.status)
      ? `command already ended ${command.status}`
      : 'the device has accepted the command: it can no longer be cancelled',
  }
}

export function cancelCommand(commands: readonly Command[], id: string, now: number): Command[] {
  return commands.map((c) =>
    c.id === id && !refuseCancel(c)
      ? change(c, now, { status: 'CANCELLED', ackDeadline: null, sendAt: null })
      : c,
  )
}

/** Open commands and the newest finished ones; older finished ones live on in Postgres. */
export function pruneCommands(commands: readonly Command[]): Command[] {
  const finished = commands.filter((c) => isTerminal(c.status))
  if (finished.length <= FINISHED_COMMANDS_KEPT) return [...commands]
  const dropped = new Set(
    [...finished]
      .sort((a, b) => a.updatedAt - b.updatedAt)
      .slice(0, finished.length - FINISHED_COMMANDS_KEPT),
  )
  return commands.filter((c) => !dropped.has(c))
}

/** The earliest time the clock alone moves a command on, or null. */
export function nextCommandCheck(commands: readonly Command[], online: boolean): number | null {
  const times = commands.flatMap((c) => {
    if (isTerminal(c.status)) return []
    const t = [c.ackDeadline]
    if (c.status !== 'ACCEPTED') t.push(c.expiresAt)
    if (online) t.push(c.sendAt)
    return t.filter((x): x is number => x !== null)
  })
  return times.length === 0 ? null : Math.min(...times)
}

/** Commands whose record changed between two states (each at its newest revision). */
export function changedCommands(before: readonly Command[], after: readonly Command[]): Command[] {
  const old = new Map(before.map((c) => [c.id, c.revision]))
  return after.filter((c) => old.get(c.id) !== c.revision)
}
