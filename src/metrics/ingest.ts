import { Counter, Histogram, type Registry } from 'prom-client'

/** What ingest counts: every message in, how it ended, and how long a flush takes. */
export function ingestMetrics(registry: Registry) {
  const registers = [registry]
  return {
    received: new Counter({
      name: 'devtwin_ingest_messages_received_total',
      help: 'MQTT messages ingest received on device topics (telemetry, status, acks)',
      registers,
    }),
    stored: new Counter({
      name: 'devtwin_ingest_messages_stored_total',
      help: 'Accepted messages committed to Postgres',
      registers,
    }),
    readings: new Counter({
      name: 'devtwin_ingest_readings_stored_total',
      help: 'Raw readings committed to the telemetry table',
      registers,
    }),
    rejected: new Counter({
      name: 'devtwin_ingest_messages_rejected_total',
      help: 'Messages kept as dead letters (rejected_messages), by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    lost: new Counter({
      name: 'devtwin_ingest_dead_letters_lost_total',
      help: 'Refused messages whose dead letter Postgres refused too (logged and acknowledged)',
      registers,
    }),
    acknowledged: new Counter({
      name: 'devtwin_ingest_messages_acknowledged_total',
      help: 'QoS 1 PUBACKs sent, each once its message was stored or kept as a dead letter',
      registers,
    }),
    flushSeconds: new Histogram({
      name: 'devtwin_ingest_flush_duration_seconds',
      help: 'One flush: device checks, the storing transaction and the acknowledgements',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    deliveries: new Counter({
      name: 'devtwin_twin_deliveries_total',
      help: 'Inbox deliveries signalled to twins: accepted by Temporal, failed (told again later), or to an ended twin',
      labelNames: ['outcome'] as const,
      registers,
    }),
  }
}

export type IngestMetrics = ReturnType<typeof ingestMetrics>
