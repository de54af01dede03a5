import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { Connection } from '@temporalio/client'
import { SearchAttributeType } from '@temporalio/common'
import { connectHost } from '../src/embedded/ports.ts'
import { SEARCH_ATTRIBUTE_KEYS } from '../src/workflows/search-attributes.ts'

export interface DevServerOptions {
  cli: string
  /** Where the frontend and the UI listen; loopback unless opened on purpose (DEVTWIN_BIND). */
  host?: string
  port: number
  /** The Web UI's port; null runs the server headless (tests). */
  uiPort: number | null
  /** SQLite file: twins survive a restart of the dev server. */
  dbFile: string
  namespace?: string
  /** Extra `--dynamic-config-value` settings, e.g. to make continue-as-new come early in tests. */
  dynamicConfig?: Record<string, string | number | boolean>
}

export interface DevServer {
  address: string
  uiUrl: string | null
  process: ChildProcess
  stop(): Promise<void>
}

const CLI_TYPE: Record<SearchAttributeType, string> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
}

/**
 * The dev server has one history shard, which keeps the state of only 512 workflows in memory
 * by default: with thousands of twins nearly every signal reloaded a twin from SQLite (the bench
 * showed twins lagging more the more of them there were). Keep a whole fleet's worth.
 *
 * A task queue has 4 partitions by default, made for many workers. A worker keeps only 2 polls
 * open on the shared (non-sticky) queue, so most partitions have none, and their tasks reach a
 * poller only through forwarding, at most 10 a second. Every twin's first task, and the first of
 * every new run (a twin continues as new every 150 events), is on that queue: at the seed
 * fleet's load they waited 48 s on average and the twins fell minutes behind. One node, one
 * partition.
 */
const TWIN_FLEET_CONFIG = {
  'history.cacheMaxSize': 20_000,
  'history.eventsCacheMaxSize': 20_000,
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
}

/** Starts `temporal server start-dev` with devtwin's search attributes and waits until it serves. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  mkdirSync(dirname(opts.dbFile), { recursive: true })
  const args = [
    'server',
    'start-dev',
    '--ip',
    opts.host ?? '127.0.0.1',
    '--port',
    String(opts.port),
    '--namespace',
    opts.namespace ?? 'default',
    '--db-filename',
    opts.dbFile,
    '--log-level',
    'error',
    // The dev server writes through one SQLite connection: WAL without fsync is much faster,
    // and a crash of the machine (not of the process) is an acceptable loss for a dev server.
    '--sqlite-pragma',
    'journal_mode=WAL',
    '--sqlite-pragma',
    'synchronous=OFF',
    ...SEARCH_ATTRIBUTE_KEYS.flatMap((key) => [
      '--search-attribute',
      `${key.name}=${CLI_TYPE[key.type]}`,
    ]),
    ...Object.entries({ ...TWIN_FLEET_CONFIG, ...opts.dynamicConfig }).flatMap(([name, value]) => [
      '--dynamic-config-value',
      `${name}=${JSON.stringify(value)}`,
    ]),
    ...(opts.uiPort === null ? ['--headless'] : ['--ui-port', String(opts.uiPort)]),
  ]
  const child = spawn(opts.cli, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  // The server is ours alone: it must not outlive this process, however that ends.
  const killChild = () => child.kill('SIGKILL')
  process.once('exit', killChild)
  void exited.then(() => process.off('exit', killChild))
  const host = connectHost(opts.host ?? '127.0.0.1')
  const address = `${host}:${opts.port}`

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const code = await Promise.race([exited, delay(10_000, 'timeout' as const)])
    if (code === 'timeout') child.kill('SIGKILL')
  }

  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`temporal dev server exited (${child.exitCode}): ${stderr.trim()}`)
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 })
      await connection.workflowService.getSystemInfo({})
      await connection.close()
      break
    } catch (error) {
      if (Date.now() > deadline) {
        await stop()
        throw new Error(`temporal dev server did not come up on ${address}: ${error}`)
      }
      await delay(250)
    }
  }
  return {
    address,
    uiUrl: opts.uiPort === null ? null : `http://${host}:${opts.uiPort}`,
    process: child,
    stop,
  }
}
