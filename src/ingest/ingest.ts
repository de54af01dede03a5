import { setTimeout as delay } from 'node:timers/promises'
import mqtt from 'mqtt'
import { Registry } from 'prom-client'
import { DEFAULT_MAX_DELIVERIES_IN_FLIGHT, DEFAULT_RENUDGE_MS } from '../config.ts'
import type { Db } from '../db/client.ts'
import { retryTransient } from '../db/retry.ts'
import { Announcements, announce } from '../events/announcements.ts'
import type { Logger } from '../log.ts'
import { fleetLagGauges } from '../metrics/fleet-lag.ts'
import { ingestMetrics } from '../metrics/ingest.ts'
import { decodeParsed } from '../protocol/decode.ts'
import type { Topics } from '../protocol/topics.ts'
import type { TwinClient } from '../workflows/client.ts'
import { Batcher, type Received } from './batcher.ts'
import { type DeadLetter, deadLetter } from './dead-letters.ts'
import { receiveWithDeferredAcks } from './deferred-ack.ts'
import { DeviceDirectory, type Refusal } from './device-directory.ts'
import { flusher } from './flush.ts'
import { type IngestMqtt, mqttOptions } from './mqtt-session.ts'
import { type Nudger, startNudger } from './nudger.ts'
import { RateLimiter } from './rate-limit.ts'
import { type IngestStats, newIngestStats } from './stats.ts'
import type { Letter, Retry } from './store-flush.ts'

export interface IngestOptions {
  mqtt: IngestMqtt
  db: Db
  twins: TwinClient
  batchMs: number
  /** How long routine readings wait for their twin's checkpoint (DEVTWIN_CHECKPOINT_MS). */
  checkpointMs: number
  /** When a twin that was told of its inbox and did not apply it is told again. */
  renudgeMs?: number
  /** Deliveries waiting in Temporal at most, checkpoints in half of them (see `deliveryRoom`). */
  maxDeliveriesInFlight?: number
  /** Shared-subscription group, when several ingests share the device topics. */
  shareGroup?: string | undefined
  autoProvision: boolean
  maxPayloadBytes: number
  /** Per device: messages a second on average, and the burst allowed above it. */
  rateLimit: { perSecond: number; burst: number }
  topics: Topics
  log: Logger
  /** Logs the counters this often (for benchmarks and dashboards); 0 = never. */
  statsEveryMs?: number
  /** Where ingest's metrics and the fleet's lag gauges are registered (the process's /metrics). */
  registry?: Registry
}

export interface Ingest {
  stats: IngestStats
  /** Ready: ingest's MQTT session is connected. */
  check(): Promise<void>
  /** Flushes what was received, then disconnects. */
  stop(): Promise<void>
  /** Drops the connection at once, as a crash would: unflushed messages stay unacknowledged. */
  kill(): Promise<void>
}

/**
 * Subscribes to device telemetry, status and acks, gathers messages over `batchMs`, and per flush
 * stores in one transaction every raw reading, each device's live reported state and its twin's
 * inbox batch, and every refused message. A message is acknowledged to the broker once that
 * transaction commits, so a crash before means the broker re-delivers it to the persistent
 * session. Twins learn of their inboxes apart from this (the nudger), so Temporal never holds up
 * storing. No message can stop the others: what Postgres refuses is kept as a dead letter (see
 * `storeFlush`), and only transient errors are retried.
 */
