import { Anchor, Card, Group, Select, Table, Text, TextInput, Title } from '@mantine/core'
import { useState } from 'react'
import { useQuery, useSubscription } from 'urql'
import { ErrorNote } from '../errors.tsx'
import { HEALTHS, HealthBadge, OnlineBadge } from '../health.tsx'
import { DEVICES, TWIN_CHANGED } from '../queries.ts'
import { deviceHref } from '../route.ts'
import { ago, formatValue, useNow } from '../time.ts'
import { applyTwinEvent, type LiveTwin, lastChange, type TwinEvent } from '../twin.ts'

interface DeviceNode {
  id: string
  model: { id: string } | null
  twin: LiveTwin
}

/** The fleet's devices, filtered by health and online on the server and by id here. */
export function DeviceTable() {
  const [health, setHealth] = useState<string | null>(null)
  const [online, setOnline] = useState<string | null>(null)
  const [search, setSearch] = useState('')
  const where = {
    ...(health ? { health } : {}),
    ...(online ? { online: online === 'online' } : {}),
  }
  const [{ data, error }] = useQuery<{ devices: { edges: { node: DeviceNode }[] } }>({
    query: DEVICES,
    variables: { where },
  })
  const now = useNow()
  const devices = (data?.devices.edges ?? [])
    .map((e) => e.node)
    .filter((d) => d.id.toLowerCase().includes(search.toLowerCase()))

  return (
    <Card withBorder>
      <Group justify="space-between" mb="sm">
        <Title order={4}>Devices</Title>
        <Group>
          <TextInput
            placeholder="Device id"
            aria-label="Filter by device id"
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
          />
          <Select
            placeholder="Any health"
            aria-label="Filter by health"
            data={HEALTHS}
            value={health}
            onChange={setHealth}
            clearable
          />
          <Select
            placeholder="Online or not"
            aria-label="Filter by online"
            data={['online', 'offline']}
            value={online}
            onChange={setOnline}
            clearable
          />
        </Group>
      </Group>
      <ErrorNote error={error} />
      <Table striped highlightOnHover data-testid="devices">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Device</Table.Th>
            <Table.Th>Online</Table.Th>
            <Table.Th>Health</Table.Th>
            <Table.Th>Values</Table.Th>
            <Table.Th>Last change</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {devices.map((device) => (
            <DeviceRow key={device.id} device={device} now={now} />
          ))}
        </Table.Tbody>
      </Table>
      {devices.length === 0 && !error && (
        <Text c="dimmed" ta="center" py="md">
          No devices{data ? '' : ' yet'}
        </Text>
      )}
    </Card>
  )
}

/** One device, kept live by its own twinChanged subscription. */
function DeviceRow({ device, now }: { device: DeviceNode; now: number }) {
  const [live] = useSubscription<{ twinChanged: TwinEvent<LiveTwin> }, LiveTwin>(
    { query: TWIN_CHANGED, variables: { deviceId: device.id } },
    (twin = device.twin, event) => applyTwinEvent(twin, event.twinChanged),
  )
  const twin = live.data && live.data.version >= device.twin.version ? live.data : device.twin
  return (
    <Table.Tr data-device-id={device.id}>
      <Table.Td>
        <Anchor href={deviceHref(device.id)}>{device.id}</Anchor>
        {device.model && (
          <Text size="xs" c="dimmed">
            {device.model.id}
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        <OnlineBadge online={twin.online} />
      </Table.Td>
      <Table.Td>
        <HealthBadge health={twin.health} reason={twin.healthReason} />
      </Table.Td>
      <Table.Td data-testid="values">
        {twin.sensors.map((s) => (
          <Text key={s.name} size="sm" span mr="sm">
            {s.name} <b data-sensor={s.name}>{formatValue(s.value)}</b>
          </Text>
        ))}
      </Table.Td>
      <Table.Td>{ago(lastChange(twin), now)}</Table.Td>
    </Table.Tr>
  )
}
