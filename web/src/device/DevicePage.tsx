import { Anchor, Card, Grid, Group, Stack, Text, Title } from '@mantine/core'
import { useEffect, useState } from 'react'
import { useQuery, useSubscription } from 'urql'
import { AlertsFeed } from '../alerts/AlertsFeed.tsx'
import { ErrorNote } from '../errors.tsx'
import { HealthBadge, OnlineBadge } from '../health.tsx'
import { DEVICE, TWIN_CHANGED } from '../queries.ts'
import { ago, useNow } from '../time.ts'
import { applyTwinEvent, type LiveTwin, type TwinEvent } from '../twin.ts'
import { CommandsCard } from './CommandsCard.tsx'
import { DesiredCard } from './DesiredCard.tsx'
import { HistoryCard } from './HistoryCard.tsx'
import { ReservationCard, type ReservationItem } from './ReservationCard.tsx'
import { SensorChart } from './SensorChart.tsx'
import { SensorsTable } from './SensorsTable.tsx'

export type DeviceTwin = LiveTwin & {
  desired: Record<string, unknown> | null
  desiredVersion: number
  delta: Record<string, unknown> | null
  reservation: ReservationItem | null
}

interface DeviceData {
  device: {
    id: string
    serialNumber: string | null
    firmware: string | null
    model: {
      id: string
      name: string
      sensors: { name: string; kind: string; unit: string | null }[]
    } | null
    twin: DeviceTwin
  } | null
}

/** One device: its twin live, and what was done to it. */
export function DevicePage({ deviceId }: { deviceId: string }) {
  const [{ data, error }, refresh] = useQuery<DeviceData>({
    query: DEVICE,
    variables: { id: deviceId },
  })
  const [live] = useSubscription<{ twinChanged: TwinEvent<DeviceTwin> }, TwinEvent<DeviceTwin>>(
    { query: TWIN_CHANGED, variables: { deviceId } },
    (_, event) => event.twinChanged,
  )
  // The twin as queried, then as every event changes it.
  const [twin, setTwin] = useState<DeviceTwin | null>(null)
  useEffect(() => {
    if (data?.device) setTwin(data.device.twin)
  }, [data])
  useEffect(() => {
    if (live.data)
      setTwin((current) => current && applyTwinEvent(current, live.data as TwinEvent<DeviceTwin>))
  }, [live.data])
  const temporalLink = useTwinWorkflowUrl(deviceId)
  const now = useNow()

  if (error) return <ErrorNote error={error} />
  if (!data) return <Text c="dimmed">Loading…</Text>
  if (!data.device || !twin) return <Text>No device {deviceId}</Text>
  const { device } = data
  const units = new Map(device.model?.sensors.map((s) => [s.name, s.unit]))
  // Aggregates are over numbers: chart the sensors whose value is one.
  const numericSensors = twin.sensors.filter((s) => typeof s.value === 'number').map((s) => s.name)

  return (
    <Stack>
      <Group justify="space-between">
        <Group>
          <Title order={2}>{device.id}</Title>
          <OnlineBadge online={twin.online} />
          <HealthBadge health={twin.health} reason={twin.healthReason} />
        </Group>
        {temporalLink && (
          <Anchor href={temporalLink} target="_blank" rel="noreferrer">
            Twin workflow in the Temporal UI
          </Anchor>
        )}
      </Group>
      <Text size="sm" c="dimmed">
        model {device.model?.name ?? 'none'} · serial {device.serialNumber ?? '—'} · firmware{' '}
        {device.firmware ?? '—'} · version {twin.version} · last seen {ago(twin.lastSeenAt, now)}
        {twin.healthReason && ` · ${twin.healthReason}`}
      </Text>
      <Grid>
        <Grid.Col span={{ base: 12, lg: 8 }}>
          <Stack>
            <Card withBorder>
              <Title order={4} mb="sm">
                Sensors
              </Title>
              <SensorsTable sensors={twin.sensors} units={units} now={now} />
            </Card>
            <SensorChart deviceId={device.id} sensors={numericSensors} />
            <CommandsCard deviceId={device.id} />
            <HistoryCard deviceId={device.id} version={twin.version} />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 4 }}>
          <Stack>
            <AlertsFeed deviceId={device.id} />
            <ReservationCard reservation={twin.reservation} now={now} />
            <DesiredCard
              deviceId={device.id}
              twin={twin}
              onChanged={() => refresh({ requestPolicy: 'network-only' })}
            />
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  )
}

/** The twin's workflow in the Temporal UI, when the api knows where that is (/dashboard.json). */
function useTwinWorkflowUrl(deviceId: string): string | null {
  const [template, setTemplate] = useState<string | null>(null)
  useEffect(() => {
    fetch('/dashboard.json')
      .then((response) => response.json() as Promise<{ twinWorkflowUrl: string | null }>)
      .then((config) => setTemplate(config.twinWorkflowUrl))
      .catch(() => setTemplate(null))
  }, [])
  return template?.replace('{deviceId}', encodeURIComponent(deviceId)) ?? null
}
