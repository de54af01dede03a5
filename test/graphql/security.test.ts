import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mintToken } from '../../src/graphql/auth.ts'
import { LIMITS } from '../../src/graphql/limits.ts'
import { subscribe } from '../support/graphql.ts'
import { chargePoint } from '../support/models.ts'
import { JWT_SECRET, startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

/** Every mutation with arguments that pass GraphQL validation, and the role it needs. */
const MUTATIONS: [string, 'operator' | 'admin', string, Record<string, unknown>][] = [
  [
    'upsertDeviceModel',
    'admin',
    'mutation ($m: DeviceModelInput!) { upsertDeviceModel(input: $m) { id } }',
    { m: chargePoint('matrix') },
  ],
  [
    'registerDevice',
    'admin',
    'mutation { registerDevice(input: { id: "matrix-1" }) { mqttUsername } }',
    {},
  ],
  [
    'updateDevice',
    'admin',
    'mutation { updateDevice(id: "matrix-1", input: { firmware: "2" }) { id } }',
    {},
  ],
  ['decommissionDevice', 'admin', 'mutation { decommissionDevice(id: "matrix-2") { id } }', {}],
  [
    'rotateDeviceSecret',
    'admin',
    'mutation { rotateDeviceSecret(id: "matrix-1") { mqttPassword } }',
    {},
  ],
  [
    'setDesired',
    'operator',
    'mutation { setDesired(deviceId: "matrix-1", patch: { a: 1 }) { version } }',
    {},
  ],
  [
    'acknowledgeAlert',
    'operator',
    'mutation { acknowledgeAlert(id: "00000000-0000-0000-0000-000000000000") { id } }',
    {},
  ],
  [
    'sendCommand',
    'operator',
    'mutation { sendCommand(deviceId: "matrix-1", name: "reboot") { id } }',
    {},
  ],
  [
    'cancelCommand',
    'operator',
    'mutation { cancelCommand(id: "00000000-0000-0000-0000-000000000000") { id } }',
    {},
  ],
  [
    'reserve',
    'operator',
    'mutation { reserve(deviceId: "matrix-1", holder: "ann", durationSeconds: 60) { id } }',
    {},
  ],
  [
    'extendReservation',
    'operator',
    'mutation { extendReservation(id: "00000000-0000-0000-0000-000000000000", durationSeconds: 9) { id } }',
    {},
  ],
  [
    'release',
    'operator',
    'mutation { release(id: "00000000-0000-0000-0000-000000000000") { id } }',
    {},
  ],
]

describe('API security', () => {
  let stack: TestStack
  beforeAll(async () => {
    stack = await startTestStack('embedded')
  })
  afterAll(() => stack?.close())

  const as = async (role: 'viewer' | 'operator' | 'admin') => `Bearer ${await stack.token(role)}`

  it('covers every mutation of the schema in the role matrix', async () => {
    const result = await stack.graphql('{ __schema { mutationType { fields { name } } } }')
    const names = result.data?.__schema.mutationType.fields
      .map((f: { name: string }) => f.name)
      .sort()
    expect(names).toEqual(MUTATIONS.map(([name]) => name).sort())
  })

  it.each(MUTATIONS)('%s needs the %s role', async (name, needs, query, variables) => {
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      const result = await stack.graphql(query, variables, await as(role))
      const allowed = role === 'admin' || role === needs
      const code = result.errors?.[0]?.extensions?.code
      if (allowed) expect(code, `${name} as ${role}`).not.toBe('FORBIDDEN')
      else
        expect(result.errors?.[0], `${name} as ${role}`).toMatchObject({
          extensions: { code: 'FORBIDDEN' },
          message: expect.stringContaining(`needs the ${needs} role`),
        })
    }
  })

  it('lets a viewer query and subscribe', async () => {
    const viewer = await as('viewer')
    const result = await stack.graphql(
      '{ devices { edges { cursor } } deviceModels { id } alerts { edges { cursor } } }',
      {},
      viewer,
    )
    expect(result.errors).toBeUndefined()
    for (const query of [
      'subscription { twinChanged(deviceId: "x") { version } }',
      'subscription { telemetry(deviceId: "x") { value } }',
      'subscription { alerts { id } }',
      'subscription { commandUpdated(deviceId: "x") { status } }',
    ]) {
      const sub = await subscribe(stack.graphqlUrl ?? '', viewer, query)
      await sub.close()
      expect(sub.errors, query).toEqual([])
      expect(sub.closed()?.code, query).not.toBe(4401)
    }
  })

  it('closes a subscription when its token expires', async () => {
    const short = await mintToken(JWT_SECRET, { sub: 'brief', role: 'viewer' }, '2s')
    const sub = await subscribe(
      stack.graphqlUrl ?? '',
      `Bearer ${short}`,
      'subscription { alerts { id } }',
    )
    const closed = await waitFor(() => sub.closed(), {
      timeout: 10_000,
      what: 'the socket closed at expiry',
    })
    expect(closed).toMatchObject({ code: 4401, reason: expect.stringContaining('expired') })
    await sub.close()
  })

  it('refuses queries over the alias, cost and token limits, saying which', async () => {
    const fine =
      '{ alerts { edges { node { id } } } device(id: "x") { history { edges { node { twin { sensors { name } } } } } } }'
    expect((await stack.graphql(fine)).errors).toBeUndefined()
    const aliases = `{ ${Array.from({ length: LIMITS.aliases + 1 }, (_, i) => `a${i}: deviceModels { id }`).join(' ')} }`
    expect((await stack.graphql(aliases)).errors?.[0]?.message).toMatch(
      new RegExp(`aliases.*${LIMITS.aliases}`, 'i'),
    )
    const costly =
      '{ devices(first: 500) { edges { node { history(first: 500) { edges { node { twin { sensors { name } } } } } } } } }'
    expect((await stack.graphql(costly)).errors?.[0]?.message).toMatch(
      new RegExp(`cost limit of ${LIMITS.cost}`, 'i'),
    )
    const tokens = `{ ${Array.from({ length: LIMITS.tokens }, () => 'deviceModels { id }').join(' ')} }`
    expect((await stack.graphql(tokens)).errors?.[0]?.message).toMatch(
      new RegExp(`token.*${LIMITS.tokens}`, 'i'),
    )
  })

  it('refuses a request body over the limit before reading it', async () => {
    const response = await fetch(stack.graphqlUrl ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: await as('viewer') },
      body: JSON.stringify({
        query: `{ devices { edges { cursor } } } # ${'x'.repeat(LIMITS.bodyBytes)}`,
      }),
    })
    expect(response.status).toBe(413)
    const body = (await response.json()) as {
      errors: { message: string; extensions: { code: string } }[]
    }
    expect(body.errors[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: expect.stringContaining(`limit is ${LIMITS.bodyBytes}`),
    })
  })
})
