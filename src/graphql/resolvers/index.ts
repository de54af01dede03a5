import { DateTimeResolver, JSONResolver } from 'graphql-scalars'
import { Alert, alertMutations, alertQueries, alertSubscription } from './alerts.ts'
import { desiredMutations } from './desired.ts'
import { Device } from './device.ts'
import { deviceModelMutations, deviceModelQueries } from './device-models.ts'
import { Query } from './query.ts'
import { registryMutations } from './registry.ts'
import { Subscription } from './subscription.ts'
import { Twin } from './twin.ts'

export const resolvers = {
  JSON: JSONResolver,
  DateTime: DateTimeResolver,
  Query: { ...Query, ...deviceModelQueries, ...alertQueries },
  Mutation: {
    ...deviceModelMutations,
    ...registryMutations,
    ...desiredMutations,
    ...alertMutations,
  },
  Alert,
  Device,
  Twin,
  Subscription: { ...Subscription, alerts: alertSubscription },
}
