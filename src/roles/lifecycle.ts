import type { Check } from '../probes/readiness.ts'

/**
 * What a process started, to stop in reverse order, and the connections its /readyz asks about.
 * Every part of a stack registers here as it starts, so a start that fails halfway stops what
 * it had started.
 */
export class Lifecycle {
  readonly checks: Check[] = []
  private readonly stops: (() => Promise<unknown>)[] = []

  constructor(private readonly onStopFailed: (err: unknown) => void) {}

  onStop(stop: () => Promise<unknown>): void {
    this.stops.push(stop)
  }

  check(name: string, check: () => Promise<void>): void {
    this.checks.push({ name, check })
  }

  async stop(): Promise<void> {
    for (const stop of this.stops.splice(0).reverse()) await stop().catch(this.onStopFailed)
  }
}
