/**
 * Runs `task` and says so: `what…` when it starts, `still what (N s)…` every `everyMs` while it
 * runs, and how long it took, so that a long first start (a CLI to install, a bundle to build)
 * never looks hung.
 */
export async function step<T>(
  say: (line: string) => void,
  what: string,
  task: () => Promise<T>,
  everyMs = 4000,
): Promise<T> {
  const started = Date.now()
  const seconds = () => ((Date.now() - started) / 1000).toFixed(1)
  say(`${what}…`)
  const timer = setInterval(() => say(`still ${what} (${seconds()} s)…`), everyMs)
  try {
    const result = await task()
    say(`${what}: done in ${seconds()} s`)
    return result
  } finally {
    clearInterval(timer)
  }
}
