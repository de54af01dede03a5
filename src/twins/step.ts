import { type AlertChange, alertChanges } from './alerts.ts'
import { receiveTimes, type TwinBatch } from './batch.ts'
import { describeChange, type TwinChange } from './change.ts'
import { type Command, driveCommands, nextCommandCheck, pruneCommands } from './commands.ts'
import { evaluateHealth } from './health/index.ts'
import type { InboxBatch } from './inbox.ts'
import type { DeviceModel } from './model.ts'
import { expireReservation } from './reservations.ts'
import type { TwinState } from './state.ts'
import { applyBatch } from './twin.ts'

export interface Step {
  twin: TwinState
  /** The change-log entry of the new version, or null when nothing a reader sees changed. */
  change: TwinChange | null
  /** Commands to publish to the device now (first sends and retries). */
  due: Command[]
  /** Wall time at which the twin may change with no message (the workflow's timer), or null. */
  nextCheckAt: number | null
  /** How alert conditions moved, oldest first. */
  alerts: AlertChange[]
}

/**
 * One transition of a twin: apply `transform` (a batch, a desired patch, a command, a
 * reservation, a new model, or nothing but the passing of time), move commands and the
 * reservation on with the clock, judge health at `wallNow`, and give the result one new version
 * when anything a reader sees changed — so every version has its log entry.
 */
export function step(
  before: TwinState,
  transform: (twin: TwinState) => TwinState,
  model: DeviceModel | null,
  wallNow: number,
): Step {
  return settle(before, transform(before), model, wallNow)
}

/**
 * One step over inbox batches that waited for a delivery (a checkpoint, urgent batches that
 * coalesced, a catch-up): health is judged after each batch as it stood when the batch arrived,
 * so a condition that came and went between two deliveries still raises and clears its alert,
 * as it would had each batch been delivered alone. The twin still gets one version and one
 * change-log entry for all of them.
 */
export function stepInbox(
  before: TwinState,
  batches: readonly InboxBatch[],
  model: DeviceModel | null,
  wallNow: number,
): Step {
  const along: AlertChange[] = []
  let twin = before
  for (const { batch } of batches) {
    const at = Math.min(arrivedAt(batch) ?? wallNow, wallNow)
    const applied = applyBatch(twin, batch, model)
    const judged = { ...applied, ...judge(applied, model, at).health }
    along.push(...alertChanges(twin, judged, at))
    twin = judged
  }
  const last = batches.at(-1)
  const result = settle(before, { ...twin, inboxSeq: last?.seq ?? twin.inboxSeq }, model, wallNow)
  return { ...result, alerts: [...along, ...result.alerts] }
}

/**
 * Moves the transformed twin on with the clock and judges it. Alerts are what moved since the
 * health `transformed` carries: the one before it for a plain transform (transforms leave health
 * alone), the last judgement along the way for `stepInbox`.
 */
function settle(
  before: TwinState,
  transformed: TwinState,
  model: DeviceModel | null,
  wallNow: number,
): Step {
  const expired = expireReservation(transformed, wallNow)
  const driven = driveCommands(expired.commands, expired.online, wallNow)
  const applied = { ...expired, commands: pruneCommands(driven.commands) }
  const judged = judge(applied, model, wallNow)
  const after: TwinState = { ...applied, ...judged.health }
  const moved = { ...after, version: before.version + 1 }
  const change = describeChange(before, moved, wallNow)
  const reservationEnds =
    after.reservation?.status === 'ACTIVE' ? after.reservation.expiresAt : null
  return {
    twin: change ? moved : { ...after, version: before.version },
    change,
    due: driven.due,
    nextCheckAt: earliest(
      judged.nextCheckAt,
      nextCommandCheck(after.commands, after.online),
      reservationEnds,
    ),
    alerts: alertChanges(transformed, after, wallNow),
  }
}

/** The twin's health fields judged at `wallNow`, and when they may next change on their own. */
function judge(twin: TwinState, model: DeviceModel | null, wallNow: number) {
  // The device's present on its own clock: its newest reading, moved on by the wall time since.
  const deviceNow = twin.clock ? twin.clock.time + (wallNow - twin.clock.receivedAt) : wallNow
  const judged = evaluateHealth(twin, model, { wallNow, deviceNow })
  return {
    health: {
      modelId: model?.id ?? null,
      health: judged.health,
      healthReason: judged.reason,
      sensorHealth: judged.sensors,
      tracks: judged.tracks,
      aggregates: judged.aggregates,
    } satisfies Partial<TwinState>,
    nextCheckAt: judged.nextCheckAt,
  }
}

/** When the newest message of a batch arrived: when ingest had all of it. */
function arrivedAt(batch: TwinBatch): number | null {
  let newest: number | null = null
  for (const at of receiveTimes(batch)) if (newest === null || at > newest) newest = at
  return newest
}

function earliest(...times: (number | null)[]): number | null {
  const known = times.filter((t): t is number => t !== null)
  return known.length === 0 ? null : Math.min(...known)
}
