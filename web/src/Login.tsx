import { Button, Code, Container, Paper, Stack, Text, Textarea, Title } from '@mantine/core'
import { useState } from 'react'

/** Asks for a token (JWT) once; App keeps it in localStorage. */
export function Login({ onToken }: { onToken: (token: string) => void }) {
  const [token, setToken] = useState('')
  return (
    <Container size="sm" py="xl">
      <Paper withBorder p="lg">
        <form
          onSubmit={(event) => {
            event.preventDefault()
            if (token.trim()) onToken(token.trim())
          }}
        >
          <Stack>
            <Title order={2}>devtwin</Title>
            <Text size="sm">
              Paste a token (viewer, operator or admin). <Code>npm run dev</Code> prints a dev admin
              token; <Code>npm run token -- --role viewer</Code> mints others.
            </Text>
            <Textarea
              label="Token"
              name="token"
              autosize
              minRows={3}
              value={token}
              onChange={(event) => setToken(event.currentTarget.value)}
            />
            <Button type="submit">Sign in</Button>
          </Stack>
        </form>
      </Paper>
    </Container>
  )
}
