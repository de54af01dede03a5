import { setTimeout as sleep } from 'node:timers/promises'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { twinLive } from '../../src/db/schema.ts'
import { RESERVE } from '../support/commands.ts'
import { chargePoint, REGISTER, UPSERT_MODEL } from '../support/models.ts'
import { MODES, startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

/** Routine readings wait this long for the twin's checkpoint; what matters goes at once. */
const CHECKPOINT_MS = 20_000

const TWIN = /* GraphQL */ `
  query ($id: ID!) {
    device(id: $id) {
      twin { health online reported lag { pendingBatches } sensors { name health } }
      history(first: 50) { edges { node { version twin { reported } } } }
      alerts { sensor kind raisedAt }
    }
  }
`

interface Seen {
  twin: {
    health: string
    online: boolean
    reported: Record<string, unknown>
    lag: { pendingBatches: number }
    sensors: { name: string; health: string }[]
  }
  history: { edges: { node: { version: number; twin: { reported: Record<string, unknown> } } }[] }
  alerts: { sensor: string | null; kind: string; raisedAt: string }[]
}

describe.each(MODES)('a twin between checkpoints (%s)', (mode) => {
  let stack: TestStack
  const model = `cp-${Math.random().toString(36).slice(2, 8)}`
  beforeAll(async () => {
    stack = await startTestStack(mode, { env: { DEVTWIN_CHECKPOINT_MS: String(CHECKPOINT_MS) } })
    const upserted = await stack.graphql(UPSERT_MODEL, {
      input: chargePoint(model, {
        freshnessSeconds: 2,
        sensors: [
          { name: 'door', kind: 'BOOLEAN' },
          { name: 'power', kind: 'NUMBER', min: 0, max: 22_000, stuckAfterSeconds: 3 },
          {
            name: 'cable',
            kind: 'ENUM',
            flapping: { maxChanges: 2, windowSeconds: 60, quietSeconds: 600 },
          },
        ],
        rules: [],
      }),
    })
    expect(upserted.errors).toBeUndefined()
  })
  afterAll(() => stack?.close())

  const look = async (id: string) =>
    (await stack.graphql<{ device: Seen }>(TWIN, { id })).data?.device
  const send = (id: string, values: Record<string, unknown>) =>
    stack.publish(stack.topics.device(id, 'telemetry'), { ts: Date.now(), values })
  const appliedPowers = (seen: Seen | undefined) =>
    (seen?.history.edges ?? []).map((e) => e.node.twin.reported.power)

  /** A registered device, online, whose first reading its twin has applied. */
  const startDevice = async (name: string) => {
    const id = stack.deviceId(name)
    const registered = await stack.graphql(REGISTER, { input: { id, modelId: model } })
    expect(registered.errors).toBeUndefined()
    await stack.publish(stack.topics.device(id, 'status'), { online: true })
    await send(id, { door: false, power: 100 })
    await waitFor(
      async () => {
        const seen = await look(id)
        return seen?.twin.online && seen.twin.lag.pendingBatches === 0
      },
      { what: `${id} online and applied` },
    )
    return id
  }

  it('folds a routine reading into the applied state at the checkpoint, not before', async () => {
    const id = await startDevice('routine')
    const sentAt = Date.now()
    await send(id, { power: 150 })
    // Apps see it live at once; the twin's change log does not have it yet.
    const pending = await waitFor(
      async () => {
        const seen = await look(id)
        return seen?.twin.reported.power === 150 && seen
      },
      { what: 'the routine batch waiting in the inbox' },
    )
    expect(pending.twin.lag.pendingBatches).toBeGreaterThan(0)
    expect(appliedPowers(pending)).not.toContain(150)
    const applied = await waitFor(
      async () => {
        const seen = await look(id)
        return appliedPowers(seen).includes(150) && Date.now()
      },
      { what: 'the checkpoint', timeout: CHECKPOINT_MS + 30_000, interval: 250 },
    )
    expect(applied - sentAt).toBeGreaterThanOrEqual(CHECKPOINT_MS - 1000)
  })

  it('raises a range crossing at once, without waiting for the checkpoint', async () => {
    const id = await startDevice('crossing')
    const sentAt = Date.now()
    await send(id, { power: 30_000 })
    const raised = await waitFor(
      async () => {
        const alert = (await look(id))?.alerts.find((a) => a.kind === 'OUT_OF_RANGE')
        return alert && Date.now()
      },
      { what: 'OUT_OF_RANGE', timeout: CHECKPOINT_MS - 5_000 },
    )
    expect(raised - sentAt).toBeLessThan(CHECKPOINT_MS - 5_000)
  })

  it("lets a flapping sensor's next toggles wait once the twin holds it FLAPPING", async () => {
    const id = await startDevice('flapping')
    const inbox = async () => {
      const [row] = await stack.database.db.select().from(twinLive).where(eq(twinLive.deviceId, id))
      return row
    }
    const t0 = Date.now()
    const toggle = (n: number) =>
      stack.publish(stack.topics.device(id, 'telemetry'), {
        ts: t0 + n,
        values: { cable: n % 2 === 0 ? 'connected' : 'none' },
      })
    // Each toggle may make the cable FLAPPING: urgent, until the twin has said it is.
    for (let n = 0; n < 4; n++) await toggle(n)
    await waitFor(
      async () => {
        const seen = await look(id)
        const raised = seen?.alerts.some((a) => a.sensor === 'cable' && a.kind === 'FLAPPING')
        return raised && (await inbox())?.sensorHealth.cable === 'FLAPPING'
      },
      { what: 'FLAPPING raised and written', timeout: CHECKPOINT_MS - 5_000 },
    )
    // The next toggle only prolongs the episode: stored, seen live, and left for the checkpoint.
    const before = await inbox()
    await toggle(4)
    const after = await waitFor(
      async () => {
        const row = await inbox()
        return row && row.inboxSeq > (before?.inboxSeq ?? 0) && row
      },
      { what: 'the toggle stored' },
    )
    expect(after.urgentSeq).toBe(before?.urgentSeq)
    expect((await look(id))?.twin.reported.cable).toBe('connected')
  })

  it('calls a number STUCK from readings still waiting in the inbox', async () => {
    const id = await startDevice('stuck')
    // The same value every 500 ms: each reading is routine, the one past 3 s makes it STUCK.
    const sentAt = Date.now()
    const stuck = await waitFor(
      async () => {
        await send(id, { power: 100 })
        const seen = await look(id)
        return seen?.twin.sensors.find((s) => s.name === 'power')?.health === 'STUCK' && Date.now()
      },
      { what: 'STUCK', timeout: CHECKPOINT_MS - 5_000, interval: 500 },
    )
    expect(stuck - sentAt).toBeLessThan(CHECKPOINT_MS - 5_000)
  })

  it('decides a reservation on the inbox, not on the last delivery', async () => {
    const id = await startDevice('fresh')
    // Routine readings for twice the model's freshness: none is delivered to the twin, whose
    // last applied message grows older than freshnessSeconds.
    const until = Date.now() + 4_000
    for (let power = 110; Date.now() < until; power += 10) {
      await send(id, { power })
      await sleep(500) // the device's own pace, not a wait for the service
    }
    expect((await look(id))?.twin.lag.pendingBatches).toBeGreaterThan(0)
    const fresh = await stack.graphql<{ reserve: { id: string } }>(RESERVE, {
      deviceId: id,
      holder: 'a',
      durationSeconds: 60,
    })
    expect(fresh.errors).toBeUndefined()
    const release = (reservationId: string) =>
      stack.graphql('mutation ($id: ID!) { release(id: $id) { status } }', { id: reservationId })
    expect((await release(fresh.data?.reserve.id ?? '')).errors).toBeUndefined()

    // Now the device stops: the inbox holds nothing newer, and the twin refuses for staleness.
    const stale = await waitFor(
      async () => {
        const r = await stack.graphql<{ reserve: { id: string } }>(RESERVE, {
          deviceId: id,
          holder: 'b',
          durationSeconds: 60,
        })
        // Still fresh this soon after the last reading: let it go and ask again.
        if (r.data?.reserve) await release(r.data.reserve.id)
        return r.errors?.[0]
      },
      { what: 'DEVICE_UNAVAILABLE', timeout: 15_000, interval: 500 },
    )
    expect(stale.extensions?.code).toBe('DEVICE_UNAVAILABLE')
    expect(stale.message).toMatch(/last message was \d+ s ago/)
  })
})
