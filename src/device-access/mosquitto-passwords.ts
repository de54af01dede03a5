import { and, isNotNull, isNull } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { devices } from '../db/schema.ts'
import { hashSecret } from './credentials.ts'

/**
 * A Mosquitto `password_file`: devtwin's service account, then every device in service that
 * has a secret. The registry already stores Mosquitto's `$7$` format, so device lines are copied,
 * never re-derived (the secrets themselves are not kept).
 */
export async function mosquittoPasswordFile(
  db: Db,
  service: { username: string; password: string },
): Promise<string> {
  const rows = await db
    .select({ id: devices.id, secretHash: devices.secretHash })
    .from(devices)
    .where(and(isNotNull(devices.secretHash), isNull(devices.decommissionedAt)))
    .orderBy(devices.id)
  const lines = [
    `${service.username}:${await hashSecret(service.password)}`,
    ...rows.map((d) => `${d.id}:${d.secretHash}`),
  ]
  return `${lines.join('\n')}\n`
}
