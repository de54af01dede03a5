import { Repeater } from 'graphql-yoga'
import type { MqttClient } from 'mqtt'

type Listener = (payload: Buffer) => void

/**
 * Lets many GraphQL subscriptions share one MQTT client: each topic is subscribed once while
 * anybody listens to it, and every message is handed to all its listeners.
 */
export class TopicHub {
  #listeners = new Map<string, Set<Listener>>()

  constructor(private readonly mqtt: MqttClient) {
    mqtt.on('message', (topic, payload) => {
      for (const listener of this.#listeners.get(topic) ?? []) listener(payload)
    })
  }

  /** Messages on one exact topic (no wildcards), until the consumer stops iterating. */
  listen(topic: string): AsyncIterable<Buffer> {
    return new Repeater<Buffer>(async (push, stop) => {
      const listener: Listener = (payload) => void push(payload)
      let listeners = this.#listeners.get(topic)
      if (!listeners) {
        listeners = new Set()
        this.#listeners.set(topic, listeners)
        await this.mqtt.subscribeAsync(topic, { qos: 0 })
      }
      listeners.add(listener)
      await stop
      listeners.delete(listener)
      if (listeners.size === 0 && this.#listeners.get(topic) === listeners) {
        this.#listeners.delete(topic)
        await this.mqtt.unsubscribeAsync(topic)
      }
    })
  }
}
