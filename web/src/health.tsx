import { Badge, Tooltip } from '@mantine/core'

const COLORS: Record<string, string> = {
  OK: 'green',
  UNKNOWN: 'gray',
  FLAPPING: 'orange',
  STUCK: 'yellow',
  OUT_OF_RANGE: 'red',
  SILENT: 'dark',
  INCONSISTENT: 'grape',
}

export const HEALTHS = Object.keys(COLORS)

/** Badges keep their whole word in a narrow table column. */
const wholeWord = { root: { flexShrink: 0, maxWidth: 'none' }, label: { overflow: 'visible' } }

/** A health value as a coloured badge, its reason on hover. */
export function HealthBadge({ health, reason }: { health: string; reason?: string | null }) {
  const badge = (
    <Badge color={COLORS[health] ?? 'gray'} variant="light" styles={wholeWord}>
      {health}
    </Badge>
  )
  return reason ? <Tooltip label={reason}>{badge}</Tooltip> : badge
}

export function OnlineBadge({ online }: { online: boolean }) {
  return (
    <Badge color={online ? 'teal' : 'gray'} variant="dot" styles={wholeWord}>
      {online ? 'online' : 'offline'}
    </Badge>
  )
}
