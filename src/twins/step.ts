import { describeChange, type TwinChange } from './change.ts'
import { evaluateHealth } from './health/index.ts'
import type { DeviceModel } from './model.ts'
import type { TwinState } from './twin.ts'

export interface Step {
  twin: TwinState
  /** The change-log entry of the new version, or null when nothing a reader sees changed. */
  change: TwinChange | null
  /** Wall time at which health may change with no message (the workflow's timer), or null. */
  nextCheckAt: number | null
}

/**
 * One transition of a twin: apply `transform` (a batch, a desired patch, a new model, or
 * nothing but the passing of time), judge its health at `wallNow`, and give the result one new
 * version when anything a reader sees changed — so every version has its log entry.
 */
export function step(
  before: TwinState,
  transform: (twin: TwinState) => TwinState,
  model: DeviceModel | null,
  wallNow: number,
): Step {
  const applied = transform(before)
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
  }
  const moved = { ...after, version: before.version + 1 }
  const change = describeChange(before, moved, wallNow)
  return {
    twin: change ? moved : { ...after, version: before.version },
    change,
    nextCheckAt: judged.nextCheckAt,
  }
}
