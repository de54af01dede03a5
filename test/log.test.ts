import { describe, expect, it } from 'vitest'
import { prettyLogs } from '../src/log.ts'

describe('pretty logs', () => {
  it('are on in development at a terminal, off when piped or in production', () => {
    expect(prettyLogs({ NODE_ENV: 'development' }, true)).toBe(true)
    expect(prettyLogs({}, true)).toBe(true)
    expect(prettyLogs({ NODE_ENV: 'development' }, false)).toBe(false)
    expect(prettyLogs({ NODE_ENV: 'production' }, true)).toBe(false)
  })

  it('follow DEVTWIN_LOG_PRETTY when it is set', () => {
    expect(prettyLogs({ NODE_ENV: 'production', DEVTWIN_LOG_PRETTY: 'true' }, false)).toBe(true)
    expect(prettyLogs({ DEVTWIN_LOG_PRETTY: 'false' }, true)).toBe(false)
  })
})
