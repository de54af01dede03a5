import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { twinEvents } from '../../src/db/schema.ts'
import { MAX_REPLAY } from '../../src/graphql/resolvers/resume-point.ts'
import { restoreTwin } from '../../src/twins/twin.ts'
import { SEND_COMMAND, simulatedDevices, waitForCommand, waitOnline } from '../support/commands.ts'
import { chargePoint, REGISTER, UPSERT_MODEL } from '../support/models.ts'
import { MODES, startTestStack, type TestStack } from '../support/stack.ts'
import { loggedVersions } from '../support/twin-events.ts'
import { waitFor } from '../support/wait.ts'

const TWIN_CHANGED = /* GraphQL */ `
  subscription ($id: ID!, $since: Int) {
    twinChanged(deviceId: $id, sinceVersion: $since) { version live kind twin { reported } }
  }
`
const ALERTS = /* GraphQL */ `
  subscription ($id: ID, $after: String) {
    alerts(deviceId: $id, after: $after) { id kind clearedAt acknowledgedBy changeCursor }
  }
`
const COMMAND_UPDATED = /* GraphQL */ `
  subscription ($id: ID, $deviceId: ID, $after: String) {
    commandUpdated(id: $id, deviceId: $deviceId, after: $after) {
      id status attempts result events { status } changeCursor
    }
  }
`

