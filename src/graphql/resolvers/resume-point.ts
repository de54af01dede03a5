import { BrokerUnavailableError } from '../../events/topic-hub.ts'
import type { ApiContext } from '../context.ts'
import { apiError, badInput } from '../errors.ts'

/**
 * Most events a resumed subscription replays before it goes live. A client further behind than
 * that gets BAD_USER_INPUT saying where to read the rest (the history query or the list query)
 * instead of a silent gap or a flood: the subscription's promise is "every change after your
 * resume point", and it keeps it or says it cannot.
 */
export const MAX_REPLAY = 1000

/** `twinChanged(sinceVersion:)`: a version the twin has reached (0: from its first version). */
export function checkSinceVersion(deviceId: string, since: number, newest: number): void {
  if (since < 0) {
    throw badInput(`sinceVersion must be 0 or more (got ${since}): pass the last version you saw`)
  }
  if (since > newest) {
    throw badInput(
      `sinceVersion ${since} is ahead of twin "${deviceId}", whose newest version is ${newest}: pass the last version this service sent you, or leave sinceVersion out`,
    )
  }
}

/**
 * A change-feed cursor (`alerts(after:)`, `commandUpdated(after:)`): the `changeCursor` of an
 * event this service sent, "0" for the whole feed. `newest` is the feed's newest position.
 */
export function parseFeedCursor(after: string, newest: number, feed: string): number {
  if (!/^\d{1,15}$/.test(after)) {
    throw badInput(
      `after "${after}" is not a cursor of the ${feed} feed: pass the changeCursor of the last event you received, or "0" for every one`,
    )
  }
  const position = Number(after)
  if (position > newest) {
    throw badInput(
      `after "${after}" is ahead of the ${feed} feed, whose newest position is ${newest}: pass the changeCursor of the last event this service sent you`,
    )
  }
  return position
}

/** Refuses a replay longer than MAX_REPLAY, saying where the rest can be read. */
export function checkReplaySize(count: number, what: string, readInstead: string): void {
  if (count > MAX_REPLAY) {
    throw badInput(
      `more than ${MAX_REPLAY} ${what} after that resume point, more than a subscription replays: ${readInstead}`,
    )
  }
}

/**
 * The start of a resumed subscription: `topic` is followed (the broker has confirmed it) before
 * `readMissed` reads the log, so nothing committed in between is lost; a replay over the limit
 * is refused with `readInstead`. A broker that does not confirm in time is SERVICE_UNAVAILABLE,
 * which a client retries, rather than a subscription that hangs.
 */
export async function followThenReplay<T>(
  ctx: ApiContext,
  topic: string,
  readMissed: () => Promise<T[]>,
  what: string,
  readInstead: string,
): Promise<{ followed: AsyncIterator<Buffer>; replayed: T[] }> {
  const followed = await ctx.hub.follow(topic).catch((error) => {
    if (!(error instanceof BrokerUnavailableError)) throw error
    throw apiError(
      'SERVICE_UNAVAILABLE',
      `live updates are unavailable for now (${error.message}): subscribe again shortly`,
    )
  })
  try {
    const replayed = await readMissed()
    checkReplaySize(replayed.length, what, readInstead)
    return { followed, replayed }
  } catch (error) {
    await followed.return?.()
    throw error
  }
}
