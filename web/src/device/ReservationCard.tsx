import { Card, Text, Title } from '@mantine/core'
import { ago } from '../time.ts'

export interface ReservationItem {
  id: string
  holder: string
  status: string
  createdAt: string
  expiresAt: string
}

export function ReservationCard({
  reservation,
  now,
}: {
  reservation: ReservationItem | null
  now: number
}) {
  return (
    <Card withBorder>
      <Title order={4} mb="sm">
        Reservation
      </Title>
      {reservation ? (
        <Text size="sm">
          Held by <b>{reservation.holder}</b> since {ago(reservation.createdAt, now)}, until{' '}
          {new Date(reservation.expiresAt).toLocaleString()} ({reservation.status}). Commands need
          reservation id <code>{reservation.id}</code>.
        </Text>
      ) : (
        <Text c="dimmed" size="sm">
          Not reserved
        </Text>
      )}
    </Card>
  )
}
