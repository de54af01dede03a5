import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEND_COMMAND } from '../support/commands.ts'
import { scrape } from '../support/metrics.ts'
import { chargePoint, REGISTER, UPSERT_MODEL } from '../support/models.ts'
import { startTestStack, type TestStack } from '../support/stack.ts'
import { waitFor } from '../support/wait.ts'

const CANCEL = 'mutation ($id: ID!) { cancelCommand(id: $id) { status } }'

/**
 * ingest, worker and api as a multi-process deployment runs them: each its own stack (its own
 * registry and probe port) on one database, broker topic root and task queue.
 */
describe('/metrics of each role on its own port', () => {
  let ingest: TestStack
  let worker: TestStack
  let api: TestStack
  beforeAll(async () => {
    ingest = await startTestStack('services', { roles: ['ingest'] })
    const shared = {
      DATABASE_URL: ingest.env.DATABASE_URL as string,
      DEVTWIN_TOPIC_ROOT: ingest.config.DEVTWIN_TOPIC_ROOT,
      DEVTWIN_TASK_QUEUE: ingest.config.DEVTWIN_TASK_QUEUE,
    }
    worker = await startTestStack('services', { roles: ['worker'], env: shared })
    api = await startTestStack('services', { roles: ['api'], env: shared })
  })
  afterAll(async () => {
    await api?.close()
    await worker?.close()
    await ingest?.close()
  })

  it('serves each role on a port of its own', () => {
    const ports = new Set([ingest.probesUrl, worker.probesUrl, api.probesUrl])
    expect(ports.size).toBe(3)
    expect(api.probesUrl).not.toContain(`:${api.config.PORT}`)
  })

  it('counts messages on ingest by how they ended, and its flushes', async () => {
    const before = await scrape(ingest.probesUrl)
    const id = ingest.deviceId('metrics')
    const topic = ingest.topics.device(id, 'telemetry')
    await ingest.publish(topic, { seq: 1, values: { temperature: 21.5 } })
    await ingest.publish(topic, '{"values": {"temperature": 2')
    const delta = (now: Awaited<ReturnType<typeof scrape>>, name: string, labels = {}) =>
      now.value(name, labels) - before.value(name, labels)
    const after = await waitFor(
      async () => {
        const now = await scrape(ingest.probesUrl)
        return delta(now, 'devtwin_ingest_messages_acknowledged_total') === 2 && now
      },
      { what: 'both messages acknowledged' },
    )
    expect(delta(after, 'devtwin_ingest_messages_received_total')).toBe(2)
    expect(delta(after, 'devtwin_ingest_messages_stored_total')).toBe(1)
    expect(delta(after, 'devtwin_ingest_readings_stored_total')).toBe(1)
    expect(delta(after, 'devtwin_ingest_messages_rejected_total', { reason: 'bad_json' })).toBe(1)
    expect(delta(after, 'devtwin_ingest_messages_rejected_total')).toBe(1)
    expect(delta(after, 'devtwin_ingest_flush_duration_seconds')).toBeGreaterThanOrEqual(1)

    // The twin is told of its inbox (a first batch is urgent) and applies it.
    await api.applied(id, (reported) => reported.temperature === 21.5)
    const delivered = await scrape(ingest.probesUrl)
    // At least once: a twin slow to apply is told again after DEVTWIN_RENUDGE_MS.
    expect(
      delta(delivered, 'devtwin_twin_deliveries_total', { outcome: 'accepted' }),
    ).toBeGreaterThanOrEqual(1)
    expect(delivered.value('devtwin_twins_behind')).toBe(0)
    expect(delivered.names).toContain('devtwin_twin_lag_max_seconds')
    expect(delivered.names).toContain('devtwin_fleet_batches_waiting')
    expect([...delivered.names].some((n) => n.startsWith('temporal_'))).toBe(false)
  })

  it('shows a twin behind on ingest while its workflow cannot apply', async () => {
    // With no worker, a twin is told of its batch and cannot apply it.
    await worker.close()
    try {
      const id = ingest.deviceId('behind')
      await ingest.publish(ingest.topics.device(id, 'telemetry'), { values: { temperature: 1 } })
      const seen = await waitFor(
        async () => {
          const now = await scrape(ingest.probesUrl)
          return now.value('devtwin_twin_batches_waiting', { device_id: id }) === 1 && now
        },
        { what: `${id} named among the twins behind` },
      )
      expect(seen.value('devtwin_twins_behind')).toBeGreaterThanOrEqual(1)
      expect(seen.value('devtwin_twin_lag_seconds', { device_id: id })).toBeGreaterThanOrEqual(0)
    } finally {
      worker = await startTestStack('services', {
        roles: ['worker'],
        env: {
          DATABASE_URL: ingest.env.DATABASE_URL as string,
          DEVTWIN_TOPIC_ROOT: ingest.config.DEVTWIN_TOPIC_ROOT,
          DEVTWIN_TASK_QUEUE: ingest.config.DEVTWIN_TASK_QUEUE,
        },
      })
    }
  })

  it('counts twin updates, alerts raised and cleared, and command outcomes on the worker', async () => {
    const before = await scrape(worker.probesUrl)
    const id = api.deviceId('alerting')
    await api.graphql(UPSERT_MODEL, { input: chargePoint(`model-${id}`) })
    await api.graphql(REGISTER, { input: { id, modelId: `model-${id}` } })
    const topic = ingest.topics.device(id, 'telemetry')
    await ingest.publish(topic, { seq: 1, values: { power: 30_000 } })
    await api.applied(id, (reported) => reported.power === 30_000)
    await ingest.publish(topic, { seq: 2, values: { power: 100 } })
    await api.applied(id, (reported) => reported.power === 100)
    // The device never said it is online: its command waits, and is cancelled.
    const sent = await api.graphql(SEND_COMMAND, { deviceId: id, name: 'reboot' })
    const cancelled = await api.graphql(CANCEL, { id: sent.data?.sendCommand.id })
    expect(cancelled.data?.cancelCommand.status).toBe('CANCELLED')

    const after = await waitFor(
      async () => {
        const now = await scrape(worker.probesUrl)
        const outcome = { status: 'CANCELLED' }
        return (
          now.value('devtwin_command_outcomes_total', outcome) -
            before.value('devtwin_command_outcomes_total', outcome) ===
            1 && now
        )
      },
      { what: 'the cancelled command counted' },
    )
    const delta = (name: string, labels = {}) =>
      after.value(name, labels) - before.value(name, labels)
    expect(delta('devtwin_alerts_raised_total', { kind: 'OUT_OF_RANGE' })).toBe(1)
    expect(delta('devtwin_alerts_cleared_total', { kind: 'OUT_OF_RANGE' })).toBe(1)
    expect(delta('devtwin_twin_updates_total')).toBeGreaterThanOrEqual(2)
    // The Temporal SDK's own metrics, passed on from its exporter.
    expect(after.names).toContain('temporal_workflow_task_execution_latency')
    expect(after.names).toContain('temporal_activity_execution_latency')
    expect(after.names).not.toContain('devtwin_ingest_messages_received_total')
  })

  it('counts GraphQL operations and open subscriptions on the api', async () => {
    const before = await scrape(api.probesUrl)
    await api.graphql('query Fleet { devices(first: 1) { edges { cursor } } }')
    const subscription = await api.subscribe('subscription Alerts { alerts { id } }')
    const open = await waitFor(
      async () => {
        const now = await scrape(api.probesUrl)
        return now.value('devtwin_graphql_subscriptions_active') === 1 && now
      },
      { what: 'one subscription open' },
    )
    const query = { operationName: 'Fleet', operationType: 'query' }
    expect(
      open.value('graphql_envelop_request', query) - before.value('graphql_envelop_request', query),
    ).toBe(1)
    // Its latency too (read from the text: the parser drops a histogram's labels after `le`).
    expect(open.text).toMatch(
      /^graphql_envelop_request_duration_count\{operationName="Fleet",operationType="query"\} 1$/m,
    )
    await subscription.close()
    await waitFor(
      async () => (await scrape(api.probesUrl)).value('devtwin_graphql_subscriptions_active') === 0,
      { what: 'the subscription counted closed' },
    )
  })
})

