import { openCommands } from '../../twins/commands.ts'
import { delta } from '../../twins/desired.ts'
import { withLive } from '../../twins/live.ts'
import { activeReservation } from '../../twins/reservations.ts'
import type { SensorState, TwinState } from '../../twins/state.ts'
import { reported, restoreTwin } from '../../twins/twin.ts'
import type { LiveRow } from './device-row.ts'

/** How far a twin's workflow is behind its live reported state. */
interface TwinLag {
  pendingBatches: number
  since: Date | null
  seconds: number
}

/** A twin as apps read it: the workflow's snapshot with the live state over it, and its lag. */
export type TwinView = TwinState & { lag?: TwinLag }

const CURRENT: TwinLag = { pendingBatches: 0, since: null, seconds: 0 }

export function twinView(
  deviceId: string,
  snapshot: TwinState | null,
  live: LiveRow | null,
): TwinView {
  const twin = restoreTwin(deviceId, snapshot)
  if (!live) return twin
  const since = live.pendingSince
  const lag = {
    pendingBatches: Math.max(0, live.inboxSeq - live.appliedSeq),
    since,
    seconds: since ? Math.max(0, (Date.now() - since.getTime()) / 1000) : 0,
  }
  const state = { sensors: live.sensors, lastSeenAt: live.lastSeenAt?.getTime() ?? null }
  return { ...withLive(twin, state), lag }
}

type SensorParent = SensorState & { name: string; health: string; healthReason: string | null }

const sensorOf = (twin: TwinState, name: string, sensor: SensorState): SensorParent => ({
  name,
  ...sensor,
  health: twin.sensorHealth[name]?.health ?? 'OK',
  healthReason: twin.sensorHealth[name]?.reason ?? null,
})

export const Twin = {
  sensors: (twin: TwinState): SensorParent[] =>
    Object.entries(twin.sensors)
      .map(([name, sensor]) => sensorOf(twin, name, sensor))
      .sort((a, b) => a.name.localeCompare(b.name)),
  sensor: (twin: TwinState, args: { name: string }): SensorParent | null => {
    const sensor = twin.sensors[args.name]
    return sensor ? sensorOf(twin, args.name, sensor) : null
  },
  reported: (twin: TwinState) => reported(twin),
  desired: (twin: TwinState) => twin.desired?.state ?? null,
  desiredVersion: (twin: TwinState) => twin.desired?.version ?? 0,
  delta: (twin: TwinState) => delta(twin),
  reservation: (twin: TwinState) => activeReservation(twin, Date.now()),
  pendingCommands: (twin: TwinState) => openCommands(twin.commands),
  lag: (twin: TwinView) => twin.lag ?? CURRENT,
}

/**
 * Change-log entries (history, twinChanged) carry the twin as it was then; live events carry
 * the twin as apps read it at that moment.
 */
export const TwinEvent = {
  twin: (event: { deviceId: string; twin: TwinState }) => restoreTwin(event.deviceId, event.twin),
  live: (event: { live?: boolean }) => event.live ?? false,
}
