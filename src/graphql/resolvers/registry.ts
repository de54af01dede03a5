import { eq } from 'drizzle-orm'
import { devices } from '../../db/schema.ts'
import { hashSecret, newSecret } from '../../device-access/credentials.ts'
import { DEVICE_ID } from '../../protocol/ids.ts'
import type { ApiContext } from '../context.ts'
import { apiError, badInput } from '../errors.ts'
import { requireRole } from '../roles.ts'
import { findModel } from './device-models.ts'
import { type DeviceParent, selectDevices } from './device-row.ts'

interface DeviceFields {
  modelId?: string | null
  serialNumber?: string | null
  firmware?: string | null
  labels?: unknown
}

async function loadDevice(ctx: ApiContext, id: string): Promise<DeviceParent> {
  const [device] = await selectDevices(ctx.db, { where: eq(devices.id, id), limit: 1 })
  if (!device) throw apiError('DEVICE_NOT_FOUND', `no device "${id}" is registered`)
  return device
}

async function checkFields(ctx: ApiContext, fields: DeviceFields): Promise<void> {
  if (fields.modelId && !(await findModel(ctx, fields.modelId))) {
    throw badInput(`no device model "${fields.modelId}": create it with upsertDeviceModel first`)
  }
  const { labels } = fields
  if (
    labels !== undefined &&
    labels !== null &&
    (typeof labels !== 'object' || Array.isArray(labels))
  ) {
    throw badInput('labels must be a JSON object, e.g. {"site": "north"}')
  }
}

export const registryMutations = {
  /**
   * Registers a device (or claims one that auto-provisioning created) and gives it MQTT
   * credentials: username = device id, a random password returned this once.
   */
  async registerDevice(
    _: unknown,
    args: { input: DeviceFields & { id: string } },
    ctx: ApiContext,
  ) {
    requireRole(ctx, 'admin')
    const { id, ...fields } = args.input
    if (!DEVICE_ID.test(id)) {
      throw badInput(`device id "${id}" must be 1-64 characters of letters, digits and _.:-`)
    }
    await checkFields(ctx, fields)
    const [existing] = await ctx.db.select().from(devices).where(eq(devices.id, id))
    if (existing?.secretHash || existing?.decommissionedAt) {
      throw badInput(
        `device "${id}" is already registered${existing.decommissionedAt ? ' (decommissioned)' : ''}`,
      )
    }
    const password = newSecret()
    const row = {
      id,
      modelId: fields.modelId ?? null,
      serialNumber: fields.serialNumber ?? null,
      firmware: fields.firmware ?? null,
      labels: (fields.labels as Record<string, unknown> | null | undefined) ?? null,
      secretHash: await hashSecret(password),
    }
    await ctx.db.insert(devices).values(row).onConflictDoUpdate({ target: devices.id, set: row })
    if (row.modelId) await ctx.twins.sendModel([id], await findModel(ctx, row.modelId))
    return { device: await loadDevice(ctx, id), mqttUsername: id, mqttPassword: password }
  },

  async updateDevice(_: unknown, args: { id: string; input: DeviceFields }, ctx: ApiContext) {
    requireRole(ctx, 'admin')
    const before = await loadDevice(ctx, args.id)
    await checkFields(ctx, args.input)
    const { labels, ...rest } = args.input
    await ctx.db
      .update(devices)
      .set({
        ...rest,
        ...(labels === undefined ? {} : { labels: labels as Record<string, unknown> | null }),
      })
      .where(eq(devices.id, args.id))
    if (args.input.modelId !== undefined && args.input.modelId !== before.modelId) {
      const model = args.input.modelId ? await findModel(ctx, args.input.modelId) : null
      await ctx.twins.sendModel([args.id], model)
    }
    return loadDevice(ctx, args.id)
  },

  async rotateDeviceSecret(_: unknown, args: { id: string }, ctx: ApiContext) {
    requireRole(ctx, 'admin')
    const device = await loadDevice(ctx, args.id)
    if (device.decommissionedAt) throw badInput(`device "${args.id}" is decommissioned`)
    const password = newSecret()
    await ctx.db
      .update(devices)
      .set({ secretHash: await hashSecret(password) })
      .where(eq(devices.id, args.id))
    return { device, mqttUsername: args.id, mqttPassword: password }
  },

  /** Ends the device's twin cleanly; its telemetry and twin history stay. */
  async decommissionDevice(_: unknown, args: { id: string }, ctx: ApiContext) {
    requireRole(ctx, 'admin')
    const device = await loadDevice(ctx, args.id)
    if (!device.decommissionedAt) {
      await ctx.db
        .update(devices)
        .set({ decommissionedAt: new Date() })
        .where(eq(devices.id, args.id))
      await ctx.twins.decommission(args.id)
    }
    return loadDevice(ctx, args.id)
  },
}
