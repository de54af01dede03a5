// The MQTT broker's own limit: publishers blasting telemetry at it and one bare subscriber that
// only counts, with nothing of devtwin in between. What ingest reaches is judged against this.
import { setTimeout as delay } from 'node:timers/promises'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'

export interface BrokerLimit {
  messagesPerSecond: number
  sent: number
  received: number
  seconds: number
  lost: number
}

export interface BrokerLimitOptions {
  url: string
  seconds: number
  publishers?: number
  qos?: 0 | 1
  payloadBytes?: number
  protocolVersion?: 4 | 5
  topicRoot?: string
  targetRate?: number
  /**
   * Publishes sent but not yet received at most; unset, publishers run ahead of the subscriber
   * and the broker drops what overflows its queue for it (Mosquitto: max_queued_messages).
   */
  maxBacklog?: number
  username?: string
  password?: string
}

/** Publishes awaited at once per client: enough to hide the PUBACK round trip. */
const WINDOW = 100
const DEVICES = 1000
const WARMUP_MS = 1000
const DRAIN_MS = 5000

export async function measureBrokerLimit(opts: BrokerLimitOptions): Promise<BrokerLimit> {
  const qos = opts.qos ?? 1
  const root = opts.topicRoot ?? `bench-limit-${process.pid}`
  const publisherCount = opts.publishers ?? 8
  const payloadBytes = opts.payloadBytes ?? 80
  const connect = (name: string) => {
    const options: IClientOptions = {
      clientId: `${root}-${name}`,
      protocolVersion: opts.protocolVersion ?? 5,
      // A clean session holds nothing between runs; v5 says so with a zero session expiry.
      clean: true,
      // A reconnect would hide lost messages behind a pause: fail the measurement instead.
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...(opts.username ? { username: opts.username, password: opts.password } : {}),
    }
    return mqtt.connectAsync(opts.url, options)
  }

  const clients: MqttClient[] = []
  let stopped = false
  let seq = 0
  let received = 0
  // Slots held back by maxBacklog, woken in one go when the subscriber has caught up halfway.
  let waiting: (() => void)[] = []
  const wake = () => {
    for (const resolve of waiting) resolve()
    waiting = []
  }
  const maxBacklog = opts.maxBacklog ?? Number.POSITIVE_INFINITY
  try {
    const subscriber = await connect('sub')
    clients.push(subscriber)
    subscriber.on('message', () => {
      received++
      if (waiting.length > 0 && seq - received <= maxBacklog / 2) wake()
    })
    await subscriber.subscribeAsync(`${root}/+/telemetry`, { qos })
    for (let i = 0; i < publisherCount; i++) clients.push(await connect(`pub-${i}`))
    const publishers = clients.slice(1)

    let acked = 0
    const started = performance.now()
    const perSlot = opts.targetRate ? opts.targetRate / (publisherCount * WINDOW) : 0
    // Each client keeps WINDOW publishes awaiting their PUBACK; each slot paces itself when capped.
    const slot = async (client: MqttClient, index: number) => {
      // Slots start staggered, so a capped rate is a steady stream rather than bursts.
      const offset = opts.targetRate ? index / opts.targetRate : 0
      for (let n = 0; !stopped; n++) {
        if (perSlot > 0) {
          const due = started + (n / perSlot + offset) * 1000 - performance.now()
          if (due > 0) await delay(due)
          if (stopped) return
        }
        while (seq - received >= maxBacklog && !stopped) {
          await new Promise<void>((resolve) => waiting.push(resolve))
        }
        if (stopped) return
        const s = seq++
        await client.publishAsync(`${root}/d${s % DEVICES}/telemetry`, payload(s, payloadBytes), {
          qos,
        })
        acked++
      }
    }
    const running = publishers.flatMap((client, p) =>
      Array.from({ length: WINDOW }, (_, i) => slot(client, p * WINDOW + i)),
    )
    // Slots end only when stopped, or early with a publish error that ends the measurement.
    const done = Promise.all(running).then(() => undefined)

    await Promise.race([delay(WARMUP_MS), done])
    const from = { at: performance.now(), received }
    await Promise.race([delay(opts.seconds * 1000), done])
    const to = { at: performance.now(), received }
    stopped = true
    wake()
    await done

    // Acknowledged is not yet delivered: give the subscriber what the broker still holds for it.
    const deadline = performance.now() + DRAIN_MS
    while (received < acked && performance.now() < deadline) await delay(20)

    const seconds = (to.at - from.at) / 1000
    return {
      messagesPerSecond: Math.round((to.received - from.received) / seconds),
      sent: acked,
      received,
      seconds: Math.round(seconds * 100) / 100,
      lost: acked - received,
    }
  } finally {
    stopped = true
    wake()
    await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)))
  }
}

/** A telemetry reading as devices send it, padded to `bytes` if that is more. */
function payload(seq: number, bytes: number): string {
  const reading = { ts: Date.now(), seq, values: { temperature: 21.5 } }
  const json = JSON.stringify(reading)
  if (json.length >= bytes) return json
  return JSON.stringify({ ...reading, pad: 'x'.repeat(Math.max(0, bytes - json.length - 9)) })
}
