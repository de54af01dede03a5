import { type Ingest, startIngest } from '../ingest/ingest.ts'
import type { Services } from './services.ts'

/**
 * The ingest role: takes device messages from the broker, stores them in Postgres before it
 * acknowledges them, and tells twins what their inboxes hold.
 */
export async function startIngestRole(s: Services): Promise<Ingest> {
  const { config } = s
  const ingest = await startIngest({
    mqtt: {
      url: s.mqttUrl,
      clientId: config.DEVTWIN_INGEST_CLIENT_ID,
      protocolVersion: config.MQTT_PROTOCOL_VERSION ?? (config.MQTT_URL ? 5 : 4),
      ...s.credentials,
    },
    db: s.db,
    twins: await s.twins('ingest'),
    batchMs: config.DEVTWIN_BATCH_MS,
    checkpointMs: config.DEVTWIN_CHECKPOINT_MS,
    renudgeMs: config.DEVTWIN_RENUDGE_MS,
    maxDeliveriesInFlight: config.DEVTWIN_MAX_DELIVERIES_IN_FLIGHT,
    shareGroup: config.DEVTWIN_INGEST_SHARE_GROUP,
    autoProvision: config.DEVTWIN_AUTO_PROVISION ?? false,
    maxPayloadBytes: config.DEVTWIN_MAX_PAYLOAD_BYTES,
    rateLimit: { perSecond: config.DEVTWIN_DEVICE_RATE, burst: config.DEVTWIN_DEVICE_BURST },
    topics: s.topics,
    log: s.log.child({ role: 'ingest' }),
    statsEveryMs: config.DEVTWIN_STATS_MS,
    registry: s.registry,
  })
  s.lifecycle.onStop(ingest.stop)
  s.lifecycle.check('mqtt (ingest)', ingest.check)
  return ingest
}
