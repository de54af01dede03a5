import {
  isGrpcDeadlineError,
  isGrpcServiceError,
  WorkflowUpdateFailedError,
} from '@temporalio/client'
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common'
import { eq } from 'drizzle-orm'
import { devices } from '../../db/schema.ts'
import type { ApiContext } from '../context.ts'
import { apiError, type ErrorCode } from '../errors.ts'

/**
 * Runs an Update on a registered device's twin, starting the twin if it has none yet, and turns
 * the twin's refusals (typed ApplicationFailures) into the API's error codes.
 */
export async function updateTwin<Ret, Args extends [unknown, ...unknown[]]>(
  ctx: ApiContext,
  deviceId: string,
  update: UpdateDefinition<Ret, Args>,
  args: Args,
): Promise<Ret> {
  const [device] = await ctx.db
    .select({ decommissionedAt: devices.decommissionedAt })
    .from(devices)
    .where(eq(devices.id, deviceId))
  if (!device || device.decommissionedAt) {
    throw apiError('DEVICE_NOT_FOUND', `no device "${deviceId}" is registered`)
  }
  // A twin that continues as new turns away updates it had not started ("UnprocessedUpdate");
  // the next run takes them, so they are sent again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.twins.update(deviceId, update, args)
    } catch (error) {
      const away = whyAway(error, deviceId, ctx.twins.updateTimeoutMs)
      if (away) {
        throw apiError(
          'SERVICE_UNAVAILABLE',
          `${away}: try again. The request may still take effect; a command sent again with the same idempotencyKey is not sent twice`,
        )
      }
      const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined
      if (!(cause instanceof ApplicationFailure && cause.type)) throw error
      if (cause.type === 'UnprocessedUpdate' && attempt < 5) continue
      throw apiError(cause.type as ErrorCode, cause.message)
    }
  }
}

/** gRPC UNAVAILABLE: Temporal could not be reached. */
const UNAVAILABLE = 14

/** Why the twin gave no answer worth trying again for, or null for any other error. */
function whyAway(error: unknown, deviceId: string, timeoutMs: number): string | null {
  if (isGrpcDeadlineError(error)) {
    return `the twin of "${deviceId}" did not answer within ${timeoutMs / 1000} s (its worker may be restarting or busy)`
  }
  if (isGrpcServiceError(error) && error.code === UNAVAILABLE) {
    return `Temporal, which runs the twin of "${deviceId}", cannot be reached`
  }
  return null
}
