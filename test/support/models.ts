/** The worked example of docs/twins.md: a charge point whose cable sits behind a door. */
export const chargePoint = (id: string, overrides: Record<string, unknown> = {}) => ({
  id,
  name: 'Charge point',
  sensors: [
    {
      name: 'cable',
      kind: 'ENUM',
      flapping: { maxChanges: 6, windowSeconds: 60, quietSeconds: 4 },
    },
    { name: 'door', kind: 'BOOLEAN' },
    { name: 'power', kind: 'NUMBER', unit: 'W', min: 0, max: 22_000, stuckAfterSeconds: 600 },
  ],
  rules: [{ sensor: 'cable', requires: 'door', equals: true, withinSeconds: 30 }],
  silentAfterSeconds: 300,
  freshnessSeconds: 120,
  ...overrides,
})

export const UPSERT_MODEL = /* GraphQL */ `
  mutation ($input: DeviceModelInput!) { upsertDeviceModel(input: $input) { id } }
`

export const REGISTER = /* GraphQL */ `
  mutation ($input: RegisterDeviceInput!) {
    registerDevice(input: $input) { device { id model { id } } mqttUsername mqttPassword }
  }
`

export const TWIN_HEALTH = /* GraphQL */ `
  query ($id: ID!) {
    device(id: $id) {
      twin { version online health healthReason reported sensors { name value health healthReason } }
      alerts { id sensor kind message clearedAt }
    }
  }
`
