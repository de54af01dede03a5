import type { MqttClient } from 'mqtt'
import type { Db } from '../db/client.ts'
import type { Topics } from '../topics.ts'
import { persistTwin } from './persist-twin.ts'

export interface ActivityDeps {
  db: Db
  mqtt: MqttClient
  topics: Topics
}

/** The worker's activities, built over their dependencies. */
export const createActivities = (deps: ActivityDeps) => ({
  persistTwin: persistTwin(deps),
})

export type Activities = ReturnType<typeof createActivities>
