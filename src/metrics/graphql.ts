import { usePrometheus } from '@graphql-yoga/plugin-prometheus'
import { isAsyncIterable, type Plugin } from 'graphql-yoga'
import { Gauge, type Registry } from 'prom-client'

/**
 * Yoga's Prometheus plugin with its default metrics (operations, their latency by phase, errors,
 * HTTP latency), plus the
 * subscriptions open right now, over SSE and graphql-ws alike. /metrics is served beside the
 * other probes, not by Yoga.
 */
export function graphqlMetricsPlugins(registry: Registry): Plugin[] {
  const active = new Gauge({
    name: 'devtwin_graphql_subscriptions_active',
    help: 'GraphQL subscriptions open now (SSE and graphql-ws)',
    registers: [registry],
  })
  const subscriptions: Plugin = {
    onSubscribe: () => ({
      onSubscribeResult: ({ result }) => {
        if (!isAsyncIterable(result)) return
        active.inc()
        return { onEnd: () => active.dec() }
      },
    }),
  }
  return [
    usePrometheus({
      registry,
      endpoint: false,
      // A GET request's URL holds the whole query: one series per query would be unbounded.
      labels: { url: false },
    }),
    subscriptions,
  ]
}
