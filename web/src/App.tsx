import { Anchor, AppShell, Badge, Button, Group, Title } from '@mantine/core'
import { useEffect, useMemo, useState } from 'react'
import { Provider } from 'urql'
import { graphqlClient } from './client.ts'
import { DevicePage } from './device/DevicePage.tsx'
import { FleetPage } from './fleet/FleetPage.tsx'
import { Login } from './Login.tsx'
import { RoleContext } from './role.ts'
import { useRoute } from './route.ts'
import { forgetToken, loadToken, saveToken, tokenRole } from './token.ts'

export function App() {
  const [token, setToken] = useState(loadToken)
  const route = useRoute()
  const api = useMemo(() => (token ? graphqlClient(token) : null), [token])
  useEffect(() => () => api?.dispose(), [api])

  if (!token || !api) {
    return (
      <Login
        onToken={(t) => {
          saveToken(t)
          setToken(t)
        }}
      />
    )
  }
  const role = tokenRole(token)
  return (
    <Provider value={api.client}>
      <RoleContext.Provider value={role}>
        <AppShell header={{ height: 56 }} padding="md">
          <AppShell.Header>
            <Group h="100%" px="md" justify="space-between">
              <Anchor href="#/" underline="never">
                <Title order={3}>devtwin</Title>
              </Anchor>
              <Group>
                <Badge variant="outline">{role ?? 'unknown role'}</Badge>
                <Button
                  variant="subtle"
                  size="xs"
                  onClick={() => {
                    forgetToken()
                    setToken(null)
                  }}
                >
                  Sign out
                </Button>
              </Group>
            </Group>
          </AppShell.Header>
          <AppShell.Main>
            {route.page === 'device' ? (
              <DevicePage key={route.deviceId} deviceId={route.deviceId} />
            ) : (
              <FleetPage />
            )}
          </AppShell.Main>
        </AppShell>
      </RoleContext.Provider>
    </Provider>
  )
}
