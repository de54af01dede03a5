import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEND_COMMAND, simulatedDevices, waitForCommand, waitOnline } from '../support/commands.ts'
import { REGISTER } from '../support/models.ts'
import { MODES, startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

describe.each(MODES)('a command across a worker restart (%s)', (mode) => {
  let stack: TestStack
  beforeAll(async () => {
    // The worker runs apart from ingest and api, so the test can stop and start it.
    stack = await startTestStack(mode, { roles: ['ingest', 'api'] })
  })
  afterAll(() => stack?.close())

  it('completes once the worker is back, with the ack that came while it was away', async () => {
    const id = stack.deviceId('restart-cmd')
    const registered = await stack.graphql(REGISTER, { input: { id } })
    const password = registered.data?.registerDevice.mqttPassword as string
    // Accepts at once, answers 3 s later: while the worker is gone.
    const fleet = await simulatedDevices(stack, [{ id, password }], { slow: 1, slowMs: 3000 })
    let worker = await stack.startWorker()
    try {
      await waitOnline(stack, id)
      const sent = await stack.graphql(SEND_COMMAND, {
        deviceId: id,
        name: 'unlock',
        timeoutSeconds: 30,
      })
      const commandId = sent.data?.sendCommand.id as string
      await waitForCommand(stack, commandId, 'ACCEPTED')
      await worker.stop()

      // The device finishes and acks; ingest hands the ack to Temporal, which keeps it.
      await waitFor(() => fleet.stats().acksSent >= 2, { what: 'the succeeded ack' })
      const acceptedOnly = await stack.graphql(`query ($id: ID!) { command(id: $id) { status } }`, {
        id: commandId,
      })
      expect(acceptedOnly.data?.command.status).toBe('ACCEPTED')

      worker = await stack.startWorker()
      const done = await waitForCommand(stack, commandId, 'SUCCEEDED')
      expect(done).toMatchObject({ attempts: 1, result: { name: 'unlock' } })
    } finally {
      await worker.stop()
      await fleet.stop()
    }
  })
})
