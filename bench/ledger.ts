import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import type { RoleProcess } from './roles.ts'

/** What reached the other end: readings stored (or, embedded, accepted) and twin deliveries. */
export interface Ledger {
  counts(): Promise<{ readings: number; duplicates: number }>
  /**
   * Inbox deliveries to twins that Temporal accepted (ingest's `signals` counter, from its latest
   * "ingest stats" log line): each one a workflow task.
   */
  deliveries(): number
  /** Of those, the urgent ones and the checkpoints. */
  deliveryKinds(): { urgent: number; checkpoint: number }
  /**
   * The urgent inbox batches waiting now, newest per twin: `left()` counts the twins that have
   * not applied theirs yet (later urgent batches do not count). Null embedded.
   */
  urgentWaiting(): Promise<{ twins: number; left(): Promise<number> } | null>
  /**
   * Steps the twins applied and wrote so far (the sum of their snapshots' revisions: one a batch,
   * an update or a timer); null embedded.
   */
  twinUpdates(): Promise<number | null>
  waitForTwins(count: number): Promise<void>
  /**
   * Waits until no twin snapshot was written for `quietMs` (the start-up storm is over); false
   * when `timeoutMs` passed first.
   */
  waitForQuiet(quietMs: number, timeoutMs: number): Promise<boolean>
  /**
   * Waits until the count reaches `expected()` (asked again at every look: publishes still in
   * flight at the end of a step are acknowledged later), or nothing moved for 10 s, or
   * `timeoutMs` passed.
   */
  drain(
    expected: () => number,
    timeoutMs: number,
  ): Promise<{ readings: number; duplicates: number }>
  close(): Promise<void>
}

interface IngestStats {
  accepted: number
  signals: number
  urgentSignals?: number
  checkpointSignals?: number
}

/**
 * Counts in Postgres when there is one to ask: a reading is one (device, seq), however many
 * sensor rows it has; a duplicate is a sensor row stored twice. Embedded (PGlite lives inside
 * the devtwin process), it trusts ingest's own count of messages stored and delivered (status
 * messages included, so only differences between two counts mean anything).
 */
export function openLedger(databaseUrl: string | null, ingest: RoleProcess): Ledger {
  const sql = databaseUrl ? postgres(databaseUrl, { max: 1, onnotice: () => {} }) : null
  const stats = () => ingest.logged('ingest stats').at(-1)?.stats as IngestStats | undefined

  const ledger: Ledger = {
    async counts() {
      if (!sql) return { readings: stats()?.accepted ?? 0, duplicates: 0 }
      const [row] = await sql<{ readings: string; duplicates: string }[]>`
        select count(distinct (device_id, seq)) as readings,
               count(*) - count(distinct (device_id, sensor, seq)) as duplicates
        from telemetry`
      return { readings: Number(row?.readings ?? 0), duplicates: Number(row?.duplicates ?? 0) }
    },
    deliveries: () => stats()?.signals ?? 0,
    deliveryKinds: () => ({
      urgent: stats()?.urgentSignals ?? 0,
      checkpoint: stats()?.checkpointSignals ?? 0,
    }),
    async urgentWaiting() {
      if (!sql) return null
      const db = sql
      const rows = await db<{ device_id: string; urgent_seq: string }[]>`
        select device_id, urgent_seq from twin_live where urgent_seq > applied_seq`
      const ids = rows.map((r) => r.device_id)
      const seqs = rows.map((r) => Number(r.urgent_seq))
      return {
        twins: rows.length,
        async left() {
          if (ids.length === 0) return 0
          const [row] = await db<{ n: string }[]>`
            select count(*) as n from twin_live t
            join unnest(${db.array(ids)}::text[], ${db.array(seqs)}::bigint[]) as w(device_id, seq)
              using (device_id)
            where t.applied_seq < w.seq`
          return Number(row?.n ?? 0)
        },
      }
    },
    async twinUpdates() {
      if (!sql) return null
      const [row] = await sql<{ n: string | null }[]>`select sum(revision) as n from twins`
      return Number(row?.n ?? 0)
    },
    async waitForTwins(count) {
      for (;;) {
        const started = sql
          ? Number((await sql<{ n: string }[]>`select count(*) as n from twins`)[0]?.n ?? 0)
          : (stats()?.accepted ?? 0)
        if (started >= count) return
        await sleep(500)
      }
    },
    async waitForQuiet(quietMs, timeoutMs) {
      const deadline = Date.now() + timeoutMs
      while (sql && Date.now() < deadline) {
        const [row] = await sql<{ idle: number | null }[]>`
          select extract(epoch from now() - max(updated_at)) * 1000 as idle from twins`
        if ((row?.idle ?? 0) >= quietMs) return true
        await sleep(500)
      }
      return !sql
    },
    async drain(expected, timeoutMs) {
      const deadline = Date.now() + timeoutMs
      let last = await ledger.counts()
      let movedAt = Date.now()
      while (last.readings < expected() && Date.now() < deadline && Date.now() - movedAt < 10_000) {
        await sleep(500)
        const now = await ledger.counts()
        if (now.readings !== last.readings) movedAt = Date.now()
        last = now
      }
      return last
    },
    async close() {
      await sql?.end()
    },
  }
  return ledger
}
