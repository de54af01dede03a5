import { pino } from 'pino'

/**
 * Human-readable lines (pino-pretty) where a person reads them: DEVTWIN_LOG_PRETTY=true, or, when
 * it is unset, outside production with stdout on a terminal. Otherwise one JSON object a line,
 * for log collectors.
 */
export function prettyLogs(env: NodeJS.ProcessEnv, stdoutIsTty: boolean): boolean {
  const setting = env.DEVTWIN_LOG_PRETTY
  if (setting) return ['true', '1', 'yes'].includes(setting)
  return env.NODE_ENV !== 'production' && stdoutIsTty
}

export const log = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { pid: process.pid },
  ...(prettyLogs(process.env, Boolean(process.stdout.isTTY))
    ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } }
    : {}),
})

export type Logger = typeof log
