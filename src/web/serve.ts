import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import sirv from 'sirv'
import { twinWorkflowId } from '../workflows/messages.ts'
import { WEB_DIST } from './build.ts'

/** What the dashboard needs to know of the deployment; served as /dashboard.json. */
export interface DashboardConfig {
  temporalUiUrl: string | null
  temporalNamespace: string
}

/**
 * The dashboard's files (dist/web, see build.ts) and its config; every other request goes on
 * to `next` (the GraphQL server). In development the files are read on every request, so a
 * rebuild shows without a restart.
 */
export function dashboard(
  config: DashboardConfig,
  next: RequestListener,
  { dev = true } = {},
): RequestListener {
  const files = sirv(WEB_DIST, { dev, etag: true, dotfiles: false })
  const body = JSON.stringify({
    // The UI puts the device id, URL-encoded, where {deviceId} stands.
    twinWorkflowUrl: config.temporalUiUrl
      ? `${config.temporalUiUrl}/namespaces/${encodeURIComponent(config.temporalNamespace)}/workflows/${encodeURIComponent(twinWorkflowId(''))}{deviceId}`
      : null,
  })
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/dashboard.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      res.end(body)
      return
    }
    files(req, res, () => next(req, res))
  }
}
