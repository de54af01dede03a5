import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError } from './config.ts'
import { mintToken } from './graphql/auth.ts'

/**
 * The JWT secret: `DEVTWIN_JWT_SECRET`, or outside production a random one kept in the data dir
 * so dev tokens survive restarts. Production without a secret refuses to start.
 */
export function jwtSecret(opts: { secret?: string; production: boolean; dataDir: string }): string {
  if (opts.secret) return opts.secret
  if (opts.production) {
    throw new ConfigError('DEVTWIN_JWT_SECRET is required in production (NODE_ENV=production)')
  }
  const file = join(opts.dataDir, 'jwt-secret')
  if (!existsSync(file)) {
    mkdirSync(opts.dataDir, { recursive: true })
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 })
  }
  return readFileSync(file, 'utf8').trim()
}

/**
 * Mints `npm run dev`'s admin token and keeps it in the data dir (`.devtwin/dev-token`), readable
 * by this user only, for curl and scripts: `-H "authorization: Bearer $(cat .devtwin/dev-token)"`.
 */
export async function writeDevToken(secret: string, dataDir: string) {
  const token = await mintToken(secret, { sub: 'dev', role: 'admin' })
  const file = join(dataDir, 'dev-token')
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(file, `${token}\n`, { mode: 0o600 })
  return { token, file }
}
