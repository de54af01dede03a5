import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBroker } from '../../src/embedded/broker.ts'
import { freePort } from '../../src/embedded/ports.ts'
import { parseCliArgs, UsageError } from '../../src/simulator/cli-args.ts'
import { waitFor } from '../support/wait.ts'
import { type Recorder, startRecorder } from './recorder.ts'

const MAIN = 'src/simulator/main.ts'

/** Runs the CLI as `npm run simulate` would, collecting its output. */
function simulate(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out = { stdout: '', stderr: '' }
  child.stdout.on('data', (chunk) => {
    out.stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    out.stderr += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, out, exited }
}

describe('parseCliArgs', () => {
  it('has defaults, from the environment where it can', () => {
    const { fleet, durationSeconds, passwordFile } = parseCliArgs([], { MQTT_PORT: '1999' })
    expect(fleet).toMatchObject({
      url: 'mqtt://127.0.0.1:1999',
      topicRoot: 'devices',
      devices: 10,
      rate: 1,
      model: 'charge-point',
      prefix: 'sim',
    })
    expect(durationSeconds).toBeNull()
    expect(passwordFile).toBeNull()
    expect(
      parseCliArgs([], { MQTT_URL: 'mqtt://broker:1883', DEVTWIN_TOPIC_ROOT: 'tenant-a' }).fleet,
    ).toMatchObject({ url: 'mqtt://broker:1883', topicRoot: 'tenant-a' })
  })

  it('reads every option', () => {
    const { fleet, durationSeconds } = parseCliArgs(
      '--devices 500 --rate 0.2 --model sensor --url mqtt://h:1 --topic-root t --prefix cp --failing 0.1 --slow 0.05 --deaf 0.05 --flapping 0.01 --out-of-range 0.04 --silent 0.02 --offline 0.03 --duration 60 --seed 7 --tempo 10 --mqtt-version 5'.split(
        ' ',
      ),
      {},
    )
    expect(fleet).toMatchObject({
      devices: 500,
      rate: 0.2,
      model: 'sensor',
      url: 'mqtt://h:1',
      topicRoot: 't',
      prefix: 'cp',
      failing: 0.1,
      slow: 0.05,
      deaf: 0.05,
      flapping: 0.01,
      outOfRange: 0.04,
      silent: 0.02,
      offline: 0.03,
      seed: 7,
      tempo: 10,
      mqtt: { protocolVersion: 5 },
    })
    expect(durationSeconds).toBe(60)
  })

  it.each([
    [['--devices', 'abc'], /--devices must be a whole number/],
    [['--devices', '0'], /--devices/],
    [['--devices', '1.5'], /--devices/],
    [['--rate', '-1'], /--rate/],
    [['--rate', ''], /--rate/],
    [['--model', 'toaster'], /--model must be one of charge-point, sensor/],
    [['--failing', '1.5'], /--failing must be a share/],
    [['--failing', '0.7', '--deaf', '0.7'], /add up to 14 devices, more than the 10/],
    [['--url', 'nope'], /--url/],
    [['--url', 'http://x'], /--url must use/],
    [['--topic-root', 'a/b'], /--topic-root/],
    [['--prefix', 'has space'], /--prefix/],
    [['--duration', '0'], /--duration/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['extra'], /positional/],
  ])('refuses %j', (args, message) => {
    expect(() => parseCliArgs(args, {})).toThrow(UsageError)
    expect(() => parseCliArgs(args, {})).toThrow(message)
  })
})

describe('npm run simulate', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>
  let recorder: Recorder

  beforeAll(async () => {
    broker = await startBroker(await freePort())
    recorder = await startRecorder(broker.url, 'cli')
  })

  afterAll(async () => {
    await recorder?.close()
    await broker?.close()
  })

  it('exits with code 2 and one line on bad arguments', async () => {
    const { out, exited } = simulate(['--devices', 'abc'])
    expect(await exited).toBe(2)
    expect(out.stderr.trim().split('\n')).toEqual([
      "simulate: --devices must be a whole number >= 1, got 'abc' (--help lists the options)",
    ])
  })

  it('runs a fleet with progress, and says offline when stopped', async () => {
    const { child, out, exited } = simulate([
      '--devices',
      '3',
      '--rate',
      '10',
      '--url',
      broker.url,
      '--topic-root',
      'cli',
      '--prefix',
      'cli',
    ])
    try {
      await waitFor(() => /connected 3\/3 \| \d+ msg\/s/.test(out.stdout), {
        what: 'a progress line with all connected',
      })
      await waitFor(() => recorder.of('cli-3', 'telemetry').length > 5)
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    } finally {
      child.kill('SIGKILL')
    }
    expect(out.stdout).toMatch(/^stopped \| sent \d+/m)
    for (const id of ['cli-1', 'cli-2', 'cli-3']) {
      expect(recorder.of(id, 'status')).toEqual([{ online: true }, { online: false }])
    }
  })

  it('stops by itself after --duration', async () => {
    const { out, exited } = simulate(['--devices', '1', '--duration', '1', '--url', broker.url])
    expect(await exited).toBe(0)
    expect(out.stdout).toMatch(/stopped/)
  })
})
