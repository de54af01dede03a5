import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Client, Connection } from '@temporalio/client'
import { temporal } from '@temporalio/proto'

type History = temporal.api.history.v1.IHistory
const EventType = temporal.api.enums.v1.EventType
const { History } = temporal.api.history.v1

/**
 * A history as JSON (enums by name, 64-bit numbers and bytes as strings); `readHistory` reads it
 * back. (The SDK's `historyToJSON` trips over the second protobufjs copy npm installs.)
 */
const historyJson = (history: History) =>
  JSON.stringify(
    History.toObject(History.fromObject(history), { enums: String, longs: String, bytes: String }),
  )

export const readHistory = (json: string): History => History.fromObject(JSON.parse(json))

/**
 * What a twin history exercises: each signal and update handler by name, an update refused or
 * accepted, each way a run ends, timers, regular activities and patches. Replaying a set of
 * histories that covers all of these is what tells a change to the workflow is safe.
 */
export function historyFeatures(history: History): Set<string> {
  const features = new Set<string>()
  for (const e of history.events ?? []) {
    const type = EventType[e.eventType ?? 0]?.replace('EVENT_TYPE_', '').toLowerCase() ?? ''
    if (e.workflowExecutionSignaledEventAttributes) {
      features.add(`signal:${e.workflowExecutionSignaledEventAttributes.signalName}`)
    } else if (e.workflowExecutionUpdateAcceptedEventAttributes) {
      const name = e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest?.input?.name
      features.add(`update:${name}`)
    } else if (e.workflowExecutionUpdateCompletedEventAttributes?.outcome?.failure) {
      features.add('update:failed')
    } else if (e.activityTaskScheduledEventAttributes) {
      features.add(`activity:${e.activityTaskScheduledEventAttributes.activityType?.name}`)
    } else if (e.markerRecordedEventAttributes?.markerName === 'core_patch') {
      features.add('patch')
    } else if (
      /timer_fired|continued_as_new|execution_completed|execution_failed|timer_canceled/.test(type)
    ) {
      features.add(type.replace('workflow_execution_', ''))
    }
  }
  return features
}

/**
 * Saves, from every twin workflow on a Temporal server, the fewest histories that together
 * cover every feature seen (shortest first), as JSON for `Worker.runReplayHistories`.
 */
export async function recordHistories(address: string, outDir: string): Promise<string[]> {
  const connection = await Connection.connect({ address })
  try {
    const client = new Client({ connection })
    const found: { id: string; history: History; features: Set<string> }[] = []
    for await (const w of client.workflow.list({ query: 'WorkflowType = "twinWorkflow"' })) {
      const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory()
      found.push({ id: w.workflowId, history, features: historyFeatures(history) })
    }
    found.sort((a, b) => (a.history.events?.length ?? 0) - (b.history.events?.length ?? 0))
    const covered = new Set<string>()
    const kept: typeof found = []
    for (;;) {
      const best = found
        .map((f) => ({ f, adds: [...f.features].filter((x) => !covered.has(x)).length }))
        .filter((c) => c.adds > 0)
        .sort((a, b) => b.adds - a.adds)[0]
      if (!best) break
      kept.push(best.f)
      for (const x of best.f.features) covered.add(x)
    }
    mkdirSync(outDir, { recursive: true })
    // The newest set replaces the last one; older sets kept in subfolders stay.
    for (const old of readdirSync(outDir)) if (old.endsWith('.json')) rmSync(join(outDir, old))
    return kept.map((k, i) => {
      const name = `${String(i + 1).padStart(2, '0')}-${[...k.features]
        .slice(0, 3)
        .join('+')
        .replace(/[^a-z0-9+]+/gi, '-')}.json`
      writeFileSync(join(outDir, name), historyJson(k.history))
      return `${name}: ${[...k.features].sort().join(', ')}`
    })
  } finally {
    await connection.close()
  }
}
