/**
 * The tables whose old rows retention deletes, as named in settings and the schedule. Kept apart
 * from the SQL: the retention workflow's bundle must not pull in the database driver.
 */
export const RETAINED_TABLES = [
  'telemetry',
  'twin_events',
  'rejected_messages',
  'command_events',
] as const
export type RetainedTable = (typeof RETAINED_TABLES)[number]

/** How long each table keeps its rows, in ms; a table left out keeps them for ever. */
export type RetentionPolicy = Partial<Record<RetainedTable, number>>
