import { type Client, WorkflowNotFoundError } from '@temporalio/client'
import pMap from 'p-map'
import type { DeviceModel } from '../twins/model.ts'
import { decommissionSignal, modelSignal, twinWorkflowId } from './messages.ts'

/** What the api asks of running twins. A device with no twin yet has nothing to tell. */
async function signalIfRunning(action: () => Promise<void>): Promise<void> {
  try {
    await action()
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error
  }
}

/** Hands a (changed) model to the running twins of these devices. */
export async function sendModel(
  client: Client,
  deviceIds: readonly string[],
  model: DeviceModel | null,
) {
  await pMap(
    deviceIds,
    (id) =>
      signalIfRunning(() =>
        client.workflow.getHandle(twinWorkflowId(id)).signal(modelSignal, model),
      ),
    { concurrency: 32 },
  )
}

export async function decommissionTwin(client: Client, deviceId: string) {
  await signalIfRunning(() =>
    client.workflow.getHandle(twinWorkflowId(deviceId)).signal(decommissionSignal),
  )
}
