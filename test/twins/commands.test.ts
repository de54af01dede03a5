import { describe, expect, it } from 'vitest'
import { newCommand, refuseCommandRequest, refuseRepeat } from '../../src/twins/command-requests.ts'
import {
  applyAck,
  type Command,
  cancelCommand,
  driveCommands,
  FINISHED_COMMANDS_KEPT,
  nextCommandCheck,
  pruneCommands,
  refuseCancel,
  retryDelayMs,
} from '../../src/twins/commands.ts'

const T0 = 1_763_812_800_000
const request = { name: 'reboot', args: { force: true }, requestedBy: 'ops' }
const fresh = (overrides = {}) =>
  newCommand('cp-1', 'c-1', { ...request, timeoutSeconds: 10, maxAttempts: 2, ...overrides }, T0)
const ack = (status: 'accepted' | 'succeeded' | 'failed' | 'rejected', at: number, extra = {}) => ({
  id: 'c-1',
  status,
  receivedAt: at,
  ...extra,
})
/** Drives one command at `now`; returns it and whether it was sent. */
const drive = (command: Command, online: boolean, now: number) => {
  const { commands, due } = driveCommands([command], online, now)
  return { command: commands[0] as Command, sent: due.length === 1 }
}

describe('commands', () => {
  it('goes out at once to an online device, and ends with the device’s answer', () => {
    const { command: sent, sent: wasSent } = drive(fresh(), true, T0)
    expect(wasSent).toBe(true)
    expect(sent).toMatchObject({ status: 'SENT', attempts: 1, ackDeadline: T0 + 10_000 })
    const [accepted] = applyAck([sent], ack('accepted', T0 + 100))
    expect(accepted).toMatchObject({ status: 'ACCEPTED', ackDeadline: T0 + 10_100 })
    const [done] = applyAck(
      [accepted as Command],
      ack('succeeded', T0 + 200, { result: { ok: 1 } }),
    )
    expect(done).toMatchObject({ status: 'SUCCEEDED', result: { ok: 1 }, ackDeadline: null })
    expect(done?.events.map((e) => e.status)).toEqual(['PENDING', 'SENT', 'ACCEPTED', 'SUCCEEDED'])
    // A late or repeated ack changes nothing once it ended.
    expect(applyAck([done as Command], ack('failed', T0 + 300))).toEqual([done])
  })

  it('retries after its timeout with backoff, then is TIMED_OUT', () => {
    let { command } = drive(fresh(), true, T0)
    ;({ command } = drive(command, true, T0 + 9_999))
    expect(command).toMatchObject({ status: 'SENT', attempts: 1 })
    ;({ command } = drive(command, true, T0 + 10_000))
    expect(command).toMatchObject({ attempts: 1, sendAt: T0 + 10_000 + retryDelayMs(1) })
    const retried = drive(command, true, T0 + 11_000)
    expect(retried.sent).toBe(true)
    expect(retried.command).toMatchObject({ status: 'SENT', attempts: 2 })
    const last = drive(retried.command, true, T0 + 21_000)
    expect(last.sent).toBe(false)
    expect(last.command).toMatchObject({ status: 'TIMED_OUT', attempts: 2 })
  })

  it('waits as PENDING while the device is offline, and EXPIRES after its ttl', () => {
    const command = fresh({ ttlSeconds: 60 })
    const waiting = drive(command, false, T0 + 1000)
    expect(waiting).toMatchObject({ sent: false, command: { status: 'PENDING', attempts: 0 } })
    expect(nextCommandCheck([waiting.command], false)).toBe(T0 + 60_000)
    expect(drive(waiting.command, true, T0 + 59_000)).toMatchObject({ sent: true })
    expect(drive(waiting.command, false, T0 + 60_000).command.status).toBe('EXPIRED')
    // A device that went away after a send: the retry waits for it.
    const { command: sent } = drive(fresh({ ttlSeconds: 60 }), true, T0)
    const away = drive(drive(sent, false, T0 + 10_000).command, false, T0 + 12_000)
    expect(away).toMatchObject({ sent: false, command: { status: 'PENDING', attempts: 1 } })
  })

  it('does not expire once accepted, and is cancellable only before that', () => {
    const { command: sent } = drive(fresh({ ttlSeconds: 5, timeoutSeconds: 600 }), true, T0)
    expect(refuseCancel(sent)).toBeNull()
    const [accepted] = applyAck([sent], ack('accepted', T0 + 10)) as [Command]
    expect(drive(accepted, true, T0 + 6_000).command.status).toBe('ACCEPTED')
    expect(refuseCancel(accepted)?.message).toMatch(/accepted/)
    expect(cancelCommand([sent], 'c-1', T0 + 1)[0]?.status).toBe('CANCELLED')
    expect(cancelCommand([accepted], 'c-1', T0 + 1)).toEqual([accepted])
  })

  it('refuses arguments a person can fix, and a key reused for another command', () => {
    expect(refuseCommandRequest({ ...request, name: '1bad' })?.message).toMatch(/name/)
    expect(refuseCommandRequest({ ...request, timeoutSeconds: 0 })?.message).toMatch(/1 to 3600/)
    expect(refuseCommandRequest({ ...request, ttlSeconds: 1.5 })?.message).toMatch(/ttlSeconds/)
    expect(refuseCommandRequest({ ...request, args: 'x'.repeat(20_000) })?.message).toMatch(
      /16 KiB/,
    )
    expect(refuseCommandRequest(request)).toBeNull()
    const made = fresh({ idempotencyKey: 'k' })
    expect(refuseRepeat(made, { name: 'reboot', args: { force: true } })).toBeNull()
    expect(refuseRepeat(made, { name: 'reboot', args: { force: false } })?.message).toMatch(/k/)
  })

  it('keeps open commands and the newest finished ones', () => {
    const finished = Array.from({ length: FINISHED_COMMANDS_KEPT + 5 }, (_, i) => ({
      ...fresh(),
      id: `f-${i}`,
      status: 'SUCCEEDED' as const,
      updatedAt: T0 + i,
    }))
    const open = { ...fresh(), id: 'open' }
    const kept = pruneCommands([open, ...finished])
    expect(kept).toHaveLength(FINISHED_COMMANDS_KEPT + 1)
    expect(kept.map((c) => c.id)).toContain('open')
    expect(kept.map((c) => c.id)).not.toContain('f-4')
    expect(kept.map((c) => c.id)).toContain('f-5')
  })
})
