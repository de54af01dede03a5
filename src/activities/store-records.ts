import type { Db } from '../db/client.ts'
import { countCommandOutcomes, type TwinMetrics } from '../metrics/twins.ts'
import type { Command } from '../twins/commands.ts'
import type { Reservation } from '../twins/state.ts'
import { storeCommands, storeReservations } from './records.ts'
import { writeOrNormalise } from './write-refused.ts'

/** Snapshots of the commands and reservations that changed, oldest first. */
export interface TwinRecords {
  commands: Command[]
  reservations: Reservation[]
}

/**
 * Writes new commands and reservations before their update returns, so that `command(id)`,
 * `cancelCommand` and `release` find them at once; the twin's write loop keeps them current.
 */
export const storeRecords =
  (deps: { db: Db; metrics: TwinMetrics }) =>
  async (records: TwinRecords): Promise<void> => {
    await writeOrNormalise(records, async (written) => {
      const { added } = await deps.db.transaction(async (tx) => {
        await storeReservations(tx, written.reservations)
        return storeCommands(tx, written.commands)
      })
      // A command can end here, before its twin writes: cancelled while still pending.
      countCommandOutcomes(deps.metrics, added)
    })
  }
