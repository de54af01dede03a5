import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { twinLive } from '../../src/db/schema.ts'
import { deviceBatches, type Received } from '../../src/ingest/batcher.ts'
import {
  claimDeliveries,
  DELIVERED_RETELL_MS,
  FAILED_RETRY_MS,
  markDelivered,
  type NudgeOptions,
  retryFailedSoon,
  storeInbox,
} from '../../src/ingest/inbox.ts'
import { DATABASES, openTestDatabase } from '../support/database.ts'
import { receivedReading } from '../support/received.ts'

const T0 = Date.now()

const message = (deviceId: string, n: number, value: number | string, at: number) =>
  receivedReading(deviceId, n, { v: value }, at)

describe.each(DATABASES)('the inbox (%s)', (kind) => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>
  beforeAll(async () => {
    database = await openTestDatabase(kind)
  })
  afterAll(() => database?.dispose())

  const store = (received: Received[]) =>
    database.db.transaction((tx) => storeInbox(tx, deviceBatches(received), () => null))
  const opts: NudgeOptions = {
    maxLagMs: 3_000,
    renudgeMs: 60_000,
    limit: 100,
    batchesPerTwin: 50,
    maxInFlight: 3,
  }

  it('tells each twin once at a time: urgent at once, routine when old enough and Temporal has room', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `twin-${i}`)
    // First readings: urgent, and each twin told once, with its batch.
    await store(ids.map((id) => message(id, 1, 1, T0 - 10_000)))
    const first = await claimDeliveries(database.db, 'urgent', opts)
    expect(first.map((d) => d.deviceId).sort()).toEqual(ids)
    expect(first[0]?.delivery).toMatchObject({ upTo: 1, batches: [{ seq: 1 }] })
    expect(await claimDeliveries(database.db, 'urgent', opts)).toEqual([])

    // The twins apply what they were told (as persistTwin records it).
    await database.db.update(twinLive).set({ appliedSeq: 1, pendingSince: null })
    // Routine readings, old enough; one urgent (a string value changed).
    await store(ids.map((id, i) => message(id, 2, i === 0 ? 'on' : 2, T0 - 5_000)))
    const urgent = await claimDeliveries(database.db, 'urgent', opts)
    expect(urgent.map((d) => d.deviceId)).toEqual(['twin-0'])
    // One in flight: room for two routine deliveries under maxInFlight 3.
    const routine = await claimDeliveries(database.db, 'routine', opts)
    expect(routine).toHaveLength(2)
    expect(routine[0]?.delivery).toMatchObject({ upTo: 2, batches: [{ seq: 2 }] })
    expect(await claimDeliveries(database.db, 'routine', opts)).toEqual([])
  })

  it('tells a twin again whose delivery Temporal never accepted, without the batches: it reads them itself', async () => {
    const id = 'lost-delivery'
    await store([message(id, 1, 1, T0)])
    const [told] = await claimDeliveries(database.db, 'urgent', opts)
    expect(told?.delivery).toMatchObject({ upTo: 1, batches: [{ seq: 1 }] })
    // Not applied, and not yet stale: not told again.
    expect(await claimDeliveries(database.db, 'urgent', opts)).toEqual([])
    // Long after, still not applied: told again how far its inbox goes, with no batches.
    const later = { ...opts, now: Date.now() + opts.renudgeMs + 1000 }
    const again = await claimDeliveries(database.db, 'urgent', later)
    expect(again.find((d) => d.deviceId === id)?.delivery).toEqual({ upTo: 1, batches: [] })
  })

  it('tells a twin again within seconds when its delivery failed, not after renudgeMs', async () => {
    const id = 'failed-delivery'
    const now = Date.now()
    await store([message(id, 1, 1, T0)])
    const [told] = (await claimDeliveries(database.db, 'urgent', { ...opts, now })).filter(
      (d) => d.deviceId === id,
    )
    expect(told?.delivery.upTo).toBe(1)
    await retryFailedSoon(database.db, [{ deviceId: id, upTo: 1 }], { ...opts, now })
    const at = (ms: number) => ({ ...opts, now: now + ms })
    const early = await claimDeliveries(database.db, 'urgent', at(FAILED_RETRY_MS - 500))
    expect(early.map((d) => d.deviceId)).not.toContain(id)
    const soon = await claimDeliveries(database.db, 'urgent', at(FAILED_RETRY_MS + 500))
    expect(soon.find((d) => d.deviceId === id)?.delivery).toEqual({ upTo: 1, batches: [] })
  })

  it('leaves a delivery Temporal accepted to its twin, however slow, until DELIVERED_RETELL_MS', async () => {
    const id = 'slow-twin'
    await store([message(id, 1, 1, T0)])
    const [told] = (await claimDeliveries(database.db, 'urgent', opts)).filter(
      (d) => d.deviceId === id,
    )
    expect(told?.delivery.upTo).toBe(1)
    await markDelivered(database.db, [{ deviceId: id, upTo: 1 }])
    // Past renudgeMs: Temporal holds the delivery, the twin is only slow.
    const stale = { ...opts, now: Date.now() + opts.renudgeMs + 1000 }
    const retold = await claimDeliveries(database.db, 'urgent', stale)
    expect(retold.map((d) => d.deviceId)).not.toContain(id)
    // Past DELIVERED_RETELL_MS with nothing applied: its workflow may have ended; told again.
    const lost = { ...opts, now: Date.now() + DELIVERED_RETELL_MS + 1000 }
    const again = await claimDeliveries(database.db, 'urgent', lost)
    expect(again.find((d) => d.deviceId === id)?.delivery).toEqual({ upTo: 1, batches: [] })
  })
})
