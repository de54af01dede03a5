import type { Db } from '../db/client.ts'
import type { Command } from '../twins/commands.ts'
import type { Reservation } from '../twins/reservations.ts'
import { storeCommands, storeReservations } from './store-commands.ts'
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
  (deps: { db: Db }) =>
  async (records: TwinRecords): Promise<void> => {
    await writeOrNormalise(records, (written) =>
      deps.db.transaction(async (tx) => {
        await storeCommands(tx, written.commands)
        await storeReservations(tx, written.reservations)
      }),
    )
  }
