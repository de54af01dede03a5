import { Table, Text } from '@mantine/core'
import { HealthBadge } from '../health.tsx'
import { ago, formatValue } from '../time.ts'
import type { LiveSensor } from '../twin.ts'

export function SensorsTable({
  sensors,
  units,
  now,
}: {
  sensors: LiveSensor[]
  units: Map<string, string | null>
  now: number
}) {
  return (
    <Table data-testid="sensors">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Sensor</Table.Th>
          <Table.Th>Value</Table.Th>
          <Table.Th>Health</Table.Th>
          <Table.Th>Why</Table.Th>
          <Table.Th>Changed</Table.Th>
          <Table.Th>Received</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {sensors.map((s) => (
          <Table.Tr key={s.name}>
            <Table.Td>{s.name}</Table.Td>
            <Table.Td data-sensor={s.name}>
              {formatValue(s.value)} {units.get(s.name) ?? ''}
            </Table.Td>
            <Table.Td>
              <HealthBadge health={s.health} />
            </Table.Td>
            <Table.Td>
              <Text size="sm">{s.healthReason ?? ''}</Text>
            </Table.Td>
            <Table.Td>{ago(s.changedAt, now)}</Table.Td>
            <Table.Td>{ago(s.receivedAt, now)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  )
}
