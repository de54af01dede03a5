import { and, asc, eq, isNull } from 'drizzle-orm'
import { deviceModels, devices } from '../../db/schema.ts'
import { type DeviceModel, parseDeviceModel } from '../../twins/model.ts'
import type { ApiContext } from '../context.ts'
import { badInput } from '../errors.ts'
import { requireRole } from '../roles.ts'

export async function findModel(ctx: ApiContext, id: string): Promise<DeviceModel | null> {
  const [row] = await ctx.db.select().from(deviceModels).where(eq(deviceModels.id, id))
  return row?.spec ?? null
}

export const deviceModelFields = {
  /** Models stored before aggregate rules existed have none. */
  aggregates: (model: DeviceModel) => model.aggregates ?? [],
}

export const deviceModelQueries = {
  deviceModel: (_: unknown, args: { id: string }, ctx: ApiContext) => findModel(ctx, args.id),

  async deviceModels(_: unknown, __: unknown, ctx: ApiContext): Promise<DeviceModel[]> {
    const rows = await ctx.db.select().from(deviceModels).orderBy(asc(deviceModels.id))
    return rows.map((row) => row.spec)
  },
}

export const deviceModelMutations = {
  /** Stores the model and hands it to the running twin of every device of that model. */
  async upsertDeviceModel(
    _: unknown,
    args: { input: unknown },
    ctx: ApiContext,
  ): Promise<DeviceModel> {
    requireRole(ctx, 'admin')
    const parsed = parseDeviceModel(args.input)
    if (!parsed.ok) throw badInput(`invalid device model: ${parsed.message}`)
    const model = parsed.model
    await ctx.db
      .insert(deviceModels)
      .values({ id: model.id, spec: model })
      .onConflictDoUpdate({ target: deviceModels.id, set: { spec: model, updatedAt: new Date() } })
    const members = await ctx.db
      .select({ id: devices.id })
      .from(devices)
      .where(and(eq(devices.modelId, model.id), isNull(devices.decommissionedAt)))
    await ctx.twins.sendModel(
      members.map((d) => d.id),
      model,
    )
    return model
  },
}
