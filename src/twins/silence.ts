import type { DeviceModel } from './model.ts'
import type { TwinState } from './state.ts'
import { step } from './step.ts'

/**
 * Whether judging the twin now, with nothing new applied, would newly call the device or one of
 * its sensors SILENT. The twin's workflow asks before it says so: its own view of the device can
 * be minutes behind what ingest has stored (deliveries wait while Temporal is busy), and a
 * device that kept reporting is not silent.
 */
export function goesSilent(twin: TwinState, model: DeviceModel | null, wallNow: number): boolean {
  const judged = step(twin, (t) => t, model, wallNow).twin
  if (judged.health === 'SILENT' && twin.health !== 'SILENT') return true
  return Object.entries(judged.sensorHealth).some(
    ([name, report]) => report.health === 'SILENT' && twin.sensorHealth[name]?.health !== 'SILENT',
  )
}
