import { eq } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { deviceModels, devices, twinLive, twins } from '../db/schema.ts'
import type { DeviceModel } from '../twins/model.ts'
import type { TwinState } from '../twins/state.ts'

export interface DeviceRegistration {
  model: DeviceModel | null
  decommissioned: boolean
  /** The last snapshot a twin of this device wrote, if one did (its run ended or was lost). */
  snapshot: TwinState | null
  /** The newest batch in the device's inbox (0 for none): the twin catches up to it. */
  inboxSeq: number
}

/**
 * What a starting twin needs: its model, whether it may run at all, and the state an earlier twin
 * of the device left in Postgres.
 */
export const loadDevice =
  (deps: { db: Db }) =>
  async (deviceId: string): Promise<DeviceRegistration> => {
    const [row] = await deps.db
      .select({
        decommissionedAt: devices.decommissionedAt,
        model: deviceModels.spec,
        snapshot: twins.state,
        inboxSeq: twinLive.inboxSeq,
      })
      .from(devices)
      .leftJoin(deviceModels, eq(deviceModels.id, devices.modelId))
      .leftJoin(twins, eq(twins.deviceId, devices.id))
      .leftJoin(twinLive, eq(twinLive.deviceId, devices.id))
      .where(eq(devices.id, deviceId))
    return {
      model: row?.model ?? null,
      decommissioned: Boolean(row?.decommissionedAt),
      snapshot: row?.snapshot ?? null,
      inboxSeq: row?.inboxSeq ?? 0,
    }
  }
