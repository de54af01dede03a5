import type { TwinState } from '../twins/twin.ts'

/** A change of a twin, as the `twinChanged` subscription delivers it. */
export interface TwinEvent {
  deviceId: string
  version: number
  at: number
  kind: string
  twin: TwinState
}

/**
 * Twin events travel over the MQTT broker every role already shares, so an `api` process
 * anywhere receives the changes a worker anywhere made. No device may use this topic root.
 */
export const twinEventTopic = (deviceId: string) => `devtwin/twins/${deviceId}/events`
