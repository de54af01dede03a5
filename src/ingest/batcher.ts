import { compactReadings, type TwinBatch } from '../twins/batch.ts'
import type { CommandAck } from '../twins/commands.ts'
import type { Reading, StatusReport } from '../twins/reading.ts'

/** One device's messages gathered during one coalescing window, with their MQTT PUBACKs. */
export interface DeviceBatch {
  deviceId: string
  readings: Reading[]
  statuses: StatusReport[]
  /** The device's answers to commands (not to be confused with `pubacks`). */
  commandAcks: CommandAck[]
  messages: number
  lastTelemetryAt: number | null
  /** Sends each message's held PUBACK to the broker. */
  pubacks: (() => void)[]
}

/** Gathers decoded messages per device until ingest drains them for one flush. */
export class Batcher {
  #pending = new Map<string, DeviceBatch>()
  #messages = 0

  /** Messages waiting for the next flush. */
  get size(): number {
    return this.#messages
  }

  addReadings(deviceId: string, readings: Reading[], ack: () => void): void {
    const batch = this.#batchFor(deviceId, ack)
    batch.readings.push(...readings)
    const receivedAt = readings[0]?.receivedAt ?? null
    if (receivedAt !== null && (batch.lastTelemetryAt ?? 0) < receivedAt) {
      batch.lastTelemetryAt = receivedAt
    }
  }

  addStatus(deviceId: string, status: StatusReport, ack: () => void): void {
    this.#batchFor(deviceId, ack).statuses.push(status)
  }

  addCommandAck(deviceId: string, commandAck: CommandAck, ack: () => void): void {
    this.#batchFor(deviceId, ack).commandAcks.push(commandAck)
  }

  drain(): DeviceBatch[] {
    const batches = [...this.#pending.values()]
    this.#pending.clear()
    this.#messages = 0
    return batches
  }

  #batchFor(deviceId: string, ack: () => void): DeviceBatch {
    let batch = this.#pending.get(deviceId)
    if (!batch) {
      batch = {
        deviceId,
        readings: [],
        statuses: [],
        commandAcks: [],
        messages: 0,
        lastTelemetryAt: null,
        pubacks: [],
      }
      this.#pending.set(deviceId, batch)
    }
    batch.messages++
    batch.pubacks.push(ack)
    this.#messages++
    return batch
  }
}

/** The signal payload for one device: its readings compacted, its statuses as they came. */
export function toTwinBatch(batch: DeviceBatch): TwinBatch {
  return {
    readings: compactReadings(batch.readings),
    statuses: batch.statuses,
    acks: batch.commandAcks,
    messages: batch.messages,
    lastTelemetryAt: batch.lastTelemetryAt,
  }
}
