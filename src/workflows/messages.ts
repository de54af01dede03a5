import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow'
import type { TwinBatch } from '../twins/batch.ts'
import type { CommandRequest } from '../twins/command-requests.ts'
import type { Command } from '../twins/commands.ts'
import type { InboxDelivery } from '../twins/inbox.ts'
import type { DeviceModel } from '../twins/model.ts'
import type { Reservation, TwinState } from '../twins/state.ts'

/**
 * One coalesced batch of telemetry and status messages, as ingest sent them before the inbox
 * (kept so that histories recorded then replay, and for tests that feed a twin directly).
 */
export const batchSignal = defineSignal<[TwinBatch]>('batch')

/** Ingest: the twin's inbox holds batches up to `upTo` (see src/twins/inbox.ts). */
export const inboxSignal = defineSignal<[InboxDelivery]>('inbox')

/** The device's model changed (or it was given one, or none): judge its sensors by it now. */
export const modelSignal = defineSignal<[DeviceModel | null]>('model')

/** The device left the fleet: the twin writes its last snapshot and ends. */
export const decommissionSignal = defineSignal('decommission')

/** The twin as JSON, as the `state` query answers operators. */
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
