import { Alert } from '@mantine/core'
import type { CombinedError } from 'urql'

/** The server's words for a refusal: "FORBIDDEN: this needs the operator role; …". */
export function errorText(error: CombinedError): string {
  const first = error.graphQLErrors[0]
  if (!first) return error.networkError?.message ?? error.message
  const code = first.extensions?.code
  return typeof code === 'string' ? `${code}: ${first.message}` : first.message
}

export function ErrorNote({ error }: { error: CombinedError | undefined }) {
  if (!error) return null
  return (
    <Alert color="red" variant="light" role="alert">
      {errorText(error)}
    </Alert>
  )
}
