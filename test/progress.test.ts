import { afterEach, describe, expect, it, vi } from 'vitest'
import { step } from '../src/progress.ts'

describe('a long start-up step', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('says it started, that it is still running every few seconds, and when it is done', async () => {
    vi.useFakeTimers()
    const said: string[] = []
    let finish = () => {}
    const running = step(
      (line) => said.push(line),
      'bundling the twin workflows',
      () => new Promise<string>((resolve) => (finish = () => resolve('bundle'))),
      4000,
    )
    await vi.advanceTimersByTimeAsync(9000)
    finish()
    expect(await running).toBe('bundle')
    await vi.advanceTimersByTimeAsync(8000)
    expect(said).toEqual([
      'bundling the twin workflows…',
      'still bundling the twin workflows (4.0 s)…',
      'still bundling the twin workflows (8.0 s)…',
      'bundling the twin workflows: done in 9.0 s',
    ])
  })

  it('stops saying "still" when the step fails', async () => {
    vi.useFakeTimers()
    const said: string[] = []
    const failing = step(
      (line) => said.push(line),
      'migrating Postgres',
      () => Promise.reject(new Error('refused')),
      4000,
    )
    await expect(failing).rejects.toThrow('refused')
    await vi.advanceTimersByTimeAsync(10_000)
    expect(said).toEqual(['migrating Postgres…'])
  })
})