export async function startIngest(opts: IngestOptions): Promise<Ingest> {
  const { log } = opts
  const stats = newIngestStats()
  const registry = opts.registry ?? new Registry()
  const metrics = ingestMetrics(registry)
  fleetLagGauges(registry, opts.db)
  const batcher = new Batcher()
  const directory = new DeviceDirectory(opts.db, opts.autoProvision)
  const limiter = new RateLimiter(opts.rateLimit.perSecond, opts.rateLimit.burst)
  // Refused messages wait for the next flush too: acknowledged once they are kept.
  const refused: Letter[] = []
  const waiting = () => batcher.size + refused.length
  let stopping = false
  // Aborted on stop (flush now, no more waiting) and on kill (give up at once).
  const hurry = new AbortController()
  const killed = new AbortController()
  let wake: (() => void) | undefined
  const retry: Retry = (what, fn) =>
    retryTransient(fn, {
      signal: killed.signal,
      maxMs: 5_000,
      onRetry: (error, attempt) => log.warn({ err: error, attempt }, `${what} failed, retrying`),
    })

  const reject = (letter: DeadLetter, ack: () => void) => {
    const reason = letter.reason as keyof IngestStats['rejected']
    stats.rejected[reason] = (stats.rejected[reason] ?? 0) + 1
    metrics.rejected.inc({ reason })
    // A flood is counted and kept, but one log line per message would be a flood of its own.
    if (reason !== 'rate_limited') {
      log.warn({ reason, topic: letter.topic, detail: letter.detail }, 'message rejected')
    }
    refused.push({ letter, ack })
    wake?.()
  }

  const announcements = new Announcements(opts.topics.root)
  const client = mqtt.connect(opts.mqtt.url, mqttOptions(opts.mqtt))
  client.on('error', (error) => log.error({ err: error }, 'mqtt error'))
  // Counted as they go out: a PUBACK for a connection that closed meanwhile is never sent.
  client.on('packetsend', (packet) => {
    if (packet.cmd === 'puback') metrics.acknowledged.inc()
  })
  receiveWithDeferredAcks(client, (topic, payload, puback) => {
    stats.received++
    metrics.received.inc()
    const receivedAt = Date.now()
    const parsed = opts.topics.parse(topic)
    const deviceId = parsed?.deviceId
    if (deviceId && !limiter.take(deviceId, receivedAt)) {
      const detail = `over ${opts.rateLimit.perSecond} messages/s (burst ${opts.rateLimit.burst})`
      reject(
        deadLetter({ topic, deviceId, reason: 'rate_limited', detail, receivedAt }, payload),
        puback,
      )
      return
    }
    const message = decodeParsed(parsed, topic, payload, receivedAt, opts)
    if (!message.ok) {
      // A malformed message never becomes valid: it is kept and acknowledged, not re-delivered.
      const fields = {
        topic,
        deviceId,
        reason: message.reason,
        detail: message.message,
        receivedAt,
      }
      reject(deadLetter(fields, payload), puback)
      return
    }
    batcher.add({ topic, payload, receivedAt, message, puback })
    wake?.()
  })
  client.connect()
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', reject)
  })
  await client.subscribeAsync(opts.topics.ingest(opts.shareGroup), { qos: 1 })
  const nudger: Nudger = startNudger({
    db: opts.db,
    twins: opts.twins,
    log,
    nudge: {
      checkpointMs: opts.checkpointMs,
      renudgeMs: opts.renudgeMs ?? DEFAULT_RENUDGE_MS,
      limit: 500,
      batchesPerTwin: 50,
      maxInFlight: opts.maxDeliveriesInFlight ?? DEFAULT_MAX_DELIVERIES_IN_FLIGHT,
    },
    counts: stats,
    deliveries: metrics.deliveries,
  })

  const flush = flusher({
    db: opts.db,
    directory,
    retry,
    metrics,
    stats,
    log,
    refuse: (r, refusal) => refuse(r, refusal),
    takeRefused: () => refused.splice(0),
    announceLive: (event) => announce(client, announcements.liveTwin, event.deviceId, [event]),
    wakeNudger: () => nudger.wake(),
  })
  /** A message of a device that may not send: kept as a dead letter, byte for byte. */
  const refuse = (r: Received, refusal: Refusal) => {
    const why = refusal === 'decommissioned' ? 'was decommissioned' : 'is not registered'
    const fields = {
      topic: r.topic,
      deviceId: r.message.deviceId,
      reason: refusal,
      detail: `a message of a device that ${why}`,
      receivedAt: r.receivedAt,
    }
    reject(deadLetter(fields, r.payload), r.puback)
  }

  const running = (async () => {
    while (!stopping || waiting() > 0) {
      if (waiting() === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve
        })
        wake = undefined
        continue
      }
      if (opts.batchMs > 0)
        await delay(opts.batchMs, undefined, { signal: hurry.signal }).catch(() => {})
      if (killed.signal.aborted) return
      await flush(batcher.drain())
    }
  })().catch((error) => {
    // Only a kill interrupts a flush; its messages were never acknowledged.
    if (!killed.signal.aborted) throw error
  })

  log.info({ url: opts.mqtt.url, batchMs: opts.batchMs }, 'ingest subscribed')
  const reporter = opts.statsEveryMs
    ? setInterval(() => log.info({ stats }, 'ingest stats'), opts.statsEveryMs)
    : undefined
  return {
    stats,
    async check() {
      if (!client.connected) throw new Error('ingest is not connected to the MQTT broker')
    },
    async stop() {
      clearInterval(reporter)
      stopping = true
      hurry.abort()
      wake?.()
      await running
      await nudger.stop()
      await client.endAsync()
    },
    async kill() {
      clearInterval(reporter)
      stopping = true
      killed.abort()
      hurry.abort()
      batcher.drain()
      wake?.()
      await client.endAsync(true)
      await running
      await nudger.stop()
    },
  }
}
