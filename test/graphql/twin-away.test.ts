import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REGISTER } from '../support/models.ts'
import { startTestStack, type TestStack } from '../support/stack.ts'

describe('a mutation whose twin does not answer', () => {
  let stack: TestStack
  beforeAll(async () => {
    // No worker on the stack's task queue: every twin update waits, unanswered.
    stack = await startTestStack('embedded', {
      roles: ['ingest', 'api'],
      env: { DEVTWIN_UPDATE_TIMEOUT_MS: '2000' },
    })
  })
  afterAll(() => stack?.close())

  it('gets SERVICE_UNAVAILABLE saying to try again, not an unexpected error', async () => {
    const id = stack.deviceId('away')
    const registered = await stack.graphql(REGISTER, { input: { id } })
    expect(registered.errors).toBeUndefined()
    const started = Date.now()
    const sent = await stack.graphql(
      'mutation ($d: ID!) { sendCommand(deviceId: $d, name: "reboot", idempotencyKey: "k1") { id } }',
      { d: id },
    )
    expect(sent.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE')
    expect(sent.errors?.[0]?.message).toContain(`the twin of "${id}" did not answer within 2 s`)
    expect(sent.errors?.[0]?.message).toContain('idempotencyKey')
    expect(Date.now() - started).toBeLessThan(15_000)
  })
})
