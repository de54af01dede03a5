import { DateTimeResolver, JSONResolver } from 'graphql-scalars'
import { Alert, alertMutations, alertQueries, alertSubscription } from './alerts.ts'
import { commandFields, commandMutations, commandQueries, commandSubscription } from './commands.ts'
import { desiredMutations } from './desired.ts'
import { Device } from './device.ts'
import { deviceModelFields, deviceModelMutations, deviceModelQueries } from './device-models.ts'
import { fleetQueries } from './fleet.ts'
import { Query } from './query.ts'
import { registryMutations } from './registry.ts'
import { RejectedMessage, rejectedMessageQueries } from './rejected-messages.ts'
import { reservationMutations, reservationQueries } from './reservations.ts'
import { Subscription } from './subscription.ts'
import { Twin, TwinEvent } from './twin.ts'

export const resolvers = {
  JSON: JSONResolver,
  DateTime: DateTimeResolver,
  Query: {
    ...Query,
    ...fleetQueries,
    ...deviceModelQueries,
    ...alertQueries,
    ...commandQueries,
    ...reservationQueries,
    ...rejectedMessageQueries,
  },
  Mutation: {
    ...deviceModelMutations,
    ...registryMutations,
    ...desiredMutations,
    ...alertMutations,
    ...commandMutations,
    ...reservationMutations,
  },
  Alert,
  Command: commandFields,
  Device,
  DeviceModel: deviceModelFields,
  RejectedMessage,
  Twin,
  TwinEvent,
  Subscription: {
    ...Subscription,
    alerts: alertSubscription,
    commandUpdated: commandSubscription,
  },
}
