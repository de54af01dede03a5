import { readFileSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mintToken } from '../../src/graphql/auth.ts'
import { request } from '../support/graphql.ts'
import { waitFor } from '../support/wait.ts'
import { type Fleet, startFleet } from './fleet.ts'
import { key, type Ledger, openLedger } from './ledger.ts'
import { COMPONENTS, type Component, type Rig, startRig } from './rig.ts'
import { subscribeToVersions, versionProblems } from './version-subscriber.ts'
import { type TaskTimes, workflowTaskTimes } from './workflow-tasks.ts'

const DEVICES = Number(process.env.FAULTS_DEVICES ?? 100)
const SUBSCRIBED = 5
/** How long each part stays down: long enough for every timeout and retry to show. */
const DOWN_MS: Record<Component, number> = {
  ingest: 15_000,
  worker: 20_000,
  api: 20_000,
  temporal: 30_000,
  broker: 15_000,
  postgres: 60_000,
}
/** What must hold: every twin current this soon after the part is back (issue 13). */
const CURRENT_WITHIN_S = 30
/** How long the suite waits for that anyway, to say how far off a miss was. */
const CATCH_UP_LIMIT_S = 90
/**
 * Ingest holds the messages it cannot store: at most the broker's in-flight window for its
 * session (its MQTT 5 Receive Maximum, 65,535), about 1 KiB each in memory, so its growth is
 * bounded whatever the outage's length. 60 s at this load is about 6,000 messages.
 */
const INGEST_GROWTH_BOUND_MIB = 128
const JWT_SECRET = 'faults-secret-that-is-long-enough-for-hs256'

interface Row {
  fault: Component
  downS: number
  acknowledged: number
  stored: number
  lost: number
  duplicated: number
  skipped: number
  currentAfterS: number | null
  tasks: TaskTimes
  subscriberMissing: number
  subscriberDisorder: number
  othersRestarted: string[]
  apiAnswered: boolean
  subscribersResumed: boolean
  ingestRssMiB?: { before: number; peak: number }
}

const rssMiB = (pid: number | null) => {
  if (!pid) return 0
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024)
}

