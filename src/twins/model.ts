import { z } from 'zod'
import { inheritedNameProblem } from './names.ts'

const name = z
  .string()
  .min(1)
  .max(128)
  .refine((n) => inheritedNameProblem(n) === null, {
    error: (issue) => inheritedNameProblem(String(issue.input)) ?? 'bad sensor name',
  })
const seconds = z.number().int().min(1)

const flappingSchema = z.object({
  maxChanges: seconds,
  windowSeconds: seconds,
  quietSeconds: seconds,
})

const sensorSchema = z
  .object({
    name,
    kind: z.enum(['NUMBER', 'BOOLEAN', 'ENUM', 'STRING']),
    unit: z.string().max(32).nullish(),
    min: z.number().nullish(),
    max: z.number().nullish(),
    flapping: flappingSchema.nullish(),
    stuckAfterSeconds: seconds.nullish(),
    silentAfterSeconds: seconds.nullish(),
  })
  .superRefine((s, ctx) => {
    const numeric = s.kind === 'NUMBER'
    const problem = (message: string, path: string) =>
      ctx.addIssue({ code: 'custom', message, path: [path] })
    if (s.min != null && s.max != null && s.min > s.max)
      problem(`min ${s.min} is above max ${s.max}`, 'max')
    if (!numeric && (s.min != null || s.max != null))
      problem('min and max apply to NUMBER sensors only', 'min')
    if (!numeric && s.stuckAfterSeconds != null)
      problem('stuckAfterSeconds applies to NUMBER sensors only', 'stuckAfterSeconds')
    if (numeric && s.flapping != null)
      problem('flapping applies to discrete (BOOLEAN, ENUM, STRING) sensors only', 'flapping')
  })

const ruleSchema = z.object({
  sensor: name,
  requires: name,
  equals: z.union([z.number(), z.boolean(), z.string(), z.null()]),
  withinSeconds: seconds,
})

/**
 * "The `windowSeconds` `fn` of `sensor` above `above` (or below `below`)" raises an alert, which
 * clears once the statistic is back past the bound by `hysteresis` (see aggregates.ts).
 */
const aggregateRuleSchema = z
  .object({
    sensor: name,
    fn: z.enum(['AVG', 'MIN', 'MAX']),
    windowSeconds: seconds.max(86_400, 'windowSeconds is at most 86400 (a day)'),
    above: z.number().nullish(),
    below: z.number().nullish(),
    hysteresis: z.number().min(0, 'hysteresis cannot be negative').nullish(),
  })
  .superRefine((r, ctx) => {
    if (r.above == null && r.below == null)
      ctx.addIssue({ code: 'custom', message: 'give above, below or both', path: ['above'] })
    if (r.above != null && r.below != null && r.below >= r.above)
      ctx.addIssue({
        code: 'custom',
        message: `below ${r.below} must be less than above ${r.above}`,
        path: ['below'],
      })
  })

export const deviceModelSchema = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'id is 1-64 characters of letters, digits and _.:-'),
    name: z.string().min(1).max(200),
    sensors: z.array(sensorSchema).max(500),
    rules: z
      .array(ruleSchema)
      .nullish()
      .transform((r) => r ?? []),
    aggregates: z
      .array(aggregateRuleSchema)
      .max(50)
      .nullish()
      .transform((r) => r ?? []),
    silentAfterSeconds: seconds.nullish().transform((s) => s ?? 300),
    freshnessSeconds: seconds.nullish().transform((s) => s ?? 120),
  })
  .superRefine((m, ctx) => {
    const kinds = new Map(m.sensors.map((s) => [s.name, s.kind]))
    m.aggregates.forEach((r, i) => {
      const kind = kinds.get(r.sensor)
      if (kind !== 'NUMBER')
        ctx.addIssue({
          code: 'custom',
          message: kind
            ? `"${r.sensor}" is a ${kind} sensor; aggregate rules need a NUMBER sensor`
            : `"${r.sensor}" is not a sensor of this model`,
          path: ['aggregates', i, 'sensor'],
        })
    })
    const names = new Set<string>()
    m.sensors.forEach((s, i) => {
      if (names.has(s.name))
        ctx.addIssue({
          code: 'custom',
          message: `sensor "${s.name}" is declared twice`,
          path: ['sensors', i, 'name'],
        })
      names.add(s.name)
    })
    m.rules.forEach((r, i) => {
      for (const key of ['sensor', 'requires'] as const) {
        if (!names.has(r[key]))
          ctx.addIssue({
            code: 'custom',
            message: `"${r[key]}" is not a sensor of this model`,
            path: ['rules', i, key],
          })
      }
      if (r.sensor === r.requires)
        ctx.addIssue({
          code: 'custom',
          message: 'a rule needs two different sensors',
          path: ['rules', i],
        })
    })
  })

type ParsedModel = z.output<typeof deviceModelSchema>
export type AggregateRule = ParsedModel['aggregates'][number]
/** A model as parsed now, or as stored before aggregate rules existed (without them). */
export type DeviceModel = Omit<ParsedModel, 'aggregates'> & { aggregates?: AggregateRule[] }
export type SensorSpec = DeviceModel['sensors'][number]
export type FlappingSpec = NonNullable<SensorSpec['flapping']>
export type ConsistencyRule = DeviceModel['rules'][number]

/** A model from an API input, or what is wrong with it, naming where (`sensors.1.max: …`). */
export function parseDeviceModel(
  input: unknown,
): { ok: true; model: DeviceModel } | { ok: false; message: string } {
  const parsed = deviceModelSchema.safeParse(input)
  if (parsed.success) return { ok: true, model: parsed.data }
  const first = parsed.error.issues[0]
  return { ok: false, message: `${first?.path.join('.') || 'model'}: ${first?.message}` }
}
