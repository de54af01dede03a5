import type { Db } from '../db/client.ts'
import { insertInChunks } from '../db/insert-in-chunks.ts'
import { rejectedMessages } from '../db/schema.ts'

export type DeadLetter = typeof rejectedMessages.$inferInsert

const PAYLOAD_LIMIT = 4096

/** A refused message as kept for inspection: its payload as text, cut to 4 KiB. */
export function deadLetter(
  fields: {
    topic: string
    deviceId?: string | null
    reason: string
    detail: string
    receivedAt: number
  },
  payload: Uint8Array | string,
): DeadLetter {
  const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8')
  return {
    topic: fields.topic,
    deviceId: fields.deviceId ?? null,
    reason: fields.reason,
    detail: fields.detail,
    receivedAt: new Date(fields.receivedAt),
    payload: text.length > PAYLOAD_LIMIT ? text.slice(0, PAYLOAD_LIMIT) : text,
  }
}

/** Writes a flush's refused messages in a few multi-row inserts. */
export const storeDeadLetters = (db: Db, letters: readonly DeadLetter[]) =>
  insertInChunks(db, rejectedMessages, letters)
