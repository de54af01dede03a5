import type { RejectReason } from '../protocol/decode.ts'
import type { Refusal } from './device-directory.ts'

/** What ingest counted since it started: logged every DEVTWIN_STATS_MS, read by the bench. */
export interface IngestStats {
  received: number
  /** Accepted messages stored in Postgres (and their QoS 1 PUBACKs sent). */
  accepted: number
  rejected: Partial<Record<RejectReason | Refusal | 'rate_limited' | 'storage_refused', number>>
  /** Refused messages whose dead letter Postgres refused too: logged and acknowledged. */
  lost: number
  readingsStored: number
  /** Deliveries to twins that Temporal accepted (urgent ones and checkpoints), and that failed. */
  signals: number
  urgentSignals: number
  checkpointSignals: number
  failedSignals: number
  flushes: number
}

export const newIngestStats = (): IngestStats => ({
  received: 0,
  accepted: 0,
  rejected: {},
  lost: 0,
  readingsStored: 0,
  signals: 0,
  urgentSignals: 0,
  checkpointSignals: 0,
  failedSignals: 0,
  flushes: 0,
})
