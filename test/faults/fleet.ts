import mqtt, { type MqttClient } from 'mqtt'
import pMap from 'p-map'

/** A reading the broker acknowledged (PUBACK): the device may forget it, devtwin may not. */
export interface Acked {
  deviceId: string
  seq: number
  at: number
}

/**
 * A steady simulated fleet: every device publishes one reading a second at QoS 1, whatever is
 * down (mqtt.js keeps unacknowledged publishes and sends them again when it reconnects), and
 * every PUBACK is recorded. Each reading carries its own number as sensor `n`, so a twin shows
 * which reading it has applied last.
 */
export async function startFleet(opts: {
  url: string
  topicRoot: string
  devices: number
  prefix: string
  everyMs?: number
}) {
  const everyMs = opts.everyMs ?? 1000
  const ids = Array.from({ length: opts.devices }, (_, i) => `${opts.prefix}-${i + 1}`)
  const acked: Acked[] = []
  const lastAcked = new Map<string, number>()
  let sent = 0
  let stopped = false
  const clients: MqttClient[] = await pMap(
    ids,
    (id) =>
      mqtt.connectAsync(opts.url, {
        clientId: id,
        reconnectPeriod: 500,
        connectTimeout: 5000,
        protocolVersion: 5,
      }),
    { concurrency: 20 },
  )
  const timers = clients.map((client, i) => {
    const deviceId = ids[i] as string
    let seq = 0
    const publish = () => {
      if (stopped) return
      seq++
      sent++
      const n = seq
      const payload = JSON.stringify({
        seq: n,
        ts: Date.now(),
        values: { n, temperature: 20 + (n % 50) / 10 },
      })
      client.publishAsync(`${opts.topicRoot}/${deviceId}/telemetry`, payload, { qos: 1 }).then(
        () => {
          acked.push({ deviceId, seq: n, at: Date.now() })
          if (n > (lastAcked.get(deviceId) ?? 0)) lastAcked.set(deviceId, n)
        },
        // Only ending the fleet drops a publish; anything else is retried by mqtt.js.
        () => {},
      )
    }
    // Spread the devices over the second, as a real fleet's clocks are.
    const start = setTimeout(
      () => {
        publish()
        interval = setInterval(publish, everyMs)
      },
      Math.floor((i / ids.length) * everyMs),
    )
    let interval: NodeJS.Timeout | undefined
    return () => {
      clearTimeout(start)
      clearInterval(interval)
    }
  })

  return {
    ids,
    acked,
    sent: () => sent,
    /** Each device's newest acknowledged reading now. */
    lastAcked: () => new Map(lastAcked),
    /** Stops publishing, waits for outstanding PUBACKs (at most `graceMs`), disconnects. */
    async stop(graceMs = 10_000) {
      stopped = true
      for (const clear of timers) clear()
      const deadline = Date.now() + graceMs
      while (acked.length < sent && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      await Promise.all(clients.map((c) => c.endAsync(true)))
    },
  }
}

export type Fleet = Awaited<ReturnType<typeof startFleet>>
