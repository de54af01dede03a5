import { reported, type SensorState, type TwinState } from '../../twins/twin.ts'

type SensorParent = SensorState & { name: string }

const sensorsOf = (twin: TwinState): SensorParent[] =>
  Object.entries(twin.sensors)
    .map(([name, sensor]) => ({ name, ...sensor }))
    .sort((a, b) => a.name.localeCompare(b.name))

export const Twin = {
  sensors: sensorsOf,
  sensor: (twin: TwinState, args: { name: string }): SensorParent | null => {
    const sensor = twin.sensors[args.name]
    return sensor ? { name: args.name, ...sensor } : null
  },
  reported: (twin: TwinState) => reported(twin),
}
