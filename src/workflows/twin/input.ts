import type { Command } from '../../twins/commands.ts'
import type { DeviceModel } from '../../twins/model.ts'
import type { TwinState } from '../../twins/state.ts'
import type { Unwritten } from './unwritten.ts'

/** What a twin's run starts from: a device id, and what the run before it handed over. */
export interface TwinWorkflowInput extends Partial<Unwritten> {
  deviceId: string
  /** State carried over from the previous run (continue-as-new). */
  twin?: TwinState
  /** The device's model as the previous run knew it; absent on a first run (loaded then). */
  model?: DeviceModel | null
  /** Revision of `twin` already in Postgres, when the previous run could not write the last. */
  persistedRevision?: number
  /** Command attempts the previous run had not published yet. */
  outbox?: Command[]
  /** The newest inbox batch the previous run knew of, applied or not. */
  knownSeq?: number
}
