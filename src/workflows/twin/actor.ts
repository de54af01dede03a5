import { ApplicationFailure, condition, patched } from '@temporalio/workflow'
import { type Command, changedCommands } from '../../twins/commands.ts'
import { type InboxBatch, nextBatches, oldestArrival } from '../../twins/inbox.ts'
import type { DeviceModel } from '../../twins/model.ts'
import type { TwinState } from '../../twins/state.ts'
import { type Step, step, stepInbox } from '../../twins/step.ts'
import { applyBatch, publishedTwin, restoreTwin } from '../../twins/twin.ts'
import { loadDevice } from './activities.ts'
import type { TwinWorkflowInput } from './input.ts'
import { nothingUnwritten, type Unwritten } from './unwritten.ts'

export type Refusal = { code: string; message: string }

/** A refusal from the core, as the typed failure an update's caller receives. */
export const refused = (refusal: Refusal) =>
  ApplicationFailure.create({ type: refusal.code, message: refusal.message, nonRetryable: true })

/** Throws a core refusal, for update validators. */
export const check = (refusal: Refusal | null) => {
  if (refusal) throw refused(refusal)
}

/**
 * One twin's state inside its workflow, and the one way it changes: a step of the pure core
 * (`advance`), whose results (records to write, commands to send, the next health check) are
 * collected here for the main loop. Handlers and the loop share this object; only the loop
 * runs local activities.
 */
export class TwinActor {
  twin: TwinState
  model: DeviceModel | null
  decommissioned = false
  isRegistered = false
  /** The revision of `twin` in Postgres. */
  persistedRevision: number
  /** The newest inbox batch this twin knows to exist; it reads its inbox while it is behind. */
  knownSeq: number
  unwritten: Unwritten
  /** Command attempts due to go out. */
  readonly outbox: Command[]
  nextCheckAt: number | null = null
  /** Deliveries this run took. */
  batches = 0
  /** Why Postgres last refused this twin's write, shown to operators until a write goes through. */
  writeProblem: string | null = null
  /** How long the oldest message of the last applied delivery had waited: the twin's lag then. */
  lastLagMs: number | null = null
  /** Resolves once the twin knows its model and any earlier twin's state (a first run). */
  readonly registered: Promise<void>
  // Handlers ask the main loop for an inbox read (it alone runs local activities) and wait.
  private freshAsked = 0
  private freshRead = 0
  private readsBeforeDeciding: boolean | undefined
  private judgesEachBatch: boolean | undefined

  constructor(input: TwinWorkflowInput) {
    this.twin = restoreTwin(input.deviceId, input.twin)
    this.model = input.model ?? null
    // A first run learns its model from the registry, and takes up the state an earlier twin of
    // the device left (one terminated, or lost with Temporal's history): its snapshot, not its
    // re-delivery keys. Handlers are set before that (a signal or update must find its handler in
    // the first activation) and wait for it, in arrival order.
    this.registered = (
      input.model === undefined ? loadDevice(input.deviceId) : Promise.resolve(null)
    ).then((r) => {
      this.isRegistered = true
      if (r?.snapshot) {
        this.twin = restoreTwin(input.deviceId, r.snapshot)
        this.persistedRevision = this.twin.revision
      }
      this.model = r ? r.model : this.model
      // Whatever the inbox holds beyond the snapshot is caught up from Postgres.
      this.knownSeq = Math.max(this.knownSeq, r?.inboxSeq ?? 0)
      // Decommissioned before its twin started (ingest raced the registry): apply, write, end.
      this.decommissioned ||= r?.decommissioned ?? false
    })
    this.persistedRevision = input.persistedRevision ?? this.twin.revision
    this.knownSeq = input.knownSeq ?? this.twin.inboxSeq
    this.unwritten = {
      changes: input.changes ?? [],
      alerts: input.alerts ?? [],
      commands: input.commands ?? [],
      reservations: input.reservations ?? [],
    }
    this.outbox = input.outbox ?? []
  }

  /**
   * Routine readings wait in the inbox for the checkpoint, so every decision that needs fresh
   * data (a timer's judgement, a reservation, a command's first send) reads the inbox first.
   * Asked the first time it matters: histories recorded before it replay without the reads.
   */
  eventDriven(): boolean {
    this.readsBeforeDeciding ??= patched('read-inbox-before-deciding')
    return this.readsBeforeDeciding
  }

  /**
   * Judging health after each waiting inbox batch changes what a delivery leaves behind (a
   * flapping episode's track): histories recorded before it replay with one judgement a delivery.
   */
  private judgeEachBatch(): boolean {
    this.judgesEachBatch ??= patched('judge-each-inbox-batch')
    return this.judgesEachBatch
  }

  /** For handlers: waits until the main loop has applied everything the inbox holds now. */
  async readFresh(): Promise<void> {
    const ticket = ++this.freshAsked
    await condition(() => this.freshRead >= ticket)
  }

  freshWanted(): boolean {
    return this.freshAsked > this.freshRead
  }

  /** For the main loop: runs `catchUp`, then lets every handler waiting so far go on. */
  async serveFresh(catchUp: () => Promise<void>): Promise<void> {
    const served = this.freshAsked
    await catchUp()
    this.freshRead = served
  }

  behind(): boolean {
    return this.knownSeq > this.twin.inboxSeq
  }

  dirty(): boolean {
    return this.twin.revision !== this.persistedRevision
  }

  /** Takes one step of the twin's core and collects what it leaves to write and to send. */
  advanceBy(next: (t: TwinState, now: number) => Step): void {
    const now = Date.now()
    const before = this.twin
    const result = next(this.twin, now)
    // Every applied step is a new revision to write, changed or not (times move on).
    const twin = { ...result.twin, revision: this.twin.revision + 1 }
    this.twin = twin
    const { unwritten } = this
    if (result.change) unwritten.changes.push({ ...result.change, twin: publishedTwin(twin) })
    unwritten.alerts.push(...result.alerts)
    unwritten.commands.push(...changedCommands(before.commands, twin.commands))
    if (twin.reservation && twin.reservation.revision !== before.reservation?.revision) {
      unwritten.reservations.push(twin.reservation)
    }
    this.outbox.push(...result.due)
    this.nextCheckAt = result.nextCheckAt
  }

  advance(transform: (t: TwinState, now: number) => TwinState): void {
    this.advanceBy((t, now) => step(t, (x) => transform(x, now), this.model, now))
  }

  /** Applies `transform` unless the core refuses it now (a race lost after validation). */
  attempt(
    refusal: (t: TwinState, now: number) => Refusal | null,
    transform: (t: TwinState, now: number) => TwinState,
  ): void {
    const why = refusal(this.twin, Date.now())
    if (why) throw refused(why)
    this.advance(transform)
  }

  /** Applies what follows the twin's last inbox batch, in order, as one step. */
  applyInbox(delivered: readonly InboxBatch[]): void {
    const next = nextBatches(this.twin.inboxSeq, delivered)
    const last = next.at(-1)
    if (!last) return
    const arrived = oldestArrival(next)
    if (arrived !== null) this.lastLagMs = Math.max(0, Date.now() - arrived)
    if (this.judgeEachBatch()) {
      this.advanceBy((t, now) => stepInbox(t, next, this.model, now))
      return
    }
    this.advance((t) => ({
      ...next.reduce((applied, b) => applyBatch(applied, b.batch, this.model), t),
      inboxSeq: last.seq,
    }))
  }

  /** What is left to write, handed over to the write that takes it. */
  takeUnwritten(): Unwritten {
    const taken = this.unwritten
    this.unwritten = nothingUnwritten()
    return taken
  }
}
