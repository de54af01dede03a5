import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createServer as createTcpServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { create } from 'tar'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config.ts'
import { freePort } from '../../src/embedded/ports.ts'
import {
  archiveUrl,
  CLI_VERSION,
  type CliSource,
  downloadSource,
  findTemporalCli,
  installTemporalCli,
} from '../../temporal/cli.ts'

const source = (what: string, tried: string[], outcome: string | Error): CliSource => ({
  what,
  install: async () => {
    tried.push(what)
    if (outcome instanceof Error) throw outcome
    return outcome
  },
})

describe('getting the Temporal CLI', () => {
  it('downloads before building, and builds only when the download is skipped', async () => {
    const tried: string[] = []
    const said: string[] = []
    const path = await installTemporalCli(
      (line) => said.push(line),
      [
        source('download', tried, new Error('github.com did not answer within 10 s')),
        source('go install', tried, '/built/temporal'),
      ],
    )
    expect(tried).toEqual(['download', 'go install'])
    expect(path).toBe('/built/temporal')
    expect(said).toContain('download: skipped, github.com did not answer within 10 s')
  })

  it('does not build when the download works', async () => {
    const tried: string[] = []
    const path = await installTemporalCli(() => {}, [
      source('download', tried, '/downloaded/temporal'),
      source('go install', tried, '/x'),
    ])
    expect(tried).toEqual(['download'])
    expect(path).toBe('/downloaded/temporal')
  })

  it('says every reason and what to do when no way works, as a ConfigError (no stack)', async () => {
    const attempt = installTemporalCli(() => {}, [
      source('download', [], new Error('could not reach github.com: ENOTFOUND')),
      source('go install', [], new Error('Go is not installed (no `go` on PATH)')),
    ])
    await expect(attempt).rejects.toBeInstanceOf(ConfigError)
    const message = await attempt.then(
      () => '',
      (e: Error) => e.message,
    )
    expect(message).toContain('download: could not reach github.com: ENOTFOUND')
    expect(message).toContain('go install: Go is not installed')
    expect(message).toContain(archiveUrl('https://github.com/temporalio/cli/releases/download'))
    expect(message).toContain('DEVTWIN_TEMPORAL_CLI')
    expect(message).toContain('TEMPORAL_ADDRESS')
  })

  it('takes DEVTWIN_TEMPORAL_CLI before anything else, and installs nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'devtwin-cli-'))
    const cli = join(dir, 'my-temporal')
    writeFileSync(cli, '#!/bin/sh\n', { mode: 0o755 })
    const before = process.env.DEVTWIN_TEMPORAL_CLI
    process.env.DEVTWIN_TEMPORAL_CLI = cli
    try {
      const tried: string[] = []
      expect(await findTemporalCli(() => {}, [source('download', tried, '/x')])).toBe(cli)
      expect(tried).toEqual([])
    } finally {
      if (before === undefined) delete process.env.DEVTWIN_TEMPORAL_CLI
      else process.env.DEVTWIN_TEMPORAL_CLI = before
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('the prebuilt download', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'devtwin-cli-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('is skipped with the reason when the host refuses the connection', async () => {
    const base = `http://127.0.0.1:${await freePort()}`
    const started = Date.now()
    const attempt = downloadSource({ base, dir: join(dir, 'refused'), timeoutMs: 2000 }).install(
      () => {},
    )
    await expect(attempt).rejects.toThrow(/could not reach 127\.0\.0\.1:\d+: ECONNREFUSED/)
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('is skipped after the timeout when the host does not answer', async () => {
    const silent = createTcpServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as { port: number }).port
    try {
      const attempt = downloadSource({
        base: `http://127.0.0.1:${port}`,
        dir: join(dir, 'silent'),
        timeoutMs: 300,
      }).install(() => {})
      await expect(attempt).rejects.toThrow(`127.0.0.1:${port} did not answer within 0.3 s`)
    } finally {
      silent.close()
    }
  })

  describe('from a release that answers', () => {
    let server: Server
    let base: string
    let checksum: string
    beforeAll(async () => {
      // A release laid out as Temporal's: /v{version}/{archive} and /v{version}/checksums.txt.
      const build = mkdtempSync(join(dir, 'build-'))
      writeFileSync(join(build, 'temporal'), '#!/bin/sh\necho "temporal version test"\n', {
        mode: 0o755,
      })
      writeFileSync(join(build, 'LICENSE'), 'MIT\n')
      await create({ gzip: true, file: join(build, 'a.tar.gz'), cwd: build }, [
        'temporal',
        'LICENSE',
      ])
      const archive = readFileSync(join(build, 'a.tar.gz'))
      const path = new URL(archiveUrl('http://x') as string).pathname
      const name = path.slice(path.lastIndexOf('/') + 1)
      checksum = createHash('sha256').update(archive).digest('hex')
      server = createServer((req, res) => {
        if (req.url === path) return res.end(archive)
        if (req.url === `/v${CLI_VERSION}/checksums.txt`) {
          return res.end(`${'0'.repeat(64)}  other.zip\n${checksum}  ${name}\n`)
        }
        if (req.url === `/bad/v${CLI_VERSION}/checksums.txt`) {
          return res.end(`${'f'.repeat(64)}  ${name}\n`)
        }
        if (req.url === `/bad${path}`) return res.end(archive)
        res.statusCode = 404
        res.end()
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    })
    afterAll(() => server?.close())

    it('unpacks the binary whose sha256 the release lists, ready to run', async () => {
      const target = join(dir, 'good')
      const said: string[] = []
      const path = await downloadSource({ base, dir: target, timeoutMs: 2000 }).install((line) =>
        said.push(line),
      )
      expect(path).toBe(join(target, 'temporal'))
      expect(execFileSync(path).toString()).toBe('temporal version test\n')
      // Only the binary: no archive, LICENSE or unpacking folder left behind.
      expect(readdirSync(target)).toEqual(['temporal'])
      expect(said.some((line) => line.startsWith(`downloading ${base}`))).toBe(true)
    })

    it('refuses an archive whose sha256 is not the one the release lists', async () => {
      const target = join(dir, 'bad')
      const attempt = downloadSource({ base: `${base}/bad`, dir: target, timeoutMs: 2000 }).install(
        () => {},
      )
      await expect(attempt).rejects.toThrow(`the archive's sha256 is ${checksum}`)
      expect(existsSync(join(target, 'temporal'))).toBe(false)
    })
  })
})
