import { DEVICE_ID } from './ingest/device-id.ts'

export type DeviceTopicKind = 'telemetry' | 'status' | 'commands' | 'acks' | 'desired'

/**
 * The MQTT topics of one deployment: `devices/{id}/…` (contract §1). `DEVTWIN_TOPIC_ROOT` moves
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

  /**
   * Where workers announce twin changes (change-log entries) to every api process: the broker
   * is shared by all roles, so an api anywhere hears what a worker anywhere changed.
   */
  twinEvents(deviceId: string): string {
    return `devtwin/events/${this.root}/${deviceId}`
  }

  /**
   * Where ingest announces a twin's live reported state as it stores each flush, before the
   * twin's workflow has applied it.
   */
  liveTwin(deviceId: string): string {
    return `devtwin/live/${this.root}/${deviceId}`
  }

  /** Where workers announce alerts raised and cleared; `+` for every device. */
  alerts(deviceId: string): string {
    return `devtwin/alerts/${this.root}/${deviceId}`
  }

  /** Where workers announce each change of a command's status; `+` for every device. */
  commandUpdates(deviceId: string): string {
    return `devtwin/commands/${this.root}/${deviceId}`
  }

  /** `{root}/{id}/{kind}` → its parts, or null for any other topic. */
  parse(topic: string): { deviceId: string; kind: string } | null {
    const parts = topic.split('/')
    if (parts.length !== 3 || parts[0] !== this.root) return null
    const [, deviceId, kind] = parts as [string, string, string]
    return DEVICE_ID.test(deviceId) ? { deviceId, kind } : null
  }
}
