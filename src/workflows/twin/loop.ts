import {
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  setCurrentDetails,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow'
import { describeInbox } from '../../twins/inbox.ts'
import { activeReservation } from '../../twins/reservations.ts'
import { goesSilent } from '../../twins/silence.ts'
import { describeTwin } from '../../twins/summary.ts'
import { publishedTwin } from '../../twins/twin.ts'
import { DEVICE_MODEL, TWIN_HEALTH, TWIN_ONLINE, TWIN_RESERVED } from '../search-attributes.ts'
import { persistOnce, publishOnce, readInbox } from './activities.ts'
import type { TwinActor } from './actor.ts'

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

/** How the operator view shows a twin: search attributes when they change, details always. */
function operatorView(actor: TwinActor) {
  // What the operator view last showed: search attributes change only when they must.
  let shown: string | null = null
  // Current details are no history event: set again after each write, to show how it went.
  const showDetails = () => {
    const { twin } = actor
    const parts = [
      describeTwin(twin),
      describeInbox(twin.inboxSeq, actor.knownSeq, actor.lastLagMs),
    ]
    if (actor.writeProblem) parts.push(actor.writeProblem)
    setCurrentDetails(parts.join(' · '))
  }
  const show = () => {
    const { twin } = actor
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
  return { show, showDetails }
}

/**
 * One timer stays armed across deliveries for the next health or command check: re-arming it
 * for every delivery cost two history events each (started, cancelled). Histories recorded
 * before this change re-armed it, and replay that way.
 */
function checkTimer(actor: TwinActor) {
  let armedFor: number | null = null
  let armed: CancellationScope | null = null
  let rang = false
  return {
    arm(at: number) {
      // An earlier timer is armed already: when it rings the twin is judged again, and re-armed.
      // A checkpoint moves a twin's silence deadline minutes on at once: a timer left that far
      // early would cost a workflow task of its own, so it is moved (in the checkpoint's task).
      if (armedFor !== null && armedFor <= at) {
        if (!actor.eventDriven() || at - armedFor <= REARM_AFTER_MS) return
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
    },
    rang: () => rang,
    /** Whether it rang since the last look. */
    take() {
      const did = rang
      rang = false
      return did
    },
  }
}

/**
 * The twin's main loop, until its run is full or it ends: it waits for something to do, reads
 * the inbox when a decision needs fresh data or a delivery left a gap, sends commands, and
 * writes each new state with its unwritten records (at most one write in flight, so a burst of
 * batches costs one write). Returns whether the twin ended (decommissioned, all written).
 */
export async function runTwin(actor: TwinActor): Promise<'ended' | 'run full'> {
  const view = operatorView(actor)
  const steadyTimer = patched('steady-check-timer')
  const timer = checkTimer(actor)

  /** Applies what the inbox in Postgres holds beyond what this twin applied. */
  const catchUp = async () => {
    const read = await readInbox(actor.twin.deviceId, actor.twin.inboxSeq)
    actor.applyInbox(read.batches)
    // Nothing more to read (the inbox was let go): stop looking for it.
    actor.knownSeq =
      read.batches.length > 0 ? Math.max(read.head, actor.twin.inboxSeq) : actor.twin.inboxSeq
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
      from = actor.twin.inboxSeq
      await catchUp()
    } while (actor.behind() && actor.twin.inboxSeq > from)
  }

  // Runs begun before short runs keep the long ones they were recorded with.
  const shortRuns = patched('short-runs')
  const runIsFull = () => {
    const info = workflowInfo()
    if (shortRuns) {
      // A decommissioned twin ends in this run: the next would not know it was decommissioned.
      if (actor.decommissioned) return false
      if (info.historyLength >= EVENTS_PER_RUN) return true
    }
    return actor.batches >= BATCHES_PER_RUN || info.continueAsNewSuggested
  }
  // A full run hands over at once, written or not: the next run writes what this one could not.
  while (!runIsFull()) {
    const { nextCheckAt } = actor
    // Health needs no finer clock than a second; never spin on a deadline already past.
    const wait = nextCheckAt === null ? undefined : Math.max(1000, nextCheckAt - Date.now())
    // Decommissioned, the twin ends once every message it had is applied and written.
    const ending = () => actor.decommissioned && allHandlersFinished()
    const due = () =>
      actor.dirty() ||
      actor.behind() ||
      actor.freshWanted() ||
      actor.outbox.length > 0 ||
      runIsFull() ||
      ending()
    let timedOut = false
    if (steadyTimer) {
      if (nextCheckAt !== null) timer.arm(nextCheckAt)
      await condition(() => due() || timer.rang())
      timedOut = timer.take()
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
      if (actor.eventDriven()) await catchUpFully()
      else if (goesSilent(actor.twin, actor.model, Date.now()) && readsBeforeSilence()) {
        await catchUp()
      }
      actor.advance((t) => t) // only time passed: judge health, commands, reservation again
    }
    if (actor.freshWanted()) await actor.serveFresh(catchUpFully)
    // A delivery left a gap, or the twin (re)started: catch up from Postgres.
    if (actor.behind()) await catchUp()
    // Commands go out first: the device is waiting, the write is not.
    const sending = actor.outbox.splice(0)
    await Promise.all(sending.map(publishOnce))
    if (!actor.dirty()) {
      if (ending()) return 'ended'
      continue
    }
    if (runIsFull()) break
    view.show()
    const written = { twin: publishedTwin(actor.twin), ...actor.takeUnwritten() }
    actor.writeProblem = await persistOnce(written)
    actor.persistedRevision = written.twin.revision
    view.showDetails()
  }
  return 'run full'
}
