import { openCommands } from '../../twins/commands.ts'
import { delta } from '../../twins/desired.ts'
import { activeReservation } from '../../twins/reservations.ts'
import { reported, restoreTwin, type SensorState, type TwinState } from '../../twins/twin.ts'

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
}

/** Change-log entries (history, twinChanged) carry the twin as it was then. */
export const TwinEvent = {
  twin: (event: { deviceId: string; twin: TwinState }) => restoreTwin(event.deviceId, event.twin),
}
