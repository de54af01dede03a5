import {
  type Client,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client'
import type { UpdateDefinition } from '@temporalio/common'
import pMap from 'p-map'
import { DEFAULT_UPDATE_TIMEOUT_MS } from '../config.ts'
import type { InboxDelivery } from '../twins/inbox.ts'
import type { DeviceModel } from '../twins/model.ts'
import { decommissionSignal, inboxSignal, modelSignal, twinWorkflowId } from './messages.ts'
import { DEVICE_ID, TWIN_ONLINE } from './search-attributes.ts'
import type { twinWorkflow } from './twin.ts'

/** How long one call to Temporal may take before it counts as failed (and is tried later). */
const CALL_DEADLINE_MS = 10_000

/**
 * The one place that talks to twins: ingest and the api alike. It knows how a twin is started
 * (its id, task queue and search attributes, so that operators find every twin in the Temporal
 * UI however it was started), which twins run, and what "not running" means for each call.
 */
export class TwinClient {
  /** Devices whose twin accepted a call: running, as far as this process knows. */
  readonly #running = new Set<string>()

  constructor(
    readonly temporal: Client,
    readonly taskQueue: string,
    /** How long an update may wait for its twin (DEVTWIN_UPDATE_TIMEOUT_MS). */
    readonly updateTimeoutMs = DEFAULT_UPDATE_TIMEOUT_MS,
  ) {}

  /** How a twin is started, whoever starts it. */
  startOptions(deviceId: string) {
    return {
      workflowId: twinWorkflowId(deviceId),
      taskQueue: this.taskQueue,
      args: [{ deviceId }] as Parameters<typeof twinWorkflow>,
      typedSearchAttributes: [
        { key: DEVICE_ID, value: deviceId },
        { key: TWIN_ONLINE, value: false },
      ],
    }
  }

  /**
   * Tells a twin what its inbox holds, starting the twin if it has none. A twin known to run gets
   * a plain signal; any other signal-with-start, which costs the dev server about a third more.
   * Returns 'ended' for a device whose twin ended for good (decommissioned).
   */
  async deliver(deviceId: string, delivery: InboxDelivery): Promise<'delivered' | 'ended'> {
    try {
      await this.#withDeadline(() => this.#signalInbox(deviceId, delivery))
      this.#running.add(deviceId)
      return 'delivered'
    } catch (error) {
      this.#running.delete(deviceId)
      if (error instanceof WorkflowExecutionAlreadyStartedError) return 'ended'
      throw error
    }
  }

  async #signalInbox(deviceId: string, delivery: InboxDelivery): Promise<void> {
    if (this.#running.has(deviceId)) {
      try {
        await this.#handle(deviceId).signal(inboxSignal, delivery)
        return
      } catch (error) {
        // Ended since (decommissioned, or its history was removed): start it as if new.
        if (!(error instanceof WorkflowNotFoundError)) throw error
      }
    }
    await this.temporal.workflow.signalWithStart<typeof twinWorkflow, [InboxDelivery]>(
      'twinWorkflow',
      { ...this.startOptions(deviceId), signal: inboxSignal, signalArgs: [delivery] },
    )
  }

  /**
   * Runs an update on a twin, starting the twin if it does not run yet. Most twins run: a plain
   * update, which the client retries while the twin has too many in flight (Temporal allows 10 at
   * once per workflow). Update-with-start only for one that does not run (with-start fails
   * outright over that limit).
   */
  update<Ret, Args extends [unknown, ...unknown[]]>(
    deviceId: string,
    update: UpdateDefinition<Ret, Args>,
    args: Args,
  ): Promise<Ret> {
    // An update waits for the twin to run it (and write its record): longer than a signal, but
    // a caller never waits on a Temporal that does not answer.
    return this.temporal.withDeadline(Date.now() + this.updateTimeoutMs, () =>
      this.#update(deviceId, update, args),
    )
  }

  async #update<Ret, Args extends [unknown, ...unknown[]]>(
    deviceId: string,
    update: UpdateDefinition<Ret, Args>,
    args: Args,
  ): Promise<Ret> {
    try {
      return await this.#handle(deviceId).executeUpdate(update, { args })
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error
    }
    const start = new WithStartWorkflowOperation<typeof twinWorkflow>('twinWorkflow', {
      ...this.startOptions(deviceId),
      workflowIdConflictPolicy: 'USE_EXISTING',
    })
    return this.temporal.workflow.executeUpdateWithStart(update, {
      args,
      startWorkflowOperation: start,
    })
  }

  /** Hands a (changed) model to the running twins of these devices. */
  async sendModel(deviceIds: readonly string[], model: DeviceModel | null): Promise<void> {
    await pMap(
      deviceIds,
      (id) => this.#ifRunning(() => this.#handle(id).signal(modelSignal, model)),
      { concurrency: 32 },
    )
  }

  async decommission(deviceId: string): Promise<void> {
    await this.#ifRunning(() => this.#handle(deviceId).signal(decommissionSignal))
  }

  #handle(deviceId: string) {
    return this.temporal.workflow.getHandle(twinWorkflowId(deviceId))
  }

  /** What the api tells twins only matters to running ones. */
  async #ifRunning(action: () => Promise<void>): Promise<void> {
    try {
      await this.#withDeadline(action)
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error
    }
  }

  /** A call that gets no answer in time fails, rather than holding its caller for minutes. */
  #withDeadline<T>(fn: () => Promise<T>): Promise<T> {
    return this.temporal.withDeadline(Date.now() + CALL_DEADLINE_MS, fn)
  }
}
