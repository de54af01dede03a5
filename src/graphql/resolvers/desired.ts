import { WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client'
import { ApplicationFailure } from '@temporalio/common'
import { eq } from 'drizzle-orm'
import { devices } from '../../db/schema.ts'
import { setDesiredUpdate, twinWorkflowId } from '../../workflows/messages.ts'
import type { twinWorkflow } from '../../workflows/twin.ts'
import type { ApiContext } from '../context.ts'
import { apiError, type ErrorCode } from '../errors.ts'
import { requireRole } from '../roles.ts'

export const desiredMutations = {
  /**
   * An Update of the twin (started if the device has none yet), so the caller gets the new twin
   * or the twin's own refusal: VERSION_CONFLICT, BAD_USER_INPUT.
   */
  async setDesired(
    _: unknown,
    args: { deviceId: string; patch: Record<string, unknown>; expectedVersion?: number | null },
    ctx: ApiContext,
  ) {
    requireRole(ctx, 'operator')
    const [device] = await ctx.db.select().from(devices).where(eq(devices.id, args.deviceId))
    if (!device || device.decommissionedAt) {
      throw apiError('DEVICE_NOT_FOUND', `no device "${args.deviceId}" is registered`)
    }
    const start = new WithStartWorkflowOperation<typeof twinWorkflow>('twinWorkflow', {
      workflowId: twinWorkflowId(args.deviceId),
      taskQueue: ctx.taskQueue,
      args: [{ deviceId: args.deviceId }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    })
    try {
      return await ctx.temporal.workflow.executeUpdateWithStart(setDesiredUpdate, {
        args: [args.patch, args.expectedVersion ?? null],
        startWorkflowOperation: start,
      })
    } catch (error) {
      const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined
      if (cause instanceof ApplicationFailure && cause.type) {
        throw apiError(cause.type as ErrorCode, cause.message)
      }
      throw error
    }
  },
}
