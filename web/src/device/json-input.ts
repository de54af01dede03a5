/** Parses what a person typed as JSON, or says what is wrong with it. */
export function parseJson(text: string): { value: unknown } | { error: string } {
  if (text.trim() === '') return { value: null }
  try {
    return { value: JSON.parse(text) }
  } catch (error) {
    return { error: `not JSON: ${(error as Error).message}` }
  }
}
