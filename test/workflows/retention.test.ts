import { ScheduleNotFoundError } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ensureRetentionSchedule,
  retentionScheduleId,
} from '../../src/workflows/retention-schedule.ts'
import { countRows, DAY, insertAgedRows } from '../support/aged-rows.ts'
import { startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

const HOUR = 3_600_000

describe('retention', () => {
  let stack: TestStack
  beforeAll(async () => {
    stack = await startTestStack('embedded', {
      roles: ['worker'],
      env: {
        DEVTWIN_RETENTION_TELEMETRY: '30d',
        DEVTWIN_RETENTION_TWIN_EVENTS: '30d',
        DEVTWIN_RETENTION_REJECTED_MESSAGES: '7d',
        DEVTWIN_RETENTION_COMMAND_EVENTS: '90d',
        DEVTWIN_RETENTION_INTERVAL: '6h',
      },
    })
  })
  afterAll(() => stack?.close())

  const schedule = () =>
    stack.temporal.schedule.getHandle(retentionScheduleId(stack.config.DEVTWIN_TASK_QUEUE))

  it('runs as a Temporal Schedule with the configured interval and limits', async () => {
    const described = await schedule().describe()
    expect(described.spec.intervals).toEqual([expect.objectContaining({ every: 6 * HOUR })])
    expect(described.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'retentionWorkflow',
      taskQueue: stack.config.DEVTWIN_TASK_QUEUE,
      args: [
        {
          telemetry: 30 * DAY,
          twin_events: 30 * DAY,
          rejected_messages: 7 * DAY,
          command_events: 90 * DAY,
        },
      ],
    })
  })

  it('deletes rows older than each limit when it runs, and keeps newer ones', async () => {
    const db = stack.database.db
    const id = stack.deviceId('aged')
    await insertAgedRows(db, id, 100, { n: 4, firstVersion: 1 })
    await insertAgedRows(db, id, 10, { n: 3, firstVersion: 10 })
    await insertAgedRows(db, id, 1, { n: 2, firstVersion: 20 })
    expect(await countRows(db, id)).toEqual({
      telemetry: 9,
      twin_events: 9,
      rejected_messages: 9,
      command_events: 9,
    })

    await schedule().trigger()
    const after = await waitFor(
      async () => {
        const counts = await countRows(db, id)
        return counts.telemetry === 5 && counts.command_events === 6 && counts
      },
      { what: 'the retention run', timeout: 30_000 },
    )
    // 30 days keep the 10- and 1-day-old rows; 7 days only the newest; 90 days of command trails
    // drop the 100-day-old command's only.
    expect(after).toEqual({
      telemetry: 5,
      twin_events: 5,
      rejected_messages: 2,
      command_events: 6,
    })
    const runs = await schedule().describe()
    expect(runs.info.recentActions.length).toBeGreaterThanOrEqual(1)
  })

  it('follows the settings at the next start: updated, or deleted with no limit set', async () => {
    const taskQueue = stack.config.DEVTWIN_TASK_QUEUE
    await ensureRetentionSchedule(stack.temporal, {
      taskQueue,
      policy: { telemetry: DAY },
      everyMs: HOUR,
    })
    const updated = await schedule().describe()
    expect(updated.spec.intervals).toEqual([expect.objectContaining({ every: HOUR })])
    expect(updated.action).toMatchObject({ args: [{ telemetry: DAY }] })

    await ensureRetentionSchedule(stack.temporal, { taskQueue, policy: {}, everyMs: HOUR })
    await expect(schedule().describe()).rejects.toBeInstanceOf(ScheduleNotFoundError)
    // Deleting what is not there is fine: every worker without retention does it at start.
    await ensureRetentionSchedule(stack.temporal, { taskQueue, policy: {}, everyMs: HOUR })
  })
})
