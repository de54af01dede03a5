import { Card, Code, Table, Title } from '@mantine/core'
import { useEffect } from 'react'
import { useQuery } from 'urql'
import { ErrorNote } from '../errors.tsx'
import { HISTORY } from '../queries.ts'

interface HistoryData {
  device: {
    history: {
      edges: {
        node: { version: number; live: boolean; at: string; kind: string; changes: unknown }
      }[]
    }
  } | null
}

/** The twin's change log, newest first, fetched again whenever the twin's version moves. */
export function HistoryCard({ deviceId, version }: { deviceId: string; version: number }) {
  const [{ data, error }, refresh] = useQuery<HistoryData>({
    query: HISTORY,
    variables: { id: deviceId },
  })
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new version is the reason to refetch
  useEffect(() => refresh({ requestPolicy: 'network-only' }), [version, refresh])
  return (
    <Card withBorder>
      <Title order={4} mb="sm">
        Change history
      </Title>
      <ErrorNote error={error} />
      <Table data-testid="history">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Version</Table.Th>
            <Table.Th>At</Table.Th>
            <Table.Th>Kind</Table.Th>
            <Table.Th>Changes</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {data?.device?.history.edges.map(({ node }) => (
            <Table.Tr key={`${node.version}-${node.at}`}>
              <Table.Td>{node.version}</Table.Td>
              <Table.Td>{new Date(node.at).toLocaleTimeString()}</Table.Td>
              <Table.Td>{node.kind}</Table.Td>
              <Table.Td>
                <Code block>{JSON.stringify(node.changes)}</Code>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Card>
  )
}
