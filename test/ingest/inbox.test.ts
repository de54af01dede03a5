import { like } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { twinLive } from '../../src/db/schema.ts'
import { deviceBatches, type Received } from '../../src/ingest/batcher.ts'
import {
  claimDeliveries,
  DELIVERED_RETELL_MS,
  deliveryRoom,
  FAILED_RETRY_MS,
  markDelivered,
  type NudgeOptions,
  retryFailedSoon,
  type Urgency,
} from '../../src/ingest/deliveries.ts'
import { storeInbox } from '../../src/ingest/inbox.ts'
import { deviceModelSchema } from '../../src/twins/model.ts'
import { DATABASES, useTestDatabase } from '../support/database.ts'
import { receivedReading } from '../support/received.ts'

const T0 = Date.now()

const message = (deviceId: string, n: number, value: number, at: number) =>
  receivedReading(deviceId, n, { v: value }, at)

/** `v` has a range: leaving it or coming back is urgent, a move within it routine. */
const model = deviceModelSchema.parse({
  id: 'm',
  name: 'm',
  sensors: [{ name: 'v', kind: 'NUMBER', min: 0, max: 10 }],
})

describe.each(DATABASES)('the inbox (%s)', (kind) => {
  const database = useTestDatabase(kind)

  const store = (received: Received[]) =>
    database.db.transaction((tx) => storeInbox(tx, deviceBatches(received), () => model))
  const opts: NudgeOptions = {
    checkpointMs: 3_000,
    renudgeMs: 60_000,
    limit: 100,
    batchesPerTwin: 50,
    maxInFlight: 3,
  }

  /** A claim with room for every twin due (the room has tests of its own). */
  const claim = (urgency: Urgency, o: NudgeOptions = opts) =>
    claimDeliveries(database.db, urgency, o.limit, o)

  it('tells each twin once at a time: urgent at once, routine at its checkpoint when Temporal has room', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `twin-${i}`)
    // First readings: urgent, and each twin told once, with its batch.
    await store(ids.map((id) => message(id, 1, 1, T0 - 10_000)))
    const first = await claimDeliveries(database.db, 'urgent', 100, opts)
    expect(first.map((d) => d.deviceId).sort()).toEqual(ids)
    expect(first[0]?.delivery).toMatchObject({ upTo: 1, batches: [{ seq: 1 }] })
    expect(await claim('urgent')).toEqual([])

    // The twins apply what they were told (as persistTwin records it).
    await database.db.update(twinLive).set({ appliedSeq: 1, pendingSince: null })
    // Routine readings, past their checkpoint; one urgent (out of range).
    await store(ids.map((id, i) => message(id, 2, i === 0 ? 99 : 2, T0 - 5_000)))
    const room = await deliveryRoom(database.db, opts)
    expect(room).toEqual({ urgent: 3, checkpoint: 1 })
    const urgent = await claimDeliveries(database.db, 'urgent', room.urgent, opts)
    expect(urgent.map((d) => d.deviceId)).toEqual(['twin-0'])
    // Temporal accepted it: in flight, it leaves room for two deliveries of three, and
    // checkpoints may take only their share (one of three).
    await markDelivered(database.db, [{ deviceId: 'twin-0', upTo: 2 }])
    expect(await deliveryRoom(database.db, opts)).toEqual({ urgent: 2, checkpoint: 1 })
    const checkpoint = await claimDeliveries(database.db, 'checkpoint', 1, opts)
    expect(checkpoint).toHaveLength(1)
    expect(checkpoint[0]?.delivery).toMatchObject({ upTo: 2, batches: [{ seq: 2 }] })
    await markDelivered(
      database.db,
      checkpoint.map((d) => ({ deviceId: d.deviceId, upTo: 2 })),
    )
    // Checkpoints hold their share: no more of them, and the last place stays urgent's.
    expect(await deliveryRoom(database.db, opts)).toEqual({ urgent: 1, checkpoint: 0 })
    const idle = ids.find((id) => id !== 'twin-0' && id !== checkpoint[0]?.deviceId) ?? ''
    await store([message(idle, 3, 99, T0 - 4_000)])
    const urgentAgain = await claimDeliveries(database.db, 'urgent', 1, opts)
    expect(urgentAgain.map((d) => d.deviceId)).toEqual([idle])
    await markDelivered(database.db, [{ deviceId: idle, upTo: 3 }])
    // Three in flight: the rest wait until a twin applies its delivery.
    expect(await deliveryRoom(database.db, opts)).toEqual({ urgent: 0, checkpoint: 0 })
    expect(await claimDeliveries(database.db, 'checkpoint', 0, opts)).toEqual([])
  })

  it("leaves routine batches for the checkpoint, and coalesces a twin's urgent ones while one is in flight", async () => {
    const id = 'chatty'
    const now = Date.now()
    const at = (ms: number) => ({ ...opts, now: now + ms })
    await store([message(id, 1, 1, now - 100)])
    expect((await claim('urgent', at(0))).map((d) => d.deviceId)).toContain(id)
    // Urgent batches that come while the first delivery is in flight wait for it to be applied.
    await store([message(id, 2, 99, now)])
    await store([message(id, 3, 5, now)])
    expect((await claim('urgent', at(100))).map((d) => d.deviceId)).not.toContain(id)
    await database.db.update(twinLive).set({ appliedSeq: 1 }).where(like(twinLive.deviceId, id))
    const coalesced = (await claim('urgent', at(200))).find((d) => d.deviceId === id)
    expect(coalesced?.delivery).toMatchObject({ upTo: 3, batches: [{ seq: 2 }, { seq: 3 }] })
    await database.db
      .update(twinLive)
      .set({ appliedSeq: 3, pendingSince: null })
      .where(like(twinLive.deviceId, id))
    // A routine batch fresher than the checkpoint waits; once the checkpoint is due it goes.
    await store([message(id, 4, 6, now)])
    expect((await claim('urgent', at(300))).map((d) => d.deviceId)).not.toContain(id)
    expect((await claim('checkpoint', at(300))).map((d) => d.deviceId)).not.toContain(id)
    expect(
      (await claim('checkpoint', at(opts.checkpointMs + 1000))).map((d) => d.deviceId),
    ).toContain(id)
  })

  it('holds urgent deliveries to the room too, oldest first, and counts only what Temporal accepted', async () => {
    const ids = Array.from({ length: 4 }, (_, i) => `burst-${i}`)
    await store(ids.map((id, i) => message(id, 1, 1, T0 - 10_000 + i)))
    // A burst of first readings larger than the room: the oldest go, the rest wait in Postgres.
    const first = await claimDeliveries(database.db, 'urgent', 2, opts)
    expect(first.map((d) => d.deviceId)).toEqual(['burst-0', 'burst-1'])
    // Calls that failed (or were never made) are nothing Temporal has to run: no room taken.
    const wide = { ...opts, maxInFlight: 100 }
    const before = (await deliveryRoom(database.db, wide)).urgent
    await retryFailedSoon(database.db, [{ deviceId: 'burst-0', upTo: 1 }], opts)
    expect((await deliveryRoom(database.db, wide)).urgent).toBe(before)
    await markDelivered(database.db, [{ deviceId: 'burst-1', upTo: 1 }])
    expect((await deliveryRoom(database.db, wide)).urgent).toBe(before - 1)
    const rest = await claimDeliveries(database.db, 'urgent', 100, opts)
    expect(rest.map((d) => d.deviceId)).toEqual(['burst-2', 'burst-3'])
    // Applied: out of the way of the tests below.
    await database.db
      .update(twinLive)
      .set({ appliedSeq: 1, pendingSince: null })
      .where(like(twinLive.deviceId, 'burst-%'))
  })

  it('tells a twin again whose delivery Temporal never accepted, without the batches: it reads them itself', async () => {
    const id = 'lost-delivery'
    await store([message(id, 1, 1, T0)])
    const [told] = await claim('urgent')
    expect(told?.delivery).toMatchObject({ upTo: 1, batches: [{ seq: 1 }] })
    // Not applied, and not yet stale: not told again.
    expect(await claim('urgent')).toEqual([])
    // Long after, still not applied: told again how far its inbox goes, with no batches.
    const later = { ...opts, now: Date.now() + opts.renudgeMs + 1000 }
    const again = await claim('urgent', later)
    expect(again.find((d) => d.deviceId === id)?.delivery).toEqual({ upTo: 1, batches: [] })
  })

  it('tells a twin again within seconds when its delivery failed, not after renudgeMs', async () => {
    const id = 'failed-delivery'
    const now = Date.now()
    await store([message(id, 1, 1, T0)])
    const [told] = (await claim('urgent', { ...opts, now })).filter((d) => d.deviceId === id)
    expect(told?.delivery.upTo).toBe(1)
    await retryFailedSoon(database.db, [{ deviceId: id, upTo: 1 }], { ...opts, now })
    const at = (ms: number) => ({ ...opts, now: now + ms })
    const early = await claim('urgent', at(FAILED_RETRY_MS - 500))
    expect(early.map((d) => d.deviceId)).not.toContain(id)
    const soon = await claim('urgent', at(FAILED_RETRY_MS + 500))
    expect(soon.find((d) => d.deviceId === id)?.delivery).toEqual({ upTo: 1, batches: [] })
  })

  it('leaves a delivery Temporal accepted to its twin, however slow, until DELIVERED_RETELL_MS', async () => {
    const id = 'slow-twin'
    await store([message(id, 1, 1, T0)])
    const [told] = (await claim('urgent')).filter((d) => d.deviceId === id)
    expect(told?.delivery.upTo).toBe(1)
    await markDelivered(database.db, [{ deviceId: id, upTo: 1 }])
    // Past renudgeMs: Temporal holds the delivery, the twin is only slow.
    const stale = { ...opts, now: Date.now() + opts.renudgeMs + 1000 }
    const retold = await claim('urgent', stale)
    expect(retold.map((d) => d.deviceId)).not.toContain(id)
    // Past DELIVERED_RETELL_MS with nothing applied: its workflow may have ended; told again.
    const lost = { ...opts, now: Date.now() + DELIVERED_RETELL_MS + 1000 }
    const again = await claim('urgent', lost)
    expect(again.find((d) => d.deviceId === id)?.delivery).toEqual({ upTo: 1, batches: [] })
  })
})
