import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow'
import type { TwinBatch } from '../twins/batch.ts'
import type { Command, CommandRequest } from '../twins/commands.ts'
import type { DeviceModel } from '../twins/model.ts'
import type { Reservation } from '../twins/reservations.ts'
import type { TwinState } from '../twins/twin.ts'

/** One coalesced batch of telemetry and status messages from ingest. */
export const batchSignal = defineSignal<[TwinBatch]>('batch')

/** The device's model changed (or it was given one, or none): judge its sensors by it now. */
export const modelSignal = defineSignal<[DeviceModel | null]>('model')

/** The device left the fleet: the twin writes its last snapshot and ends. */
export const decommissionSignal = defineSignal('decommission')

/** The twin as JSON (contract §3). */
export const stateQuery = defineQuery<TwinState>('state')

export const twinWorkflowId = (deviceId: string) => `twin/${deviceId}`

/** Merge `patch` into the desired state; refused with VERSION_CONFLICT or BAD_USER_INPUT. */
export const setDesiredUpdate = defineUpdate<TwinState, [Record<string, unknown>, number | null]>(
  'setDesired',
)

/** A new command (or, for a repeated idempotency key, the one it made). */
export const sendCommandUpdate = defineUpdate<Command, [CommandRequest]>('sendCommand')

/** Cancels a command the device has not accepted yet. */
export const cancelCommandUpdate = defineUpdate<Command, [string]>('cancelCommand')

export const reserveUpdate = defineUpdate<
  Reservation,
  [{ holder: string; durationSeconds: number }]
>('reserve')

/** The active reservation, now ending `durationSeconds` from now. */
export const extendReservationUpdate = defineUpdate<
  Reservation,
  [{ id: string; durationSeconds: number }]
>('extendReservation')

export const releaseUpdate = defineUpdate<Reservation, [string]>('release')
