import { afterEach, describe, expect, it, vi } from 'vitest'
import { AckMemory, isExpired, parseCommand } from '../../src/protocol/commands.ts'
import { Ticker } from '../../src/simulator/ticker.ts'

describe('parseCommand', () => {
  it('reads a command, with defaults for what the service may leave out', () => {
    expect(
      parseCommand(
        JSON.stringify({ id: 'c1', name: 'reboot', args: { a: 1 }, attempt: 2, expiresAt: null }),
      ),
    ).toEqual({ id: 'c1', name: 'reboot', args: { a: 1 }, attempt: 2, expiresAt: null })
    expect(parseCommand('{"id":"c2","name":"x"}')).toEqual({
      id: 'c2',
      name: 'x',
      args: null,
      attempt: 1,
      expiresAt: null,
    })
  })

  it('refuses what is not a command', () => {
    for (const bad of [
      'not json',
      '[]',
      'null',
      '{"name":"x"}',
      '{"id":"","name":"x"}',
      '{"id":"c","name":"x","expiresAt":"tomorrow"}',
      '{"id":"c","name":"x","attempt":0}',
    ]) {
      expect(parseCommand(Buffer.from(bad)), bad).toBeNull()
    }
  })

  it('takes expiresAt as ISO text or epoch ms', () => {
    const now = Date.parse('2026-11-23T12:00:00Z')
    const at = (expiresAt: string | number | null) =>
      isExpired({ id: 'c', name: 'x', args: null, attempt: 1, expiresAt }, now)
    expect(at('2026-11-23T11:59:59Z')).toBe(true)
    expect(at('2026-11-23T12:00:01Z')).toBe(false)
    expect(at(now - 1)).toBe(true)
    expect(at(now + 1000)).toBe(false)
    expect(at(null)).toBe(false)
  })
})

describe('AckMemory', () => {
  it('keeps the latest ack per id and forgets the oldest ids past its limit', () => {
    const memory = new AckMemory(2)
    memory.set({ id: 'a', status: 'accepted' })
    memory.set({ id: 'b', status: 'accepted' })
    memory.set({ id: 'a', status: 'succeeded' })
    memory.set({ id: 'c', status: 'accepted' })
    expect(memory.get('a')).toEqual({ id: 'a', status: 'succeeded' })
    expect(memory.has('b')).toBe(false)
    expect(memory.has('c')).toBe(true)
  })
})

describe('Ticker', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('fires keys in due order, reschedules them, and drops the ones it is told to', () => {
    vi.useFakeTimers({ now: 0 })
    const fired: string[] = []
    const ticker = new Ticker<string>((key, due) => {
      fired.push(`${key}@${due}`)
      return key === 'a' ? due + 100 : null
    })
    ticker.schedule('b', 50)
    ticker.schedule('a', 10)
    ticker.schedule('c', 70)
    ticker.schedule('c', 500) // replaces c@70
    ticker.start()
    vi.advanceTimersByTime(300)
    expect(fired).toEqual(['a@10', 'b@50', 'a@110', 'a@210'])
    ticker.unschedule('a')
    vi.advanceTimersByTime(300)
    expect(fired.slice(4)).toEqual(['c@500'])
    ticker.stop()
    ticker.schedule('d', 700)
    vi.advanceTimersByTime(1000)
    expect(fired).not.toContain('d@700')
  })
})
