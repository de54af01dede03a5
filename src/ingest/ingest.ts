import { setTimeout as delay } from 'node:timers/promises'
import type { Client } from '@temporalio/client'
import mqtt, { type IClientOptions } from 'mqtt'
import type { Db } from '../db/client.ts'
import type { Logger } from '../log.ts'
import type { Topics } from '../topics.ts'
import { Batcher, type DeviceBatch } from './batcher.ts'
import { decodeMessage, type RejectReason } from './decode.ts'
import { receiveWithDeferredAcks } from './deferred-ack.ts'
import { DeviceDirectory, type Refusal } from './device-directory.ts'
import { signalTwins } from './signal-twins.ts'
import { storeReadings } from './store-readings.ts'

export interface IngestOptions {
  mqtt: {
    url: string
    clientId: string
    protocolVersion: 4 | 5
    username?: string
    password?: string
  }
  db: Db
  temporal: Client
  taskQueue: string
  batchMs: number
  autoProvision: boolean
  maxPayloadBytes: number
  topics: Topics
  log: Logger
}

export interface IngestStats {
  received: number
  /** Messages whose batch Temporal accepted (and whose QoS 1 PUBACK was sent). */
  accepted: number
  rejected: Partial<Record<RejectReason | Refusal, number>>
  readingsStored: number
  signals: number
  flushes: number
}

export interface Ingest {
  stats: IngestStats
  /** Flushes what was received, then disconnects. */
  stop(): Promise<void>
  /** Drops the connection at once, as a crash would: unflushed messages stay unacknowledged. */
  kill(): Promise<void>
}

/**
 * Subscribes to device telemetry and status, gathers each device's messages over `batchMs`, and
 * per flush writes every raw reading to Postgres in bulk and sends each device's twin one signal.
 * A message is acknowledged to the broker only once its batch is accepted, so a crash before
 * that means the broker re-delivers it to the persistent session.
 */
export async function startIngest(opts: IngestOptions): Promise<Ingest> {
  const { log } = opts
  const stats: IngestStats = {
    received: 0,
    accepted: 0,
    rejected: {},
    readingsStored: 0,
    signals: 0,
    flushes: 0,
  }
  const batcher = new Batcher()
  const directory = new DeviceDirectory(opts.db, opts.autoProvision)
  let stopping = false
  // Aborted on stop (flush now, no more waiting) and on kill (give up at once).
  const hurry = new AbortController()
  const killed = new AbortController()
  let wake: (() => void) | undefined

  const reject = (reason: keyof IngestStats['rejected'], detail: object) => {
    stats.rejected[reason] = (stats.rejected[reason] ?? 0) + 1
    log.warn({ reason, ...detail }, 'message rejected')
  }

  const client = mqtt.connect(opts.mqtt.url, mqttOptions(opts.mqtt))
  client.on('error', (error) => log.error({ err: error }, 'mqtt error'))
  receiveWithDeferredAcks(client, (topic, payload, ack) => {
    stats.received++
    const message = decodeMessage(topic, payload, Date.now(), opts)
    if (!message.ok) {
      // A malformed message never becomes valid: acknowledge it so it is not re-delivered.
      reject(message.reason, { topic, message: message.message })
      ack()
      return
    }
    if (message.kind === 'telemetry') batcher.addReadings(message.deviceId, message.readings, ack)
    else batcher.addStatus(message.deviceId, message.status, ack)
    wake?.()
  })
  client.connect()
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', reject)
  })
  await client.subscribeAsync(opts.topics.ingest, { qos: 1 })

  const flush = async (batches: DeviceBatch[]) => {
    const refused = await persistently(log, killed.signal, 'check devices', () =>
      directory.check(batches.map((b) => b.deviceId)),
    )
    const accepted = batches.filter((batch) => {
      const refusal = refused.get(batch.deviceId)
      if (refusal) refuse(batch, refusal)
      return !refusal
    })
    stats.readingsStored += await persistently(log, killed.signal, 'store readings', () =>
      storeReadings(opts.db, accepted),
    )
    let pending = accepted
    for (let attempt = 1; pending.length > 0; attempt++) {
      const { failed, errors, ended } = await signalTwins(opts.temporal, opts.taskQueue, pending)
      stats.signals += pending.length - failed.length - ended.length
      for (const batch of ended) refuse(batch, 'decommissioned')
      for (const batch of pending) {
        if (!failed.includes(batch) && !ended.includes(batch)) acknowledge(batch)
      }
      if (failed.length > 0) {
        log.warn(
          { err: errors[0], devices: failed.length, attempt },
          'twin signals failed, retrying',
        )
        await delay(backoff(attempt))
      }
      pending = failed
    }
    stats.flushes++
  }
  const refuse = (batch: DeviceBatch, refusal: Refusal) => {
    for (let i = 0; i < batch.messages; i++) reject(refusal, { deviceId: batch.deviceId })
    for (const ack of batch.acks) ack()
  }
  const acknowledge = (batch: DeviceBatch) => {
    for (const ack of batch.acks) ack()
    stats.accepted += batch.messages
  }

  const running = (async () => {
    while (!stopping || batcher.size > 0) {
      if (batcher.size === 0) {
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
  return {
    stats,
    async stop() {
      stopping = true
      hurry.abort()
      wake?.()
      await running
      await client.endAsync()
    },
    async kill() {
      stopping = true
      killed.abort()
      hurry.abort()
      batcher.drain()
      wake?.()
      await client.endAsync(true)
      await running
    },
  }
}

function mqttOptions(o: IngestOptions['mqtt']): IClientOptions {
  return {
    clientId: o.clientId,
    username: o.username,
    password: o.password,
    // A persistent session: messages not yet acknowledged are re-delivered after a restart.
    clean: false,
    protocolVersion: o.protocolVersion,
    // MQTT 5: keep the session an hour, and let the broker have many messages in flight to us
    // while their acks wait for the batch (the default of 20 would throttle ingest).
    properties:
      o.protocolVersion === 5 ? { sessionExpiryInterval: 3600, receiveMaximum: 65_535 } : undefined,
    reconnectPeriod: 1000,
    manualConnect: true,
  }
}

const backoff = (attempt: number) => Math.min(10_000, 100 * 2 ** attempt)

/**
 * Runs `fn` until it succeeds or ingest is killed: the messages' acks are held meanwhile, so
 * nothing is lost either way.
 */
async function persistently<T>(
  log: Logger,
  killed: AbortSignal,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (error) {
      killed.throwIfAborted()
      log.warn({ err: error, attempt }, `${what} failed, retrying`)
      await delay(backoff(attempt), undefined, { signal: killed })
    }
  }
}
