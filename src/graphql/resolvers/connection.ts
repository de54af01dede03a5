import { badInput } from '../errors.ts'

/** The most items one page of any list may hold. */
export const MAX_PAGE_SIZE = 500

/** Checks `first`; pages are then read with `limit: first + 1` to know if another follows. */
export function pageSize(first: number): number {
  if (first < 0 || first > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}, got ${first}`)
  }
  return first
}

/** A Relay connection from up to `first + 1` rows. */
export function connection<T>(rows: readonly T[], first: number, cursorOf: (row: T) => string) {
  const edges = rows.slice(0, first).map((node) => ({ cursor: cursorOf(node), node }))
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
  }
}