/** `npm run dev`: every role in one process, and one port for GraphQL and the probes. */
describe('/metrics in one process', () => {
  let stack: TestStack
  beforeAll(async () => {
    // Unset (empty): the probes share the GraphQL port, as in npm run dev.
    stack = await startTestStack('embedded', { env: { DEVTWIN_METRICS_PORT: '' } })
  })
  afterAll(() => stack?.close())

  it('serves every role and the probes on the GraphQL port', async () => {
    expect(stack.probesUrl).toBe(`http://127.0.0.1:${stack.config.PORT}`)
    const id = stack.deviceId('dev')
    await stack.publish(stack.topics.device(id, 'telemetry'), { values: { temperature: 3 } })
    await stack.applied(id, (reported) => reported.temperature === 3)
    // The SDK records a workflow task once it completes, a moment after the twin's write.
    const now = await waitFor(
      async () => {
        const scraped = await scrape(stack.probesUrl)
        return scraped.names.has('temporal_workflow_task_execution_latency') && scraped
      },
      { what: 'the SDK metrics of a completed workflow task' },
    )
    expect(now.value('devtwin_ingest_messages_stored_total')).toBe(1)
    expect(now.value('devtwin_twin_updates_total')).toBeGreaterThanOrEqual(1)
    expect(now.value('graphql_envelop_request')).toBeGreaterThanOrEqual(1)
    expect(now.names).toContain('process_cpu_seconds_total')
    expect((await fetch(`${stack.probesUrl}/healthz`)).status).toBe(200)
    const ready = await fetch(`${stack.probesUrl}/readyz`)
    expect(ready.status).toBe(200)
    expect(Object.keys((await ready.json()).checks).sort()).toEqual([
      'mqtt (api)',
      'mqtt (ingest)',
      'mqtt (worker)',
      'postgres',
      'temporal (api)',
      'temporal (ingest)',
      'temporal (worker)',
    ])
    // GraphQL itself still answers on the same port.
    expect(
      (await stack.graphql('{ devices(first: 1) { edges { cursor } } }')).errors,
    ).toBeUndefined()
  })
})
