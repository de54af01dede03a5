import { LineChart } from '@mantine/charts'
import { Card, Group, SegmentedControl, Select, Text, Title } from '@mantine/core'
import { useMemo, useState } from 'react'
import { useQuery } from 'urql'
import { ErrorNote } from '../errors.tsx'
import { TELEMETRY_STATS } from '../queries.ts'

/** Each range with a bucket that gives it 60 to 170 points. */
const RANGES = {
  '1h': { ms: 3_600_000, bucket: '1m' },
  '6h': { ms: 6 * 3_600_000, bucket: '5m' },
  '24h': { ms: 24 * 3_600_000, bucket: '15m' },
  '7d': { ms: 7 * 86_400_000, bucket: '1h' },
} as const
type Range = keyof typeof RANGES

interface Bucket {
  start: string
  min: number | null
  max: number | null
  avg: number | null
  count: number
}

/** A sensor over a chosen range, from the server's per-bucket aggregates (telemetryStats). */
export function SensorChart({ deviceId, sensors }: { deviceId: string; sensors: string[] }) {
  const [sensor, setSensor] = useState<string | null>(sensors[0] ?? null)
  const [range, setRange] = useState<Range>('1h')
  // The window is fixed when the range is chosen, so re-renders do not refetch.
  const variables = useMemo(() => {
    const to = new Date()
    const from = new Date(to.getTime() - RANGES[range].ms)
    return {
      id: deviceId,
      sensor,
      from: from.toISOString(),
      to: to.toISOString(),
      bucket: RANGES[range].bucket,
    }
  }, [deviceId, sensor, range])
  const [{ data, error, fetching }] = useQuery<{ device: { telemetryStats: Bucket[] } | null }>({
    query: TELEMETRY_STATS,
    variables,
    pause: sensor === null,
  })
  const points = (data?.device?.telemetryStats ?? [])
    .filter((b) => b.count > 0)
    .map((b) => ({
      time: new Date(b.start).toLocaleTimeString(),
      min: b.min,
      avg: b.avg,
      max: b.max,
    }))

  return (
    <Card withBorder>
      <Group justify="space-between" mb="sm">
        <Title order={4}>Chart</Title>
        <Group>
          <Select
            aria-label="Sensor"
            data={sensors}
            value={sensor}
            onChange={setSensor}
            allowDeselect={false}
          />
          <SegmentedControl
            data={Object.keys(RANGES)}
            value={range}
            onChange={(value) => setRange(value as Range)}
          />
        </Group>
      </Group>
      <ErrorNote error={error} />
      {points.length > 0 ? (
        <LineChart
          h={220}
          data={points}
          dataKey="time"
          withDots={false}
          series={[
            { name: 'max', color: 'red.4' },
            { name: 'avg', color: 'blue.6' },
            { name: 'min', color: 'teal.4' },
          ]}
        />
      ) : (
        !error && (
          <Text c="dimmed" size="sm">
            {fetching ? 'Loading…' : 'No numeric readings in this range'}
          </Text>
        )
      )}
    </Card>
  )
}
