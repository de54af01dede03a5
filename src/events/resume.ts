/**
 * What a subscription sends for one event it is offered: nothing (it repeats one already sent),
 * the event, or the events a gap hid and then the event.
 */
export type Admit<T> = (event: T) => Promise<T[]> | T[]

/**
 * A resumed subscription: what the log held after the resume point, then live events, both
 * through one `admit` that drops repeats (and fills gaps). The caller opens the live
 * subscription before it reads `replayed`, so whatever commits after that read arrives live (no
 * gap), and whatever arrives live that the read already held is dropped (no repeat).
 * `followed` is that open subscription: it ends with this, also when the client leaves during
 * the replay.
 */
export async function* replayThenLive<T>(
  replayed: readonly T[],
  live: AsyncIterable<T>,
  admit: Admit<T>,
  followed: AsyncIterator<unknown>,
): AsyncGenerator<T> {
  try {
    for (const event of replayed) yield* await admit(event)
    for await (const event of live) yield* await admit(event)
  } finally {
    await followed.return?.()
  }
}

/**
 * Twin versions, each once and in order. Events without a version (live reported changes) pass
 * as they come. A version past the next one means some never arrived (the broker's QoS 0, or two
 * workers' announcements crossing): `missing(from, to)` reads those between from the change log
 * and they go first.
 */
export function inVersionOrder<T>(
  after: number | null,
  versionOf: (event: T) => number | null,
  missing: (from: number, to: number) => Promise<T[]>,
): Admit<T> {
  let last = after
  return async (event) => {
    const version = versionOf(event)
    if (version === null) return [event]
    if (last !== null && version <= last) return []
    const gap = last !== null && version > last + 1 ? await missing(last, version) : []
    last = version
    return [...gap, event]
  }
}

/**
 * Changes of objects (alerts, commands) numbered by a change feed taken in commit order: drops a
 * change at or before the resume point, and one of an object this subscription has already sent
 * at that position or later (the replay read it, or a snapshot repeats a status). Keeps one
 * number per object it has seen.
 */
export function newChanges<T>(
  after: number,
  objectOf: (event: T) => string,
  positionOf: (event: T) => number,
): Admit<T> {
  const sent = new Map<string, number>()
  return (event) => {
    const position = positionOf(event)
    const object = objectOf(event)
    if (position <= after || position <= (sent.get(object) ?? -1)) return []
    sent.set(object, position)
    return [event]
  }
}
