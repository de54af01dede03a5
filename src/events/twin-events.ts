// A twin's change, as the `twinChanged` subscription delivers it, is its change-log entry
// (TwinChange). Changes travel over the MQTT broker every role already shares
// (Topics.twinEvents), so an `api` process anywhere receives what a worker anywhere changed.
export type { TwinChange as TwinEvent } from '../twins/change.ts'
