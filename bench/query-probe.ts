import { setTimeout as sleep } from 'node:timers/promises'
import { request } from '../test/support/graphql.ts'
import { freshness } from './probes.ts'

/** The api allows 20 aliases a request: the polled sample is one request. */
export const QUERY_SAMPLE = 20

type Polled = Record<string, { twin: { sensors: { deviceTime: string | null }[] } } | null>

/**
 * Publish → a GraphQL query shows it, as an app polling its devices sees: every `everyMs` one
 * query reads the sample's twins (the next one only once the last answered, so polls never pile
 * up), and a reading counts the first time its device time shows. A reading may have shown up
 * to one interval plus a round trip before the poll that saw it: this over-states by that.
 */
export function startQueryProbe(
  url: string,
  token: string,
  deviceIds: readonly string[],
  everyMs = 100,
) {
  const ids = deviceIds.slice(0, QUERY_SAMPLE)
  const query = `query {${ids
    .map((id, i) => ` d${i}: device(id: ${JSON.stringify(id)}) { twin { sensors { deviceTime } } }`)
    .join('')} }`
  const seen = freshness()
  const errors: unknown[] = []
  let stopped = false
  const polling = (async () => {
    while (!stopped) {
      const started = Date.now()
      try {
        const result = await request<Polled>(url, query, {}, `Bearer ${token}`)
        if (result.errors) errors.push(...result.errors)
        ids.forEach((id, i) => {
          const device = result.data?.[`d${i}`]
          if (device) seen.see(id, device.twin.sensors)
        })
      } catch (error) {
        errors.push(error)
      }
      await sleep(Math.max(0, everyMs - (Date.now() - started)))
    }
  })()
  return {
    samples: seen.samples,
    errors,
    async stop() {
      stopped = true
      await polling
    },
  }
}
