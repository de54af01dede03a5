// `npm run temporal:cli`: finds the Temporal CLI or installs it, and prints where it is. Runs
// before the tests so a fresh clone's first `go install` is not inside a test's time limit.
import { ConfigError } from '../src/config.ts'
import { findTemporalCli } from './cli.ts'

try {
  console.log(await findTemporalCli((line) => console.log(line)))
} catch (error) {
  console.error(error instanceof ConfigError ? `devtwin: ${error.message}` : error)
  process.exit(1)
}
