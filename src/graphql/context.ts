import type { Db } from '../db/client.ts'
import type { Announcements } from '../events/announcements.ts'
import type { TopicHub } from '../events/topic-hub.ts'
import type { Topics } from '../protocol/topics.ts'
import type { TwinClient } from '../workflows/client.ts'
import type { Viewer } from './auth.ts'

/** What every resolver gets: the database, the broker's topics and hub, and who is asking. */
export interface ApiContext {
  db: Db
  /** Starts, signals and updates twins. */
  twins: TwinClient
  topics: Topics
  announcements: Announcements
  hub: TopicHub
  viewer: Viewer
}
