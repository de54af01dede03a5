import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  accessSync,
  chmodSync,
  constants,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import { extract } from 'tar'
import { ConfigError } from '../src/config.ts'
import { step } from '../src/progress.ts'

/** The CLI release devtwin gets: the newest tag whose go.mod has no `replace` (which `go install` refuses). */
export const CLI_VERSION = '1.5.1'
export const CLI_MODULE = `github.com/temporalio/cli/cmd/temporal@v${CLI_VERSION}`
/** Where Temporal publishes the CLI's prebuilt archives and their checksums.txt. */
export const CLI_RELEASES = 'https://github.com/temporalio/cli/releases/download'

/** Where devtwin keeps the CLI it installs: shared by every data dir and test run. */
export const CLI_DIR = new URL('../.devtwin/bin', import.meta.url).pathname

const BINARY = process.platform === 'win32' ? 'temporal.exe' : 'temporal'

type Say = (line: string) => void

/** One way of getting the CLI: resolves to its path, or rejects saying why it could not. */
export interface CliSource {
  what: string
  install(say: Say): Promise<string>
}

const isExecutable = (path: string) => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * The Temporal CLI: `DEVTWIN_TEMPORAL_CLI`, else `temporal` on PATH, else the copy devtwin
 * installed before (`.devtwin/bin`, or an earlier plain `go install`), else a fresh one: the
 * prebuilt release (seconds), then `go install` (minutes).
 */
export async function findTemporalCli(
  say: Say,
  sources: CliSource[] = [downloadSource(), goInstallSource()],
): Promise<string> {
  const candidates = [
    process.env.DEVTWIN_TEMPORAL_CLI,
    ...onPath(BINARY),
    join(CLI_DIR, BINARY),
    join(process.env.GOPATH ?? join(homedir(), 'go'), 'bin', BINARY),
  ]
  const found = candidates.find((path) => path && isExecutable(path))
  if (found) {
    say(`Temporal CLI: ${found}`)
    return found
  }
  say(
    'the Temporal CLI was not found (DEVTWIN_TEMPORAL_CLI, PATH, .devtwin/bin, ~/go/bin): installing it',
  )
  return installTemporalCli(say, sources)
}

/** Tries each source in turn; when none can, says exactly what a person can do instead. */
export async function installTemporalCli(say: Say, sources: CliSource[]): Promise<string> {
  const reasons: string[] = []
  for (const source of sources) {
    try {
      const path = await source.install(say)
      say(`Temporal CLI installed: ${path}`)
      return path
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      say(`${source.what}: skipped, ${reason}`)
      reasons.push(`  - ${source.what}: ${reason}`)
    }
  }
  throw new ConfigError(
    [
      'the Temporal CLI is not installed, and devtwin could not install it:',
      ...reasons,
      'Do one of these, then start again:',
      `  - download ${archiveUrl(CLI_RELEASES) ?? 'the CLI for this machine (https://docs.temporal.io/cli)'} and unpack its \`${BINARY}\` into ${CLI_DIR}`,
      '  - install it another way (https://docs.temporal.io/cli, e.g. `brew install temporal`), then put it on PATH or set DEVTWIN_TEMPORAL_CLI to its path',
      `  - install Go (https://go.dev/dl/) and run \`GOBIN=${CLI_DIR} go install ${CLI_MODULE}\``,
      '  - or use a Temporal server that runs elsewhere: TEMPORAL_ADDRESS=host:7233',
    ].join('\n'),
  )
}

/** The release archive for this machine, or null where Temporal publishes none. */
export function archiveUrl(
  base: string,
  platform: string = process.platform,
  arch: string = process.arch,
): string | null {
  const os = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[platform]
  const cpu = { x64: 'amd64', arm64: 'arm64' }[arch]
  if (!os || !cpu) return null
  return `${base}/v${CLI_VERSION}/temporal_cli_${CLI_VERSION}_${os}_${cpu}.tar.gz`
}

