import { createConnection, createServer, type Socket } from 'node:net'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { freePort } from '../../src/embedded/ports.ts'
import { connectTemporal } from '../../src/workflows/temporal-connection.ts'
import { waitFor } from '../support/wait.ts'

/**
 * A Temporal that can be made to hang up: while down it accepts each connection and closes it at
 * once, so the client's calls fail (UNAVAILABLE) and are retried, and the test can count the
 * client's attempts to reconnect.
 */
async function hangingUpTemporal(target: string) {
  const [host, port] = target.split(':')
  const sockets = new Set<Socket>()
  let up = true
  let refused = 0
  const server = createServer((client) => {
    if (!up) {
      refused++
      client.destroy()
      return
    }
    const upstream = createConnection({ host, port: Number(port) })
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => socket.destroy())
    }
    client.pipe(upstream).pipe(client)
  })
  const listenPort = await freePort()
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve))
  return {
    address: `127.0.0.1:${listenPort}`,
    refused: () => refused,
    goDown() {
      up = false
      for (const socket of sockets) socket.destroy()
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

describe('a Temporal connection closed while its calls are failing', () => {
  const servers: { close(): Promise<void> }[] = []
  afterAll(async () => {
    for (const server of servers) await server.close()
  })

  it('ends the retrying calls and closes, with no retry left to throw from a timer', async () => {
    const temporal = await hangingUpTemporal(inject('temporalAddress'))
    servers.push(temporal)
    const { connection, close } = await connectTemporal(temporal.address)
    temporal.goDown()
    const started = Date.now()
    const call = connection.withDeadline(Date.now() + 60_000, () =>
      connection.workflowService.getSystemInfo({}),
    )
    const failed = call.then(
      () => 'answered',
      () => Date.now(),
    )
    // The call is in its retry loop once the client has tried to reconnect.
    await waitFor(() => temporal.refused() >= 2, { what: 'the client to retry', timeout: 30_000 })
    const closing = Date.now()
    await close()
    const failedAt = await failed
    expect(failedAt).not.toBe('answered')
    // Ended by the close, not by its 60 s deadline; a retry left waiting on a timer would
    // throw "Channel has been shut down" as an uncaught exception, which fails this run.
    expect(Number(failedAt) - closing).toBeLessThan(10_000)
    expect(Number(failedAt) - started).toBeLessThan(60_000)
  })
})
