import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.ts'
import { choosePorts, DEFAULT_PORTS } from '../src/embedded/choose-ports.ts'
import { freePort } from '../src/embedded/ports.ts'
import { ROLES } from '../src/roles/index.ts'

/** Holds `port` on 127.0.0.1 unless something (the machine's Mosquitto on 1883) already does. */
async function occupy(port: number): Promise<Server | null> {
  const server = createServer()
  return new Promise((resolve) => {
    server.once('error', () => resolve(null))
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

describe('choosing ports', () => {
  let held: Server | null
  beforeAll(async () => {
    held = await occupy(DEFAULT_PORTS.mqtt)
  })
  afterAll(() => held?.close())

  const config = async (env: Record<string, string> = {}) =>
    loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:7233', PORT: String(await freePort()), ...env })

  it('moves the broker off a taken default port, saying how to use the broker there', async () => {
    const { ports, notices } = await choosePorts(await config(), ROLES)
    expect(ports.mqtt).toBeGreaterThan(DEFAULT_PORTS.mqtt)
    expect(notices).toHaveLength(1)
    expect(notices[0]).toContain(`port 1883 (MQTT) is taken`)
    expect(notices[0]).toContain(`using ${ports.mqtt} instead`)
    expect(notices[0]).toContain('MQTT_URL=mqtt://127.0.0.1:1883 npm run dev')
  })

  it('refuses a taken port that was set on purpose, naming the setting', async () => {
    const attempt = choosePorts(await config({ MQTT_PORT: '1883' }), ROLES)
    await expect(attempt).rejects.toBeInstanceOf(ConfigError)
    await expect(attempt).rejects.toThrow('port 1883 (MQTT) is already in use: set MQTT_PORT')
  })

  it('warns when DEVTWIN_BIND opens the embedded broker to the network', async () => {
    const { notices } = await choosePorts(
      await config({
        DEVTWIN_BIND: '0.0.0.0',
        MQTT_PORT: String(await freePort()),
        DEVTWIN_AUTO_PROVISION: 'true',
      }),
      ROLES,
    )
    expect(notices).toEqual([
      'listening on 0.0.0.0 (DEVTWIN_BIND): other machines can reach the API; the embedded broker, which lets any device in (auto-provisioning)',
    ])
  })

  it('says nothing when every port is free and the bind is loopback', async () => {
    const { notices } = await choosePorts(
      await config({ MQTT_PORT: String(await freePort()) }),
      ROLES,
    )
    expect(notices).toEqual([])
  })
})
