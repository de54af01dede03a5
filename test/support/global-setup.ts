import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bundleWorkflowCode } from '@temporalio/worker'
import type { TestProject } from 'vitest/node'
import { freePort } from '../../src/embedded/ports.ts'
import { ensureWebBuild } from '../../src/web/build.ts'
import { workflowsPath } from '../../src/workflows/worker.ts'
import { findTemporalCli } from '../../temporal/cli.ts'
import { startDevServer } from '../../temporal/dev-server.ts'
import { recordHistories } from './record-histories.ts'
import { ensureServices } from './services.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string
    workflowBundlePath: string
  }
}

/**
 * One Temporal dev server and one workflow bundle for the whole run; every test file starts its
 * own devtwin roles against them on its own task queue.
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'devtwin-test-'))
  await ensureServices()
  const [server, bundle] = await Promise.all([
    findTemporalCli((line) => console.log(line)).then(async (cli) =>
      startDevServer({
        cli,
        port: await freePort(),
        uiPort: null,
        dbFile: join(dir, 'temporal.db'),
        // Small histories make continue-as-new happen within a test.
        dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 200 },
      }),
    ),
    bundleWorkflowCode({ workflowsPath, logger: quiet }),
    // Stacks serve the dashboard from its build; build it once here, not in every test file.
    ensureWebBuild((line) => console.log(line)),
  ])
  const workflowBundlePath = join(dir, 'workflow-bundle.js')
  writeFileSync(workflowBundlePath, bundle.code)
  project.provide('temporalAddress', server.address)
  project.provide('workflowBundlePath', workflowBundlePath)
  return async () => {
    // `npm run histories:record`: keep the twin histories this run made, for replay tests.
    const out = process.env.DEVTWIN_RECORD_HISTORIES
    if (out) for (const line of await recordHistories(server.address, out)) console.log(line)
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

const nothing = () => {}
const quiet = {
  trace: nothing,
  debug: nothing,
  info: nothing,
  warn: console.warn,
  error: console.error,
  log: nothing,
}
