import { Button, Card, Code, Stack, Text, Textarea, Title } from '@mantine/core'
import { useState } from 'react'
import { useMutation } from 'urql'
import { ErrorNote } from '../errors.tsx'
import { SET_DESIRED } from '../queries.ts'
import { useMayOperate } from '../role.ts'
import type { DeviceTwin } from './DevicePage.tsx'
import { parseJson } from './json-input.ts'

/** The desired state and its delta; operators merge a patch into it (a null removes a key). */
export function DesiredCard({
  deviceId,
  twin,
  onChanged,
}: {
  deviceId: string
  twin: DeviceTwin
  onChanged: () => void
}) {
  const mayOperate = useMayOperate()
  const [patch, setPatch] = useState('')
  const [invalid, setInvalid] = useState<string | null>(null)
  const [result, setDesired] = useMutation(SET_DESIRED)
  return (
    <Card withBorder>
      <Title order={4} mb="sm">
        Desired state
      </Title>
      <Stack gap="xs">
        <Text size="sm">desired (version {twin.desiredVersion})</Text>
        <Code block>{JSON.stringify(twin.desired ?? {}, null, 2)}</Code>
        <Text size="sm">delta (not reported yet)</Text>
        <Code block>{JSON.stringify(twin.delta ?? {}, null, 2)}</Code>
        <form
          onSubmit={async (event) => {
            event.preventDefault()
            const parsed = parseJson(patch)
            setInvalid('error' in parsed ? parsed.error : null)
            if (!('value' in parsed)) return
            // The version shown: a change made meanwhile is refused (VERSION_CONFLICT), not lost.
            const done = await setDesired({
              deviceId,
              patch: parsed.value,
              expectedVersion: twin.desiredVersion,
            })
            if (!done.error) {
              setPatch('')
              onChanged()
            }
          }}
        >
          <Stack gap="xs">
            <Textarea
              label="Patch (JSON)"
              placeholder='{"setpoint": 21}'
              value={patch}
              onChange={(e) => setPatch(e.currentTarget.value)}
              disabled={!mayOperate}
            />
            <Button type="submit" disabled={!mayOperate} loading={result.fetching}>
              Set desired
            </Button>
            {invalid && (
              <Text size="sm" c="red">
                {invalid}
              </Text>
            )}
            <ErrorNote error={result.error} />
          </Stack>
        </form>
      </Stack>
    </Card>
  )
}
