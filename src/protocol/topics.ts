import { DEVICE_ID } from './ids.ts'

export type DeviceTopicKind = 'telemetry' | 'status' | 'commands' | 'acks' | 'desired'

/**
 * The MQTT topics of one deployment: `devices/{id}/…` (docs/device-protocol.md). `DEVTWIN_TOPIC_ROOT` moves
 * a deployment to another root when it shares a broker (a tenant, a staging stack, a test run).
 */
export class Topics {
  constructor(readonly root = 'devices') {}

  device(deviceId: string, kind: DeviceTopicKind): string {
    return `${this.root}/${deviceId}/${kind}`
  }

  /** What ingest subscribes to; through a shared-subscription group when several ingests run. */
  ingest(shareGroup?: string): string[] {
    const topics = [`${this.root}/+/telemetry`, `${this.root}/+/status`, `${this.root}/+/acks`]
    return shareGroup ? topics.map((t) => `$share/${shareGroup}/${t}`) : topics
  }

  /** `{root}/{id}/{kind}` → its parts, or null for any other topic. */
  parse(topic: string): { deviceId: string; kind: string } | null {
    const parts = topic.split('/')
    if (parts.length !== 3 || parts[0] !== this.root) return null
    const [, deviceId, kind] = parts as [string, string, string]
    return DEVICE_ID.test(deviceId) ? { deviceId, kind } : null
  }
}
