import { inArray } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { devices } from '../db/schema.ts'

/**
 * Which device ids may send telemetry. Telemetry from an id that was never registered is
 * rejected, unless auto-provisioning registers it on its first message (contract §2).
 */
export class DeviceDirectory {
  #known = new Set<string>()

  constructor(
    private readonly db: Db,
    private readonly autoProvision: boolean,
  ) {}

  /** The subset of `ids` that are registered devices (after provisioning, when on). */
  async admit(ids: readonly string[]): Promise<Set<string>> {
    const unknown = ids.filter((id) => !this.#known.has(id))
    if (unknown.length > 0) {
      if (this.autoProvision) {
        await this.db
          .insert(devices)
          .values(unknown.map((id) => ({ id })))
          .onConflictDoNothing()
      }
      // Registered since we last looked (by the API or another ingest process) counts too.
      const found = await this.db
        .select({ id: devices.id })
        .from(devices)
        .where(inArray(devices.id, unknown))
      for (const { id } of found) this.#known.add(id)
    }
    return new Set(ids.filter((id) => this.#known.has(id)))
  }
}
