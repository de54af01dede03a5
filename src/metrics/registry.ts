import { collectDefaultMetrics, Registry } from 'prom-client'

/**
 * One registry per started stack (tests start several in one process), with Node's own process
 * metrics (`process_*`, `nodejs_*`) beside devtwin's.
 */
export function createRegistry(): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  return registry
}
