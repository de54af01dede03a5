import pMap from 'p-map'
import { RANGES } from '../src/simulator/profiles.ts'
import { type DeviceModel, deviceModelSchema } from '../src/twins/model.ts'
import { request } from '../test/support/graphql.ts'

const [powerMin, powerMax] = RANGES['charge-point'].power
const [temperatureMin, temperatureMax] = RANGES['charge-point'].temperature

/**
 * The simulated charge points' model, so their twins judge health (auto-provisioned devices have
 * none, and raise no alerts). Ranges are the simulator's physical ones: only its out-of-range
 * devices leave them. No STUCK limit: a charger idle at 0 W for ten minutes is not what the bench
 * times. A flapping episode settles after 10 s quiet, so the next one raises a new alert.
 */
export const BENCH_MODEL: DeviceModel = deviceModelSchema.parse({
  id: 'bench-charge-point',
  name: 'Charge point (bench)',
  sensors: [
    {
      name: 'cable',
      kind: 'ENUM',
      flapping: { maxChanges: 6, windowSeconds: 60, quietSeconds: 10 },
    },
    { name: 'door', kind: 'BOOLEAN' },
    { name: 'power', kind: 'NUMBER', unit: 'W', min: powerMin, max: powerMax },
    {
      name: 'temperature',
      kind: 'NUMBER',
      unit: '°C',
      min: temperatureMin,
      max: temperatureMax,
    },
  ],
  rules: [{ sensor: 'cable', requires: 'door', equals: true, withinSeconds: 30 }],
})

const UPSERT_MODEL =
  'mutation ($input: DeviceModelInput!) { upsertDeviceModel(input: $input) { id } }'
const REGISTER =
  'mutation ($input: RegisterDeviceInput!) { registerDevice(input: $input) { mqttPassword } }'

/**
 * Creates the model and registers every device with it over GraphQL, as an admin would, before
 * the devices first connect: each twin then starts with its model. Returns each device's MQTT
 * password (the embedded broker checks it; the bench's Mosquitto does not).
 */
export async function registerFleet(url: string, adminToken: string, ids: readonly string[]) {
  const auth = `Bearer ${adminToken}`
  const { id, name, sensors, rules, silentAfterSeconds, freshnessSeconds } = BENCH_MODEL
  const input = { id, name, sensors, rules, silentAfterSeconds, freshnessSeconds }
  const upserted = await request(url, UPSERT_MODEL, { input }, auth)
  if (upserted.errors) throw new Error(`upsertDeviceModel: ${upserted.errors[0]?.message}`)
  const passwords = await pMap(
    ids,
    async (deviceId) => {
      const registered = await request<{ registerDevice: { mqttPassword: string } }>(
        url,
        REGISTER,
        { input: { id: deviceId, modelId: id } },
        auth,
      )
      const password = registered.data?.registerDevice.mqttPassword
      if (!password)
        throw new Error(`registerDevice ${deviceId}: ${registered.errors?.[0]?.message}`)
      return { id: deviceId, password }
    },
    // Each registration hashes a secret (PBKDF2): a few at once keep the api's threads busy.
    { concurrency: 8 },
  )
  return passwords
}
