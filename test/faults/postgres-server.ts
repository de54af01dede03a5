import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import postgres from 'postgres'
import { waitFor } from '../support/wait.ts'

/** The newest Postgres installed the Debian way (/usr/lib/postgresql/<major>/bin). */
function postgresBin(): string {
  const root = '/usr/lib/postgresql'
  const majors = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : []
  const bin = majors.map((m) => join(root, m, 'bin')).find((b) => existsSync(join(b, 'initdb')))
  if (!bin) throw new Error(`no Postgres server binaries under ${root}/*/bin`)
  return bin
}

/** Postgres refuses to run as root: as root, it runs as the machine's `postgres` user. */
function runAs(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {}
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim())
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim())
  return { uid, gid }
}

/**
 * A Postgres server of the suite's own: `initdb` into `dir` (trust auth, user postgres), run on
 * `port` as a child in its own process group, so that `kill()` takes the postmaster and every
 * backend down at once, as a crash of the server would, and `start()` brings it back on the same
 * data directory (crash recovery included).
 */
export function postgresServer(dir: string, port: number) {
  const bin = postgresBin()
  const user = runAs()
  const data = join(dir, 'data')
  let child: ChildProcess | null = null
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`

  const init = () => {
    mkdirSync(dir, { recursive: true })
    if ('uid' in user) {
      chownSync(dir, user.uid, user.gid)
      chmodSync(dir, 0o700)
    }
    execFileSync(
      join(bin, 'initdb'),
      ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'],
      {
        ...user,
        stdio: 'ignore',
      },
    )
  }

  const start = async () => {
    child = spawn(
      join(bin, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        // A killed process loses nothing written to the kernel; fsync guards against a crash of
        // the machine, which this suite does not make, and costs the shared disk dearly.
        '-c',
        'fsync=off',
        '-c',
        'max_connections=200',
      ],
      { ...user, stdio: 'ignore', detached: true },
    )
    await waitFor(
      async () => {
        if (child?.exitCode !== null) throw new Error(`postgres exited (${child?.exitCode})`)
        const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} })
        try {
          await sql`select 1`
          return true
        } finally {
          await sql.end()
        }
      },
      { timeout: 60_000, interval: 200, what: `Postgres on port ${port}` },
    )
  }

  return {
    url,
    pid: () => child?.pid ?? null,
    init,
    start,
    /** SIGKILL to the postmaster's process group: the server and its backends, no shutdown. */
    async kill() {
      const running = child
      if (!running?.pid || running.exitCode !== null) return
      const exited = once(running, 'exit')
      process.kill(-running.pid, 'SIGKILL')
      await exited
    },
    async stop() {
      const running = child
      if (!running?.pid || running.exitCode !== null) return
      const exited = once(running, 'exit')
      running.kill('SIGINT') // fast shutdown
      await exited
    },
  }
}

export type PostgresServer = ReturnType<typeof postgresServer>
