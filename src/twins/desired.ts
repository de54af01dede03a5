import { inheritedNameProblem } from './names.ts'
import type { TwinState } from './state.ts'

/** Why a desired-state patch cannot be taken, or null when it can. */
export function refuseDesiredPatch(
  twin: TwinState,
  patch: unknown,
  expectedVersion: number | null | undefined,
): { code: 'BAD_USER_INPUT' | 'VERSION_CONFLICT'; message: string } | null {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    return {
      code: 'BAD_USER_INPUT',
      message: 'patch must be a JSON object, e.g. {"targetTemperature": 21}',
    }
  }
  const keys = Object.keys(patch)
  if (keys.length === 0) {
    return { code: 'BAD_USER_INPUT', message: 'patch is empty: name at least one key' }
  }
  // `__proto__` would be merged into the state's prototype, and the patch lost with no error.
  for (const key of keys) {
    const problem = inheritedNameProblem(key, 'desired key')
    if (problem) return { code: 'BAD_USER_INPUT', message: problem }
  }
  const current = twin.desired?.version ?? 0
  if (expectedVersion !== null && expectedVersion !== undefined && expectedVersion !== current) {
    return {
      code: 'VERSION_CONFLICT',
      message: `desired state is at version ${current}, not ${expectedVersion}: read it again and retry`,
    }
  }
  return null
}

/** Merges `patch` into the desired state (JSON merge patch: a null removes its key). */
export function applyDesiredPatch(twin: TwinState, patch: Record<string, unknown>): TwinState {
  const state = { ...(twin.desired?.state ?? {}) }
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete state[key]
    else state[key] = value
  }
  return {
    ...twin,
    version: twin.version + 1,
    desired: { version: (twin.desired?.version ?? 0) + 1, state },
  }
}

/** Desired keys whose reported value differs; a key leaves when the device reports it. */
export function delta(twin: TwinState): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, wanted] of Object.entries(twin.desired?.state ?? {})) {
    const reported = twin.sensors[key]?.value
    if (JSON.stringify(reported) !== JSON.stringify(wanted)) out[key] = wanted
  }
  return out
}
