import { Button, Group, Text, TextInput } from '@mantine/core'
import { useState } from 'react'
import { useMutation } from 'urql'
import { ErrorNote } from '../errors.tsx'
import { SEND_COMMAND } from '../queries.ts'
import { useMayOperate } from '../role.ts'
import { parseJson } from './json-input.ts'

/** Operators send a command; viewers see the form disabled, and the server refuses them too. */
export function SendCommandForm({ deviceId }: { deviceId: string }) {
  const mayOperate = useMayOperate()
  const [name, setName] = useState('')
  const [args, setArgs] = useState('')
  const [invalid, setInvalid] = useState<string | null>(null)
  const [sent, send] = useMutation(SEND_COMMAND)
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault()
        const parsed = parseJson(args)
        setInvalid('error' in parsed ? parsed.error : null)
        if ('value' in parsed) void send({ deviceId, name, args: parsed.value })
      }}
    >
      <Group align="end">
        <TextInput
          label="Command"
          placeholder="reboot"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          disabled={!mayOperate}
          required
        />
        <TextInput
          label="Args (JSON)"
          placeholder='{"delay": 5}'
          value={args}
          onChange={(e) => setArgs(e.currentTarget.value)}
          disabled={!mayOperate}
        />
        <Button type="submit" disabled={!mayOperate} loading={sent.fetching}>
          Send command
        </Button>
      </Group>
      {!mayOperate && (
        <Text size="xs" c="dimmed" mt={4}>
          Sending commands needs the operator role.
        </Text>
      )}
      {invalid && (
        <Text size="sm" c="red">
          {invalid}
        </Text>
      )}
      <ErrorNote error={sent.error} />
    </form>
  )
}
