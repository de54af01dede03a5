import mqtt from 'mqtt'

export interface Recorded {
  topic: string
  deviceId: string
  kind: string
  json: unknown
  retain: boolean
}

/**
 * A service-side MQTT client for the simulator's tests: records what devices publish under
 * `root` and sends them commands, as devtwin's ingest and worker would.
 */
export async function startRecorder(url: string, root = 'devices') {
  const client = await mqtt.connectAsync(url, {
    clientId: `recorder-${process.pid}-${Math.random().toString(36).slice(2)}`,
    reconnectPeriod: 0,
  })
  const messages: Recorded[] = []
  client.on('message', (topic, payload, packet) => {
    const [, deviceId = '', kind = ''] = topic.split('/')
    let json: unknown
    try {
      json = JSON.parse(payload.toString())
    } catch {
      json = payload.toString()
    }
    messages.push({ topic, deviceId, kind, json, retain: packet.retain })
  })
  await client.subscribeAsync(`${root}/+/+`, { qos: 1 })
  return {
    messages,
    /** Payloads `deviceId` published on its `kind` topic, in order. */
    of<T = Record<string, unknown>>(deviceId: string, kind: string): T[] {
      return messages
        .filter((m) => m.deviceId === deviceId && m.kind === kind)
        .map((m) => m.json as T)
    },
    async send(deviceId: string, payload: unknown) {
      const body = typeof payload === 'string' ? payload : JSON.stringify(payload)
      await client.publishAsync(`${root}/${deviceId}/commands`, body, { qos: 1 })
    },
    async close() {
      await client.endAsync()
    },
  }
}

export type Recorder = Awaited<ReturnType<typeof startRecorder>>
