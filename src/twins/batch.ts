import type { CommandAck } from './commands.ts'
import type { Reading, StatusReport } from './reading.ts'

/**
 * What ingest sends a twin in one signal: everything one device said during one coalescing
 * window. Readings are compacted (see `compactReadings`) so a chatty device costs one small
 * signal per window, not one per message.
 */
export interface TwinBatch {
  readings: Reading[]
  statuses: StatusReport[]
  /** The device's answers to commands, in receive order (absent in batches of older ingests). */
  acks?: CommandAck[]
  /** MQTT messages this batch stands for, compacted or not. */
  messages: number
  /** Receive time of the newest telemetry message in the batch (null if it had none). */
  lastTelemetryAt: number | null
}

/**
 * When each message of a batch arrived at ingest. It walks the batch's lists in place, without
 * copying them: the twin's workflow calls it for every batch it judges.
 */
export function* receiveTimes(batch: TwinBatch): Generator<number> {
  for (const messages of [batch.readings, batch.statuses, batch.acks ?? []]) {
    for (const m of messages) yield m.receivedAt
  }
}

/**
 * Drops what cannot change the twin: a sensor value equal to the value the same sensor had in
 * the reading before it (in device-time order). The first and last reading of every run of equal
 * values survive, so the twin still sees when each value began (`changedAt`) and the newest
 * times. A reading left with no values is dropped.
 *
 * One loss is accepted: when a run straddles the newest time the twin already holds, the dropped
 * middle readings would have pinned when the value changed, so `changedAt` may come later, within
 * that run. Values, times and versions come out exactly as without compaction.
 */
export function compactReadings(readings: readonly Reading[]): Reading[] {
  const kept = [...readings]
    .sort((a, b) => a.time - b.time)
    .map((r) => ({ ...r, values: { ...r.values } }))
  const last = new Map<string, { value: unknown; index: number; startsRun: boolean }>()
  kept.forEach((reading, index) => {
    for (const [sensor, value] of Object.entries(reading.values)) {
      const before = last.get(sensor)
      const continuesRun = before !== undefined && before.value === value
      // The previous reading of this run is now neither its start nor its end.
      if (continuesRun && !before.startsRun) delete kept[before.index]?.values[sensor]
      last.set(sensor, { value, index, startsRun: !continuesRun })
    }
  })
  return kept.filter((r) => Object.keys(r.values).length > 0)
}
