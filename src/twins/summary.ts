import type { TwinState } from './twin.ts'

/**
 * A one-glance description of a twin for operators (the Temporal UI's "current details"),
 * e.g. "online · 3 sensors · v42 · last seen 2026-11-23T12:00:00.000Z".
 */
export function describeTwin(twin: TwinState): string {
  const parts = [
    twin.online ? 'online' : 'offline',
    `${Object.keys(twin.sensors).length} sensors`,
    `v${twin.version}`,
    twin.lastSeenAt === null
      ? 'never seen'
      : `last seen ${new Date(twin.lastSeenAt).toISOString()}`,
  ]
  if (twin.clockSkew) parts.push('device clock ahead, not trusted')
  return parts.join(' · ')
}
