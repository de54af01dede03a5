import { readFileSync } from 'node:fs'
import { parser } from '@prometheus-io/lezer-promql'
import { createSchema, createYoga } from 'graphql-yoga'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import type { Db } from '../../src/db/client.ts'
import { fleetLagGauges } from '../../src/metrics/fleet-lag.ts'
import { graphqlMetricsPlugins } from '../../src/metrics/graphql.ts'
import { ingestMetrics } from '../../src/metrics/ingest.ts'
import { createRegistry } from '../../src/metrics/registry.ts'
import { twinMetrics } from '../../src/metrics/twins.ts'

// No docker engine here: the compose file, Prometheus' and Grafana's files are checked as data.
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')
const compose = parse(read('docker-compose.yml'), { merge: true })
const prometheus = parse(read('ops/prometheus.yml'))
const dashboard = JSON.parse(read('ops/grafana/dashboards/devtwin.json'))

type Service = {
  image?: string
  restart?: string
  command?: string[]
  environment?: Record<string, string>
  healthcheck?: { test: string[] }
  volumes?: string[]
}
const services = Object.entries(compose.services as Record<string, Service>)
/** The long-running devtwin roles (the image's one-shot jobs excluded). */
const roles = services.filter(([, s]) => s.image === 'devtwin:local' && s.restart !== 'no')

/** Every metric name devtwin registers: its own, Yoga's plugin's, and Node's process metrics. */
function registeredNames(): Set<string> {
  const registry = createRegistry()
  ingestMetrics(registry)
  // The gauges only query when scraped, and this test never scrapes.
  fleetLagGauges(registry, {} as Db)
  twinMetrics(registry)
  // Yoga's plugin registers its metrics when Yoga starts.
  createYoga({
    schema: createSchema({ typeDefs: 'type Query { ok: Boolean }' }),
    plugins: graphqlMetricsPlugins(registry),
  })
  return new Set(registry.getMetricsAsArray().map((m) => m.name))
}

/** The metric names a PromQL expression selects; fails on an expression that does not parse. */
function selectedMetrics(expr: string): string[] {
  const names: string[] = []
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) throw new Error(`PromQL does not parse at ${node.from}: ${expr}`)
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') {
        names.push(expr.slice(node.from, node.to))
      }
    },
  })
  return names
}

describe('docker-compose.yml', () => {
  it('runs ingest, ingest-2, worker and api', () => {
    expect(roles.map(([name]) => name).sort()).toEqual(['api', 'ingest', 'ingest-2', 'worker'])
  })

  it.each(roles)('%s has a healthcheck on its /readyz, on its own metrics port', (_, service) => {
    const port = service.environment?.DEVTWIN_METRICS_PORT
    expect(port).toMatch(/^\d+$/)
    const test = service.healthcheck?.test.join(' ') ?? ''
    expect(test).toContain('/readyz')
    expect(test).toContain('process.env.DEVTWIN_METRICS_PORT')
  })

  it('has Prometheus scrape every role on its metrics port', () => {
    const targets = (prometheus.scrape_configs as { static_configs: { targets: string[] }[] }[])
      .flatMap((c) => c.static_configs.flatMap((s) => s.targets))
      .sort()
    const expected = roles.map(([name, s]) => `${name}:${s.environment?.DEVTWIN_METRICS_PORT}`)
    expect(targets).toEqual(expected.sort())
  })

  it('gives every service that keeps running a healthcheck', () => {
    const running = services.filter(([, s]) => s.restart !== 'no')
    const without = running.filter(([, s]) => !s.healthcheck).map(([name]) => name)
    // temporal-ui has no probe of its own; nothing waits on it.
    expect(without).toEqual(['temporal-ui'])
  })

  it("provisions Grafana with Prometheus and the dashboard from the repo's files", () => {
    const grafana = compose.services.grafana as Service
    const mounts = new Map(
      grafana.volumes?.map((v) => v.split(':').slice(0, 2) as [string, string]),
    )
    const provider = parse(read('ops/grafana/provisioning/dashboards/devtwin.yml'))
    expect(mounts.get('./ops/grafana/dashboards')).toBe(provider.providers[0].options.path)
    expect(mounts.get('./ops/grafana/provisioning')).toBe('/etc/grafana/provisioning')
    const datasources = parse(read('ops/grafana/provisioning/datasources/prometheus.yml'))
    expect(datasources.datasources[0]).toMatchObject({ type: 'prometheus', uid: 'prometheus' })
    expect(datasources.datasources[0].url).toBe('http://prometheus:9090')
  })
})

describe('the Grafana dashboard', () => {
  const panels = dashboard.panels as {
    title: string
    datasource: { uid: string }
    targets: { expr: string }[]
  }[]

  it('shows fleet throughput, lag, alerts and errors', () => {
    const titles = panels.map((p) => p.title).join(' | ')
    for (const topic of ['Messages per second', 'lag', 'Alerts', 'Errors', 'GraphQL']) {
      expect(titles).toContain(topic)
    }
  })

  it('selects only metrics that devtwin registers', () => {
    const registered = registeredNames()
    // Histograms are selected by their series (_bucket, _sum, _count).
    const family = (name: string) => name.replace(/_(bucket|sum|count)$/, '')
    for (const panel of panels) {
      expect(panel.datasource.uid).toBe('prometheus')
      expect(panel.targets.length).toBeGreaterThan(0)
      for (const { expr } of panel.targets) {
        const names = selectedMetrics(expr)
        expect(names.length, `${panel.title}: ${expr}`).toBeGreaterThan(0)
        for (const name of names) {
          expect(
            registered.has(name) || registered.has(family(name)),
            `${panel.title}: ${name}`,
          ).toBe(true)
        }
      }
    }
  })
})
