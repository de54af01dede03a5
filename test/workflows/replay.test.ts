import { readdirSync, readFileSync } from 'node:fs'
import { Worker } from '@temporalio/worker'
import { describe, expect, inject, it } from 'vitest'
import { historyFeatures, readHistory } from '../support/record-histories.ts'

// Every history ever recorded, older sets in folders of their own (before-steady-timer/, …).
const dir = new URL('./histories/', import.meta.url)
const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) =>
  f.endsWith('.json'),
)
const histories = files.map((file) => ({
  workflowId: file,
  history: readHistory(readFileSync(new URL(file, dir), 'utf8')),
}))

/**
 * Twins run for years: every change to the workflow must replay the histories of running twins.
 * These are recorded from real runs (`npm run histories:record`) and replayed against the code
 * as it is now; an incompatible change fails here, and needs `patched()` (see docs/changing-the-workflow.md).
 */
describe('twin histories replay against the current workflow code', () => {
  it('covers every handler, and each way a run goes on or ends', () => {
    const covered = new Set(histories.flatMap((h) => [...historyFeatures(h.history)]))
    for (const feature of [
      'signal:inbox',
      'signal:batch',
      'signal:model',
      'signal:decommission',
      'update:setDesired',
      'update:sendCommand',
      'update:cancelCommand',
      'update:reserve',
      'update:extendReservation',
      'update:release',
      'update:failed',
      'activity:storeRecords',
      'activity:publishDesired',
      'timer_fired',
      'continued_as_new',
      'completed',
      'patch',
    ]) {
      expect(covered, feature).toContain(feature)
    }
  })

  it('replays every recorded history without a nondeterminism error', async () => {
    const results = Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      histories,
    )
    let replayed = 0
    for await (const result of results) {
      expect(result.error, `${result.workflowId}: ${result.error?.message}`).toBeUndefined()
      replayed++
    }
    expect(replayed).toBe(histories.length)
  })
})
