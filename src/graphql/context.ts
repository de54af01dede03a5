import type { Db } from '../db/client.ts'
import type { TopicHub } from '../events/topic-hub.ts'
import type { Viewer } from './auth.ts'

/** What every resolver gets: the database, the event hub, and who is asking. */
export interface ApiContext {
  db: Db
  topics: TopicHub
  viewer: Viewer
}
