import type { Db } from '../db/client.ts'
import { insertInChunks } from '../db/insert-in-chunks.ts'
import { rejectedMessages } from '../db/schema.ts'
import { storableText } from '../db/storable.ts'

export type DeadLetter = typeof rejectedMessages.$inferInsert

/**
 * A refused message as kept for inspection: its payload byte for byte. The topic and the reason
 * only describe it, so a NUL or lone surrogate in them becomes U+FFFD (`storableText`) rather than
 * making the letter itself unstorable.
 */
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
  return {
    topic: storableText(fields.topic),
    deviceId: fields.deviceId == null ? null : storableText(fields.deviceId),
    reason: fields.reason,
    detail: storableText(fields.detail),
    receivedAt: new Date(fields.receivedAt),
    payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload,
  }
}

/** Writes refused messages in a few multi-row inserts. */
export const storeDeadLetters = (db: Db, letters: readonly DeadLetter[]) =>
  insertInChunks(db, rejectedMessages, letters)
