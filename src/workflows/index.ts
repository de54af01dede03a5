// The worker's workflow bundle entry point.
export { twinWorkflow } from './twin.ts'
