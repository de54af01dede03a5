import { type Config, ConfigError } from '../config.ts'

/** The three roles of one codebase; `npm run dev` runs them all in one process. */
export const ROLES = ['ingest', 'worker', 'api'] as const
export type Role = (typeof ROLES)[number]

/** A role run alone shares Postgres, the broker and Temporal with the others: none embedded. */
export function requireSharedServices(config: Config, role: Role): void {
  const missing = (['DATABASE_URL', 'MQTT_URL', 'TEMPORAL_ADDRESS'] as const).filter(
    (k) => !config[k],
  )
  if (missing.length > 0) {
    throw new ConfigError(
      `npm run ${role} runs against shared services: set ${missing.join(', ')} (or run npm run dev for everything in one process)`,
    )
  }
}
