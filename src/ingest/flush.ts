import type { Db } from '../db/client.ts'
import type { Logger } from '../log.ts'
import type { ingestMetrics } from '../metrics/ingest.ts'
import type { LiveEvent } from '../twins/live.ts'
import type { Received } from './batcher.ts'
import type { DeviceDirectory, Refusal } from './device-directory.ts'
import type { IngestStats } from './stats.ts'
import { type Letter, type Retry, storeFlush } from './store-flush.ts'

export interface FlushDeps {
  db: Db
  directory: DeviceDirectory
  retry: Retry
  metrics: ReturnType<typeof ingestMetrics>
  stats: IngestStats
  log: Logger
  /** Keeps a message of a device that may not send as a dead letter (the next flush's). */
  refuse(r: Received, refusal: Refusal): void
  /** The refused messages waiting to be kept, taken by this flush. */
  takeRefused(): Letter[]
  announceLive(event: LiveEvent): void
  wakeNudger(): void
}

/**
 * One flush of what ingest gathered: refuses messages of devices that may not send, stores the
 * rest and the waiting dead letters in one transaction (`storeFlush`), acknowledges each message
 * once it is committed, and announces the live state that changed.
 */
export const flusher = (deps: FlushDeps) => async (drained: Received[]) => {
  const { directory, metrics, stats, log, retry } = deps
  const timer = metrics.flushSeconds.startTimer()
  const refusals = await retry('check devices', () =>
    directory.check([...new Set(drained.map((r) => r.message.deviceId))]),
  )
  const accepted = drained.filter((r) => {
    const refusal = refusals.get(r.message.deviceId)
    if (refusal) deps.refuse(r, refusal)
    return !refusal
  })
  const letters = deps.takeRefused()
  const outcome = await storeFlush(deps.db, accepted, letters, retry, (id) => directory.model(id))
  stats.readingsStored += outcome.readings
  metrics.readings.inc(outcome.readings)
  stats.rejected.storage_refused = (stats.rejected.storage_refused ?? 0) + outcome.refusedByDatabase
  if (outcome.refusedByDatabase > 0) {
    metrics.rejected.inc({ reason: 'storage_refused' }, outcome.refusedByDatabase)
  }
  // Committed: acknowledged now, whatever Temporal is doing.
  for (const batch of outcome.stored) {
    for (const r of batch.received) r.puback()
    stats.accepted += batch.received.length
    metrics.stored.inc(batch.received.length)
  }
  for (const { ack } of outcome.kept) ack()
  for (const { letter, reason } of outcome.lost) {
    // Not even the dead letter could be written: said loudly, counted, and let go.
    stats.lost++
    metrics.lost.inc()
    const { payload, ...described } = letter.letter
    log.error({ ...described, bytes: payload.byteLength, reason }, 'dead letter lost')
    letter.ack()
  }
  // Live state for subscribers, fire-and-forget: a subscriber that misses one reads the twin.
  for (const entry of outcome.inbox) {
    if (!entry.changed) continue
    deps.announceLive({
      deviceId: entry.deviceId,
      inboxSeq: entry.seq,
      changes: entry.changes,
      ...entry.live,
    })
  }
  if (outcome.inbox.length > 0) deps.wakeNudger()
  stats.flushes++
  timer()
}
