import { Card, Group, Text } from '@mantine/core'
import { useEffect } from 'react'
import { useQuery } from 'urql'
import { ErrorNote } from '../errors.tsx'
import { HealthBadge } from '../health.tsx'
import { FLEET } from '../queries.ts'

/** Counts are a grouped query, not a stream: refreshed every few seconds. */
const REFRESH_MS = 5000

interface Fleet {
  fleet: { devices: number; online: number; byHealth: { health: string; devices: number }[] }
}

export function FleetCounts() {
  const [{ data, error }, refresh] = useQuery<Fleet>({ query: FLEET })
  useEffect(() => {
    const timer = setInterval(() => refresh({ requestPolicy: 'network-only' }), REFRESH_MS)
    return () => clearInterval(timer)
  }, [refresh])
  if (error) return <ErrorNote error={error} />
  const fleet = data?.fleet
  return (
    <Group data-testid="fleet-counts">
      <Count label="devices" value={fleet?.devices} />
      <Count label="online" value={fleet?.online} />
      {fleet?.byHealth.map((h) => (
        <Card key={h.health} withBorder padding="sm">
          <Text size="xl" fw={700}>
            {h.devices}
          </Text>
          <HealthBadge health={h.health} />
        </Card>
      ))}
    </Group>
  )
}

function Count({ label, value }: { label: string; value: number | undefined }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xl" fw={700}>
        {value ?? '…'}
      </Text>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
    </Card>
  )
}
