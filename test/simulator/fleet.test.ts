import { createServer } from 'node:net'
import { Aedes } from 'aedes'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startBroker } from '../../src/embedded/broker.ts'
import { freePort } from '../../src/embedded/ports.ts'
import {
  type Ack,
  type CommandMessage,
  createFleet,
  type Fleet,
  type FleetOptions,
  startFleet,
} from '../../src/simulator/fleet.ts'
import { RANGES } from '../../src/simulator/profiles.ts'
import { waitFor } from '../support/wait.ts'
import { type Recorder, startRecorder } from './recorder.ts'

interface Reading {
  ts: number
  seq: number
  values: Record<string, unknown>
}

let broker: Awaited<ReturnType<typeof startBroker>>
let recorder: Recorder
const fleets: Fleet[] = []
let run = 0

beforeAll(async () => {
  broker = await startBroker(await freePort())
  recorder = await startRecorder(broker.url)
})

afterEach(async () => {
  await Promise.all(fleets.splice(0).map((fleet) => fleet.stop()))
})

afterAll(async () => {
  await recorder?.close()
  await broker?.close()
})

/** A fleet with ids of its own (retained statuses of earlier tests stay in the broker). */
async function fleet(opts: Partial<FleetOptions> = {}) {
  const started = await startFleet({
    url: broker.url,
    devices: 2,
    rate: 0,
    prefix: `t${++run}`,
    commandDelayMs: 50,
    ...opts,
  })
  fleets.push(started)
  return started
}

const acksOf = (id: string) => recorder.of<Ack>(id, 'acks')
const command = (id: string, extra: Partial<CommandMessage> = {}) => ({
  id,
  name: 'reboot',
  args: {},
  attempt: 1,
  expiresAt: new Date(Date.now() + 60_000).toISOString(),
  ...extra,
})
/** Acks for command `cmd` sent to `device`, once one with `status` arrived. */
const ackedWith = (device: string, cmd: string, status: Ack['status']) =>
  waitFor(
    () => {
      const acks = acksOf(device).filter((a) => a.id === cmd)
      return acks.some((a) => a.status === status) && acks
    },
    { what: `${status} ack of ${cmd} from ${device}` },
  )

