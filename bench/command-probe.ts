import { setTimeout as sleep } from 'node:timers/promises'
import { request } from '../test/support/graphql.ts'
import { type Sample, subscriber } from './probes.ts'

const SEND =
  'mutation ($d: ID!) { sendCommand(deviceId: $d, name: "ping", timeoutSeconds: 30) { id } }'
/** Where a command ends; SUCCEEDED is the round trip, the rest count as failed. */
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'EXPIRED', 'CANCELLED'])

/**
 * A backend team's commands beside the fleet's telemetry: `perSecond` commands a second, each to
 * the next of `deviceIds` with none in flight (devices that answer at once), timed from the
 * `sendCommand` request to SUCCEEDED on the `commandUpdated` subscription: the twin's online check
 * (which reads the inbox first), the publish to the device, its acks through ingest and the twin.
 */
export function startCommandProbe(
  url: string,
  operatorToken: string,
  deviceIds: readonly string[],
  perSecond: number,
) {
  const samples: Sample[] = []
  const counts = { sent: 0, succeeded: 0, failed: 0, refused: 0 }
  /** Command id → when its sendCommand was sent; a terminal status not yet seen. */
  const inFlight = new Map<string, { sentAt: number; deviceId: string }>()
  /** Terminal statuses seen before their sendCommand answered with the id. */
  const early = new Map<string, { status: string; at: number }>()
  const busy = new Set<string>()
  const ws = subscriber(url, operatorToken)
  const errors = ws.errors

  const finish = (id: string, status: string, at: number) => {
    const command = inFlight.get(id)
    if (!command) {
      early.set(id, { status, at })
      return
    }
    inFlight.delete(id)
    busy.delete(command.deviceId)
    if (status === 'SUCCEEDED') {
      counts.succeeded++
      samples.push({ at, ms: at - command.sentAt })
    } else counts.failed++
  }

  ws.listen<{ commandUpdated: { id: string; status: string } }>(
    'subscription { commandUpdated { id status } }',
    {},
    ({ commandUpdated: { id, status } }) => {
      if (TERMINAL.has(status)) finish(id, status, Date.now())
    },
  )

  const send = async (deviceId: string) => {
    busy.add(deviceId)
    const sentAt = Date.now()
    counts.sent++
    try {
      const result = await request<{ sendCommand: { id: string } }>(
        url,
        SEND,
        { d: deviceId },
        `Bearer ${operatorToken}`,
      )
      const id = result.data?.sendCommand.id
      if (!id) {
        counts.refused++
        busy.delete(deviceId)
        errors.push(result.errors?.[0]?.message ?? 'sendCommand answered no id')
        return
      }
      inFlight.set(id, { sentAt, deviceId })
      const seen = early.get(id)
      if (seen) {
        early.delete(id)
        finish(id, seen.status, seen.at)
      }
    } catch (error) {
      counts.refused++
      busy.delete(deviceId)
      errors.push(error)
    }
  }

  let next = 0
  /** The next device from `next` on with no command in flight, if any. */
  const idle = () => {
    for (let i = 0; i < deviceIds.length; i++) {
      const deviceId = deviceIds[(next + i) % deviceIds.length] as string
      if (busy.has(deviceId)) continue
      next = (next + i + 1) % deviceIds.length
      return deviceId
    }
    return undefined
  }
  let stopped = false
  const everyMs = 1000 / perSecond
  const sending = (async () => {
    const start = Date.now()
    for (let n = 0; !stopped; n++) {
      const deviceId = idle()
      if (deviceId !== undefined) void send(deviceId)
      await sleep(Math.max(0, start + (n + 1) * everyMs - Date.now()))
    }
  })()

  return {
    samples,
    counts,
    errors,
    /** Stops sending, then waits up to `timeoutMs` for the commands in flight; the rest fail. */
    async settle(timeoutMs: number) {
      stopped = true
      await sending
      const deadline = Date.now() + timeoutMs
      while (inFlight.size > 0 && Date.now() < deadline) await sleep(100)
      counts.failed += inFlight.size
      inFlight.clear()
    },
    stop: ws.stop,
  }
}
