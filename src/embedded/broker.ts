import { createServer } from 'node:net'
import { Aedes } from 'aedes'
import { type BrokerAuthOptions, protectBroker } from './broker-auth.ts'
import { connectHost } from './ports.ts'

/**
 * The embedded MQTT broker (aedes, MQTT 3.1.1) for `npm run dev` and tests; with `auth`, it
 * authenticates devices and holds each to its own topics.
 */
export async function startBroker(port: number, host = '127.0.0.1', auth?: BrokerAuthOptions) {
  const broker = await Aedes.createBroker()
  if (auth) protectBroker(broker, auth)
  const server = createServer(broker.handle)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const address = server.address()
  const boundPort = typeof address === 'object' && address ? address.port : port
  return {
    url: `mqtt://${connectHost(host)}:${boundPort}`,
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
