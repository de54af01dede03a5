import { Grid, Stack } from '@mantine/core'
import { AlertsFeed } from '../alerts/AlertsFeed.tsx'
import { DeviceTable } from './DeviceTable.tsx'
import { FleetCounts } from './FleetCounts.tsx'

export function FleetPage() {
  return (
    <Stack>
      <FleetCounts />
      <Grid>
        <Grid.Col span={{ base: 12, lg: 8 }}>
          <DeviceTable />
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 4 }}>
          <AlertsFeed />
        </Grid.Col>
      </Grid>
    </Stack>
  )
}
