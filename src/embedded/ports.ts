import { createServer } from 'node:net'
import getPort, { portNumbers } from 'get-port'
import { ConfigError } from '../config.ts'

/** How far past a taken default port devtwin looks for a free one. */
const SEARCH_SPAN = 100

export interface PortWish {
  /** What listens there, for the messages ("MQTT", "GraphQL"). */
  what: string
  /** The port asked for. */
  port: number
  /** Set on purpose (an environment variable): a port someone chose is kept or refused, never moved. */
  strict: boolean
  /** What to change when a strict port is taken. */
  hint: string
}

/**
 * The port to listen on at `host`: the one wished for when it is free; else, for a default, the
 * next free one after it (so a machine's own Mosquitto on 1883 does not stop `npm run dev`); for
 * a port set on purpose, a one-line ConfigError naming the setting to change.
 */
export async function choosePort(wish: PortWish, host: string): Promise<number> {
  if (wish.port === 0) return 0
  const port = await getPort({
    port: portNumbers(wish.port, Math.min(wish.port + SEARCH_SPAN, 65535)),
    host,
  })
  if (port !== wish.port && wish.strict) {
    throw new ConfigError(`port ${wish.port} (${wish.what}) is already in use: ${wish.hint}`)
  }
  return port
}

/** Whether listening on `host` keeps a server to this machine. */
export const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || host.startsWith('127.')

/** The address to reach a server listening on `host` by: loopback for "every interface". */
export const connectHost = (host: string) =>
  host === '0.0.0.0'
    ? '127.0.0.1'
    : host === '::'
      ? '[::1]'
      : host.includes(':')
        ? `[${host}]`
        : host

/** A port the OS says is free right now (for tests and extra servers). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => resolve(port))
    })
  })
}
