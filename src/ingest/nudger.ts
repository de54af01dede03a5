import pMap from 'p-map'
import type { Counter } from 'prom-client'
import type { Db } from '../db/client.ts'
import type { Logger } from '../log.ts'
import type { TwinClient } from '../workflows/client.ts'
import {
  claimDeliveries,
  type DeliveryMade,
  deliveryRoom,
  dropInboxes,
  markDelivered,
  type NudgeOptions,
  retryFailedSoon,
} from './deliveries.ts'

/** Signals in flight at once: enough to hide round trips, few enough not to swamp Temporal. */
const CONCURRENCY = 32

export interface DeliveryCounts {
  /** Deliveries Temporal accepted: each one workflow task of a twin, at most one in flight. */
  signals: number
  /** Of those, the urgent ones and the checkpoints. */
  urgentSignals: number
  checkpointSignals: number
  /** Deliveries that failed (Temporal away, a deadline): the twin is told again in seconds. */
  failedSignals: number
}

/**
 * Tells twins what their inboxes hold, apart from storing: a flush is acknowledged once it is
 * committed, and Temporal being slow or away never holds it up. One round at a time claims the
 * twins due (see `claimDeliveries`) and signals them; a flush wakes it, and it also runs every
 * `everyMs` for checkpoints that fell due and for deliveries to retry.
 */
export function startNudger(opts: {
  db: Db
  twins: Pick<TwinClient, 'deliver'>
  log: Logger
  nudge: Omit<NudgeOptions, 'now'>
  everyMs?: number
  /** Where deliveries are counted (ingest's stats), and the same by outcome for /metrics. */
  counts: DeliveryCounts
  deliveries: Counter<'outcome'>
}) {
  const stats = opts.counts
  let stopped = false
  let again = false
  let wake: (() => void) | undefined
  const everyMs = opts.everyMs ?? 1000
  let checkpointAt = 0
  // Whether more checkpoints were due than the last claim could take: then every round looks.
  let checkpointsWaiting = false

  const round = async () => {
    // Checkpoints first, in their share of the room, then urgent deliveries in the rest. Under
    // load, urgent deliveries refill any room as soon as it frees: claimed after them, the
    // checkpoints that are due never ran (twins drifted minutes past their checkpoint), and
    // claimed before them they still never hold more than their share. Urgent ones are held to
    // the room too: given all at once (every twin's first reading at start-up), they queued in
    // Temporal for longer than a worker's sticky queue keeps a task (30 s), and each task that
    // timed out there waited minutes more on the shared queue. Checkpoints wait minutes by
    // design, so while none is waiting they are looked for once a tick, not after every flush.
    const room = await deliveryRoom(opts.db, opts.nudge)
    const checkpointDue = checkpointsWaiting || Date.now() - checkpointAt >= everyMs
    if (checkpointDue) checkpointAt = Date.now()
    const checkpointRoom = checkpointDue ? room.checkpoint : 0
    const checkpoint = await claimDeliveries(opts.db, 'checkpoint', checkpointRoom, opts.nudge)
    // A full share says nothing of what is due: keep looking until a claim comes back short.
    const asked = Math.min(checkpointRoom, opts.nudge.limit)
    if (asked > 0) checkpointsWaiting = checkpoint.length >= asked
    const urgent = await claimDeliveries(
      opts.db,
      'urgent',
      room.urgent - checkpoint.length,
      opts.nudge,
    )
    const claimed = [
      ...urgent.map((c) => ({ ...c, urgent: true })),
      ...checkpoint.map((c) => ({ ...c, urgent: false })),
    ]
    const ended: string[] = []
    const delivered: DeliveryMade[] = []
    const failed: DeliveryMade[] = []
    let firstError: unknown
    await pMap(
      claimed,
      async ({ deviceId, delivery, urgent }) => {
        try {
          if ((await opts.twins.deliver(deviceId, delivery)) === 'ended') {
            ended.push(deviceId)
            opts.deliveries.inc({ outcome: 'ended' })
          } else {
            delivered.push({ deviceId, upTo: delivery.upTo })
            stats.signals++
            if (urgent) stats.urgentSignals++
            else stats.checkpointSignals++
            opts.deliveries.inc({ outcome: 'accepted' })
          }
        } catch (error) {
          failed.push({ deviceId, upTo: delivery.upTo })
          stats.failedSignals++
          opts.deliveries.inc({ outcome: 'failed' })
          firstError ??= error
        }
      },
      { concurrency: CONCURRENCY },
    )
    await markDelivered(opts.db, delivered)
    await retryFailedSoon(opts.db, failed, opts.nudge)
    await dropInboxes(opts.db, ended)
    if (firstError) {
      opts.log.warn(
        { err: firstError, twins: claimed.length, failed: stats.failedSignals },
        'twin deliveries failed; told again later',
      )
    }
    // A full claim leaves more twins due: go on at once.
    return urgent.length >= opts.nudge.limit || checkpoint.length >= opts.nudge.limit
  }

  const running = (async () => {
    while (!stopped) {
      again = false
      let more = false
      try {
        more = await round()
      } catch (error) {
        opts.log.warn({ err: error }, 'claiming twin deliveries failed, retrying')
      }
      if (stopped || more || again) continue
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, everyMs).unref()
      })
      wake = undefined
    }
  })()

  return {
    /** Something was stored: look for twins due now (after the round under way, if one is). */
    wake() {
      again = true
      wake?.()
    },
    async stop() {
      stopped = true
      wake?.()
      await running
    },
  }
}

export type Nudger = ReturnType<typeof startNudger>
