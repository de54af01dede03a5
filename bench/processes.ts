import { readdirSync, readFileSync } from 'node:fs'

/** What one group of processes (a role, Postgres, the broker) cost during a run. */
export interface ProcessCost {
  cpuSeconds: number
  /** Highest sum of resident memory over the group's processes, sampled once a second. */
  peakRssMiB: number
  pids: number[]
}

const TICKS_PER_SECOND = 100 // USER_HZ on Linux

/** utime + stime (+ reaped children's, so exited Postgres backends still count), in ticks. */
function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]))
    return (utime ?? 0) + (stime ?? 0) + (cutime ?? 0) + (cstime ?? 0)
  } catch {
    return null
  }
}

function rssKiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  } catch {
    return 0
  }
}

/** Pids whose command line matches `pattern` (e.g. every `postgres` process). */
export function pidsMatching(pattern: RegExp): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
        return pattern.test(cmdline)
      } catch {
        return false
      }
    })
}

/**
 * Samples groups of processes once a second until `stop()`, which returns each group's CPU
 * seconds over the run and its peak memory. Groups are functions so a group can gain processes
 * (a new Postgres backend) while the run goes on.
 */
export function watchProcesses(groups: Record<string, () => number[]>) {
  const first = new Map<number, number>()
  const last = new Map<number, number>()
  const peaks: Record<string, number> = {}
  const seen: Record<string, Set<number>> = {}
  const sample = () => {
    for (const [name, pidsOf] of Object.entries(groups)) {
      let rss = 0
      seen[name] ??= new Set()
      for (const pid of pidsOf()) {
        const ticks = cpuTicks(pid)
        if (ticks === null) continue
        seen[name].add(pid)
        if (!first.has(pid)) first.set(pid, ticks)
        last.set(pid, ticks)
        rss += rssKiB(pid)
      }
      peaks[name] = Math.max(peaks[name] ?? 0, rss)
    }
  }
  sample()
  const timer = setInterval(sample, 1000)
  return {
    stop(): Record<string, ProcessCost> {
      clearInterval(timer)
      sample()
      return Object.fromEntries(
        Object.keys(groups).map((name) => {
          const pids = [...(seen[name] ?? [])]
          const ticks = pids.reduce(
            (sum, pid) => sum + ((last.get(pid) ?? 0) - (first.get(pid) ?? 0)),
            0,
          )
          return [
            name,
            {
              cpuSeconds: Math.round((ticks / TICKS_PER_SECOND) * 10) / 10,
              peakRssMiB: Math.round((peaks[name] ?? 0) / 1024),
              pids,
            },
          ]
        }),
      )
    },
  }
}
