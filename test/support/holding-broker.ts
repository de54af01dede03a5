import { createServer } from 'node:net'
import { Aedes } from 'aedes'

/**
 * An aedes broker on a port of its own, which can be made to hold every subscription without
 * answering (a broker that is overloaded or half gone), and be stopped and started again.
 */
export async function startHoldingBroker(port: number) {
  const broker = await Aedes.createBroker()
  let holding = false
  const held: (() => void)[] = []
  broker.authorizeSubscribe = (_client, subscription, callback) => {
    const answer = () => callback(null, subscription)
    if (holding) held.push(answer)
    else answer()
  }
  const server = createServer(broker.handle)
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {
    hold() {
      holding = true
    },
    release() {
      holding = false
      for (const answer of held.splice(0)) answer()
    },
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
