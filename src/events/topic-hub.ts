import { Repeater } from 'graphql-yoga'
import type { MqttClient } from 'mqtt'

type Listener = (payload: Buffer, topic: string) => void

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
  #listeners = new Map<string, Set<Listener>>()

  constructor(private readonly mqtt: MqttClient) {
    mqtt.on('message', (topic, payload) => {
      for (const [filter, listeners] of this.#listeners) {
        if (!matches(filter, topic)) continue
        for (const listener of listeners) listener(payload, topic)
      }
    })
  }

  /** Announces something to every api process (e.g. an acknowledged alert). */
  async publish(topic: string, payload: unknown): Promise<void> {
    await this.mqtt.publishAsync(topic, JSON.stringify(payload), { qos: 0 })
  }

  /** Messages on a topic filter (`+` wildcards), until the consumer stops iterating. */
  listen(filter: string): AsyncIterable<Buffer> {
    return new Repeater<Buffer>(async (push, stop) => {
      const listener: Listener = (payload) => void push(payload)
      let listeners = this.#listeners.get(filter)
      if (!listeners) {
        listeners = new Set()
        this.#listeners.set(filter, listeners)
        await this.mqtt.subscribeAsync(filter, { qos: 0 })
      }
      listeners.add(listener)
      await stop
      listeners.delete(listener)
      if (listeners.size === 0 && this.#listeners.get(filter) === listeners) {
        this.#listeners.delete(filter)
        await this.mqtt.unsubscribeAsync(filter)
      }
    })
  }
}
