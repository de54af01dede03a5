import type { MqttClient } from 'mqtt'
import type { Db } from '../db/client.ts'
import { Announcements } from '../events/announcements.ts'
import type { TwinMetrics } from '../metrics/twins.ts'
import type { Topics } from '../protocol/topics.ts'
import { loadDevice } from './load-device.ts'
import { persistTwin } from './persist-twin.ts'
import { publishCommand } from './publish-command.ts'
import { publishDesired } from './publish-desired.ts'
import { purgeOldRows } from './purge-old-rows.ts'
import { readInbox } from './read-inbox.ts'
import { storeRecords } from './store-records.ts'

export interface ActivityDeps {
  db: Db
  mqtt: MqttClient
  topics: Topics
  metrics: TwinMetrics
}

/** The worker's activities, built over their dependencies. */
export const createActivities = (deps: ActivityDeps) => ({
  loadDevice: loadDevice(deps),
  persistTwin: persistTwin({ ...deps, announcements: new Announcements(deps.topics.root) }),
  publishDesired: publishDesired(deps),
  publishCommand: publishCommand(deps),
  purgeOldRows: purgeOldRows(deps),
  readInbox: readInbox(deps),
  storeRecords: storeRecords(deps),
})

export type Activities = ReturnType<typeof createActivities>
