import { Client, Connection } from '@temporalio/client'
import pMap from 'p-map'
import { inboxSignal, twinWorkflowId } from '../src/workflows/messages.ts'

/** What a twin's inbox deliveries cost in Temporal history, over a sample of twins. */
export interface HistoryCost {
  workflows: number
  /** Inbox signals in those histories: each one a delivery from ingest's nudger. */
  deliveries: number
  events: number
  /** All events over deliveries: start-up events (start, loading the device) included. */
  eventsPerDelivery: number | null
  /** Events by type, signals by name, most frequent first. */
  byType: Record<string, number>
}

/** `workflowTaskCompletedEventAttributes` → `WorkflowTaskCompleted`. */
const typeOf = (event: object) => {
  const [attributes] = Object.entries(event).find(
    ([name, value]) => name.endsWith('EventAttributes') && value != null,
  ) ?? ['unknown']
  const name = attributes.replace(/EventAttributes$/, '')
  return name.charAt(0).toUpperCase() + name.slice(1)
}

/**
 * Fetches the current run's history of each twin (`handle.fetchHistory()`) and counts its events.
 * A twin that continued as new shows only its latest run, which is the same kind of work.
 */
export async function historyCost(
  address: string,
  namespace: string,
  deviceIds: readonly string[],
): Promise<HistoryCost> {
  const connection = await Connection.connect({ address })
  try {
    const client = new Client({ connection, namespace })
    const byType: Record<string, number> = {}
    let deliveries = 0
    let events = 0
    await pMap(
      deviceIds,
      async (deviceId) => {
        const history = await client.workflow.getHandle(twinWorkflowId(deviceId)).fetchHistory()
        for (const event of history.events ?? []) {
          const signal = event.workflowExecutionSignaledEventAttributes?.signalName
          const type = signal ? `${typeOf(event)} (${signal})` : typeOf(event)
          byType[type] = (byType[type] ?? 0) + 1
          if (signal === inboxSignal.name) deliveries++
          events++
        }
      },
      { concurrency: 4 },
    )
    return {
      workflows: deviceIds.length,
      deliveries,
      events,
      eventsPerDelivery: deliveries > 0 ? Math.round((events / deliveries) * 100) / 100 : null,
      byType: Object.fromEntries(Object.entries(byType).sort(([, a], [, b]) => b - a)),
    }
  } finally {
    await connection.close()
  }
}
