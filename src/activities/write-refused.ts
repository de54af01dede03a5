import { ApplicationFailure } from '@temporalio/common'
import { classifyDbError } from '../db/errors.ts'
import { storableJson } from '../db/storable.ts'

/** The failure type of a twin's write that Postgres refuses for good, even normalised. */
export const WRITE_REFUSED = 'WriteRefused'

/**
 * Runs a twin's write. A transient error is thrown for Temporal to retry. When Postgres refuses
 * the content itself (a string it cannot hold, a value out of range), the write is tried once
 * more with every string normalised (`storableJson`: NUL and lone surrogates become U+FFFD), and
 * the database's reason is returned so the twin can show it. When even that is refused, the
 * activity fails for good: retrying the same write forever would wedge the twin.
 */
export async function writeOrNormalise<T>(
  input: T,
  write: (input: T) => Promise<void>,
): Promise<string | null> {
  try {
    await write(input)
    return null
  } catch (error) {
    const refused = classifyDbError(error)
    if (refused.kind === 'transient') throw error
    try {
      await write(storableJson(input))
      return refused.message
    } catch (again) {
      const still = classifyDbError(again)
      if (still.kind === 'transient') throw again
      throw ApplicationFailure.nonRetryable(
        `Postgres refused the twin's write: ${still.message}`,
        WRITE_REFUSED,
      )
    }
  }
}
