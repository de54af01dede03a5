import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { freePort } from '../../src/embedded/ports.ts'

/**
 * A TCP proxy on a free loopback port to `target` ("host:port"): stopping it closes the port and
 * cuts every connection, as a service that goes away does; starting it again listens on the
 * same port. For tests of what devtwin does when Postgres or Temporal become unreachable.
 */
export async function startTcpProxy(target: string) {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), target.split(':').pop()]
  const listenPort = await freePort()
  const sockets = new Set<Socket>()
  let server: Server | undefined

  const start = async () => {
    server = createServer((client) => {
      const upstream = createConnection({ host, port: Number(port) })
      for (const socket of [client, upstream]) {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
        socket.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve, reject) => {
      server?.once('error', reject)
      server?.listen(listenPort, '127.0.0.1', () => resolve())
    })
  }
  await start()

  return {
    address: `127.0.0.1:${listenPort}`,
    start,
    async stop() {
      const closed = new Promise<void>((resolve) => server?.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
}
