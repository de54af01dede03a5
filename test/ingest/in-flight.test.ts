import { describe, expect, it } from 'vitest'
import { InFlight } from '../../src/ingest/in-flight.ts'

describe('InFlight', () => {
  it('keeps a twin busy from its batch sent until that batch is announced applied', () => {
    const inFlight = new InFlight(10_000, 100)
    expect(inFlight.isBusy('a', 0)).toBe(false)
    const first = inFlight.send('a', 0)
    expect(inFlight.isBusy('a', 1)).toBe(true)
    expect(inFlight.isBusy('b', 1)).toBe(false)
    inFlight.applied('a', first, 1)
    expect(inFlight.isBusy('a', 2)).toBe(false)
    expect(inFlight.size).toBe(0)
  })

  it('is not freed by the announcement of an older batch, but by a newer one', () => {
    const inFlight = new InFlight(10_000, 100)
    const older = inFlight.send('a', 0)
    const newer = inFlight.send('a', 1)
    inFlight.applied('a', older, 2)
    expect(inFlight.isBusy('a', 2)).toBe(true)
    inFlight.applied('a', newer + 5, 2)
    expect(inFlight.isBusy('a', 3)).toBe(false)
  })

  it('gives up on an announcement after the timeout', () => {
    const inFlight = new InFlight(10_000, 100)
    inFlight.send('a', 0)
    expect(inFlight.isBusy('a', 9_999)).toBe(true)
    expect(inFlight.isBusy('a', 10_000)).toBe(false)
    expect(inFlight.size).toBe(0)
  })

  it('waits longer when twins take longer, so a backlog does not time out', () => {
    const inFlight = new InFlight(10_000, 100)
    for (let i = 0; i < 500; i++) {
      const batchId = inFlight.send('a', i * 100_000)
      inFlight.applied('a', batchId, i * 100_000 + 8_000)
    }
    expect(inFlight.timeoutMs).toBeGreaterThan(30_000)
    inFlight.send('a', 0)
    expect(inFlight.isBusy('a', 20_000)).toBe(true)
  })

  it('forgets a batch whose signal failed, unless a newer one was sent since', () => {
    const inFlight = new InFlight(10_000, 100)
    const failed = inFlight.send('a', 0)
    inFlight.forget('a', failed)
    expect(inFlight.isBusy('a', 1)).toBe(false)
    const old = inFlight.send('b', 0)
    inFlight.send('b', 1)
    inFlight.forget('b', old)
    expect(inFlight.isBusy('b', 2)).toBe(true)
  })

  it('numbers batches upwards from the clock, so a restart never reuses an id', () => {
    const inFlight = new InFlight(10_000, 5_000)
    expect(inFlight.send('a', 0)).toBe(5_000)
    expect(inFlight.send('b', 0)).toBe(5_001)
  })
})