describe.each(MODES)('subscriptions resume (%s)', (mode) => {
  let stack: TestStack
  const model = `cp-${Math.random().toString(36).slice(2, 8)}`
  beforeAll(async () => {
    stack = await startTestStack(mode)
    expect(
      (await stack.graphql(UPSERT_MODEL, { input: chargePoint(model) })).errors,
    ).toBeUndefined()
  })
  afterAll(() => stack?.close())

  const send = (id: string, values: Record<string, unknown>) =>
    stack.publish(stack.topics.device(id, 'telemetry'), { values })
  const logged = (id: string) => loggedVersions(stack.database.db, id)
  const codeOf = (errors: unknown[]) =>
    (errors[0] as { extensions?: { code?: string } } | undefined)?.extensions?.code

  it('twinChanged(sinceVersion) sends every version after it, in order, then live ones', async () => {
    const id = stack.deviceId('resume')
    for (const power of [1, 2, 3, 4]) {
      await send(id, { power })
      await stack.applied(id, (r) => r.power === power)
    }
    const before = await logged(id)
    expect(before.length).toBeGreaterThanOrEqual(4)
    const sub = await stack.subscribe(TWIN_CHANGED, { id, since: 1 })
    const versions = () =>
      sub.events.filter((e) => !e.twinChanged.live).map((e) => e.twinChanged.version)
    try {
      // The replay: 2..M straight from the change log, before anything new happens.
      await waitFor(() => versions().length === before.length - 1, { what: 'the replay' })
      expect(versions()).toEqual(before.slice(1))
      expect(sub.events[0]?.twinChanged).toMatchObject({ version: 2, live: false })
      // Then live: new versions follow the replayed ones, each once.
      for (const power of [5, 6]) {
        await send(id, { power })
        await stack.applied(id, (r) => r.power === power)
      }
      const after = await logged(id)
      await waitFor(() => versions().length === after.length - 1, { what: 'the live versions' })
      expect(versions()).toEqual(after.slice(1))
      expect(after.at(-1)).toBeGreaterThan(before.at(-1) ?? 0)
      // Live reported changes came too, and they are not versions.
      expect(sub.events.some((e) => e.twinChanged.live && e.twinChanged.kind === 'live')).toBe(true)
      expect(sub.errors).toEqual([])
    } finally {
      await sub.close()
    }
  })

  it('refuses a resume point that is negative, ahead of the twin, or too far behind', async () => {
    const id = stack.deviceId('far')
    const refusal = async (since: number) => {
      const sub = await stack.subscribe(TWIN_CHANGED, { id, since })
      try {
        await waitFor(() => sub.errors.length > 0, { what: `a refusal of sinceVersion ${since}` })
        return { code: codeOf(sub.errors), message: (sub.errors[0] as Error).message }
      } finally {
        await sub.close()
      }
    }
    expect(await refusal(-1)).toEqual({
      code: 'BAD_USER_INPUT',
      message: expect.stringContaining('sinceVersion must be 0 or more'),
    })
    expect(await refusal(5)).toEqual({
      code: 'BAD_USER_INPUT',
      message: expect.stringContaining('newest version is 0'),
    })
    // A twin with more versions than a subscription replays (written as its workflow would).
    const twin = restoreTwin(id, null)
    await stack.database.db.insert(twinEvents).values(
      Array.from({ length: MAX_REPLAY + 1 }, (_, i) => ({
        deviceId: id,
        version: i + 1,
        at: new Date(),
        kind: 'reported',
        changes: {},
        twin: { ...twin, version: i + 1 },
      })),
    )
    const tooFar = await refusal(0)
    expect(tooFar.code).toBe('BAD_USER_INPUT')
    expect(tooFar.message).toMatch(/more than 1000 versions .* device\(id: .*\) \{ history \}/)
    // Exactly the limit is replayed.
    const sub = await stack.subscribe(TWIN_CHANGED, { id, since: 1 })
    try {
      await waitFor(() => sub.events.length === MAX_REPLAY, { what: 'a replay of the limit' })
      expect(sub.events.at(-1)?.twinChanged.version).toBe(MAX_REPLAY + 1)
      expect(sub.errors).toEqual([])
    } finally {
      await sub.close()
    }
  })

  it('alerts(after) sends every alert changed since the cursor, newest state, then live', async () => {
    const id = stack.deviceId('cp-resume')
    expect(
      (await stack.graphql(REGISTER, { input: { id, modelId: model } })).errors,
    ).toBeUndefined()
    const active = async () =>
      (
        await stack.graphql(
          `query ($id: ID!) { device(id: $id) { alerts(active: true) { id changeCursor } } }`,
          { id },
        )
      ).data?.device.alerts as { id: string; changeCursor: string }[]
    await send(id, { door: true, power: 30_000 })
    const [first] = await waitFor(async () => ((await active()).length === 1 ? active() : false), {
      what: 'an OUT_OF_RANGE alert',
    })
    // While nobody listens: the alert clears, and another is raised.
    await send(id, { power: 1000 })
    await waitFor(async () => (await active()).length === 0, { what: 'the alert cleared' })
    await send(id, { power: 25_000 })
    const [second] = await waitFor(async () => ((await active()).length === 1 ? active() : false), {
      what: 'a second alert',
    })
    expect(second?.id).not.toBe(first?.id)

    const sub = await stack.subscribe(ALERTS, { id, after: first?.changeCursor })
    try {
      await waitFor(() => sub.events.length >= 2, { what: 'the replayed alerts' })
      expect(sub.events.map((e) => e.alerts)).toEqual([
        expect.objectContaining({ id: first?.id, clearedAt: expect.any(String) }),
        expect.objectContaining({ id: second?.id, clearedAt: null, acknowledgedBy: null }),
      ])
      // Live: the acknowledgement, once.
      const ack = await stack.graphql(
        `mutation ($id: ID!) { acknowledgeAlert(id: $id) { changeCursor } }`,
        { id: second?.id },
      )
      await sub.next((e) => e.alerts.acknowledgedBy === 'tester', 'the acknowledgement')
      expect(sub.events).toHaveLength(3)
      expect(sub.events[2]?.alerts.changeCursor).toBe(ack.data?.acknowledgeAlert.changeCursor)
      const cursors = sub.events.map((e) => Number(e.alerts.changeCursor))
      expect(cursors).toEqual([...cursors].sort((a, b) => a - b))
      expect(new Set(cursors).size).toBe(3)
      expect(sub.errors).toEqual([])
    } finally {
      await sub.close()
    }
  })

  it('commandUpdated(after) replays each status change since the cursor, then live', async () => {
    const id = stack.deviceId('cmd-resume')
    const registered = await stack.graphql(REGISTER, { input: { id } })
    const fleet = await simulatedDevices(stack, [
      { id, password: registered.data?.registerDevice.mqttPassword },
    ])
    try {
      await waitOnline(stack, id)
      const sendCommand = async () =>
        (await stack.graphql(SEND_COMMAND, { deviceId: id, name: 'reboot' })).data?.sendCommand
      const first = await sendCommand()
      await waitForCommand(stack, first.id, 'SUCCEEDED')

      // From the start of the feed, for one command: its four status changes, in order.
      const all = await stack.subscribe(COMMAND_UPDATED, { id: first.id, after: '0' })
      const trail = await waitFor(() => all.events.length === 4 && all.events, {
        what: 'the replayed trail',
      })
      await all.close()
      expect(trail.map((e) => e.commandUpdated.status)).toEqual([
        'PENDING',
        'SENT',
        'ACCEPTED',
        'SUCCEEDED',
      ])
      // Each as the command then was: its trail so far, the result only at the end.
      expect(trail.map((e) => e.commandUpdated.events.length)).toEqual([1, 2, 3, 4])
      expect(trail.map((e) => e.commandUpdated.result)).toEqual([
        null,
        null,
        null,
        expect.objectContaining({ name: 'reboot' }),
      ])

      // Resumed after SENT, for the device: ACCEPTED and SUCCEEDED, then the next command live.
      const sub = await stack.subscribe(COMMAND_UPDATED, {
        deviceId: id,
        after: trail[1]?.commandUpdated.changeCursor,
      })
      try {
        await waitFor(() => sub.events.length >= 2, { what: 'the rest of the trail' })
        const second = await sendCommand()
        await waitForCommand(stack, second.id, 'SUCCEEDED')
        await waitFor(() => sub.events.length >= 6, { what: 'the second command live' })
        expect(sub.events.map((e) => [e.commandUpdated.id, e.commandUpdated.status])).toEqual([
          [first.id, 'ACCEPTED'],
          [first.id, 'SUCCEEDED'],
          [second.id, 'PENDING'],
          [second.id, 'SENT'],
          [second.id, 'ACCEPTED'],
          [second.id, 'SUCCEEDED'],
        ])
        expect(sub.errors).toEqual([])
      } finally {
        await sub.close()
      }
    } finally {
      await fleet.stop()
    }
  })

  it('refuses a change cursor that is not one, or is ahead of the feed', async () => {
    for (const [query, after, message] of [
      [ALERTS, 'yesterday', 'is not a cursor of the alerts feed'],
      [ALERTS, '999999999999', 'ahead of the alerts feed'],
      [COMMAND_UPDATED, '-3', 'is not a cursor of the command feed'],
      [COMMAND_UPDATED, '999999999999', 'ahead of the command feed'],
    ] as const) {
      const sub = await stack.subscribe(query, { after })
      try {
        await waitFor(() => sub.errors.length > 0, { what: `a refusal of ${after}` })
        expect(codeOf(sub.errors)).toBe('BAD_USER_INPUT')
        expect((sub.errors[0] as Error).message).toContain(message)
      } finally {
        await sub.close()
      }
    }
  })
})
