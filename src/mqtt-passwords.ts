// `npm run mqtt:passwords -- --out mosquitto/passwords`: writes the password file an external
// Mosquitto authenticates devtwin and the devices with (see mosquitto/mosquitto.conf). Run it
// after registering, rotating or decommissioning devices, then reload Mosquitto (SIGHUP).
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from './config.ts'
import { openDatabase } from './db/client.ts'
import { mosquittoPasswordFile } from './device-access/mosquitto-passwords.ts'

try {
  const { values } = parseArgs({ options: { out: { type: 'string' } } })
  const config = loadConfig()
  if (!config.DATABASE_URL) throw new ConfigError('set DATABASE_URL: the registry to export')
  if (!config.DEVTWIN_MQTT_PASSWORD) {
    throw new ConfigError(
      'set DEVTWIN_MQTT_PASSWORD: the password devtwin connects to the broker with',
    )
  }
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DEVTWIN_DATA_DIR,
  })
  try {
    const file = await mosquittoPasswordFile(database.db, {
      username: config.DEVTWIN_MQTT_USERNAME,
      password: config.DEVTWIN_MQTT_PASSWORD,
    })
    if (values.out) writeFileSync(values.out, file, { mode: 0o600 })
    else process.stdout.write(file)
  } finally {
    await database.close()
  }
} catch (error) {
  console.error(`devtwin: ${error instanceof Error ? error.message : error}`)
  process.exit(1)
}
