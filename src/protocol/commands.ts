import { z } from 'zod'
import type { Command } from '../twins/commands.ts'

/** A command as a device receives it on `{root}/{id}/commands`. */
export interface CommandMessage {
  id: string
  name: string
  args: unknown
  attempt: number
  /** ISO string or epoch ms, as received; null when it never expires. */
  expiresAt: string | number | null
}

/** What devtwin sends for one attempt of a twin's command. */
export const commandMessage = (c: Command): CommandMessage => ({
  id: c.id,
  name: c.name,
  args: c.args,
  attempt: c.attempts,
  expiresAt: new Date(c.expiresAt).toISOString(),
})

export type AckStatus = 'accepted' | 'succeeded' | 'failed' | 'rejected'

export interface Ack {
  id: string
  status: AckStatus
  result?: unknown
  error?: string
}

const commandSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  args: z.unknown().optional(),
  attempt: z.number().int().positive().optional(),
  expiresAt: z
    .union([z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date'), z.number()])
    .nullable()
    .optional(),
})

/** The command in a payload, or null for anything else (not JSON, missing id, …). */
export function parseCommand(payload: Buffer | string): CommandMessage | null {
  let json: unknown
  try {
    json = JSON.parse(payload.toString())
  } catch {
    return null
  }
  const parsed = commandSchema.safeParse(json)
  if (!parsed.success) return null
  const { id, name, args, attempt, expiresAt } = parsed.data
  return { id, name, args: args ?? null, attempt: attempt ?? 1, expiresAt: expiresAt ?? null }
}

export function isExpired(command: CommandMessage, now: number): boolean {
  if (command.expiresAt === null) return false
  const at =
    typeof command.expiresAt === 'number' ? command.expiresAt : Date.parse(command.expiresAt)
  return at <= now
}

/**
 * The last ack a device sent for each command id, so a retry (the service resending after a
 * lost ack) gets the same answer instead of a second execution. Bounded: a device that runs for
 * days forgets the oldest ids, as a real one with limited memory would.
 */
export class AckMemory {
  private readonly acks = new Map<string, Ack>()

  constructor(private readonly limit = 1000) {}

  get(id: string): Ack | undefined {
    return this.acks.get(id)
  }

  has(id: string): boolean {
    return this.acks.has(id)
  }

  set(ack: Ack): void {
    this.acks.delete(ack.id) // re-inserted last: Map order is the eviction order
    this.acks.set(ack.id, ack)
    if (this.acks.size > this.limit) {
      const oldest = this.acks.keys().next().value
      if (oldest !== undefined) this.acks.delete(oldest)
    }
  }
}
