import { createServer } from 'node:net'
import { ConfigError } from '../config.ts'

/** Fails with one line naming the port and the setting to change when `port` is taken. */
export async function ensurePortFree(port: number, what: string, hint: string): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const probe = createServer()
    probe.once('error', () => resolve(false))
    probe.listen(port, '0.0.0.0', () => probe.close(() => resolve(true)))
  })
  if (!free) throw new ConfigError(`port ${port} (${what}) is already in use: ${hint}`)
}

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
