import { sql } from 'drizzle-orm'
import { Gauge, type Registry } from 'prom-client'
import type { Db } from '../db/client.ts'
import { resultRows } from '../db/rows.ts'
import { twinLive } from '../db/schema.ts'
import { withTimeout } from '../with-timeout.ts'

/** Twins named one by one: the most behind, so the series stay few however large the fleet. */
export const LAGGING_TWINS = 10

/** A scrape never waits longer than this on Postgres; the gauges keep their last values then. */
const QUERY_TIMEOUT_MS = 2_000

/** Scrapes within this long of each other share one read. */
const FRESH_MS = 1_000

interface FleetRow {
  behind: string | number
  batches: string | number | null
  oldest: string | number | null
}

interface TwinRow {
  device_id: string
  batches: string | number
  since: string | number
}

/**
 * How far twins are behind their live state, read from `twin_live` when Prometheus scrapes (two
 * bounded statements, at most once a second): fleet totals, and the `LAGGING_TWINS` twins whose
 * oldest waiting batch is oldest, by device id. Fleet-wide: every ingest reports the same values.
 */
export function fleetLagGauges(registry: Registry, db: Db): void {
  let read: { at: number; done: Promise<void> } | undefined
  const refresh = () => {
    if (!read || Date.now() - read.at > FRESH_MS) {
      read = { at: Date.now(), done: withTimeout(readLag(), QUERY_TIMEOUT_MS).catch(() => {}) }
    }
    return read.done
  }
  const registers = [registry]
  const behind = new Gauge({
    name: 'devtwin_twins_behind',
    help: 'Twins with inbox batches their workflow has not applied yet',
    registers,
    collect: refresh,
  })
  const waiting = new Gauge({
    name: 'devtwin_fleet_batches_waiting',
    help: 'Inbox batches stored and not yet applied by their twin, fleet-wide',
    registers,
    collect: refresh,
  })
  const maxLag = new Gauge({
    name: 'devtwin_twin_lag_max_seconds',
    help: 'Age of the oldest inbox batch any twin has not applied (0 when all are current)',
    registers,
    collect: refresh,
  })
  const twinBatches = new Gauge({
    name: 'devtwin_twin_batches_waiting',
    help: `Inbox batches waiting, for the ${LAGGING_TWINS} twins most behind`,
    labelNames: ['device_id'] as const,
    registers,
    collect: refresh,
  })
  const twinLag = new Gauge({
    name: 'devtwin_twin_lag_seconds',
    help: `Age of the oldest batch waiting, for the ${LAGGING_TWINS} twins most behind`,
    labelNames: ['device_id'] as const,
    registers,
    collect: refresh,
  })

  const readLag = async () => {
    const now = Date.now()
    const [fleet] = resultRows<FleetRow>(
      await db.execute(sql`
        select count(*) as behind, sum(inbox_seq - applied_seq) as batches,
          extract(epoch from min(pending_since)) * 1000 as oldest
        from ${twinLive} where inbox_seq > applied_seq`),
    )
    const twins = resultRows<TwinRow>(
      await db.execute(sql`
        select device_id, inbox_seq - applied_seq as batches,
          extract(epoch from pending_since) * 1000 as since
        from ${twinLive} where inbox_seq > applied_seq and pending_since is not null
        order by pending_since limit ${LAGGING_TWINS}`),
    )
    const age = (since: string | number | null) =>
      since === null ? 0 : Math.max(0, (now - Number(since)) / 1000)
    behind.set(Number(fleet?.behind ?? 0))
    waiting.set(Number(fleet?.batches ?? 0))
    maxLag.set(age(fleet?.oldest ?? null))
    twinBatches.reset()
    twinLag.reset()
    for (const twin of twins) {
      twinBatches.set({ device_id: twin.device_id }, Number(twin.batches))
      twinLag.set({ device_id: twin.device_id }, age(twin.since))
    }
  }
}
