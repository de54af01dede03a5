import type { MqttClient } from 'mqtt'
import type { FedCommand } from '../activities/records.ts'
import type { AlertRow } from '../activities/store-alerts.ts'
import type { TwinChange } from '../twins/change.ts'
import type { LiveEvent } from '../twins/live.ts'

/** One kind of announcement: its topic per device (`+` for every device) and its codec. */
export interface Announcement<T> {
  topic(deviceId: string): string
  encode(value: T): string
  decode(payload: Buffer): T
}

const kind = <T>(
  prefix: string,
  root: string,
  revive: (json: T) => T = (json) => json,
): Announcement<T> => ({
  topic: (deviceId) => `devtwin/${prefix}/${root}/${deviceId}`,
  encode: (value) => JSON.stringify(value),
  decode: (payload) => revive(JSON.parse(payload.toString('utf8')) as T),
})

/** Alert rows cross the broker as JSON: their dates come back as strings. */
const reviveAlert = (row: AlertRow): AlertRow => {
  const date = (v: unknown) => (typeof v === 'string' ? new Date(v) : null)
  return {
    ...row,
    raisedAt: date(row.raisedAt) as Date,
    clearedAt: date(row.clearedAt),
    acknowledgedAt: date(row.acknowledgedAt),
  }
}

/**
 * What workers and ingest tell every api process, over the broker all roles share (so an api
 * anywhere hears what a worker anywhere changed). Each kind has one type and one codec that both
 * sides use. Sent at QoS 0 and not awaited: a subscriber that misses one reads the log in
 * Postgres, which is written first.
 */
export class Announcements {
  /** A twin's change-log entries, from the worker that wrote them. */
  readonly twinChange: Announcement<TwinChange>
  /** A twin's live reported state, from ingest as it commits each flush. */
  readonly liveTwin: Announcement<LiveEvent>
  /** Alerts raised, cleared (worker) and acknowledged (api). */
  readonly alert: Announcement<AlertRow>
  /** Each change of a command's status, from the worker. */
  readonly commandUpdate: Announcement<FedCommand>

  constructor(root: string) {
    this.twinChange = kind('events', root)
    this.liveTwin = kind('live', root)
    this.alert = kind('alerts', root, reviveAlert)
    this.commandUpdate = kind('commands', root)
  }
}

/** Sends announcements in call order on `mqtt`, without waiting for the broker. */
export function announce<T>(
  mqtt: MqttClient,
  what: Announcement<T>,
  deviceId: string,
  values: readonly T[],
): void {
  for (const value of values) {
    mqtt.publishAsync(what.topic(deviceId), what.encode(value), { qos: 0 }).catch(() => {})
  }
}
