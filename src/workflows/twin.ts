import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow'
import type { Activities } from '../activities/index.ts'
import type { AlertChange } from '../twins/alerts.ts'
import type { TwinChange } from '../twins/change.ts'
import {
  type Command,
  type CommandRequest,
  cancelCommand,
  changedCommands,
  commandForKey,
  newCommand,
  refuseCancel,
  refuseCommandRequest,
  refuseRepeat,
} from '../twins/commands.ts'
import { applyDesiredPatch, refuseDesiredPatch } from '../twins/desired.ts'
import { describeInbox, type InboxBatch, nextBatches, oldestArrival } from '../twins/inbox.ts'
import type { DeviceModel } from '../twins/model.ts'
import {
  activeReservation,
  extendReservation,
  type Reservation,
  refuseCommandHolder,
  refuseReservation,
  refuseReservationChange,
  refuseReservationRequest,
  releaseReservation,
  reserve,
} from '../twins/reservations.ts'
import { goesSilent } from '../twins/silence.ts'
import { type Step, step, stepInbox } from '../twins/step.ts'
import { describeTwin } from '../twins/summary.ts'
import { applyBatch, publishedTwin, restoreTwin, type TwinState } from '../twins/twin.ts'
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
} from './messages.ts'
import { DEVICE_MODEL, TWIN_HEALTH, TWIN_ONLINE, TWIN_RESERVED } from './search-attributes.ts'

const retry = { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' }
// Local activities run in the worker that holds the twin, with no task-queue round trip, and
// leave one marker event in history instead of three. Only the main loop runs them, one
// coroutine: local activities running at once from an update handler and the loop complete in
// an order that replay does not reproduce (a nondeterminism error).
const { loadDevice, persistTwin, publishCommand, readInbox } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry,
})
// What update handlers wait for runs as regular activities, ordered by their own history events.
const { publishDesired, storeRecords } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry,
})

/**
 * Temporal caps a run at 10,000 signals and suggests continuing at 4,096 events; each batch
 * costs a signal, a workflow task and a marker, so a run hands over well before either.
 */
export const BATCHES_PER_RUN = 1000

/**
 * A worker that restarts, or evicts a twin, replays the twin's whole current run before the twin
 * moves on, and the replay costs CPU for every event (on this 2-core machine a 205-event run cost
 * 0.7 s, most of it the SDK's per-call sandbox watchdog and per-promise stack capture, not
 * devtwin's code). A run therefore hands over after this many events: a cold twin is back after
 * about 30 deliveries' worth of replay at most, and a hand-over costs one run start in 150 events.
 */
export const EVENTS_PER_RUN = 150

/** A timer armed this much earlier than the twin's next deadline is moved to it. */
const REARM_AFTER_MS = 30_000

export interface TwinWorkflowInput {
  deviceId: string
  /** State carried over from the previous run (continue-as-new). */
  twin?: TwinState
  /** The device's model as the previous run knew it; absent on a first run (loaded then). */
  model?: DeviceModel | null
  /** Revision of `twin` already in Postgres, when the previous run could not write the last. */
  persistedRevision?: number
  /** Change-log entries, alert changes and records the previous run had not written yet. */
  changes?: TwinChange[]
  alerts?: AlertChange[]
  commands?: Command[]
  reservations?: Reservation[]
  /** Command attempts the previous run had not published yet. */
  outbox?: Command[]
  /** The newest inbox batch the previous run knew of, applied or not. */
  knownSeq?: number
}

/** A refusal from the core, as the typed failure an update's caller receives. */
const refused = (refusal: { code: string; message: string }) =>
  ApplicationFailure.create({ type: refusal.code, message: refusal.message, nonRetryable: true })

/** Throws a core refusal, for update validators. */
const check = (refusal: { code: string; message: string } | null) => {
  if (refusal) throw refused(refusal)
}

/**
 * One device's twin. Handlers only run the pure core (`step`); this loop writes each new state
 * and its change-log entries to Postgres (at most one write in flight, so a burst of batches
 * costs one write), keeps the operator view current, and wakes up when health may change with
 * no message (silence, the end of a flapping quiet period).
 */
