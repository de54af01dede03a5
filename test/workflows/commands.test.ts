import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { CommandMessage, Fleet } from '../../src/simulator/fleet.ts'
import { twinWorkflowId } from '../../src/workflows/messages.ts'
import {
  COMMAND,
  RESERVE,
  SEND_COMMAND,
  simulatedDevices,
  waitForCommand,
  waitOnline,
} from '../support/commands.ts'
import { REGISTER } from '../support/models.ts'
import { MODES, startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

describe.each(MODES)('commands and reservations (%s)', (mode) => {
  let stack: TestStack
  const fleets: Fleet[] = []
  beforeAll(async () => {
    stack = await startTestStack(mode)
  })
  afterEach(async () => {
    await Promise.all(fleets.splice(0).map((f) => f.stop()))
  })
  afterAll(() => stack?.close())

  /** A registered device, simulated, with what it was sent. */
  const device = async (
    name: string,
    opts: Parameters<typeof simulatedDevices>[2] = {},
    { online = true } = {},
  ) => {
    const id = stack.deviceId(name)
    const registered = await stack.graphql(REGISTER, { input: { id } })
    const password = registered.data?.registerDevice.mqttPassword as string
    const received: CommandMessage[] = []
    const fleet = await simulatedDevices(stack, [{ id, password }], {
      ...opts,
      offline: online ? 0 : 1,
      onCommand: (_, command) => received.push(command),
    })
    fleets.push(fleet)
    if (online) await waitOnline(stack, id)
    return { id, fleet, received }
  }
  const send = async (variables: Record<string, unknown>) => {
    const result = await stack.graphql(SEND_COMMAND, { name: 'reboot', ...variables })
    expect(result.errors).toBeUndefined()
    return result.data?.sendCommand
  }

  it('delivers a command, and the device’s acks end it SUCCEEDED', async () => {
    const { id, received } = await device('ok')
    const updates = await stack.subscribe(
      `subscription ($id: ID!) { commandUpdated(deviceId: $id) { id status } }`,
      { id },
    )
    try {
      const sent = await send({ deviceId: id, args: { delay: 1 }, timeoutSeconds: 10 })
      expect(sent).toMatchObject({ deviceId: id, name: 'reboot', maxAttempts: 3 })
      expect(['PENDING', 'SENT']).toContain(sent.status)
      const done = await waitForCommand(stack, sent.id, 'SUCCEEDED')
      expect(done).toMatchObject({ attempts: 1, result: { name: 'reboot' }, error: null })
      expect(done.events.map((e: { status: string }) => e.status)).toEqual([
        'PENDING',
        'SENT',
        'ACCEPTED',
        'SUCCEEDED',
      ])
      expect(received).toEqual([
        expect.objectContaining({ id: sent.id, name: 'reboot', args: { delay: 1 }, attempt: 1 }),
      ])
      await waitFor(() => updates.events.some((e) => e.commandUpdated.status === 'SUCCEEDED'), {
        what: 'commandUpdated SUCCEEDED',
      })
      const listed = await stack.graphql(
        `query ($id: ID!) { device(id: $id) { commands(first: 5) { edges { node { id status } } }
          twin { pendingCommands { id } } } }`,
        { id },
      )
      expect(listed.data?.device.commands.edges).toEqual([
        { node: { id: sent.id, status: 'SUCCEEDED' } },
      ])
      expect(listed.data?.device.twin.pendingCommands).toEqual([])
    } finally {
      await updates.close()
    }
  })

  it('retries an unanswered command maxAttempts times, then it is TIMED_OUT', async () => {
    const { id, received } = await device('deaf', { deaf: 1 })
    const sent = await send({ deviceId: id, timeoutSeconds: 1, maxAttempts: 3 })
    const done = await waitForCommand(stack, sent.id, 'TIMED_OUT')
    expect(done.attempts).toBe(3)
    expect(done.error).toMatch(/no ack after 3 attempt/)
    expect(received.map((c) => [c.id, c.attempt])).toEqual([
      [sent.id, 1],
      [sent.id, 2],
      [sent.id, 3],
    ])
  })

  it('holds a command for an offline device and delivers it when the device comes back', async () => {
    const { id, fleet } = await device('later', {}, { online: false })
    const sent = await send({ deviceId: id, ttlSeconds: 120 })
    expect(sent).toMatchObject({ status: 'PENDING', attempts: 0 })
    const pending = await stack.graphql(
      `query ($id: ID!) { device(id: $id) { twin { pendingCommands { id status events { status attempt } } } } }`,
      { id },
    )
    expect(pending.data?.device.twin.pendingCommands).toEqual([
      { id: sent.id, status: 'PENDING', events: [{ status: 'PENDING', attempt: 0 }] },
    ])
    await fleet.device(id).connect()
    const done = await waitForCommand(stack, sent.id, 'SUCCEEDED')
    expect(done.attempts).toBe(1)
  })

  it('lets a command for a device that stays away EXPIRE after its ttl', async () => {
    const { id, received } = await device('away', {}, { online: false })
    const sent = await send({ deviceId: id, ttlSeconds: 1 })
    const done = await waitForCommand(stack, sent.id, 'EXPIRED')
    expect(done.attempts).toBe(0)
    expect(received).toEqual([])
  })

  it('makes one command of a repeated idempotency key', async () => {
    const { id, received } = await device('idem')
    const call = () => send({ deviceId: id, idempotencyKey: 'order-42', args: { n: 1 } })
    const [a, b, c] = await Promise.all([call(), call(), call()])
    expect(new Set([a.id, b.id, c.id]).size).toBe(1)
    await waitForCommand(stack, a.id, 'SUCCEEDED')
    expect((await call()).id).toBe(a.id)
    expect(new Set(received.map((r) => r.id))).toEqual(new Set([a.id]))
    const other = await stack.graphql(SEND_COMMAND, {
      deviceId: id,
      name: 'reboot',
      idempotencyKey: 'order-42',
      args: { n: 2 },
    })
    expect(other.errors?.[0]).toMatchObject({
      message: expect.stringContaining('other arguments'),
      extensions: { code: 'BAD_USER_INPUT' },
    })
  })

  it('cancels a command until the device accepts it, and refuses bad arguments', async () => {
    const { id } = await device('cancel', {}, { online: false })
    const sent = await send({ deviceId: id })
    const CANCEL = `mutation ($id: ID!) { cancelCommand(id: $id) { id status } }`
    expect((await stack.graphql(CANCEL, { id: sent.id })).data?.cancelCommand).toEqual({
      id: sent.id,
      status: 'CANCELLED',
    })
    const again = await stack.graphql(CANCEL, { id: sent.id })
    expect(again.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    const unknown = await stack.graphql(CANCEL, { id: 'nope' })
    expect(unknown.errors?.[0]?.extensions?.code).toBe('COMMAND_NOT_FOUND')
    expect((await stack.graphql(COMMAND, { id: 'nope' })).data?.command).toBeNull()

    for (const [variables, message] of [
      [{ timeoutSeconds: 0 }, 'timeoutSeconds must be a whole number from 1'],
      [{ maxAttempts: 100 }, 'maxAttempts must be a whole number from 1 to 20'],
      [{ name: '' }, 'name is 1-64 characters'],
    ] as const) {
      const bad = await stack.graphql(SEND_COMMAND, { deviceId: id, name: 'x', ...variables })
      expect(bad.errors?.[0]).toMatchObject({
        message: expect.stringContaining(message),
        extensions: { code: 'BAD_USER_INPUT' },
      })
    }
    const missing = await stack.graphql(SEND_COMMAND, { deviceId: 'no-such', name: 'x' })
    expect(missing.errors?.[0]?.extensions?.code).toBe('DEVICE_NOT_FOUND')
  })

  it('lets exactly one of twenty concurrent reserve calls win', async () => {
    const { id } = await device('race')
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        stack.graphql(RESERVE, { deviceId: id, holder: `user-${i}`, durationSeconds: 60 }),
      ),
    )
    const won = results.filter((r) => r.data?.reserve)
    expect(won).toHaveLength(1)
    const codes = results.flatMap((r) => r.errors ?? []).map((e) => e.extensions?.code)
    expect(codes).toEqual(Array(19).fill('ALREADY_RESERVED'))
    const reservation = won[0]?.data?.reserve
    expect(reservation).toMatchObject({ deviceId: id, status: 'ACTIVE' })

    // While reserved, a command needs the reservation.
    const refused = await stack.graphql(SEND_COMMAND, { deviceId: id, name: 'unlock' })
    expect(refused.errors?.[0]?.extensions?.code).toBe('NOT_RESERVATION_HOLDER')
    const held = await send({ deviceId: id, name: 'unlock', reservationId: reservation.id })
    expect(held.reservationId).toBe(reservation.id)

    const shown = await waitFor(
      async () => {
        const result = await stack.graphql(
          `query ($id: ID!) {
            device(id: $id) { twin { reservation { id holder } } }
            devices(where: { reserved: true }, first: 500) { edges { node { id } } }
          }`,
          { id },
        )
        return result.data?.device.twin.reservation && result.data
      },
      { what: 'the reservation on the twin' },
    )
    expect(shown.device.twin.reservation).toEqual({
      id: reservation.id,
      holder: reservation.holder,
    })
    expect(shown.devices.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(id)
    const released = await stack.graphql(
      `mutation ($id: ID!) { release(id: $id) { status releasedAt } }`,
      { id: reservation.id },
    )
    expect(released.data?.release.status).toBe('RELEASED')
    await send({ deviceId: id, name: 'unlock' })
  })

  it('ends a reservation on time, and refuses a device that cannot be reserved', async () => {
    const { id } = await device('expire')
    const reserved = await stack.graphql(RESERVE, {
      deviceId: id,
      holder: 'ann',
      durationSeconds: 2,
    })
    const reservation = reserved.data?.reserve
    const extended = await stack.graphql(
      `mutation ($id: ID!) { extendReservation(id: $id, durationSeconds: 3) { expiresAt } }`,
      { id: reservation.id },
    )
    const expiresAt = Date.parse(extended.data?.extendReservation.expiresAt)
    expect(expiresAt).toBeGreaterThan(Date.parse(reservation.expiresAt))
    const ended = await waitFor(
      async () => {
        const r = (
          await stack.graphql(`query ($id: ID!) { reservation(id: $id) { status } }`, {
            id: reservation.id,
          })
        ).data?.reservation
        return r?.status === 'EXPIRED' && Date.now()
      },
      { what: 'the reservation to expire' },
    )
    expect(ended).toBeGreaterThanOrEqual(expiresAt)
    // Ends within a couple of seconds of its time (timer, write, poll).
    expect(ended - expiresAt).toBeLessThan(5000)
    const handle = stack.temporal.workflow.getHandle(twinWorkflowId(id))
    await waitFor(
      async () => (await handle.describe()).searchAttributes.TwinReserved?.[0] === false,
      { what: 'TwinReserved false' },
    )

    const away = await device('unavailable', {}, { online: false })
    await send({ deviceId: away.id }) // starts its twin
    const refused = await stack.graphql(RESERVE, {
      deviceId: away.id,
      holder: 'bob',
      durationSeconds: 60,
    })
    expect(refused.errors?.[0]).toMatchObject({
      message: expect.stringContaining('offline'),
      extensions: { code: 'DEVICE_UNAVAILABLE' },
    })
  })
})
