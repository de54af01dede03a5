import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startBroker } from '../../src/embedded/broker.ts'
import { freePort } from '../../src/embedded/ports.ts'
import type { ReadinessReport } from '../../src/probes/readiness.ts'
import { createTestDatabase } from '../support/services.ts'
import { startTestStack, type TestStack } from '../support/stack.ts'
import { startTcpProxy } from '../support/tcp-proxy.ts'
import { waitFor } from '../support/wait.ts'

/** What the issue allows between a dependency failing and /readyz saying so. */
const NOTICED_WITHIN_MS = 10_000

async function readyz(stack: TestStack) {
  const response = await fetch(`${stack.probesUrl}/readyz`)
  return { status: response.status, report: (await response.json()) as ReadinessReport }
}

/**
 * An ingest process whose Postgres and Temporal are reached through proxies the test stops and
 * starts, and whose broker is an aedes the test stops and starts: /readyz turns 503 naming the
 * failed connection within 10 s, and 200 again once it is back.
 */
describe('/readyz of an ingest process', () => {
  let stack: TestStack
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let database: Awaited<ReturnType<typeof startTcpProxy>>
  let temporal: Awaited<ReturnType<typeof startTcpProxy>>
  let brokerPort: number
  let broker: Awaited<ReturnType<typeof startBroker>>

  beforeAll(async () => {
    db = await createTestDatabase()
    const dbUrl = new URL(db.url)
    database = await startTcpProxy(`${dbUrl.hostname}:${dbUrl.port || 5432}`)
    dbUrl.host = database.address
    temporal = await startTcpProxy(inject('temporalAddress'))
    brokerPort = await freePort()
    broker = await startBroker(brokerPort)
    stack = await startTestStack('services', {
      roles: ['ingest'],
      env: {
        DATABASE_URL: dbUrl.toString(),
        TEMPORAL_ADDRESS: temporal.address,
        MQTT_URL: broker.url,
        // aedes speaks MQTT 3.1.1.
        MQTT_PROTOCOL_VERSION: '4',
      },
    })
  })
  afterAll(async () => {
    await stack?.close()
    await broker?.close()
    await database?.stop()
    await temporal?.stop()
    await db?.drop()
  })

  it('is alive and ready with every connection working', async () => {
    const health = await fetch(`${stack.probesUrl}/healthz`)
    expect(health.status).toBe(200)
    const { status, report } = await readyz(stack)
    expect(status).toBe(200)
    expect(report.checks).toEqual({
      postgres: 'ok',
      'mqtt (ingest)': 'ok',
      'temporal (ingest)': 'ok',
    })
  })

  const outages = [
    {
      check: 'postgres',
      stop: () => database.stop(),
      start: () => database.start(),
    },
    {
      check: 'mqtt (ingest)',
      stop: () => broker.close(),
      start: async () => {
        broker = await startBroker(brokerPort)
      },
    },
    {
      check: 'temporal (ingest)',
      stop: () => temporal.stop(),
      start: () => temporal.start(),
    },
  ]

  for (const outage of outages) {
    it(`says 503 within 10 s when ${outage.check} goes away, and 200 once it is back`, async () => {
      await outage.stop()
      const stoppedAt = Date.now()
      const down = await waitFor(
        async () => {
          const answer = await readyz(stack)
          return answer.status === 503 && answer
        },
        { timeout: NOTICED_WITHIN_MS, what: `/readyz to notice ${outage.check} is gone` },
      )
      expect(Date.now() - stoppedAt).toBeLessThan(NOTICED_WITHIN_MS)
      expect(down.report.checks[outage.check]).not.toBe('ok')
      // Only what failed is named.
      const failed = Object.entries(down.report.checks).filter(([, result]) => result !== 'ok')
      expect(failed.map(([name]) => name)).toEqual([outage.check])
      // /healthz is about the process, not its dependencies.
      expect((await fetch(`${stack.probesUrl}/healthz`)).status).toBe(200)

      await outage.start()
      await waitFor(async () => (await readyz(stack)).status === 200, {
        timeout: 60_000,
        what: `/readyz to see ${outage.check} back`,
      })
    })
  }
})
