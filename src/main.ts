import { ConfigError, loadConfig } from './config.ts'
import { DEFAULT_PORTS } from './embedded/choose-ports.ts'
import { log } from './log.ts'
import { ROLES, type Role, requireSharedServices } from './roles/index.ts'
import { type Stack, startStack } from './stack.ts'
import { ensureWebBuild } from './web/build.ts'

/** How long a stopping process may take to flush and close before it exits anyway. */
const SHUTDOWN_GRACE_MS = 15_000

/**
 * `tsx src/main.ts all|ingest|worker|api`: `all` (npm run dev) runs every role in this process
 * beside the embedded services; a single role runs against shared services.
 */
async function main(): Promise<void> {
  const which = process.argv[2] ?? 'all'
  if (which !== 'all' && !ROLES.includes(which as Role)) {
    throw new ConfigError(`unknown role "${which}": use all, ${ROLES.join(', ')}`)
  }
  const env = { ...process.env }
  // A dev stack registers devices on their first message unless told otherwise.
  if (which === 'all') env.DEVTWIN_AUTO_PROVISION ??= 'true'
  const config = loadConfig(env)
  const roles = which === 'all' ? ROLES : [which as Role]
  if (which !== 'all') requireSharedServices(config, which as Role)

  const started = Date.now()
  // The dashboard builds (when web/ changed) while the services start; production images hold
  // their build already.
  const webBuild =
    roles.includes('api') && config.NODE_ENV !== 'production'
      ? ensureWebBuild((line) => log.info(line)).catch((err) =>
          log.warn({ err }, 'the dashboard did not build; the API works without it'),
        )
      : undefined
  const stack = await startStack({ config, roles, log, devToken: which === 'all' })
  await webBuild
  console.log(readyLines(stack, which, config.DEVTWIN_TOPIC_ROOT, Date.now() - started).join('\n'))

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'stopping')
    // Stopping flushes what ingest holds, which waits for Temporal; if Temporal is gone, give up:
    // what was not acknowledged stays with the broker's persistent session and comes again.
    const giveUp = setTimeout(() => {
      log.warn({ afterMs: SHUTDOWN_GRACE_MS }, 'could not stop cleanly, exiting')
      process.exit(1)
    }, SHUTDOWN_GRACE_MS)
    giveUp.unref()
    await stack.stop()
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
}

/** What `npm run dev` prints when it is ready: where everything is, and what to try first. */
function readyLines(stack: Stack, which: string, topicRoot: string, tookMs: number): string[] {
  const lines = [`devtwin ${which} ready in ${(tookMs / 1000).toFixed(1)} s`]
  if (stack.dashboardUrl) lines.push(`  Dashboard    ${stack.dashboardUrl}`)
  if (stack.graphqlUrl) {
    const graphiql = stack.devToken
      ? 'GraphiQL in a browser, the dev token in its headers'
      : 'GraphiQL in a browser'
    lines.push(`  GraphQL      ${stack.graphqlUrl}  (${graphiql})`)
  }
  lines.push(`  MQTT         ${stack.mqttUrl}`)
  lines.push(`  Temporal     ${stack.temporalAddress}`)
  if (stack.temporalUiUrl) lines.push(`  Temporal UI  ${stack.temporalUiUrl}`)
  lines.push(`  Metrics      ${stack.probesUrl}/metrics  (probes: /healthz, /readyz)`)
  if (stack.devToken) {
    lines.push(
      `  Dev admin token (Authorization: Bearer …), also in ${stack.devToken.file}:`,
      `  ${stack.devToken.token}`,
    )
  }
  if (which === 'all') {
    const { hostname, port } = new URL(stack.mqttUrl)
    const where = [
      hostname === '127.0.0.1' ? '' : `-h ${hostname} `,
      port === String(DEFAULT_PORTS.mqtt) ? '' : `-p ${port} `,
    ].join('')
    lines.push(
      `  Try:         npx mqtt pub ${where}-t ${topicRoot}/demo-1/telemetry -m '{"values":{"temperature":21.5}}'`,
    )
  }
  for (const notice of stack.notices) lines.push(`  Note: ${notice}`)
  return lines
}

main().catch((error) => {
  if (error instanceof ConfigError) {
    console.error(`devtwin: ${error.message}`)
  } else {
    log.fatal({ err: error }, 'devtwin failed to start')
  }
  process.exit(1)
})
