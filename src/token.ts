// `npm run token -- --role viewer --sub alice [--expires 7d]`: mints an API token with the
// configured secret (DEVTWIN_JWT_SECRET, or the dev secret in the data dir).
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from './config.ts'
import { jwtSecret } from './dev-secret.ts'
import { mintToken, ROLES, type Role } from './graphql/auth.ts'

try {
  const { values } = parseArgs({
    options: {
      role: { type: 'string', default: 'viewer' },
      sub: { type: 'string', default: 'dev' },
      expires: { type: 'string', default: '30d' },
    },
  })
  if (!ROLES.includes(values.role as Role)) {
    throw new ConfigError(`--role must be one of ${ROLES.join(', ')}, not "${values.role}"`)
  }
  const config = loadConfig()
  const secret = jwtSecret({
    secret: config.DEVTWIN_JWT_SECRET,
    production: config.NODE_ENV === 'production',
    dataDir: config.DEVTWIN_DATA_DIR,
  })
  console.log(
    await mintToken(secret, { sub: values.sub, role: values.role as Role }, values.expires),
  )
} catch (error) {
  console.error(`devtwin: ${error instanceof Error ? error.message : error}`)
  process.exit(1)
}
