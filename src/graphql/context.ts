import type { Client } from '@temporalio/client'
import type { Db } from '../db/client.ts'
import type { TopicHub } from '../events/topic-hub.ts'
import type { Topics } from '../topics.ts'
import type { Viewer } from './auth.ts'

/** What every resolver gets: the database, the broker's topics and hub, and who is asking. */
export interface ApiContext {
  db: Db
  temporal: Client
  /** Task queue of the twin workflows, to start one that does not run yet. */
  taskQueue: string
  topics: Topics
  hub: TopicHub
  viewer: Viewer
}
