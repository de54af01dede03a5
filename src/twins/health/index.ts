// The sensor-health detectors: pure functions of a twin's state, its model and the time.
export { implausibleChange } from './consistency.ts'
export { evaluateHealth, type HealthInput, type HealthVerdict } from './evaluate.ts'
export { type FlappingVerdict, flapping } from './flapping.ts'
export { recordChange, TRACK_LIMIT } from './record-change.ts'
export * from './types.ts'
export { outOfRange, silentSensor, stuck } from './value-checks.ts'