export async function twinWorkflow(input: TwinWorkflowInput): Promise<void> {
  let twin = restoreTwin(input.deviceId, input.twin)
  let model = input.model ?? null
  let decommissioned = false
  let isRegistered = false
  // A first run learns its model from the registry, and takes up the state an earlier twin of
  // the device left (one terminated, or lost with Temporal's history): its snapshot, not its
  // re-delivery keys. Handlers are set before that (a signal or update must find its handler in
  // the first activation) and wait for it, in arrival order.
  const registered = (
    input.model === undefined ? loadDevice(input.deviceId) : Promise.resolve(null)
  ).then((r) => {
    isRegistered = true
    if (r?.snapshot) {
      twin = restoreTwin(input.deviceId, r.snapshot)
      persistedRevision = twin.revision
    }
    model = r ? r.model : model
    // Whatever the inbox holds beyond the snapshot is caught up from Postgres.
    knownSeq = Math.max(knownSeq, r?.inboxSeq ?? 0)
    // Decommissioned before its twin started (ingest raced the registry): apply, write, end.
    decommissioned ||= r?.decommissioned ?? false
  })
  let persistedRevision = input.persistedRevision ?? twin.revision
  // The newest inbox batch this twin knows to exist; it reads its inbox while it is behind.
  let knownSeq = input.knownSeq ?? twin.inboxSeq
  let changes: TwinChange[] = input.changes ?? []
  let alerts: AlertChange[] = input.alerts ?? []
  let commands: Command[] = input.commands ?? []
  let reservations: Reservation[] = input.reservations ?? []
  const outbox: Command[] = input.outbox ?? []
  let nextCheckAt: number | null = null
  let batches = 0
  // Why Postgres last refused this twin's write, shown to operators until a write goes through.
  let writeProblem: string | null = null
  // Routine readings wait in the inbox for the checkpoint, so every decision that needs fresh
  // data (a timer's judgement, a reservation, a command's first send) reads the inbox first.
  // Asked the first time it matters: histories recorded before it replay without the reads.
  let readsBeforeDeciding: boolean | undefined
  const eventDriven = () => {
    readsBeforeDeciding ??= patched('read-inbox-before-deciding')
    return readsBeforeDeciding
  }
  // Handlers ask the main loop for the read (it alone runs local activities) and wait for it.
  let freshAsked = 0
  let freshRead = 0
  const readFresh = async () => {
    const ticket = ++freshAsked
    await condition(() => freshRead >= ticket)
  }

  // Judging health after each waiting inbox batch changes what a delivery leaves behind (a
  // flapping episode's track): histories recorded before it replay with one judgement a delivery.
  let judgesEachBatch: boolean | undefined
  const judgeEachBatch = () => {
    judgesEachBatch ??= patched('judge-each-inbox-batch')
    return judgesEachBatch
  }

  /** Takes one step of the twin's core and collects what it leaves to write and to send. */
  const advanceBy = (next: (t: TwinState, now: number) => Step) => {
    const now = Date.now()
    const before = twin
    const result = next(twin, now)
    // Every applied step is a new revision to write, changed or not (times move on).
    twin = { ...result.twin, revision: twin.revision + 1 }
    if (result.change) changes.push({ ...result.change, twin: publishedTwin(twin) })
    alerts.push(...result.alerts)
    commands.push(...changedCommands(before.commands, twin.commands))
    if (twin.reservation && twin.reservation.revision !== before.reservation?.revision) {
      reservations.push(twin.reservation)
    }
    outbox.push(...result.due)
    nextCheckAt = result.nextCheckAt
  }
  const advance = (transform: (t: TwinState, now: number) => TwinState) =>
    advanceBy((t, now) => step(t, (x) => transform(x, now), model, now))
  /** Applies `transform` unless the core refuses it now (a race lost after validation). */
  const attempt = (
    refusal: (t: TwinState, now: number) => { code: string; message: string } | null,
    transform: (t: TwinState, now: number) => TwinState,
  ) => {
    const why = refusal(twin, Date.now())
    if (why) throw refused(why)
    advance(transform)
  }
  setHandler(batchSignal, async (batch) => {
    batches++
    await registered
    advance((t) => applyBatch(t, batch, model))
  })
  /** Applies what follows the twin's last inbox batch, in order, as one step. */
  // How long the oldest message of the last applied delivery had waited: the twin's lag then.
  let lastLagMs: number | null = null
  const applyInbox = (delivered: readonly InboxBatch[]) => {
    const next = nextBatches(twin.inboxSeq, delivered)
    const last = next.at(-1)
    if (!last) return
    const arrived = oldestArrival(next)
    if (arrived !== null) lastLagMs = Math.max(0, Date.now() - arrived)
    if (judgeEachBatch()) return advanceBy((t, now) => stepInbox(t, next, model, now))
    advance((t) => ({
      ...next.reduce((applied, b) => applyBatch(applied, b.batch, model), t),
      inboxSeq: last.seq,
    }))
  }
  setHandler(inboxSignal, async (delivery) => {
    batches++
    await registered
    knownSeq = Math.max(knownSeq, delivery.upTo)
    applyInbox(delivery.batches)
  })
  setHandler(modelSignal, async (next) => {
    await registered
    model = next
    advance((t) => t)
  })
  setHandler(decommissionSignal, () => {
    decommissioned = true
  })
  setHandler(stateQuery, () => twin)
  setHandler(
    setDesiredUpdate,
    async (patch) => {
      await registered
      advance((t) => applyDesiredPatch(t, patch))
      const { desired } = twin
      if (desired) await publishDesired(twin.deviceId, desired)
      return twin
    },
    {
      validator: (patch, expectedVersion) =>
        check(refuseDesiredPatch(twin, patch, expectedVersion)),
    },
  )

  // Commands and reservations: validators refuse at once what is plainly wrong; handlers check
  // again after waiting for the registry (the twin may have changed), change the twin, and
  // write the new record before answering, so its id can be used at once.
  const commandById = (id: string) => twin.commands.find((c) => c.id === id)
  // Once registered, these handlers change the twin before they first yield, so updates
  // arriving with them are judged by the outcome in their validators (twenty reserve calls: one
  // applied, nineteen turned away before they reach the twin's history).
  setHandler(
    sendCommandUpdate,
    async (request) => {
      if (!isRegistered) await registered
      // Whether the device is online, and so whether the command goes out now, is fresh data.
      // Read before anything is judged: from here on the handler does not yield until its
      // command is in the twin, so a repeat arriving with it finds it.
      if (eventDriven()) await readFresh()
      const repeated = commandForKey(twin.commands, request.idempotencyKey)
      if (repeated) {
        check(refuseRepeat(repeated, request))
        return repeated
      }
      const id = uuid4()
      attempt(
        (t, now) => refuseCommandHolder(t, request.reservationId, now),
        (t, now) => ({ ...t, commands: [...t.commands, newCommand(t.deviceId, id, request, now)] }),
      )
      const command = commandById(id) as Command
      await storeRecords({ commands: [command], reservations: [] })
      return command
    },
    { validator: (request: CommandRequest) => check(refuseCommandRequest(request)) },
  )
  setHandler(
    cancelCommandUpdate,
    async (id) => {
      attempt(
        (t) => {
          const command = t.commands.find((c) => c.id === id)
          return command ? refuseCancel(command) : notFound(id)
        },
        (t, now) => ({ ...t, commands: cancelCommand(t.commands, id, now) }),
      )
      return commandById(id) as Command
    },
    {
      validator: (id) => {
        const command = commandById(id)
        check(command ? refuseCancel(command) : notFound(id))
      },
    },
  )
  setHandler(
    reserveUpdate,
    async ({ holder, durationSeconds }) => {
      if (!isRegistered) await registered
      if (eventDriven()) await readFresh()
      const id = uuid4()
      attempt(
        (t, now) => refuseReservation(t, model, holder, durationSeconds, now),
        (t, now) => reserve(t, id, holder, durationSeconds, now),
      )
      const reservation = twin.reservation as Reservation
      await storeRecords({ commands: [], reservations: [reservation] })
      return reservation
    },
    {
      // Whether the device is available is judged in the handler, on what its inbox holds.
      validator: ({ holder, durationSeconds }) =>
        check(refuseReservationRequest(twin, holder, durationSeconds, Date.now())),
    },
  )
  setHandler(
    extendReservationUpdate,
    async ({ id, durationSeconds }) => {
      attempt(
        (t, now) => refuseReservationChange(t, id, now, durationSeconds),
        (t, now) => extendReservation(t, durationSeconds, now),
      )
      return twin.reservation as Reservation
    },
    {
      validator: ({ id, durationSeconds }) =>
        check(refuseReservationChange(twin, id, Date.now(), durationSeconds)),
    },
  )
  setHandler(
    releaseUpdate,
    async (id) => {
      attempt(
        (t, now) => refuseReservationChange(t, id, now),
        (t, now) => releaseReservation(t, now),
      )
      return twin.reservation as Reservation
    },
    { validator: (id) => check(refuseReservationChange(twin, id, Date.now())) },
  )

  // What the operator view last showed: search attributes change only when they must.
  let shown: string | null = null
  const showToOperators = () => {
    const reserved = activeReservation(twin, Date.now()) !== null
    const now = JSON.stringify([twin.online, twin.health, twin.modelId, reserved])
    if (shown !== now) {
      upsertSearchAttributes([
        { key: TWIN_ONLINE, value: twin.online },
        { key: TWIN_HEALTH, value: twin.health },
        { key: DEVICE_MODEL, value: twin.modelId },
        { key: TWIN_RESERVED, value: reserved },
      ])
      shown = now
    }
    showDetails()
  }
  // Current details are no history event: set again after each write, to show how it went.
  const showDetails = () => {
    const parts = [describeTwin(twin), describeInbox(twin.inboxSeq, knownSeq, lastLagMs)]
    if (writeProblem) parts.push(writeProblem)
    setCurrentDetails(parts.join(' · '))
  }

  await registered
  advance((t) => t)

  // One timer stays armed across deliveries for the next health or command check: re-arming it
  // for every delivery cost two history events each (started, cancelled). Histories recorded
  // before this change re-armed it, and replay that way.
  const steadyTimer = patched('steady-check-timer')
  let armedFor: number | null = null
  let armed: CancellationScope | null = null
  let rang = false
  const arm = (at: number) => {
    // An earlier timer is armed already: when it rings the twin is judged again, and re-armed.
    // A checkpoint moves a twin's silence deadline minutes on at once: a timer left that far
    // early would cost a workflow task of its own, so it is moved (in the checkpoint's task).
    if (armedFor !== null && armedFor <= at) {
      if (!eventDriven() || at - armedFor <= REARM_AFTER_MS) return
      armed?.cancel()
    }
    armedFor = at
    // Health needs no finer clock than a second; never spin on a deadline already past.
    const scope = new CancellationScope()
    armed = scope
    scope
      .run(() => sleep(Math.max(1000, at - Date.now())))
      .then(
        () => {
          if (armedFor !== at) return
          armedFor = null
          rang = true
        },
        (error) => {
          if (!isCancellation(error)) throw error
        },
      )
  }

  /** Applies what the inbox in Postgres holds beyond what this twin applied. */
  const catchUp = async () => {
    const read = await readInbox(twin.deviceId, twin.inboxSeq)
    applyInbox(read.batches)
    // Nothing more to read (the inbox was let go): stop looking for it.
    knownSeq = read.batches.length > 0 ? Math.max(read.head, twin.inboxSeq) : twin.inboxSeq
  }
  // Asked the first time it matters: histories recorded before it replay without the read.
  let silenceRead: boolean | undefined
  const readsBeforeSilence = () => {
    silenceRead ??= patched('inbox-before-silence')
    return silenceRead
  }
  /** Applies everything the inbox holds now: what a fresh decision needs. */
  const catchUpFully = async () => {
    let from: number
    do {
      from = twin.inboxSeq
      await catchUp()
    } while (behind() && twin.inboxSeq > from)
  }
  const behind = () => knownSeq > twin.inboxSeq

  // Runs begun before short runs keep the long ones they were recorded with.
  const shortRuns = patched('short-runs')
  const runIsFull = () => {
    const info = workflowInfo()
    if (shortRuns) {
      // A decommissioned twin ends in this run: the next would not know it was decommissioned.
      if (decommissioned) return false
      if (info.historyLength >= EVENTS_PER_RUN) return true
    }
    return batches >= BATCHES_PER_RUN || info.continueAsNewSuggested
  }
  // A full run hands over at once, written or not: the next run writes what this one could not.
  while (!runIsFull()) {
    const dirty = () => twin.revision !== persistedRevision
    // Health needs no finer clock than a second; never spin on a deadline already past.
    const wait = nextCheckAt === null ? undefined : Math.max(1000, nextCheckAt - Date.now())
    // Decommissioned, the twin ends once every message it had is applied and written.
    const ending = () => decommissioned && allHandlersFinished()
    const freshWanted = () => freshAsked > freshRead
    const due = () =>
      dirty() || behind() || freshWanted() || outbox.length > 0 || runIsFull() || ending()
    let timedOut = false
    if (steadyTimer) {
      if (nextCheckAt !== null) arm(nextCheckAt)
      await condition(() => due() || rang)
      timedOut = rang
      rang = false
    } else if (wait !== undefined) {
      // condition() with a timeout resolves to whether `due` came true in time.
      timedOut = !(await condition(due, wait))
    } else {
      await condition(due)
    }
    if (timedOut) {
      // Health is judged on what the device sent, not on what this twin applied: routine
      // readings wait in the inbox for the checkpoint (and under load deliveries wait too), and
      // a twin behind called reporting devices SILENT. It reads its inbox before it judges.
      if (eventDriven()) await catchUpFully()
      else if (goesSilent(twin, model, Date.now()) && readsBeforeSilence()) await catchUp()
      advance((t) => t) // only time passed: judge health, commands, reservation again
    }
    if (freshWanted()) {
      const served = freshAsked
      await catchUpFully()
      freshRead = served
    }
    // A delivery left a gap, or the twin (re)started: catch up from Postgres.
    if (behind()) await catchUp()
    // Commands go out first: the device is waiting, the write is not.
    const sending = outbox.splice(0)
    await Promise.all(sending.map(publishOnce))
    if (!dirty()) {
      if (ending()) return
      continue
    }
    if (runIsFull()) break
    showToOperators()
    const written = { twin: publishedTwin(twin), changes, alerts, commands, reservations }
    changes = []
    alerts = []
    commands = []
    reservations = []
    writeProblem = await persistOnce(written)
    persistedRevision = written.twin.revision
    showDetails()
  }
  await condition(allHandlersFinished)
  await continueAsNew<typeof twinWorkflow>({
    deviceId: twin.deviceId,
    twin,
    model,
    persistedRevision,
    changes,
    alerts,
    commands,
    reservations,
    outbox,
    knownSeq,
  })
}

/**
 * Sends a command attempt. One the broker refuses for good is not retried here: the attempt counts
 * as sent, and the command's acknowledgement timeout retries it or ends it (TIMED_OUT), as for a
 * device that never answered.
 */
async function publishOnce(command: Command) {
  try {
    await publishCommand(command)
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error
    log.warn('command publish refused', { commandId: command.id, reason: error.cause?.message })
  }
}

/**
 * Writes the twin. A write Postgres refuses for good is not retried (it would wedge the twin):
 * it is stored normalised, or, refused even so, given up, and the twin goes on serving. Either
 * way the reason is returned for the operator view and the log.
 */
async function persistOnce(written: Parameters<Activities['persistTwin']>[0]) {
  try {
    const { refused } = (await persistTwin(written)) ?? { refused: null }
    if (!refused) return null
    log.warn('twin write stored normalised', { refused })
    return `last write stored with U+FFFD: ${refused}`
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error
    const reason = error.cause?.message ?? error.message
    log.error('twin write refused, not stored', { reason })
    return `revision ${written.twin.revision} not stored: ${reason}`
  }
}

const notFound = (id: string) => ({
  code: 'COMMAND_NOT_FOUND',
  message: `no open command ${id} on this device`,
})
