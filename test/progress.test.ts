import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { step } from '../src/progress.ts'

const run = promisify(execFile)

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

describe('a start-up step that holds the event loop', () => {
  it('still says so every few seconds, from a thread of its own', async () => {
    // PGlite's initdb as it behaves: synchronous work on the main thread, no timer can fire.
    const script = `
      import { step } from './src/progress.ts'
      await step(() => {}, 'creating the database', async () => {
        const until = Date.now() + 1500
        while (Date.now() < until) {}
      }, 300, { blocking: true })
    `
    const { stderr } = await run(process.execPath, [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ])
    const lines = stderr.split('\n').filter((l) => l.startsWith('still creating the database ('))
    expect(lines.length).toBeGreaterThanOrEqual(3)
  })
})
