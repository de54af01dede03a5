import { openCommands } from './commands.ts'
import { delta } from './desired.ts'
import type { TwinState } from './state.ts'

/**
 * A one-glance description of a twin for operators (the Temporal UI's "current details"), e.g.
 * "online · FLAPPING: cable: 14 changes in 60 s (limit 6) · model charge-point · 3 sensors ·
 * v42 · last seen 2026-11-23T12:00:00.000Z".
 */
export function describeTwin(twin: TwinState): string {
  const pending = Object.keys(delta(twin)).length
  const parts = [
    twin.online ? 'online' : 'offline',
    twin.healthReason ? `${twin.health}: ${twin.healthReason}` : twin.health,
    twin.modelId ? `model ${twin.modelId}` : 'no model',
    `${Object.keys(twin.sensors).length} sensors`,
    `v${twin.version}`,
    twin.lastSeenAt === null
      ? 'never seen'
      : `last seen ${new Date(twin.lastSeenAt).toISOString()}`,
  ]
  if (pending > 0) parts.push(`${pending} desired not yet reported`)
  const r = twin.reservation
  if (r?.status === 'ACTIVE') {
    parts.push(`reserved by ${r.holder} until ${new Date(r.expiresAt).toISOString()}`)
  }
  const open = openCommands(twin.commands).length
  if (open > 0) parts.push(`${open} command${open === 1 ? '' : 's'} pending`)
  if (twin.clockSkew) parts.push('device clock ahead, not trusted')
  return parts.join(' · ')
}
