import { Counter, type Registry } from 'prom-client'
import { type CommandStatus, isTerminal } from '../twins/commands.ts'

/** What the worker's activities count once Postgres has committed it. */
export function twinMetrics(registry: Registry) {
  const registers = [registry]
  return {
    updates: new Counter({
      name: 'devtwin_twin_updates_total',
      help: 'Twin versions written (change-log entries)',
      registers,
    }),
    commandOutcomes: new Counter({
      name: 'devtwin_command_outcomes_total',
      help: 'Commands that reached a terminal status, by status',
      labelNames: ['status'] as const,
      registers,
    }),
    alertsRaised: new Counter({
      name: 'devtwin_alerts_raised_total',
      help: 'Alerts raised, by kind',
      labelNames: ['kind'] as const,
      registers,
    }),
    alertsCleared: new Counter({
      name: 'devtwin_alerts_cleared_total',
      help: 'Alerts cleared (their condition ended), by kind',
      labelNames: ['kind'] as const,
      registers,
    }),
  }
}

export type TwinMetrics = ReturnType<typeof twinMetrics>

/** Counts the terminal statuses among those newly added to command trails. */
export function countCommandOutcomes(metrics: TwinMetrics, added: readonly CommandStatus[]): void {
  for (const status of added) if (isTerminal(status)) metrics.commandOutcomes.inc({ status })
}

/** Counts the alert rows a write raised (still active) and cleared. */
export function countAlerts(
  metrics: TwinMetrics,
  rows: readonly { kind: string; clearedAt: Date | null }[],
): void {
  for (const row of rows) {
    const counter = row.clearedAt === null ? metrics.alertsRaised : metrics.alertsCleared
    counter.inc({ kind: row.kind })
  }
}
