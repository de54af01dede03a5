import type { AlertChange } from '../../twins/alerts.ts'
import type { TwinChange } from '../../twins/change.ts'
import type { Command } from '../../twins/commands.ts'
import type { Reservation } from '../../twins/state.ts'

/**
 * What a twin's steps left to write to Postgres: change-log entries, alert changes, and the
 * command and reservation records they changed. Collected step by step, written with the next
 * snapshot, and carried into the next run when a run hands over before writing them.
 */
export interface Unwritten {
  changes: TwinChange[]
  alerts: AlertChange[]
  commands: Command[]
  reservations: Reservation[]
}

export const nothingUnwritten = (): Unwritten => ({
  changes: [],
  alerts: [],
  commands: [],
  reservations: [],
})
