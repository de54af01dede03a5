import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import type { Role } from '../src/roles/index.ts'

const main = new URL('../src/main.ts', import.meta.url).pathname

export interface RoleProcess {
  role: Role | 'all'
  child: ChildProcess
  /** Every JSON log line with this `msg` the process printed so far (e.g. "ingest stats"). */
  logged(msg: string): Record<string, unknown>[]
  /** How often each warning or error was logged, with one example of each. */
  problems(): Record<string, { count: number; example: unknown }>
  stop(): Promise<void>
}

/**
 * `node --import tsx src/main.ts <role>` as its own process, the way production runs it; resolves
 * once the role says it is ready, fails with its output if it exits first.
 */
export async function startRole(
  role: Role | 'all',
  env: Record<string, string>,
  nodeOptions: string[] = [],
): Promise<RoleProcess> {
  const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', main, role], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: Record<string, unknown>[] = []
  const text: string[] = []
  let ready!: () => void
  const isReady = new Promise<void>((resolve) => {
    ready = resolve
  })
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      if (line.includes(' ready in ')) ready()
      try {
        lines.push(JSON.parse(line))
      } catch {
        text.push(line)
      }
    })
  }
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`${role} exited (${code}) before it was ready:\n${text.slice(-20).join('\n')}`)
  })
  await Promise.race([isReady, exited])
  exited.catch(() => {})
  return {
    role,
    child,
    logged: (msg) => lines.filter((l) => l.msg === msg),
    problems() {
      const found: Record<string, { count: number; example: unknown }> = {}
      for (const line of lines) {
        if (typeof line.level !== 'number' || line.level < 40) continue
        const key = String(line.msg)
        found[key] ??= { count: 0, example: line.err ?? line }
        found[key].count++
      }
      return found
    },
    async stop() {
      if (child.exitCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      // A role exits by itself within its grace period; past that, it is not waited for.
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(killer)
    },
  }
}
