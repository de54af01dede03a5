import { Worker } from 'node:worker_threads'

/**
 * Runs `task` and says so: `what…` when it starts, `still what (N s)…` every `everyMs` while it
 * runs, and how long it took, so that a long first start (a CLI to install, a bundle to build)
 * never looks hung. A task that holds the event loop (`blocking`: PGlite's initdb runs in WASM on
 * this thread) stops timers from firing, so its "still" lines come from a thread of their own,
 * written straight to stderr.
 */
export async function step<T>(
  say: (line: string) => void,
  what: string,
  task: () => Promise<T>,
  everyMs = 4000,
  { blocking = false } = {},
): Promise<T> {
  const started = Date.now()
  const seconds = () => ((Date.now() - started) / 1000).toFixed(1)
  say(`${what}…`)
  const stopTicking = blocking
    ? tickFromThread(`still ${what}`, everyMs)
    : clearing(setInterval(() => say(`still ${what} (${seconds()} s)…`), everyMs))
  try {
    const result = await task()
    say(`${what}: done in ${seconds()} s`)
    return result
  } finally {
    await stopTicking()
  }
}

const clearing = (timer: NodeJS.Timeout) => async () => clearInterval(timer)

// Evaluated as a script or a module (as the process's flags say): builtins only, no imports.
const TICKER = `
const { writeSync } = process.getBuiltinModule('node:fs')
const { workerData } = process.getBuiltinModule('node:worker_threads')
const started = Date.now()
setInterval(() => {
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  writeSync(2, workerData.line + ' (' + seconds + ' s)…\\n')
}, workerData.everyMs)
`

function tickFromThread(line: string, everyMs: number) {
  const ticker = new Worker(TICKER, { eval: true, workerData: { line, everyMs } })
  ticker.unref()
  return async () => {
    await ticker.terminate()
  }
}
