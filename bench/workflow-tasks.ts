/**
 * Workflow tasks the worker has completed, from its own /metrics (the Temporal SDK's
 * `temporal_workflow_task_execution_latency` histogram, summed over its series): every task
 * whatever woke it, deliveries, timers, updates and activity results alike. Null when the
 * worker does not answer (killed, or its probe port taken).
 */
export async function workflowTasksDone(metricsUrl: string): Promise<number | null> {
  try {
    const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) })).text()
    let total = 0
    for (const line of text.split('\n')) {
      if (!line.startsWith('temporal_workflow_task_execution_latency_count')) continue
      total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0
    }
    return total
  } catch {
    return null
  }
}
