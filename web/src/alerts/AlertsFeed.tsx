import { Anchor, Button, Card, Group, Stack, Text, Title } from '@mantine/core'
import { useMemo } from 'react'
import { useMutation, useQuery, useSubscription } from 'urql'
import { ErrorNote } from '../errors.tsx'
import { HealthBadge } from '../health.tsx'
import { ACKNOWLEDGE_ALERT, ACTIVE_ALERTS, ALERTS_SUBSCRIPTION } from '../queries.ts'
import { useMayOperate } from '../role.ts'
import { deviceHref } from '../route.ts'
import { ago, useNow } from '../time.ts'

export interface AlertItem {
  id: string
  deviceId: string
  sensor: string | null
  kind: string
  message: string
  raisedAt: string
  clearedAt: string | null
  acknowledgedAt: string | null
  acknowledgedBy: string | null
}

/**
 * Active alerts, newest first, of the fleet or of one device: the query's page, then every
 * raise, clear and acknowledgement the `alerts` subscription pushes.
 */
export function AlertsFeed({ deviceId }: { deviceId?: string }) {
  const variables = { deviceId: deviceId ?? null }
  const [{ data, error }] = useQuery<{ alerts: { edges: { node: AlertItem }[] } }>({
    query: ACTIVE_ALERTS,
    variables,
  })
  const [pushed] = useSubscription<{ alerts: AlertItem }, Map<string, AlertItem>>(
    { query: ALERTS_SUBSCRIPTION, variables },
    (seen = new Map(), event) => new Map(seen).set(event.alerts.id, event.alerts),
  )
  const alerts = useMemo(() => {
    const byId = new Map(data?.alerts.edges.map((e) => [e.node.id, e.node]))
    for (const [id, alert] of pushed.data ?? []) byId.set(id, alert)
    return [...byId.values()]
      .filter((a) => a.clearedAt === null)
      .sort((a, b) => b.raisedAt.localeCompare(a.raisedAt))
  }, [data, pushed.data])
  const now = useNow()

  return (
    <Card withBorder>
      <Title order={4} mb="sm">
        Active alerts ({alerts.length})
      </Title>
      <ErrorNote error={error ?? pushed.error} />
      <Stack gap="xs" data-testid="alerts">
        {alerts.length === 0 && <Text c="dimmed">None</Text>}
        {alerts.map((alert) => (
          <AlertRow key={alert.id} alert={alert} now={now} showDevice={!deviceId} />
        ))}
      </Stack>
    </Card>
  )
}

function AlertRow({
  alert,
  now,
  showDevice,
}: {
  alert: AlertItem
  now: number
  showDevice: boolean
}) {
  const mayOperate = useMayOperate()
  const [ack, acknowledge] = useMutation(ACKNOWLEDGE_ALERT)
  return (
    <Card withBorder padding="xs" data-testid="alert" data-alert-id={alert.id}>
      <Group justify="space-between" wrap="nowrap">
        <Stack gap={2}>
          <Group gap="xs">
            <HealthBadge health={alert.kind} />
            {showDevice && <Anchor href={deviceHref(alert.deviceId)}>{alert.deviceId}</Anchor>}
            {alert.sensor && <Text size="sm">{alert.sensor}</Text>}
          </Group>
          <Text size="sm">{alert.message}</Text>
          <Text size="xs" c="dimmed">
            raised {ago(alert.raisedAt, now)}
            {alert.acknowledgedAt && ` · acknowledged by ${alert.acknowledgedBy}`}
          </Text>
        </Stack>
        {!alert.acknowledgedAt && (
          <Button
            size="xs"
            variant="light"
            style={{ flexShrink: 0 }}
            disabled={!mayOperate}
            title={mayOperate ? undefined : 'needs the operator role'}
            loading={ack.fetching}
            onClick={() => acknowledge({ id: alert.id })}
          >
            Acknowledge
          </Button>
        )}
      </Group>
      <ErrorNote error={ack.error} />
    </Card>
  )
}
