import { DateTimeResolver, JSONResolver } from 'graphql-scalars'
import { Device } from './device.ts'
import { Query } from './query.ts'
import { Subscription } from './subscription.ts'
import { Twin } from './twin.ts'

export const resolvers = {
  JSON: JSONResolver,
  DateTime: DateTimeResolver,
  Query,
  Device,
  Twin,
  Subscription,
}
