import { setTimeout as sleep } from 'node:timers/promises'
import type { SentReading } from '../src/simulator/fleet.ts'
import { alertChanges } from '../src/twins/alerts.ts'
import type { DeviceModel } from '../src/twins/model.ts'
import { toReading } from '../src/twins/reading.ts'
import type { TwinState } from '../src/twins/state.ts'
import { step } from '../src/twins/step.ts'
import { applyBatch, newTwin } from '../src/twins/twin.ts'
import { type Sample, subscriber } from './probes.ts'

interface Shadow {
  twin: TwinState
  nextCheckAt: number | null
}

interface AlertEvent {
  alerts: {
    deviceId: string
    sensor: string | null
    kind: string
    raisedAt: string
    clearedAt: string | null
  }
}

/**
 * Publish of the reading that raises an alert → the alert on the `alerts` subscription (every
 * device's). Which reading raises it is worked out here by the twin's own pure rules: each
 * watched device has a shadow twin in this process, fed every reading the simulator publishes
 * (`observe`, its `onReading`), and a reading after which the shadow raises an alert is noted
 * with its publish time. An alert that arrives is matched to the newest such reading of its
 * device, sensor and kind published before the alert's raisedAt (older ones the twin never
 * alerted on count as missed). `raised` splits off publish → raisedAt: when the twin judged it, at
 * its delivery, or at its batch's arrival when batches waited and were judged one by one.
 */
export function startAlertProbe(
  url: string,
  token: string,
  model: DeviceModel,
  deviceIds: readonly string[],
) {
  const shadows = new Map<string, Shadow>(
    deviceIds.map((id) => [id, { twin: newTwin(id), nextCheckAt: null }]),
  )
  const triggers = new Map<string, number[]>()
  const samples: Sample[] = []
  const raised: Sample[] = []
  const counts = { predicted: 0, matched: 0, missed: 0, unpredicted: 0 }
  const key = (deviceId: string, sensor: string | null, kind: string) =>
    `${deviceId}/${sensor ?? ''}/${kind}`

  const advance = (shadow: Shadow, transform: (t: TwinState) => TwinState, now: number) => {
    const result = step(shadow.twin, transform, model, now)
    const changes = alertChanges(shadow.twin, result.twin, now)
    shadow.twin = result.twin
    shadow.nextCheckAt = result.nextCheckAt
    return changes
  }

  const ws = subscriber(url, token)
  ws.listen<AlertEvent>(
    'subscription { alerts { deviceId sensor kind raisedAt clearedAt } }',
    {},
    ({ alerts: alert }) => {
      if (alert.clearedAt) return
      const now = Date.now()
      const raisedAt = Date.parse(alert.raisedAt)
      const pending = triggers.get(key(alert.deviceId, alert.sensor || null, alert.kind)) ?? []
      const before = pending.filter((t) => t <= raisedAt)
      const publishedAt = before.at(-1)
      if (publishedAt === undefined) {
        counts.unpredicted++
        return
      }
      pending.splice(0, before.length)
      counts.matched++
      counts.missed += before.length - 1
      samples.push({ at: now, ms: now - publishedAt })
      raised.push({ at: now, ms: raisedAt - publishedAt })
    },
  )

  return {
    samples,
    raised,
    counts,
    errors: ws.errors,
    observe(deviceId: string, sent: SentReading) {
      const shadow = shadows.get(deviceId)
      if (!shadow) return
      // What the twin's timer judges between readings (a flapping episode that settled) comes
      // first; alerts it raises are not a reading's doing.
      if (shadow.nextCheckAt !== null && shadow.nextCheckAt <= sent.ts) {
        advance(shadow, (t) => t, shadow.nextCheckAt)
      }
      const reading = toReading(sent, sent.ts)
      const batch = { readings: [reading], statuses: [], messages: 1, lastTelemetryAt: sent.ts }
      for (const change of advance(shadow, (t) => applyBatch(t, batch, model), sent.ts)) {
        if (change.kind === null) continue
        const k = key(deviceId, change.sensor, change.kind)
        triggers.set(k, [...(triggers.get(k) ?? []), sent.ts])
        counts.predicted++
      }
    },
    /**
     * Waits until every predicted alert arrived, or `timeoutMs` passed: those still missing then
     * count as missed.
     */
    async settle(timeoutMs: number) {
      const deadline = Date.now() + timeoutMs
      const outstanding = () => [...triggers.values()].some((t) => t.length > 0)
      while (outstanding() && Date.now() < deadline) await sleep(250)
      for (const pending of triggers.values()) counts.missed += pending.splice(0).length
    },
    stop: ws.stop,
  }
}
