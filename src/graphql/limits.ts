import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit'
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases'
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth'
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens'
import type { Plugin } from 'graphql-yoga'
import { badInput } from './errors.ts'

/** What one request may ask for. Generous for apps, far below what would hurt the service. */
export const LIMITS = {
  depth: 10,
  aliases: 20,
  // Armor multiplies a list's cost by its `first`: a full page of 500 devices costs ~725,000.
  cost: 1_000_000,
  tokens: 3_000,
  bodyBytes: 256 * 1024,
}

/** GraphQL Armor's checks, each refusing with a message that says the limit. */
export const queryLimitPlugins = (): Plugin[] => [
  maxDepthPlugin({ n: LIMITS.depth, flattenFragments: true, exposeLimits: true }),
  maxAliasesPlugin({ n: LIMITS.aliases, exposeLimits: true }),
  costLimitPlugin({ maxCost: LIMITS.cost, exposeLimits: true }),
  maxTokensPlugin({ n: LIMITS.tokens, exposeLimits: true }),
  bodyLimitPlugin(LIMITS.bodyBytes),
]

/** Refuses a request body over `bytes` before it is read (by its declared length). */
function bodyLimitPlugin(bytes: number): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      const length = Number(request.headers.get('content-length') ?? 0)
      if (length <= bytes) return
      const error = badInput(`the request body is ${length} bytes; the limit is ${bytes}`)
      endResponse(
        new fetchAPI.Response(JSON.stringify({ errors: [error.toJSON()] }), {
          status: 413,
          headers: { 'content-type': 'application/json' },
        }),
      )
    },
  }
}