const alive = (pid: number | null) => {
  if (!pid) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('kill any part under load: nothing lost, twins current again, nobody restarted by hand', () => {
  let rig: Rig
  let ledger: Ledger
  let fleet: Fleet
  let subscriber: ReturnType<typeof subscribeToVersions>
  let authorization: string

  beforeAll(async () => {
    rig = await startRig({
      DEVTWIN_JWT_SECRET: JWT_SECRET,
      DEVTWIN_AUTO_PROVISION: 'true',
      // Routine readings reach the workflow within ~4 s instead of 20 s, so that "current
      // within 30 s of recovery" measures the recovery, not the designed delay.
      DEVTWIN_CHECKPOINT_MS: '6000',
      LOG_LEVEL: 'warn',
    })
    ledger = openLedger(rig.databaseUrl)
    await ledger.installInboxAudit()
    fleet = await startFleet({
      url: rig.mqttUrl,
      topicRoot: 'devices',
      devices: DEVICES,
      prefix: 'fault',
    })
    authorization = `Bearer ${await mintToken(JWT_SECRET, { sub: 'faults', role: 'viewer' })}`
    await waitFor(
      async () => {
        const readings = await ledger.twinReadings()
        return readings.size === DEVICES && [...readings.values()].every((n) => n > 0)
      },
      { timeout: 180_000, interval: 1000, what: 'every twin to apply its first readings' },
    )
    subscriber = subscribeToVersions({
      url: rig.graphqlUrl,
      authorization,
      deviceIds: fleet.ids.slice(0, SUBSCRIBED),
    })
  })

  afterAll(async () => {
    await subscriber?.close()
    await fleet?.stop(0)
    await ledger?.close()
    await rig?.stop()
  })

  it('survives a SIGKILL of each part in turn', async () => {
    const rows: Row[] = []
    // Each fault's readings: those acknowledged from the end of the fault before to its own end.
    let windowStart = fleet.acked.length
    let problemsBefore = { missing: 0, disorder: 0 }
    // FAULTS_ONLY=broker,postgres runs some of them (to look into one); a release runs all.
    const faults = process.env.FAULTS_ONLY?.split(',') ?? COMPONENTS
    for (const fault of COMPONENTS.filter((c) => faults.includes(c))) {
      const before = rig.pids()
      const others = COMPONENTS.filter((c) => c !== fault)
      const killedAt = Date.now()
      const ingestBefore = fault === 'postgres' ? rssMiB(before.ingest) : 0
      let ingestPeak = ingestBefore
      const sampler =
        fault === 'postgres'
          ? setInterval(() => {
              ingestPeak = Math.max(ingestPeak, rssMiB(before.ingest))
            }, 1000)
          : undefined

      await rig.kill(fault)
      // The fault itself: the part stays down this long while the fleet goes on publishing.
      await delay(DOWN_MS[fault])
      await rig.restart(fault)
      clearInterval(sampler)
      const upAt = Date.now()
      const downS = (upAt - killedAt) / 1000

      // Every twin shows the newest reading acknowledged when the part came back.
      const targets = fleet.lastAcked()
      let currentAfterS: number | null = null
      await waitFor(
        async () => {
          const applied = await ledger.twinReadings()
          return [...targets].every(([id, seq]) => (applied.get(id) ?? 0) >= seq)
        },
        {
          timeout: CATCH_UP_LIMIT_S * 1000,
          interval: 500,
          what: `twins current after the ${fault} came back`,
        },
      )
        .then(() => {
          currentAfterS = (Date.now() - upAt) / 1000
        })
        .catch(() => {})

      // The api answers, and every subscriber hears of versions made after the part came back.
      const apiAnswered = await waitFor(
        async () => {
          const result = await request(
            rig.graphqlUrl,
            '{ devices(first: 1) { edges { node { id } } } }',
            {},
            authorization,
          )
          return result.data?.devices?.edges?.length === 1
        },
        { timeout: 30_000, interval: 500, what: 'the api to answer' },
      ).catch(() => false)
      const seenAtUp = [...subscriber.versions.values()].map((v) => v.length)
      const subscribersResumed = await waitFor(
        () => [...subscriber.versions.values()].every((v, i) => v.length > (seenAtUp[i] ?? 0)),
        { timeout: 60_000, interval: 500, what: 'new versions on every subscription' },
      ).catch(() => false)

      // Every reading the broker acknowledged so far is stored, once.
      const windowEnd = fleet.acked.length
      const acked = fleet.acked.slice(0, windowEnd)
      const inWindow = acked.slice(windowStart)
      let stored = new Set<string>()
      await waitFor(
        async () => {
          stored = await ledger.stored(acked)
          return acked.every((a) => stored.has(key(a.deviceId, a.seq)))
        },
        { timeout: 60_000, interval: 1000, what: 'every acknowledged reading stored' },
      ).catch(() => {})
      const storedInWindow = inWindow.filter((a) => stored.has(key(a.deviceId, a.seq))).length
      const duplicateRows = await ledger.duplicateRows()
      const applied = await ledger.appliedVsInbox()

      const tasks = await workflowTaskTimes(rig.temporalAddress, fleet.ids, killedAt, Date.now())
      const after = rig.pids()
      const othersRestarted = others.filter((c) => after[c] !== before[c] || !alive(after[c]))
      const problems = [...subscriber.versions.values()]
        .map(versionProblems)
        .reduce(
          (sum, p) => ({ missing: sum.missing + p.missing, disorder: sum.disorder + p.disorder }),
          { missing: 0, disorder: 0 },
        )
      rows.push({
        fault,
        downS,
        acknowledged: inWindow.length,
        stored: storedInWindow,
        lost: inWindow.length - storedInWindow,
        duplicated: duplicateRows + applied.twice,
        skipped: applied.skipped,
        currentAfterS,
        tasks,
        subscriberMissing: problems.missing - problemsBefore.missing,
        subscriberDisorder: problems.disorder - problemsBefore.disorder,
        othersRestarted,
        apiAnswered,
        subscribersResumed,
        ...(fault === 'postgres'
          ? { ingestRssMiB: { before: ingestBefore, peak: ingestPeak } }
          : {}),
      })
      console.log(`fault ${fault}: ${JSON.stringify(rows.at(-1))}`)
      for (const exit of rig.exits.splice(0)) console.log(`role exited: ${JSON.stringify(exit)}`)
      windowStart = windowEnd
      problemsBefore = problems
    }

    // The whole run, the warm-up and the last publishes included: every PUBACK'ed reading stored.
    await fleet.stop()
    let stored = new Set<string>()
    await waitFor(
      async () => {
        stored = await ledger.stored(fleet.acked)
        return fleet.acked.every((a) => stored.has(key(a.deviceId, a.seq)))
      },
      { timeout: 60_000, interval: 1000, what: 'every acknowledged reading of the run stored' },
    ).catch(() => {})
    const lostInRun = fleet.acked.filter((a) => !stored.has(key(a.deviceId, a.seq))).length
    console.log(table(rows))
    console.log(
      `whole run: ${fleet.acked.length} acknowledged of ${fleet.sent()} sent, ${lostInRun} lost`,
    )
    expect.soft(lostInRun, 'acknowledged readings of the whole run lost').toBe(0)
    for (const row of rows) {
      const at = `after the ${row.fault} was killed`
      expect.soft(row.lost, `acknowledged readings lost ${at}`).toBe(0)
      expect.soft(row.duplicated, `readings stored or applied twice ${at}`).toBe(0)
      expect.soft(row.skipped, `inbox messages a twin skipped ${at}`).toBe(0)
      expect.soft(row.currentAfterS, `seconds until every twin was current ${at}`).not.toBeNull()
      expect.soft(row.currentAfterS ?? Infinity).toBeLessThanOrEqual(CURRENT_WITHIN_S)
      expect.soft(row.othersRestarted, `parts that did not stay up ${at}`).toEqual([])
      expect.soft(row.apiAnswered, `the api answered ${at}`).toBe(true)
      expect.soft(row.subscribersResumed, `subscribers got new versions ${at}`).toBe(true)
      expect.soft(row.subscriberMissing, `versions subscribers missed ${at}`).toBe(0)
      expect.soft(row.subscriberDisorder, `versions out of order or twice ${at}`).toBe(0)
      if (row.ingestRssMiB) {
        expect
          .soft(row.ingestRssMiB.peak - row.ingestRssMiB.before, `ingest growth (MiB) ${at}`)
          .toBeLessThanOrEqual(INGEST_GROWTH_BOUND_MIB)
      }
    }
    expect(subscriber.errors, 'subscription errors').toEqual([])
  })
})

function table(rows: readonly Row[]): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  const lines = [
    '| fault | down | acknowledged | stored | lost | duplicated | twins current after | slowest workflow task | tasks > 5 s | task timeouts | subscriber versions missed |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) =>
      [
        r.fault,
        s(r.downS * 1000),
        r.acknowledged,
        r.stored,
        r.lost,
        r.duplicated,
        r.currentAfterS === null ? `not within ${CATCH_UP_LIMIT_S} s` : s(r.currentAfterS * 1000),
        s(r.tasks.slowestMs),
        r.tasks.over5s,
        r.tasks.timedOut,
        r.subscriberMissing,
      ].join(' | '),
    ),
  ].map((line) => (line.startsWith('|') ? line : `| ${line} |`))
  const postgres = rows.find((r) => r.ingestRssMiB)?.ingestRssMiB
  if (postgres) {
    lines.push(
      '',
      `ingest RSS during the Postgres outage: ${postgres.before} MiB before, ${postgres.peak} MiB at most (bound: +${INGEST_GROWTH_BOUND_MIB} MiB)`,
    )
  }
  return lines.join('\n')
}
