import { Counter, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { twinLive } from '../../src/db/schema.ts'
import { deviceBatches, type Received } from '../../src/ingest/batcher.ts'
import { storeInbox } from '../../src/ingest/inbox.ts'
import { type DeliveryCounts, startNudger } from '../../src/ingest/nudger.ts'
import { log } from '../../src/log.ts'
import { DATABASES, useTestDatabase } from '../support/database.ts'
import { receivedReading } from '../support/received.ts'
import { waitFor } from '../support/wait.ts'

describe.each(DATABASES)('the nudger (%s)', (kind) => {
  const database = useTestDatabase(kind)
  const store = (received: Received[]) =>
    database.db.transaction((tx) => storeInbox(tx, deviceBatches(received), () => null))

  it('gives checkpoints that are due their share of the room, however many urgent deliveries wait', async () => {
    const now = Date.now()
    const steady = ['steady-0', 'steady-1', 'steady-2']
    const busy = Array.from({ length: 6 }, (_, i) => `busy-${i}`)
    // The steady twins applied their first reading; a routine one has waited past its checkpoint.
    await store(steady.map((id) => receivedReading(id, 1, { v: 1 }, now - 60_000)))
    await database.db.update(twinLive).set({ appliedSeq: 1, pendingSince: null })
    await store(steady.map((id) => receivedReading(id, 2, { v: 2 }, now - 30_000)))
    // Newer twins' first readings: urgent, more of them than the whole room.
    await store(busy.map((id) => receivedReading(id, 1, { v: 1 }, now - 1_000)))

    const told: string[] = []
    const counts: DeliveryCounts = {
      signals: 0,
      urgentSignals: 0,
      checkpointSignals: 0,
      failedSignals: 0,
    }
    const nudger = startNudger({
      db: database.db,
      // Temporal accepts every delivery, and no twin applies one: the room stays taken.
      twins: {
        deliver: async (deviceId) => {
          told.push(deviceId)
          return 'delivered'
        },
      },
      log,
      nudge: {
        checkpointMs: 10_000,
        renudgeMs: 60_000,
        limit: 100,
        batchesPerTwin: 50,
        maxInFlight: 4,
      },
      everyMs: 50,
      counts,
      deliveries: new Counter({
        name: 'deliveries',
        help: 'test',
        labelNames: ['outcome'],
        registers: [new Registry()],
      }),
    })
    try {
      nudger.wake()
      await waitFor(() => told.length >= 4, { what: 'the room filled' })
      // Two of four places are the checkpoints' share; urgent deliveries take the rest.
      expect(counts).toMatchObject({ signals: 4, checkpointSignals: 2, urgentSignals: 2 })
      expect(told.filter((id) => steady.includes(id))).toHaveLength(2)
    } finally {
      await nudger.stop()
    }
  })
})
