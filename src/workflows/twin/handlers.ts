import type { UpdateDefinition } from '@temporalio/common'
import { setHandler, uuid4 } from '@temporalio/workflow'
import {
  type CommandRequest,
  commandForKey,
  newCommand,
  refuseCommandRequest,
  refuseRepeat,
} from '../../twins/command-requests.ts'
import { type Command, cancelCommand, refuseCancel } from '../../twins/commands.ts'
import { applyDesiredPatch, refuseDesiredPatch } from '../../twins/desired.ts'
import {
  extendReservation,
  refuseCommandHolder,
  refuseReservation,
  refuseReservationChange,
  refuseReservationRequest,
  releaseReservation,
  reserve,
} from '../../twins/reservations.ts'
import type { Reservation, TwinState } from '../../twins/state.ts'
import { applyBatch } from '../../twins/twin.ts'
import {
  batchSignal,
  cancelCommandUpdate,
  decommissionSignal,
  extendReservationUpdate,
  inboxSignal,
  modelSignal,
  releaseUpdate,
  reserveUpdate,
  sendCommandUpdate,
  setDesiredUpdate,
  stateQuery,
} from '../messages.ts'
import { publishDesired, storeRecords } from './activities.ts'
import { check, type Refusal, type TwinActor } from './actor.ts'

/**
 * An update that the core judges the same way twice: at once in its validator (a caller gets a
 * plain refusal before anything reaches the twin's history) and again in its handler, in case
 * the twin changed in between. `answer` is what the caller gets back.
 */
function checkedUpdate<Args extends unknown[], Result>(
  actor: TwinActor,
  update: UpdateDefinition<Result, Args>,
  refuse: (t: TwinState, now: number, ...args: Args) => Refusal | null,
  apply: (t: TwinState, now: number, ...args: Args) => TwinState,
  answer: (t: TwinState, ...args: Args) => Result,
) {
  setHandler(
    update,
    async (...args: Args) => {
      actor.attempt(
        (t, now) => refuse(t, now, ...args),
        (t, now) => apply(t, now, ...args),
      )
      return answer(actor.twin, ...args)
    },
    { validator: (...args: Args) => check(refuse(actor.twin, Date.now(), ...args)) },
  )
}

const notFound = (id: string): Refusal => ({
  code: 'COMMAND_NOT_FOUND',
  message: `no open command ${id} on this device`,
})
const commandById = (t: TwinState, id: string) => t.commands.find((c) => c.id === id)

/** Every signal, query and update of a twin; each changes the twin only through `actor`. */
export function setTwinHandlers(actor: TwinActor): void {
  setHandler(batchSignal, async (batch) => {
    actor.batches++
    await actor.registered
    actor.advance((t) => applyBatch(t, batch, actor.model))
  })
  setHandler(inboxSignal, async (delivery) => {
    actor.batches++
    await actor.registered
    actor.knownSeq = Math.max(actor.knownSeq, delivery.upTo)
    actor.applyInbox(delivery.batches)
  })
  setHandler(modelSignal, async (next) => {
    await actor.registered
    actor.model = next
    actor.advance((t) => t)
  })
  setHandler(decommissionSignal, () => {
    actor.decommissioned = true
  })
  setHandler(stateQuery, () => actor.twin)
  setHandler(
    setDesiredUpdate,
    async (patch) => {
      await actor.registered
      actor.advance((t) => applyDesiredPatch(t, patch))
      const { desired } = actor.twin
      if (desired) await publishDesired(actor.twin.deviceId, desired)
      return actor.twin
    },
    {
      validator: (patch, expectedVersion) =>
        check(refuseDesiredPatch(actor.twin, patch, expectedVersion)),
    },
  )

  // Commands and reservations: validators refuse at once what is plainly wrong; handlers check
  // again after waiting for the registry (the twin may have changed), change the twin, and
  // write the new record before answering, so its id can be used at once. Once registered,
  // these handlers change the twin before they first yield, so updates arriving with them are
  // judged by the outcome in their validators (twenty reserve calls: one applied, nineteen
  // turned away before they reach the twin's history).
  setHandler(
    sendCommandUpdate,
    async (request) => {
      if (!actor.isRegistered) await actor.registered
      // Whether the device is online, and so whether the command goes out now, is fresh data.
      // Read before anything is judged: from here on the handler does not yield until its
      // command is in the twin, so a repeat arriving with it finds it.
      if (actor.eventDriven()) await actor.readFresh()
      const repeated = commandForKey(actor.twin.commands, request.idempotencyKey)
      if (repeated) {
        check(refuseRepeat(repeated, request))
        return repeated
      }
      const id = uuid4()
      actor.attempt(
        (t, now) => refuseCommandHolder(t, request.reservationId, now),
        (t, now) => ({ ...t, commands: [...t.commands, newCommand(t.deviceId, id, request, now)] }),
      )
      const command = commandById(actor.twin, id) as Command
      await storeRecords({ commands: [command], reservations: [] })
      return command
    },
    { validator: (request: CommandRequest) => check(refuseCommandRequest(request)) },
  )
  checkedUpdate(
    actor,
    cancelCommandUpdate,
    (t, _now, id) => {
      const command = commandById(t, id)
      return command ? refuseCancel(command) : notFound(id)
    },
    (t, now, id) => ({ ...t, commands: cancelCommand(t.commands, id, now) }),
    (t, id) => commandById(t, id) as Command,
  )
  setHandler(
    reserveUpdate,
    async ({ holder, durationSeconds }) => {
      if (!actor.isRegistered) await actor.registered
      if (actor.eventDriven()) await actor.readFresh()
      const id = uuid4()
      actor.attempt(
        (t, now) => refuseReservation(t, actor.model, holder, durationSeconds, now),
        (t, now) => reserve(t, id, holder, durationSeconds, now),
      )
      const reservation = actor.twin.reservation as Reservation
      await storeRecords({ commands: [], reservations: [reservation] })
      return reservation
    },
    {
      // Whether the device is available is judged in the handler, on what its inbox holds.
      validator: ({ holder, durationSeconds }) =>
        check(refuseReservationRequest(actor.twin, holder, durationSeconds, Date.now())),
    },
  )
  checkedUpdate(
    actor,
    extendReservationUpdate,
    (t, now, { id, durationSeconds }) => refuseReservationChange(t, id, now, durationSeconds),
    (t, now, { durationSeconds }) => extendReservation(t, durationSeconds, now),
    (t) => t.reservation as Reservation,
  )
  checkedUpdate(
    actor,
    releaseUpdate,
    (t, now, id) => refuseReservationChange(t, id, now),
    (t, now) => releaseReservation(t, now),
    (t) => t.reservation as Reservation,
  )
}
