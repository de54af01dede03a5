/**
 * Sensor names are keys of the twin's plain objects: `__proto__` would vanish into an object's
 * prototype, and a name every object inherits (`constructor`, `toString`, …) would read as a
 * sensor the twin already has. Such a name is refused wherever it comes in (readings, models,
 * desired state, whose keys are the sensors a device is to report).
 */
export function inheritedNameProblem(name: string, what = 'sensor name'): string | null {
  return name in Object.prototype
    ? `${what} "${name}" is refused: every JavaScript object already has it`
    : null
}
