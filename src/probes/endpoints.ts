import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Registry } from 'prom-client'
import type { Logger } from '../log.ts'
import type { ReadinessReport } from './readiness.ts'

export interface ProbeSources {
  registry: Registry
  ready: () => Promise<ReadinessReport>
  /** More Prometheus text from outside the registry (the Temporal SDK's own exporter). */
  moreMetrics?: () => Promise<string>
  log: Logger
}

/** Handles one request on the process's probe port; false if it is not `/metrics`, `/healthz` or `/readyz`. */
export type ProbeHandler = (req: IncomingMessage, res: ServerResponse) => boolean

/**
 * `/metrics` (Prometheus text), `/healthz` (200 while the process serves requests) and
 * `/readyz` (200 when every connection this process's roles use works, else 503 saying which).
 */
export function probeHandler(sources: ProbeSources): ProbeHandler {
  const routes: Record<string, (res: ServerResponse) => Promise<void>> = {
    '/metrics': async (res) => {
      const own = await sources.registry.metrics()
      const more = await sources.moreMetrics?.().catch((err) => {
        // devtwin's own metrics still go out; the gap shows in the dashboards.
        sources.log.warn({ err }, 'Temporal SDK metrics unavailable')
        return ''
      })
      res.writeHead(200, { 'content-type': sources.registry.contentType })
      res.end(more ? `${own}\n${more}` : own)
    },
    '/healthz': async (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('ok\n')
    },
    '/readyz': async (res) => {
      const report = await sources.ready()
      res.writeHead(report.ready ? 200 : 503, { 'content-type': 'application/json' })
      res.end(`${JSON.stringify(report)}\n`)
    },
  }
  return (req, res) => {
    const route = routes[new URL(req.url ?? '/', 'http://probe').pathname]
    if (!route || (req.method !== 'GET' && req.method !== 'HEAD')) return false
    route(res).catch((err) => {
      sources.log.error({ err, url: req.url }, 'probe failed')
      if (!res.headersSent) res.writeHead(500)
      res.end()
    })
    return true
  }
}

/** A server of its own for the probes (a role without the api, or DEVTWIN_METRICS_PORT set). */
export async function listenProbes(handler: ProbeHandler, port: number, host: string) {
  const server = createServer((req, res) => {
    if (handler(req, res)) return
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found: try /metrics, /healthz or /readyz\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  return {
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      // Scrapers keep their connections open; they would hold the close for seconds.
      server.closeAllConnections()
      await closed
    },
  }
}
