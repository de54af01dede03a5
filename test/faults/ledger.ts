import postgres from 'postgres'
import type { Acked } from './fleet.ts'

/**
 * What devtwin holds, read from its Postgres: the readings stored, the twins' snapshots, and an
 * audit of every inbox batch ingest wrote (a trigger the suite adds to its own database: the
 * inbox itself is emptied as twins apply it), so a twin's count of applied messages can be
 * checked against the batches it says it applied.
 */
export function openLedger(databaseUrl: string) {
  const sql = postgres(databaseUrl, { max: 2, connect_timeout: 5, onnotice: () => {} })
  return {
    async installInboxAudit() {
      await sql.unsafe(`
        create table fault_inbox_audit (
          device_id text not null, seq bigint not null, messages int not null,
          primary key (device_id, seq));
        create function fault_inbox_audit() returns trigger language plpgsql as $$
        begin
          insert into fault_inbox_audit values
            (new.device_id, new.seq, (new.batch->>'messages')::int);
          return new;
        end $$;
        create trigger fault_inbox_audit after insert on twin_inbox
          for each row execute function fault_inbox_audit();`)
    },

    /** Which of these acknowledged readings are stored in `telemetry` (by device and seq). */
    async stored(acked: readonly Acked[]): Promise<Set<string>> {
      const ids = [...new Set(acked.map((a) => a.deviceId))]
      const rows = await sql<{ device_id: string; seq: string }[]>`
        select device_id, seq from telemetry where sensor = 'n' and device_id = any(${ids})`
      return new Set(rows.map((r) => key(r.device_id, Number(r.seq))))
    },

    /** Sensor values stored more than once (a re-delivered reading must be stored once). */
    async duplicateRows(): Promise<number> {
      const [row] = await sql<{ n: string }[]>`
        select count(*) - count(distinct (device_id, sensor, seq)) as n
        from telemetry where seq is not null`
      return Number(row?.n ?? 0)
    },

    /**
     * Per twin, from its snapshot: messages it counts as applied, against the messages of the
     * inbox batches up to the one it says it applied last. More means a batch applied twice,
     * fewer one skipped. Re-deliveries after an ingest crash are batches of their own, so they
     * count on both sides.
     */
    async appliedVsInbox() {
      const rows = await sql<{ device_id: string; applied: string; expected: string }[]>`
        select t.device_id, (t.state->>'appliedMessages')::bigint as applied,
          (select coalesce(sum(a.messages), 0) from fault_inbox_audit a
           where a.device_id = t.device_id and a.seq <= (t.state->>'inboxSeq')::bigint) as expected
        from twins t`
      let twice = 0
      let skipped = 0
      for (const r of rows) {
        const diff = Number(r.applied) - Number(r.expected)
        if (diff > 0) twice += diff
        else skipped -= diff
      }
      return { twins: rows.length, twice, skipped }
    },

    /** Each twin's applied reading (sensor `n` of its workflow's latest snapshot). */
    async twinReadings(): Promise<Map<string, number>> {
      const rows = await sql<{ device_id: string; n: string | null }[]>`
        select device_id, state->'sensors'->'n'->>'value' as n from twins`
      return new Map(rows.map((r) => [r.device_id, Number(r.n ?? 0)]))
    },

    close: () => sql.end(),
  }
}

export type Ledger = ReturnType<typeof openLedger>

export const key = (deviceId: string, seq: number) => `${deviceId}#${seq}`
