import { ActivityFailure, log, proxyActivities, proxyLocalActivities } from '@temporalio/workflow'
import type { Activities } from '../../activities/index.ts'
import type { Command } from '../../twins/commands.ts'

const retry = { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' }
// Local activities run in the worker that holds the twin, with no task-queue round trip, and
// leave one marker event in history instead of three. Only the main loop runs them, one
// coroutine: local activities running at once from an update handler and the loop complete in
// an order that replay does not reproduce (a nondeterminism error).
export const { loadDevice, persistTwin, publishCommand, readInbox } =
  proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds', retry })
// What update handlers wait for runs as regular activities, ordered by their own history events.
export const { publishDesired, storeRecords } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry,
})

/**
 * Sends a command attempt. One the broker refuses for good is not retried here: the attempt counts
 * as sent, and the command's acknowledgement timeout retries it or ends it (TIMED_OUT), as for a
 * device that never answered.
 */
export async function publishOnce(command: Command) {
  try {
    await publishCommand(command)
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error
    log.warn('command publish refused', { commandId: command.id, reason: error.cause?.message })
  }
}

/**
 * Writes the twin. A write Postgres refuses for good is not retried (it would wedge the twin):
 * it is stored normalised, or, refused even so, given up, and the twin goes on serving. Either
 * way the reason is returned for the operator view and the log.
 */
export async function persistOnce(written: Parameters<Activities['persistTwin']>[0]) {
  try {
    const { refused } = (await persistTwin(written)) ?? { refused: null }
    if (!refused) return null
    log.warn('twin write stored normalised', { refused })
    return `last write stored with U+FFFD: ${refused}`
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error
    const reason = error.cause?.message ?? error.message
    log.error('twin write refused, not stored', { reason })
    return `revision ${written.twin.revision} not stored: ${reason}`
  }
}
