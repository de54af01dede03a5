import { FixedBuffer, Repeater } from 'graphql-yoga'
import type { MqttClient } from 'mqtt'

type Listener = (payload: Buffer, topic: string) => void

/** A filter's listeners, and the broker's answer to subscribing it. */
interface Filter {
  listeners: Set<Listener>
  subscribed: Promise<unknown>
}

/**
 * Messages `follow` holds while its reader is busy (e.g. replaying a change log) before it
 * refuses more: far more than one device or one subscription's filter sees meanwhile.
 */
const FOLLOW_BUFFER = 10_000

/** How long `follow` waits for the broker to confirm a subscription before it gives up. */
export const SUBSCRIBE_DEADLINE_MS = 5_000

/** The broker did not confirm a subscription: it is away, or did not answer in time. */
export class BrokerUnavailableError extends Error {
  constructor(what: string) {
    super(`the message broker ${what}`)
    this.name = 'BrokerUnavailableError'
  }
}

/** Does an MQTT topic filter with `+` wildcards match a topic? */
export function matches(filter: string, topic: string): boolean {
  const f = filter.split('/')
  const t = topic.split('/')
  return f.length === t.length && f.every((level, i) => level === '+' || level === t[i])
}

/**
 * Lets many GraphQL subscriptions share one MQTT client: each filter is subscribed once while
 * anybody listens to it, and every message is handed to the listeners of each filter it matches.
 */
export class TopicHub {
  #filters = new Map<string, Filter>()

  constructor(
    private readonly mqtt: MqttClient,
    private readonly subscribeDeadlineMs = SUBSCRIBE_DEADLINE_MS,
  ) {
    mqtt.on('message', (topic, payload) => {
      for (const [filter, { listeners }] of this.#filters) {
        if (!matches(filter, topic)) continue
        for (const listener of listeners) listener(payload, topic)
      }
    })
  }

  /** Announces something to every api process (e.g. an acknowledged alert). */
  async publish(topic: string, payload: string): Promise<void> {
    await this.mqtt.publishAsync(topic, payload, { qos: 0 })
  }

  /** Messages on a topic filter (`+` wildcards), until the consumer stops iterating. */
  listen(filter: string): AsyncIterable<Buffer> {
    return this.#messages(filter, () => {})
  }

  /**
   * Like `listen`, but resolves once the broker has the subscription: every message published
   * after that is delivered, also while the reader does something else first (it is buffered).
   * What a resumable subscription needs before it reads what it missed. With the broker away,
   * mqtt.js refuses the subscription, and a broker that does not answer would hold it for ever:
   * either way, within the deadline, this fails with `BrokerUnavailableError`, so a client hears
   * at once and retries.
   */
  async follow(filter: string): Promise<AsyncIterator<Buffer>> {
    let subscribed = () => {}
    const ready = new Promise<void>((resolve) => {
      subscribed = resolve
    })
    const messages = this.#messages(filter, () => subscribed(), new FixedBuffer(FOLLOW_BUFFER))
    const iterator = messages[Symbol.asyncIterator]()
    // The first pull starts listening; it answers with the first message, or fails to subscribe.
    const first = iterator.next()
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.subscribeDeadlineMs)
    })
    const answer = await Promise.race([ready, first, late])
      .catch((error: Error) => {
        throw new BrokerUnavailableError(`refused a subscription to "${filter}" (${error.message})`)
      })
      .finally(() => clearTimeout(timer))
    if (answer === 'late') {
      await iterator.return()
      throw new BrokerUnavailableError(
        `did not confirm a subscription to "${filter}" within ${this.subscribeDeadlineMs} ms`,
      )
    }
    let pulled = false
    return {
      next: () => {
        if (pulled) return iterator.next()
        pulled = true
        return first
      },
      return: () => iterator.return(),
    }
  }

  #messages(filter: string, onSubscribed: () => void, buffer?: FixedBuffer): Repeater<Buffer> {
    return new Repeater<Buffer>(async (push, stop) => {
      const listener: Listener = (payload) => void push(payload)
      let entry = this.#filters.get(filter)
      if (!entry) {
        entry = { listeners: new Set(), subscribed: this.mqtt.subscribeAsync(filter, { qos: 0 }) }
        this.#filters.set(filter, entry)
      }
      entry.listeners.add(listener)
      try {
        // A reader that leaves before the broker answers (follow's deadline) is let go at once.
        if (await Promise.race([entry.subscribed.then(() => true), stop.then(() => false)])) {
          onSubscribed()
        }
        await stop
      } finally {
        entry.listeners.delete(listener)
        if (entry.listeners.size === 0 && this.#filters.get(filter) === entry) {
          this.#filters.delete(filter)
          // A client already ended (the api stopping) has no subscription left to drop.
          await this.mqtt.unsubscribeAsync(filter).catch(() => {})
        }
      }
    }, buffer)
  }
}
