import { describeChange, type TwinChange } from './change.ts'
import { type Command, driveCommands, nextCommandCheck, pruneCommands } from './commands.ts'
import { evaluateHealth } from './health/index.ts'
import type { DeviceModel } from './model.ts'
import { expireReservation } from './reservations.ts'
import type { TwinState } from './twin.ts'

export interface Step {
  twin: TwinState
  /** The change-log entry of the new version, or null when nothing a reader sees changed. */
  change: TwinChange | null
  /** Commands to publish to the device now (first sends and retries). */
  due: Command[]
  /** Wall time at which the twin may change with no message (the workflow's timer), or null. */
  nextCheckAt: number | null
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
  const transformed = expireReservation(transform(before), wallNow)
  const driven = driveCommands(transformed.commands, transformed.online, wallNow)
  const applied = { ...transformed, commands: pruneCommands(driven.commands) }
  // The device's present on its own clock: its newest reading, moved on by the wall time since.
  const deviceNow = applied.clock
    ? applied.clock.time + (wallNow - applied.clock.receivedAt)
    : wallNow
  const judged = evaluateHealth(applied, model, { wallNow, deviceNow })
  const after: TwinState = {
    ...applied,
    modelId: model?.id ?? null,
    health: judged.health,
    healthReason: judged.reason,
    sensorHealth: judged.sensors,
    tracks: judged.tracks,
    aggregates: judged.aggregates,
  }
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
  }
}

function earliest(...times: (number | null)[]): number | null {
  const known = times.filter((t): t is number => t !== null)
  return known.length === 0 ? null : Math.min(...known)
}
