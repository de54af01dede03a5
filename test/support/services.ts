import mqtt from 'mqtt'
import postgres from 'postgres'

/** The machine's own Postgres and Mosquitto, which the "services" mode tests run against. */
export const SERVICES = {
  databaseUrl: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  mqttUrl: process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883',
}

/** Fails the run at once, with what to do, when the machine's services are not reachable. */
export async function ensureServices(): Promise<void> {
  const sql = postgres(SERVICES.databaseUrl, { max: 1, connect_timeout: 5, onnotice: () => {} })
  try {
    await sql`select 1`
  } catch (error) {
    throw new Error(
      `Postgres at ${SERVICES.databaseUrl} is not reachable (${error}); start it or set TEST_DATABASE_URL`,
    )
  } finally {
    await sql.end()
  }
  try {
    const client = await mqtt.connectAsync(SERVICES.mqttUrl, {
      connectTimeout: 5000,
      reconnectPeriod: 0,
    })
    await client.endAsync()
  } catch (error) {
    throw new Error(
      `no MQTT broker at ${SERVICES.mqttUrl} (${error}); start Mosquitto or set TEST_MQTT_URL`,
    )
  }
}

/** A database of its own on the machine's Postgres, dropped by `drop()`. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `devtwin_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const admin = postgres(SERVICES.databaseUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${name}"`)
  const url = new URL(SERVICES.databaseUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`drop database if exists "${name}" with (force)`)
      await admin.end()
    },
  }
}
