/**
 * `npm run simulate -- --devices N --rate R [...]`: a fleet of simulated devices against a
 * broker, with one line of progress a second. `--help` lists the options.
 */
import { readFile } from 'node:fs/promises'
import { parseCliArgs, parsePasswords, USAGE, UsageError } from './cli-args.ts'
import { createFleet, type Fleet, type FleetStats } from './fleet.ts'

const USAGE_EXIT = 2

async function main(): Promise<number> {
  let options: ReturnType<typeof parseCliArgs>
  let passwords = new Map<string, string>()
  try {
    options = parseCliArgs(process.argv.slice(2))
    if (options.help) {
      console.log(USAGE)
      return 0
    }
    if (options.passwordFile) {
      const file = options.passwordFile
      const json = await readFile(file, 'utf8').catch((error: Error) => {
        throw new UsageError(`--password-file ${file}: ${error.message}`)
      })
      passwords = parsePasswords(json, file)
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`simulate: ${error.message} (--help lists the options)`)
    return USAGE_EXIT
  }

  const { fleet: fleetOptions, durationSeconds } = options
  const prefix = fleetOptions.prefix ?? 'sim'
  const fleet = createFleet({
    ...fleetOptions,
    devices: Array.from({ length: fleetOptions.devices }, (_, i) => {
      const id = `${prefix}-${i + 1}`
      const password = passwords.get(id)
      return password === undefined ? { id } : { id, password }
    }),
  })
  const { rate, model, url } = fleetOptions
  console.log(`simulating ${fleet.ids.length} ${model} devices at ${rate} msg/s each on ${url}`)

  const progress = startProgress(fleet)
  let stopping: Promise<void> | null = null
  const stop = () => {
    stopping ??= (async () => {
      progress.stop()
      await fleet.stop()
      progress.print(fleet.stats(), null)
    })()
    return stopping
  }
  const done = new Promise<void>((resolve) => {
    const onSignal = () => {
      // A second Ctrl-C while stopping: the user means it.
      if (stopping) process.exit(130)
      stop().then(resolve)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    if (durationSeconds !== null) {
      setTimeout(() => stop().then(resolve), durationSeconds * 1000).unref()
    }
  })

  try {
    await fleet.start()
  } catch (error) {
    progress.stop()
    console.error(`\nsimulate: ${(error as Error).message}`)
    return 1
  }
  await done
  return 0
}

/** Rewrites one line a second on a terminal; one line per second into a pipe or a file. */
function startProgress(fleet: Fleet) {
  const tty = process.stdout.isTTY === true
  let lastSent = 0
  let lastAt = Date.now()
  /** `perSecond` null: the final line, once stopped. */
  const print = (stats: FleetStats, perSecond: number | null) => {
    const parts = [
      perSecond === null ? 'stopped' : `connected ${stats.connected}/${stats.devices}`,
      perSecond === null ? null : `${perSecond.toFixed(0)} msg/s`,
      `sent ${stats.sent}`,
      `commands ${stats.commandsReceived}`,
      `acks ${stats.acksSent}`,
      `errors ${stats.errors}`,
    ]
    if (stats.dropped > 0) parts.push(`dropped ${stats.dropped}`)
    const line = parts.filter((p) => p !== null).join(' | ')
    if (tty) process.stdout.write(`\r${line}\x1b[K${perSecond === null ? '\n' : ''}`)
    else console.log(line)
  }
  const timer = setInterval(() => {
    const stats = fleet.stats()
    const now = Date.now()
    print(stats, ((stats.sent - lastSent) * 1000) / Math.max(1, now - lastAt))
    lastSent = stats.sent
    lastAt = now
  }, 1000)
  return {
    print,
    stop: () => clearInterval(timer),
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error)
    process.exit(1)
  },
)
