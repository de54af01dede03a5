import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { commands, deviceModels, devices, reservations } from '../../src/db/schema.ts'
import { RESERVE, SEND_COMMAND } from '../support/commands.ts'
import type { GraphQLResult } from '../support/graphql.ts'
import { chargePoint, REGISTER, UPSERT_MODEL } from '../support/models.ts'
import { MODES, startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

const SET_DESIRED = /* GraphQL */ `
  mutation ($id: ID!, $patch: JSON!) { setDesired(deviceId: $id, patch: $patch) { desired desiredVersion } }
`

const NUL = 'contains U+0000 (NUL), which Postgres text cannot hold'
const SURROGATE = 'contains a lone UTF-16 surrogate'

/** The operation was refused as bad input, with exactly this message. */
function expectRefused(result: GraphQLResult, message: string | RegExp) {
  expect(result.data ?? null).toBeNull()
  expect(result.errors).toHaveLength(1)
  expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
  if (typeof message === 'string') expect(result.errors?.[0]?.message).toBe(message)
  else expect(result.errors?.[0]?.message).toMatch(message)
}

describe.each(MODES)('arguments Postgres cannot store (%s)', (mode) => {
  let stack: TestStack
  let id: string
  const model = `cp-${Math.random().toString(36).slice(2, 8)}`
  beforeAll(async () => {
    stack = await startTestStack(mode)
    id = stack.deviceId('storable')
    await stack.graphql(UPSERT_MODEL, { input: chargePoint(model) })
    const registered = await stack.graphql(REGISTER, {
      input: { id, modelId: model, serialNumber: 'SN-1' },
    })
    expect(registered.errors).toBeUndefined()
  })
  afterAll(() => stack?.close())

  const rows = (table: typeof commands | typeof reservations) =>
    stack.database.db.select().from(table).where(eq(table.deviceId, id))

  it('refuses a desired patch holding NUL in a value or a lone surrogate in a key', async () => {
    expectRefused(
      await stack.graphql(SET_DESIRED, { id, patch: { mode: 'eco', label: 'a\u0000b' } }),
      `argument "patch" at $.label: ${NUL}`,
    )
    expectRefused(
      await stack.graphql(SET_DESIRED, { id, patch: { nested: { 'k\ud800': 1 } } }),
      /^argument "patch" at \$\.nested\..+ \(a key\): contains a lone UTF-16 surrogate/,
    )
    expectRefused(
      await stack.graphql(
        `mutation { setDesired(deviceId: "${id}", patch: { list: ["ok", "a\\u0000"] }) { desiredVersion } }`,
      ),
      `argument "patch" at $.list[1]: ${NUL}`,
    )
    // Nothing reached the twin; a patch Postgres can store still does.
    const valid = await stack.graphql(SET_DESIRED, { id, patch: { label: 'a b \ud83d\ude00' } })
    expect(valid.data?.setDesired).toEqual({
      desired: { label: 'a b \ud83d\ude00' },
      desiredVersion: 1,
    })
  })

  it('refuses a NUL written inline in the document, and registers nothing', async () => {
    const other = stack.deviceId('inline')
    // "\\u0000" here is GraphQL's own escape in the document, not a JSON variable.
    const result = await stack.graphql(
      `mutation { registerDevice(input: { id: "${other}", serialNumber: "SN\\u0000" }) { mqttPassword } }`,
    )
    expectRefused(result, `argument "input" at $.serialNumber: ${NUL}`)
    expect(await stack.database.db.select().from(devices).where(eq(devices.id, other))).toEqual([])
    expect((await stack.graphql(`{ device(id: "${other}") { id } }`)).data?.device).toBeNull()
  })

  it('refuses such a reservation holder, command args and sensor name, writing nothing', async () => {
    expectRefused(
      await stack.graphql(RESERVE, { deviceId: id, holder: 'ann\u0000', durationSeconds: 60 }),
      `argument "holder": ${NUL}`,
    )
    expectRefused(
      await stack.graphql(SEND_COMMAND, { deviceId: id, name: 'reboot', args: { at: ['\udc00'] } }),
      new RegExp(`^argument "args" at \\$\\.at\\[0\\]: ${SURROGATE}`),
    )
    expectRefused(
      await stack.graphql(SEND_COMMAND, { deviceId: id, name: 're\u0000boot' }),
      `argument "name": ${NUL}`,
    )
    const broken = chargePoint(`${model}-broken`, {
      sensors: [{ name: 'do\u0000r', kind: 'BOOLEAN' }],
    })
    expectRefused(
      await stack.graphql(UPSERT_MODEL, { input: broken }),
      `argument "input" at $.sensors[0].name: ${NUL}`,
    )
    expect(await rows(reservations)).toEqual([])
    expect(await rows(commands)).toEqual([])
    const models = stack.database.db.select().from(deviceModels)
    expect(await models.where(eq(deviceModels.id, broken.id))).toEqual([])
  })

  it('refuses such a string in a query argument and a variable default', async () => {
    expectRefused(await stack.graphql(`{ device(id: "x\\u0000") { id } }`), `argument "id": ${NUL}`)
    expectRefused(
      await stack.graphql(`query ($id: ID! = "x\\u0000") { device(id: $id) { id } }`),
      `argument "id": ${NUL}`,
    )
  })

  it('refuses such a subscription argument over graphql-ws', async () => {
    const sub = await stack.subscribe(
      `subscription ($id: ID!) { telemetry(deviceId: $id, sensor: "do\\u0000r") { value } }`,
      { id },
    )
    try {
      const [error] = await waitFor(() => sub.errors.length > 0 && sub.errors, {
        what: 'the subscription refused',
      })
      expect(error).toMatchObject({
        message: `argument "sensor": ${NUL}`,
        extensions: { code: 'BAD_USER_INPUT' },
      })
    } finally {
      await sub.close()
    }
  })
})
