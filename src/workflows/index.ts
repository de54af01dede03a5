// The worker's workflow bundle entry point.
export { retentionWorkflow } from './retention.ts'
export { twinWorkflow } from './twin.ts'
