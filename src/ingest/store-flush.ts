import type { Db } from '../db/client.ts'
import { classifyDbError } from '../db/errors.ts'
import type { DeviceModel } from '../twins/model.ts'
import { type DeviceBatch, deviceBatches, type Received } from './batcher.ts'
import { type DeadLetter, deadLetter, storeDeadLetters } from './dead-letters.ts'
import { type Stored, storeInbox } from './inbox.ts'
import { storeReadings } from './store-readings.ts'

/** A refused message waiting to be kept, with the PUBACK(s) to send once it is. */
export interface Letter {
  letter: DeadLetter
  ack: () => void
}

/** What became of one flush's messages. */
export interface FlushOutcome {
  /** Accepted messages whose readings are stored, per device, in arrival order. */
  stored: DeviceBatch[]
  /** Each stored device's inbox number and live state. */
  inbox: Stored[]
  readings: number
  /** Refused messages now kept in `rejected_messages`, those Postgres refused among them. */
  kept: Letter[]
  /** Messages Postgres refused, each kept as a dead letter with the database's reason. */
  refusedByDatabase: number
  /** Dead letters that could not be written at all: logged, counted and acknowledged. */
  lost: { letter: Letter; reason: string }[]
}

/** Retries an operation while its errors are transient; rethrows a permanent one. */
export type Retry = <T>(what: string, fn: () => Promise<T>) => Promise<T>

/**
 * Stores a flush in one transaction. When Postgres refuses it for good (an encoding, a constraint,
 * a value out of range), the flush is split in halves and each half stored on its own, down to the
 * single message at fault, which becomes a dead letter carrying the database's reason. So one bad
 * message costs a few statements, and every message around it is stored in the same flush.
 */
export async function storeFlush(
  db: Db,
  received: readonly Received[],
  letters: readonly Letter[],
  retry: Retry,
  modelOf: (deviceId: string) => DeviceModel | null = () => null,
): Promise<FlushOutcome> {
  const storedMessages: Received[] = []
  const outcome: FlushOutcome = {
    stored: [],
    inbox: [],
    readings: 0,
    kept: [],
    refusedByDatabase: 0,
    lost: [],
  }
  const attempt = async (items: readonly (Received | Letter)[]): Promise<void> => {
    const messages = items.filter((i): i is Received => 'message' in i)
    const refused = items.filter((i): i is Letter => 'letter' in i)
    try {
      const written = await retry('store readings', () =>
        writeFlush(db, deviceBatches(messages), refused, modelOf),
      )
      outcome.readings += written.readings
      outcome.inbox.push(...written.inbox)
      storedMessages.push(...messages)
      outcome.kept.push(...refused)
    } catch (error) {
      const { kind, message } = classifyDbError(error)
      if (kind === 'transient') throw error // only when ingest is killed: nothing was acknowledged
      const [only] = items
      if (items.length > 1) {
        const half = Math.ceil(items.length / 2)
        await attempt(items.slice(0, half))
        await attempt(items.slice(half))
      } else if (only && 'message' in only) {
        outcome.refusedByDatabase++
        await attempt([refusedByDatabase(only, message)])
      } else if (only) {
        outcome.lost.push({ letter: only, reason: message })
      }
    }
  }
  await attempt([...received, ...letters])
  outcome.stored = deviceBatches(storedMessages)
  return outcome
}

/** An accepted message whose storage Postgres refused, as the dead letter that keeps it. */
function refusedByDatabase(received: Received, reason: string): Letter {
  const fields = {
    topic: received.topic,
    deviceId: received.message.deviceId,
    reason: 'storage_refused',
    detail: `Postgres refused it: ${reason}`,
    receivedAt: received.receivedAt,
  }
  return { letter: deadLetter(fields, received.payload), ack: received.puback }
}

/** Readings, each device's live state and inbox, and dead letters: together or not at all. */
const writeFlush = (
  db: Db,
  batches: readonly DeviceBatch[],
  letters: readonly Letter[],
  modelOf: (deviceId: string) => DeviceModel | null,
) =>
  db.transaction(async (tx) => {
    const readings = await storeReadings(tx, batches)
    const inbox = await storeInbox(tx, batches, modelOf)
    await storeDeadLetters(
      tx,
      letters.map((l) => l.letter),
    )
    return { readings, inbox }
  })