describe('simulated fleet', () => {
  it('says it is online, then sends plausible telemetry with an increasing seq', async () => {
    const f = await fleet({ devices: 3, rate: 20 })
    expect(f.stats()).toMatchObject({ devices: 3, connected: 3 })
    for (const id of f.ids) {
      // Connected means the broker has it; the recorder's copy may still be on its way.
      const status = await waitFor(
        () => recorder.messages.find((m) => m.deviceId === id && m.kind === 'status'),
        { what: `the status of ${id}` },
      )
      expect(status).toMatchObject({ json: { online: true }, retain: false })
    }
    await waitFor(() => f.ids.every((id) => recorder.of(id, 'telemetry').length >= 10), {
      what: '10 readings from every device',
    })
    expect(f.stats().sent).toBeGreaterThanOrEqual(30)
    for (const id of f.ids) {
      const readings = recorder.of<Reading>(id, 'telemetry')
      expect(readings.map((r) => r.seq)).toEqual(readings.map((_, i) => i + 1))
      for (const { ts, values } of readings) {
        expect(Math.abs(Date.now() - ts)).toBeLessThan(60_000)
        expect(values.power).toBeGreaterThanOrEqual(RANGES['charge-point'].power[0])
        expect(values.power).toBeLessThanOrEqual(RANGES['charge-point'].power[1])
        expect(values.temperature).toBeGreaterThanOrEqual(RANGES['charge-point'].temperature[0])
        expect(values.temperature).toBeLessThanOrEqual(RANGES['charge-point'].temperature[1])
        expect(['connected', 'disconnected']).toContain(values.cable)
        expect(typeof values.door).toBe('boolean')
      }
    }
  })

  it('sends the sensor model when asked', async () => {
    const f = await fleet({ devices: 1, rate: 20, model: 'sensor' })
    const [id] = f.ids as [string]
    const [reading] = await waitFor(
      () =>
        recorder.of<Reading>(id, 'telemetry').length > 0 && recorder.of<Reading>(id, 'telemetry'),
    )
    expect(Object.keys(reading?.values ?? {}).sort()).toEqual([
      'humidity',
      'pressure',
      'temperature',
    ])
  })

  it('opens the door before every cable change', async () => {
    // Sessions a thousand times faster than life, so a few seconds hold several.
    const f = await fleet({ devices: 5, rate: 20, tempo: 1000 })
    const changes = () =>
      f.ids.map((id) => {
        const readings = recorder.of<Reading>(id, 'telemetry')
        return readings.flatMap((r, i) => {
          const before = readings[i - 1]
          return before && before.values.cable !== r.values.cable ? [[before, r] as const] : []
        })
      })
    await waitFor(() => changes().flat().length >= 10, { what: '10 cable changes' })
    for (const [before, change] of changes().flat()) {
      expect(before.values.door).toBe(true)
      expect(change.values.door).toBe(true)
      expect(change.ts - before.ts).toBeLessThan(30_000)
    }
  })

  it('accepts a command, then reports it succeeded', async () => {
    const seen: [string, CommandMessage][] = []
    const f = await fleet({ onCommand: (id, c) => seen.push([id, c]) })
    const [id] = f.ids as [string]
    await recorder.send(id, command('ok-1', { args: { delay: 1 } }))
    const acks = await ackedWith(id, 'ok-1', 'succeeded')
    expect(acks).toEqual([
      { id: 'ok-1', status: 'accepted' },
      {
        id: 'ok-1',
        status: 'succeeded',
        result: { name: 'reboot', handledAt: expect.any(String) },
      },
    ])
    expect(seen).toEqual([[id, expect.objectContaining({ id: 'ok-1', args: { delay: 1 } })]])
    expect(f.stats()).toMatchObject({ commandsReceived: 1, commandsExecuted: 1, acksSent: 2 })
  })

  it('runs a repeated command id once, answering the retry with its latest ack', async () => {
    const seen: string[] = []
    const f = await fleet({ commandDelayMs: 300, onCommand: (_, c) => seen.push(c.id) })
    const [id] = f.ids as [string]
    // A retry while the first attempt is still working: the answer is "accepted" again.
    await recorder.send(id, command('dup-1'))
    await recorder.send(id, command('dup-1', { attempt: 2 }))
    await waitFor(() => acksOf(id).filter((a) => a.status === 'accepted').length === 2)
    await ackedWith(id, 'dup-1', 'succeeded')
    // A retry after it finished: the terminal ack again, not a second run.
    await recorder.send(id, command('dup-1', { attempt: 3 }))
    await waitFor(() => acksOf(id).filter((a) => a.status === 'succeeded').length === 2)
    // Acks of one device keep their order: once this one is in, a second run would show.
    await recorder.send(id, command('after-1'))
    await ackedWith(id, 'after-1', 'succeeded')
    const statuses = acksOf(id)
      .filter((a) => a.id === 'dup-1')
      .map((a) => a.status)
    expect(statuses).toEqual(['accepted', 'accepted', 'succeeded', 'succeeded'])
    const [first, again] = acksOf(id).filter((a) => a.id === 'dup-1' && a.status === 'succeeded')
    expect(again).toEqual(first)
    expect(seen).toEqual(['dup-1', 'dup-1', 'dup-1', 'after-1'])
    expect(f.stats()).toMatchObject({ commandsReceived: 4, commandsExecuted: 2 })
  })

  it("fails the 'fail' command, and every command of a failing device", async () => {
    const f = await fleet({ failing: 0.5 })
    const [failing, normal] = f.ids as [string, string]
    expect(f.device(failing).behaviour).toBe('failing')
    expect(f.device(normal).behaviour).toBe('normal')
    await recorder.send(normal, command('f-1', { name: 'fail' }))
    await recorder.send(failing, command('f-2'))
    expect(await ackedWith(normal, 'f-1', 'failed')).toEqual([
      { id: 'f-1', status: 'accepted' },
      { id: 'f-1', status: 'failed', error: expect.stringContaining('fail') },
    ])
    expect(await ackedWith(failing, 'f-2', 'failed')).toEqual([
      { id: 'f-2', status: 'accepted' },
      { id: 'f-2', status: 'failed', error: 'simulated failure' },
    ])
  })

  it('answers late on a slow device', async () => {
    const f = await fleet({ slow: 0.5, slowMs: 1000 })
    const [slow] = f.ids as [string]
    const sentAt = Date.now()
    await recorder.send(slow, command('s-1'))
    await ackedWith(slow, 's-1', 'accepted')
    expect(Date.now() - sentAt).toBeLessThan(900)
    await ackedWith(slow, 's-1', 'succeeded')
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1000)
  })

  it('never answers on a deaf device, though it hears the command', async () => {
    const seen: string[] = []
    const f = await fleet({ deaf: 0.5, onCommand: (id) => seen.push(id) })
    const [deaf, normal] = f.ids as [string, string]
    await recorder.send(deaf, command('d-1'))
    await recorder.send(normal, command('d-2'))
    await ackedWith(normal, 'd-2', 'succeeded')
    // Sent first, answered in the same time: it would be in by now.
    await recorder.send(normal, command('d-3'))
    await ackedWith(normal, 'd-3', 'succeeded')
    expect(acksOf(deaf)).toEqual([])
    expect(seen).toContain(deaf)
    // And it can be cured.
    f.device(deaf).behaviour = 'normal'
    await recorder.send(deaf, command('d-4'))
    await ackedWith(deaf, 'd-4', 'succeeded')
  })

  it('rejects an expired command without running it', async () => {
    const f = await fleet()
    const [id] = f.ids as [string]
    await recorder.send(
      id,
      command('x-1', { expiresAt: new Date(Date.now() - 1000).toISOString() }),
    )
    await recorder.send(id, command('x-2', { expiresAt: Date.now() - 1 }))
    await recorder.send(id, command('x-3', { expiresAt: null }))
    await ackedWith(id, 'x-3', 'succeeded')
    expect(acksOf(id).filter((a) => a.id !== 'x-3')).toEqual([
      { id: 'x-1', status: 'rejected', error: 'expired' },
      { id: 'x-2', status: 'rejected', error: 'expired' },
    ])
    expect(f.stats().commandsExecuted).toBe(1)
  })

  it('ignores a malformed command, counts it, and keeps working', async () => {
    const f = await fleet({ devices: 1 })
    const [id] = f.ids as [string]
    await recorder.send(id, 'not json')
    await recorder.send(id, { name: 'no id' })
    await recorder.send(id, command('m-1'))
    await ackedWith(id, 'm-1', 'succeeded')
    expect(f.stats()).toMatchObject({ errors: 2, commandsReceived: 1, connected: 1 })
  })

  it('goes offline with its will, and comes back', async () => {
    const f = await fleet({ rate: 20 })
    const [id] = f.ids as [string]
    const statuses = () => recorder.of<{ online: boolean }>(id, 'status').map((s) => s.online)
    await f.device(id).goOffline()
    await waitFor(() => statuses().at(-1) === false, { what: 'the will' })
    expect(f.stats().connected).toBe(1)
    const sentBefore = recorder.of(id, 'telemetry').length
    await f.device(id).connect()
    await waitFor(() => statuses().at(-1) === true, { what: 'online again' })
    await waitFor(() => recorder.of(id, 'telemetry').length > sentBefore + 3)
    const seqs = recorder.of<Reading>(id, 'telemetry').map((r) => r.seq)
    expect(seqs).toEqual(seqs.map((_, i) => i + 1))
    // A clean disconnect says so itself (the broker sends no will then), retained.
    await f.device(id).disconnect()
    await waitFor(() => statuses().at(-1) === false, { what: 'offline from disconnect' })
    const late = await startRecorder(broker.url)
    try {
      const retained = await waitFor(
        () => late.messages.find((m) => m.deviceId === id && m.kind === 'status'),
        { what: 'the retained status' },
      )
      expect(retained).toMatchObject({ json: { online: false }, retain: true })
    } finally {
      await late.close()
    }
  })

  it('keeps offline devices off until asked, and silent ones quiet', async () => {
    const f = await fleet({ devices: 4, rate: 20, offline: 0.25, silent: 0.25 })
    const [silent, offline, normal] = f.ids as [string, string, string]
    expect(f.device(silent).behaviour).toBe('silent')
    expect(f.stats().connected).toBe(3)
    expect(f.device(offline).connected).toBe(false)
    await waitFor(() => recorder.of(normal, 'telemetry').length >= 10)
    expect(recorder.of(silent, 'telemetry')).toEqual([])
    expect(recorder.of(silent, 'status')).toEqual([{ online: true }])
    expect(recorder.of(offline, 'status')).toEqual([])
    await f.device(offline).connect()
    expect(f.stats().connected).toBe(4)
    await waitFor(() => recorder.of(offline, 'telemetry').length >= 3)
    expect(recorder.of(offline, 'status')).toEqual([{ online: true }])
  })

  it('flaps several times a second', async () => {
    const f = await fleet({ devices: 2, rate: 0.5, flapping: 0.5 })
    const [flapping] = f.ids as [string]
    const readings = await waitFor(() => {
      const r = recorder.of<Reading>(flapping, 'telemetry')
      return r.length >= 6 && r
    })
    const span = (readings.at(-1)?.ts ?? 0) - (readings[0]?.ts ?? 0)
    expect(span / (readings.length - 1)).toBeLessThan(400)
    for (let i = 2; i < readings.length; i++) {
      expect(readings[i]?.values.cable).not.toBe(readings[i - 1]?.values.cable)
    }
  })

  it('goes out of range, and tells onReading of every reading as it publishes it', async () => {
    const seen: { id: string; ts: number; seq: number; values: Record<string, unknown> }[] = []
    const f = await fleet({
      devices: 2,
      rate: 10,
      outOfRange: 0.5,
      onReading: (id, reading) => seen.push({ id, ...reading }),
    })
    const [broken, normal] = f.ids as [string, string]
    expect(f.device(broken).behaviour).toBe('out-of-range')
    const readings = await waitFor(() => {
      const r = recorder.of<Reading>(broken, 'telemetry')
      return r.length >= 3 && r
    })
    const [, max] = RANGES['charge-point'].temperature
    for (const r of readings) expect(r.values.temperature).toBeGreaterThan(max)
    f.device(broken).behaviour = 'normal'
    await f.device(broken).publish()
    await waitFor(() => recorder.of<Reading>(broken, 'telemetry').length > readings.length)
    expect(
      recorder.of<Reading>(broken, 'telemetry').at(-1)?.values.temperature,
    ).toBeLessThanOrEqual(max)
    await f.stop()
    for (const id of [broken, normal]) {
      const sent = seen.filter((r) => r.id === id).length
      await waitFor(() => recorder.of<Reading>(id, 'telemetry').length === sent)
      expect(seen.filter((r) => r.id === id).map(({ id: _, ...r }) => r)).toEqual(
        recorder.of<Reading>(id, 'telemetry'),
      )
    }
  })

  it('publishes given values on demand', async () => {
    const f = await fleet({ devices: 1 })
    const [id] = f.ids as [string]
    await f.device(id).publish({ door: true, cable: 'connected' })
    await f.device(id).publish()
    const readings = await waitFor(() => {
      const r = recorder.of<Reading>(id, 'telemetry')
      return r.length === 2 && r
    })
    expect(readings[0]).toMatchObject({ seq: 1, values: { door: true, cable: 'connected' } })
    expect(readings[1]).toMatchObject({ seq: 2, values: { power: expect.any(Number) } })
  })

  it('refuses bad options before connecting anything', () => {
    const base = { url: broker.url, rate: 1 }
    expect(() => createFleet({ ...base, devices: 2, failing: 0.8, deaf: 0.8 })).toThrow(
      /more than the 2/,
    )
    expect(() => createFleet({ ...base, devices: [{ id: 'bad id' }] })).toThrow(/bad id/)
    expect(() => createFleet({ ...base, devices: [{ id: 'a' }, { id: 'a' }] })).toThrow(/twice/)
    expect(() => createFleet({ ...base, devices: 1, rate: -1 })).toThrow(/rate/)
    expect(() => createFleet({ ...base, devices: 1, slow: 2 })).toThrow(/slow/)
  })
})

describe('device credentials', () => {
  it('connects with its id as client id and username, and its password', async () => {
    const aedes = await Aedes.createBroker()
    const logins: [string, string | undefined, string | undefined][] = []
    aedes.authenticate = (client, username, password, done) => {
      logins.push([client.id, username, password?.toString()])
      done(null, password?.toString() !== 'wrong')
    }
    const server = createServer(aedes.handle)
    const port = await freePort()
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    try {
      const f = await startFleet({
        url: `mqtt://127.0.0.1:${port}`,
        devices: [{ id: 'cp-a', password: 's3cret' }, { id: 'cp-b' }],
        rate: 0,
      })
      expect(logins).toEqual(
        expect.arrayContaining([
          ['cp-a', 'cp-a', 's3cret'],
          ['cp-b', 'cp-b', undefined],
        ]),
      )
      await f.stop()
      await expect(
        startFleet({
          url: `mqtt://127.0.0.1:${port}`,
          devices: [{ id: 'cp-c', password: 'wrong' }],
          rate: 0,
        }),
      ).rejects.toThrow(/could not connect.*refused/)
    } finally {
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})
