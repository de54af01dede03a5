import { spawn } from 'node:child_process'
import { accessSync, constants, mkdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import { ConfigError } from '../src/config.ts'

/** The newest CLI tag whose go.mod has no `replace` directive (which `go install` refuses). */
export const CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1'

/** Where devtwin keeps the CLI it installs: shared by every data dir and test run. */
export const CLI_DIR = new URL('../.devtwin/bin', import.meta.url).pathname

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
 * installed before, else a fresh `go install` of it when Go is present.
 */
export async function findTemporalCli(log: (line: string) => void): Promise<string> {
  const candidates = [
    process.env.DEVTWIN_TEMPORAL_CLI,
    ...onPath('temporal'),
    join(CLI_DIR, 'temporal'),
    // Where an earlier plain `go install` put it.
    join(process.env.GOPATH ?? join(homedir(), 'go'), 'bin', 'temporal'),
  ]
  const found = candidates.find((path) => path && isExecutable(path))
  if (found) return found

  const go = [...onPath('go'), '/usr/local/go/bin/go'].find(isExecutable)
  if (!go) {
    throw new ConfigError(
      'the Temporal CLI was not found: put `temporal` on PATH (https://docs.temporal.io/cli), ' +
        `install Go so devtwin can run \`go install ${CLI_MODULE}\`, or set TEMPORAL_ADDRESS`,
    )
  }
  log(`installing the Temporal CLI (go install ${CLI_MODULE}); first time only, a few minutes…`)
  mkdirSync(CLI_DIR, { recursive: true })
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', CLI_MODULE], {
      env: { ...process.env, GOBIN: CLI_DIR },
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    child.once('error', reject)
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new ConfigError(`go install of the Temporal CLI failed (exit ${code})`)),
    )
  })
  return join(CLI_DIR, 'temporal')
}

function onPath(command: string): string[] {
  return (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, command))
}
