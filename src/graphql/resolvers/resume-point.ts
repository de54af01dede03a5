import { badInput } from '../errors.ts'

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
