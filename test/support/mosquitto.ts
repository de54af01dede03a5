import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { freePort } from '../../src/embedded/ports.ts'
import { waitFor } from './wait.ts'

const repo = new URL('../../', import.meta.url).pathname

/**
 * The machine's Mosquitto run with the shipped mosquitto/mosquitto.conf on a spare port, its
 * files in `dir`. With `auth`, the shipped ACL file and the password file at `dir/passwords`
 * (which must exist); without, anyone may connect (benchmarks: same queues, no password checks).
 * `port` starts it again where it was (the fault suite restarts it on its own files).
 */
export async function startMosquitto(
  dir: string,
  {
    auth,
    probe,
    port: fixedPort,
  }: { auth: boolean; probe?: { username: string; password: string }; port?: number },
) {
  const port = fixedPort ?? (await freePort())
  const moved: Record<string, string> = {
    listener: `listener ${port} 127.0.0.1`,
    password_file: auth ? `password_file ${join(dir, 'passwords')}` : '',
    acl_file: auth ? `acl_file ${join(repo, 'mosquitto/acl')}` : '',
    allow_anonymous: `allow_anonymous ${!auth}`,
    persistence_location: `persistence_location ${dir}/`,
  }
  const lines = readFileSync(join(repo, 'mosquitto/mosquitto.conf'), 'utf8')
    .split('\n')
    .map((line) => moved[line.split(' ')[0] ?? ''] ?? line)
  // Run as root, Mosquitto would drop to its own user, which may not read these files.
  if (process.getuid?.() === 0) lines.push('user root')
  writeFileSync(join(dir, 'mosquitto.conf'), lines.join('\n'))
  const broker = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' })
  const url = `mqtt://127.0.0.1:${port}`
  await waitFor(
    () =>
      mqtt
        .connectAsync(url, { reconnectPeriod: 0, ...probe })
        .then((c) => c.endAsync())
        .then(() => true),
    { what: 'Mosquitto to start' },
  )
  return {
    url,
    process: broker,
    async stop() {
      if (broker.exitCode !== null) return
      broker.kill('SIGTERM')
      await once(broker, 'exit')
    },
  }
}
