import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

const pbkdf2Async = promisify(pbkdf2)

/**
 * Secrets are stored in Mosquitto's own password-file format (`$7$`: PBKDF2-HMAC-SHA512), so
 * the registry's hash is the line `npm run mqtt:passwords` writes for an external Mosquitto and
 * what the embedded broker checks: one hash, two brokers. The secrets themselves are 192 random
 * bits, so the iteration count is about defence in depth, and is kept low enough that a fleet
 * reconnecting at once costs the broker seconds, not minutes.
 */
const ITERATIONS = 10_000
const SALT_BYTES = 12
const HASH_BYTES = 64

/** A new MQTT secret for a device or service: shown once, stored only as a slow hash. */
export const newSecret = () => randomBytes(24).toString('base64url')

/** `$7$<iterations>$<salt>$<hash>` (base64), as `mosquitto_passwd` writes it. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const hash = await pbkdf2Async(secret, salt, ITERATIONS, HASH_BYTES, 'sha512')
  return `$7$${ITERATIONS}$${salt.toString('base64')}$${hash.toString('base64')}`
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [, scheme, iterations, salt, hash] = stored.split('$')
  const rounds = Number(iterations)
  if (scheme !== '7' || !Number.isSafeInteger(rounds) || rounds < 1 || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  const actual = await pbkdf2Async(
    secret,
    Buffer.from(salt, 'base64'),
    rounds,
    expected.length,
    'sha512',
  )
  return timingSafeEqual(actual, expected)
}
