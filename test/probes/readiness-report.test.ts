import { describe, expect, it } from 'vitest'
import { CHECK_TIMEOUT_MS, readiness } from '../../src/probes/readiness.ts'

describe('readiness', () => {
  it('is ready when every check passes', async () => {
    const ready = readiness([{ name: 'postgres', check: async () => {} }])
    expect(await ready()).toEqual({ ready: true, checks: { postgres: 'ok' } })
  })

  it('names each failed check with its reason, and answers in time when one hangs', async () => {
    let asked = 0
    const ready = readiness([
      { name: 'postgres', check: async () => {} },
      {
        name: 'mqtt (ingest)',
        check: async () => {
          throw new Error('not connected')
        },
      },
      {
        name: 'temporal (ingest)',
        check: () => {
          asked++
          return new Promise<void>(() => {})
        },
      },
    ])
    const started = Date.now()
    // Two probes at once share one round: the hanging dependency is asked once.
    const [first, second] = await Promise.all([ready(), ready()])
    expect(Date.now() - started).toBeLessThan(CHECK_TIMEOUT_MS + 1_000)
    expect(asked).toBe(1)
    expect(second).toBe(first)
    expect(first).toEqual({
      ready: false,
      checks: {
        postgres: 'ok',
        'mqtt (ingest)': 'not connected',
        'temporal (ingest)': `no answer within ${CHECK_TIMEOUT_MS} ms`,
      },
    })
  })
})
