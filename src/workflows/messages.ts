import { defineQuery, defineSignal } from '@temporalio/workflow'
import type { TwinBatch } from '../twins/batch.ts'
import type { TwinState } from '../twins/twin.ts'

/** One coalesced batch of telemetry and status messages from ingest. */
export const batchSignal = defineSignal<[TwinBatch]>('batch')

/** The twin as JSON (contract §3). */
export const stateQuery = defineQuery<TwinState>('state')

export const twinWorkflowId = (deviceId: string) => `twin/${deviceId}`