/**
 * The prebuilt release: the archive for this machine, checked against the release's
 * checksums.txt, its binary unpacked into `dir`. A host that does not answer within `timeoutMs`
 * is skipped (a machine without internet fails over to `go install` at once).
 */
export function downloadSource(
  opts: { base?: string; dir?: string; timeoutMs?: number } = {},
): CliSource {
  const base = opts.base ?? CLI_RELEASES
  const dir = opts.dir ?? CLI_DIR
  const timeoutMs = opts.timeoutMs ?? 10_000
  const url = archiveUrl(base)
  return {
    what: `download of ${url ?? `the prebuilt CLI for ${process.platform}/${process.arch}`}`,
    async install(say) {
      if (!url)
        throw new Error(
          `Temporal publishes no prebuilt CLI for ${process.platform}/${process.arch}`,
        )
      const name = url.slice(url.lastIndexOf('/') + 1)
      const checksums = await (await get(`${base}/v${CLI_VERSION}/checksums.txt`, timeoutMs)).text()
      const expected = checksums
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .find(([, file]) => file === name)?.[0]
      if (!expected) throw new Error(`checksums.txt of v${CLI_VERSION} lists no ${name}`)
      const response = await get(url, timeoutMs)
      const archive = Buffer.from(
        await step(say, `downloading ${url}`, () => response.arrayBuffer()),
      )
      const actual = createHash('sha256').update(archive).digest('hex')
      if (actual !== expected) {
        throw new Error(`the archive's sha256 is ${actual}, checksums.txt says ${expected}`)
      }
      // Unpacked beside its final place and moved there whole: never a half-written binary.
      mkdirSync(dir, { recursive: true })
      const unpack = mkdtempSync(join(dir, '.download-'))
      try {
        writeFileSync(join(unpack, name), archive)
        await extract({ file: join(unpack, name), cwd: unpack, filter: (path) => path === BINARY })
        chmodSync(join(unpack, BINARY), 0o755)
        renameSync(join(unpack, BINARY), join(dir, BINARY))
      } finally {
        rmSync(unpack, { recursive: true, force: true })
      }
      return join(dir, BINARY)
    },
  }
}

/** GET that gives up when no response has begun within `timeoutMs`, saying so. */
async function get(url: string, timeoutMs: number): Promise<Response> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeoutMs)
  try {
    const response = await fetch(url, { signal: controller.signal, redirect: 'follow' })
    if (!response.ok) throw new Error(`${url} answered ${response.status} ${response.statusText}`)
    return response
  } catch (error) {
    if (controller.signal.aborted)
      throw new Error(`${new URL(url).host} did not answer within ${timeoutMs / 1000} s`)
    // fetch's own message is "fetch failed"; the cause says what (DNS, refused, TLS).
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    if (cause)
      throw new Error(`could not reach ${new URL(url).host}: ${cause.code ?? cause.message}`)
    throw error
  } finally {
    clearTimeout(timer)
  }
}

/** `go install` of the CLI's module into `dir`, when Go is present: minutes, the first time. */
export function goInstallSource(opts: { dir?: string } = {}): CliSource {
  const dir = opts.dir ?? CLI_DIR
  return {
    what: `go install ${CLI_MODULE}`,
    async install(say) {
      const go = [...onPath('go'), '/usr/local/go/bin/go'].find(isExecutable)
      if (!go) throw new Error('Go is not installed (no `go` on PATH)')
      mkdirSync(dir, { recursive: true })
      await step(
        say,
        `building the Temporal CLI with go install (first time only, a few minutes)`,
        () =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(go, ['install', CLI_MODULE], {
              env: { ...process.env, GOBIN: dir },
              stdio: ['ignore', 'inherit', 'inherit'],
            })
            child.once('error', reject)
            child.once('exit', (code) =>
              code === 0
                ? resolve()
                : reject(new Error(`go install failed (exit ${code}); its output is above`)),
            )
          }),
      )
      return join(dir, BINARY)
    },
  }
}

function onPath(command: string): string[] {
  return (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, command))
}
