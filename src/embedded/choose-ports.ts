import type { Config } from '../config.ts'
import type { Role } from '../roles/index.ts'
import { choosePort, isLoopback } from './ports.ts'

/** Where devtwin listens unless told otherwise. */
export const DEFAULT_PORTS = { mqtt: 1883, temporal: 7233, api: 4000 }

/**
 * Every port this process will listen on, chosen before anything starts: a default that is taken
 * moves to the next free port (said in a notice), a port set on purpose that is taken stops the
 * start with the setting to change.
 */
export async function choosePorts(config: Config, roles: readonly Role[]) {
  const host = config.DEVTWIN_BIND
  const notices: string[] = []
  const pick = async (
    what: string,
    setting: 'MQTT_PORT' | 'TEMPORAL_PORT' | 'PORT',
    wanted: number,
    hint: string,
    also = '',
  ) => {
    const strict = config[setting] !== undefined
    const port = await choosePort({ what, port: wanted, strict, hint }, host)
    if (port !== wanted)
      notices.push(`port ${wanted} (${what}) is taken: using ${port} instead${also}`)
    return port
  }
  const ports = { mqtt: 0, temporal: 0, temporalUi: 0, api: 0 }
  if (!config.TEMPORAL_ADDRESS) {
    const hint = 'set TEMPORAL_PORT to another port, or TEMPORAL_ADDRESS to use that server'
    const wanted = config.TEMPORAL_PORT ?? DEFAULT_PORTS.temporal
    ports.temporal = await pick('Temporal', 'TEMPORAL_PORT', wanted, hint)
    ports.temporalUi = await pick('Temporal UI', 'TEMPORAL_PORT', wanted + 1000, hint)
  }
  if (!config.MQTT_URL) {
    const wanted = config.MQTT_PORT ?? DEFAULT_PORTS.mqtt
    const useIt = `MQTT_URL=mqtt://127.0.0.1:${wanted}`
    ports.mqtt = await pick(
      'MQTT',
      'MQTT_PORT',
      wanted,
      `set MQTT_PORT to another port for the embedded broker, or ${useIt} to use the broker there`,
      // Mosquitto, most likely: say how to use it instead of the embedded one.
      `. If a broker runs there, use it instead with ${useIt} npm run dev`,
    )
  }
  if (roles.includes('api')) {
    const wanted = config.PORT ?? DEFAULT_PORTS.api
    ports.api = await pick('GraphQL', 'PORT', wanted, 'set PORT to another port')
  }
  const probes = probePort(config, roles)
  if (probes !== null) {
    const hint = 'set DEVTWIN_METRICS_PORT to another port'
    await choosePort({ what: 'metrics and probes', port: probes, strict: true, hint }, host)
  }
  const reachable = [
    ports.api && 'the API',
    ports.mqtt &&
      `the embedded broker${config.DEVTWIN_AUTO_PROVISION ? ', which lets any device in (auto-provisioning)' : ''}`,
    ports.temporal && 'the Temporal dev server and its UI, which ask for no login',
  ].filter(Boolean)
  if (!isLoopback(host) && reachable.length > 0) {
    notices.push(
      `listening on ${host} (DEVTWIN_BIND): other machines can reach ${reachable.join('; ')}`,
    )
  }
  return { ports, notices }
}

/**
 * The port of this process's own probe server, or null when the probes share the GraphQL port
 * (the api runs here and DEVTWIN_METRICS_PORT is unset). Ingest and worker default to ports of
 * their own, so that both can run on one host without settings.
 */
export function probePort(config: Config, roles: readonly Role[]): number | null {
  if (config.DEVTWIN_METRICS_PORT !== undefined) return config.DEVTWIN_METRICS_PORT
  if (roles.includes('api')) return null
  return roles.includes('ingest') ? 9464 : 9465
}
