import { eq, inArray } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { deviceModels, devices } from '../db/schema.ts'
import type { DeviceModel } from '../twins/model.ts'

export type Refusal = 'unknown_device' | 'decommissioned'

/** How long ingest trusts what it learnt of a device before asking Postgres again. */
export const DIRECTORY_TTL_MS = 5_000

/**
 * Which device ids may send telemetry, and their models (to tell urgent readings from routine
 * ones). An id that was never registered is refused, unless
 * auto-provisioning registers it on its first message; a decommissioned device is
 * refused so that its ended twin is not started again.
 */
export class DeviceDirectory {
  #known = new Map<string, { refusal: Refusal | null; model: DeviceModel | null; until: number }>()

  constructor(
    private readonly db: Db,
    private readonly autoProvision: boolean,
  ) {}

  /** Why each refused id is refused; ids not in the map may send. */
  async check(ids: readonly string[], now = Date.now()): Promise<Map<string, Refusal>> {
    const stale = ids.filter((id) => (this.#known.get(id)?.until ?? 0) <= now)
    if (stale.length > 0) await this.#refresh(stale, now)
    const refused = new Map<string, Refusal>()
    for (const id of ids) {
      const refusal = this.#known.get(id)?.refusal
      if (refusal) refused.set(id, refusal)
    }
    return refused
  }

  /** The device's model as last looked up (by `check`). */
  model(id: string): DeviceModel | null {
    return this.#known.get(id)?.model ?? null
  }

  async #refresh(ids: string[], now: number): Promise<void> {
    const lookup = () =>
      this.db
        .select({
          id: devices.id,
          decommissionedAt: devices.decommissionedAt,
          model: deviceModels.spec,
        })
        .from(devices)
        .leftJoin(deviceModels, eq(deviceModels.id, devices.modelId))
        .where(inArray(devices.id, ids))
    let found = await lookup()
    if (this.autoProvision && found.length < ids.length) {
      const registered = new Set(found.map((d) => d.id))
      const fresh = ids.filter((id) => !registered.has(id)).map((id) => ({ id }))
      await this.db.insert(devices).values(fresh).onConflictDoNothing()
      found = await lookup()
    }
    const until = now + DIRECTORY_TTL_MS
    for (const id of ids) this.#known.set(id, { refusal: 'unknown_device', model: null, until })
    for (const d of found) {
      const refusal = d.decommissionedAt ? 'decommissioned' : null
      this.#known.set(d.id, { refusal, model: d.model, until })
    }
  }
}
