import { Badge, Card, Code, Group, Stack, Text, Timeline, Title } from '@mantine/core'
import { useMemo } from 'react'
import { useQuery, useSubscription } from 'urql'
import { ErrorNote } from '../errors.tsx'
import { COMMAND_UPDATED, COMMANDS } from '../queries.ts'
import { SendCommandForm } from './SendCommandForm.tsx'

export interface CommandItem {
  id: string
  name: string
  args: unknown
  status: string
  attempts: number
  maxAttempts: number
  createdAt: string
  updatedAt: string
  result: unknown
  error: string | null
  requestedBy: string
  events: { status: string; attempt: number; at: string; error: string | null }[]
}

/** The device's commands, newest first, each with its trail of status changes, kept live. */
export function CommandsCard({ deviceId }: { deviceId: string }) {
  const [{ data, error }] = useQuery<{
    device: { commands: { edges: { node: CommandItem }[] } } | null
  }>({
    query: COMMANDS,
    variables: { id: deviceId },
  })
  const [pushed] = useSubscription<{ commandUpdated: CommandItem }, Map<string, CommandItem>>(
    { query: COMMAND_UPDATED, variables: { deviceId } },
    (seen = new Map(), event) => new Map(seen).set(event.commandUpdated.id, event.commandUpdated),
  )
  const commands = useMemo(() => {
    const byId = new Map(data?.device?.commands.edges.map((e) => [e.node.id, e.node]))
    for (const [id, command] of pushed.data ?? []) byId.set(id, command)
    return [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt))
  }, [data, pushed.data])

  return (
    <Card withBorder>
      <Title order={4} mb="sm">
        Commands
      </Title>
      <SendCommandForm deviceId={deviceId} />
      <ErrorNote error={error} />
      <Stack mt="md" data-testid="commands">
        {commands.length === 0 && <Text c="dimmed">None sent</Text>}
        {commands.map((command) => (
          <Card key={command.id} withBorder padding="xs">
            <Group justify="space-between">
              <Text fw={600}>
                {command.name} <Code>{JSON.stringify(command.args ?? {})}</Code>
              </Text>
              <Badge variant="light">{command.status}</Badge>
            </Group>
            <Text size="xs" c="dimmed">
              by {command.requestedBy} · attempt {command.attempts} of {command.maxAttempts}
              {command.error && ` · ${command.error}`}
              {command.result !== null && ` · result ${JSON.stringify(command.result)}`}
            </Text>
            <Timeline mt="xs" bulletSize={10} lineWidth={2}>
              {command.events.map((event) => (
                <Timeline.Item key={`${event.status}-${event.at}`} title={event.status}>
                  <Text size="xs" c="dimmed">
                    {new Date(event.at).toLocaleTimeString()} · attempt {event.attempt}
                    {event.error && ` · ${event.error}`}
                  </Text>
                </Timeline.Item>
              ))}
            </Timeline>
          </Card>
        ))}
      </Stack>
    </Card>
  )
}
