import { eq } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { deviceModels, devices } from '../db/schema.ts'
import type { DeviceModel } from '../twins/model.ts'

export interface DeviceRegistration {
  model: DeviceModel | null
  decommissioned: boolean
}

/** What a starting twin needs from the registry: its model, and whether it may run at all. */
export const loadDevice =
  (deps: { db: Db }) =>
  async (deviceId: string): Promise<DeviceRegistration> => {
    const [row] = await deps.db
      .select({ decommissionedAt: devices.decommissionedAt, model: deviceModels.spec })
      .from(devices)
      .leftJoin(deviceModels, eq(deviceModels.id, devices.modelId))
      .where(eq(devices.id, deviceId))
    return { model: row?.model ?? null, decommissioned: Boolean(row?.decommissionedAt) }
  }
