import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { eq, max } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { twinEvents } from '../../src/db/schema.ts'
import { MODES, startTestStack, type TestStack } from '../support/stack.ts'
import { loggedVersions } from '../support/twin-events.ts'
import { waitFor } from '../support/wait.ts'

const ROOT = new URL('../..', import.meta.url).pathname

/** The documented example client following one twin (docs/graphql.md), as a process of its own. */
function follow(port: number, deviceId: string, token: string) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'examples/follow-twin.ts', deviceId, '0'],
    {
      cwd: ROOT,
      env: { ...process.env, TOKEN: token, GRAPHQL_WS_URL: `ws://127.0.0.1:${port}/graphql` },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const versions: number[] = []
  let stderr = ''
  let pending = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8')
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      const event = JSON.parse(line) as { version: number; live: boolean }
      if (!event.live) versions.push(event.version)
    }
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  return {
    deviceId,
    versions,
    stderr: () => stderr,
    exitCode: () => child.exitCode,
    stop: () => child.pid !== undefined && process.kill(child.pid),
  }
}

describe.each(MODES)('an api killed under load (%s)', (mode) => {
  let stack: TestStack
  beforeAll(async () => {
    stack = await startTestStack(mode, {
      roles: ['ingest', 'worker'],
      // Readings reach the workflows quickly, so versions keep coming while the api is away.
      env: { DEVTWIN_CHECKPOINT_MS: '1000' },
    })
  })
  afterAll(() => stack?.close())

  const logged = (id: string) => loggedVersions(stack.database.db, id)
  const newest = async (id: string) =>
    (
      await stack.database.db
        .select({ version: max(twinEvents.version) })
        .from(twinEvents)
        .where(eq(twinEvents.deviceId, id))
    )[0]?.version ?? 0

  it('a resuming client gets every version once and in order across the restart', async () => {
    let api = await stack.startApi()
    const token = await stack.token('viewer')
    const ids = [stack.deviceId('load-a'), stack.deviceId('load-b')]
    const followers = ids.map((id) => follow(api.port, id, token))
    let reading = 0
    const load = setInterval(() => {
      reading++
      for (const id of ids) {
        stack.publish(stack.topics.device(id, 'telemetry'), { values: { power: reading } })
      }
    }, 100)
    try {
      await waitFor(() => followers.every((f) => f.versions.length >= 3), {
        what: 'three versions at each client',
        timeout: 30_000,
      })

      // Killed mid-stream: sockets cut, no close frame, while readings keep coming.
      await api.kill()
      const atKill = await Promise.all(ids.map(newest))
      await waitFor(
        async () => (await Promise.all(ids.map(newest))).every((v, i) => v >= (atKill[i] ?? 0) + 3),
        { what: 'three new versions of each twin while the api is down', timeout: 30_000 },
      )
      const missed = await Promise.all(ids.map(newest))
      expect(
        followers.map((f) => f.versions.at(-1) ?? 0).every((v, i) => v < (missed[i] ?? 0)),
      ).toBe(true)

      api = await stack.startApi(api.port)
      // The clients reconnect by themselves, catch up and then follow live versions again.
      await waitFor(
        () => followers.every((f, i) => (f.versions.at(-1) ?? 0) >= (missed[i] ?? 0) + 2),
        { what: 'the clients past the versions made while the api was down', timeout: 30_000 },
      )
      clearInterval(load)
      // Every version the change log holds, once, in order: no gap, no repeat.
      for (const f of followers) {
        const log = await waitFor(
          async () => {
            const versions = await logged(f.deviceId)
            return versions.at(-1) === f.versions.at(-1) && versions
          },
          { what: `${f.deviceId}'s last version at its client` },
        )
        expect(f.versions).toEqual(log)
        expect(log[0]).toBe(1)
        expect(f.stderr()).toBe('')
        expect(f.exitCode()).toBeNull()
      }
    } finally {
      clearInterval(load)
      for (const f of followers) f.stop()
      await api.kill()
    }
  })
})

describe('the documented example client', () => {
  it('is the one this test runs, word for word', () => {
    const doc = readFileSync(join(ROOT, 'docs/graphql.md'), 'utf8')
    const example = readFileSync(join(ROOT, 'examples/follow-twin.ts'), 'utf8')
    expect(doc).toContain(`\`\`\`ts\n${example}\`\`\``)
  })
})
