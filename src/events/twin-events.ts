import type { TwinState } from '../twins/twin.ts'

/** A change of a twin, as the `twinChanged` subscription delivers it. */
export interface TwinEvent {
  deviceId: string
  version: number
  at: number
  kind: string
  twin: TwinState
}

// Twin events travel over the MQTT broker every role already shares (Topics.twinEvents), so an
// `api` process anywhere receives the changes a worker anywhere made.
