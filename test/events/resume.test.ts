import { Repeater } from 'graphql-yoga'
import { describe, expect, it } from 'vitest'
import { inVersionOrder, newChanges, replayThenLive } from '../../src/events/resume.ts'

type Event = { version: number | null; tag?: string }

/** Everything a resumed subscription sends for a replay and a (finished) live stream. */
async function sent<T>(...args: Parameters<typeof replayThenLive<T>>): Promise<T[]> {
  const out: T[] = []
  for await (const event of replayThenLive(...args)) out.push(event)
  return out
}

const live = <T>(events: T[]) =>
  (async function* () {
    yield* events
  })()
const iterable = <T>(iterator: AsyncIterator<T>) => ({ [Symbol.asyncIterator]: () => iterator })

describe('replayThenLive with inVersionOrder', () => {
  const log = (from: number, to: number): Event[] =>
    Array.from({ length: to - from - 1 }, (_, i) => ({ version: from + 1 + i, tag: 'log' }))
  const versions = (events: Event[]) => events.map((e) => e.version)

  it('sends the replay, then live versions after it, dropping those the replay held', async () => {
    const followed = live<Event>([{ version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }])
    const out = await sent<Event>(
      [{ version: 3 }, { version: 4 }],
      iterable(followed),
      inVersionOrder(
        2,
        (e) => e.version,
        async (f, t) => log(f, t),
      ),
      followed,
    )
    expect(versions(out)).toEqual([3, 4, 5, 6])
  })

  it('reads versions that never arrived live from the log, in order', async () => {
    const followed = live<Event>([{ version: 2 }, { version: 5 }, { version: 4 }, { version: 6 }])
    const out = await sent<Event>(
      [],
      iterable(followed),
      inVersionOrder(
        1,
        (e) => e.version,
        async (f, t) => log(f, t),
      ),
      followed,
    )
    expect(out).toEqual([
      { version: 2 },
      { version: 3, tag: 'log' },
      { version: 4, tag: 'log' },
      { version: 5 },
      { version: 6 },
    ])
  })

  it('passes events without a version (live reported changes) as they come', async () => {
    const followed = live<Event>([{ version: null, tag: 'a' }, { version: 1 }, { version: null }])
    const out = await sent<Event>(
      [{ version: 1 }],
      iterable(followed),
      inVersionOrder(
        0,
        (e) => e.version,
        async (f, t) => log(f, t),
      ),
      followed,
    )
    expect(out).toEqual([{ version: 1 }, { version: null, tag: 'a' }, { version: null }])
  })

  it('without a resume point starts at the first live version', async () => {
    const followed = live<Event>([{ version: 7 }, { version: 8 }])
    const out = await sent<Event>(
      [],
      iterable(followed),
      inVersionOrder(
        null,
        (e) => e.version,
        async (f, t) => log(f, t),
      ),
      followed,
    )
    expect(versions(out)).toEqual([7, 8])
  })

  it('ends the followed subscription when the client leaves during the replay', async () => {
    let ended = false
    const followed = new Repeater<Event>(async (_push, stop) => {
      await stop
      ended = true
    })[Symbol.asyncIterator]()
    const started = followed.next() // the hub starts its subscription before the replay
    const stream = replayThenLive<Event>(
      [{ version: 1 }, { version: 2 }],
      iterable(followed),
      inVersionOrder(
        0,
        (e) => e.version,
        async (): Promise<Event[]> => [],
      ),
      followed,
    )
    expect((await stream.next()).value).toEqual({ version: 1 })
    await stream.return(undefined)
    expect(ended).toBe(true)
    expect(await started).toEqual({ done: true, value: undefined })
  })
})

describe('newChanges', () => {
  type Change = { id: string; seq: number; status?: string }
  const admit = () =>
    newChanges<Change>(
      10,
      (c) => c.id,
      (c) => c.seq,
    )

  it('drops changes at or before the resume point', () => {
    const a = admit()
    expect(a({ id: 'x', seq: 9 })).toEqual([])
    expect(a({ id: 'x', seq: 10 })).toEqual([])
    expect(a({ id: 'x', seq: 11 })).toEqual([{ id: 'x', seq: 11 }])
  })

  it('drops a change of an object already sent at that position or later', () => {
    const a = admit()
    expect(a({ id: 'x', seq: 14 })).toHaveLength(1)
    // The live announcement of a change the replay already read, and a snapshot repeating it.
    expect(a({ id: 'x', seq: 12 })).toEqual([])
    expect(a({ id: 'x', seq: 14, status: 'same status, new deadline' })).toEqual([])
    // Other objects are not held back by x's position: their changes may arrive out of order.
    expect(a({ id: 'y', seq: 13 })).toEqual([{ id: 'y', seq: 13 }])
    expect(a({ id: 'x', seq: 15 })).toEqual([{ id: 'x', seq: 15 }])
  })
})
