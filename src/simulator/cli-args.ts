import { parseArgs } from 'node:util'
import { ID_CHARACTERS } from '../protocol/ids.ts'
import { assignRoles, type FleetOptions } from './fleet.ts'
import { MODELS, type Model } from './profiles.ts'

export const USAGE = `usage: npm run simulate -- [options]

  --devices N           devices to simulate (default 10), ids <prefix>-1 … <prefix>-N
  --rate R              telemetry readings a second per device (default 1; 0.2 = every 5 s)
  --model M             charge-point (default) | sensor
  --url URL             broker (default $MQTT_URL, or mqtt://127.0.0.1:$MQTT_PORT or 1883)
  --topic-root ROOT     first topic level (default $DEVTWIN_TOPIC_ROOT or devices)
  --prefix P            device id prefix (default sim)
  --password-file F     JSON object: device id -> MQTT password
  --failing S           share 0..1 of devices whose commands fail
  --slow S              share whose commands succeed only after --slow-ms
  --deaf S              share that never answers commands
  --flapping S          share whose discrete sensor toggles several times a second
  --out-of-range S      share whose temperature reads above its physical range
  --silent S            share that is online but sends no telemetry
  --offline S           share that never connects
  --command-delay-ms MS between accepted and the final ack (default 200)
  --slow-ms MS          the slow devices' delay (default 30000)
  --duration SECONDS    stop after this long (default: until Ctrl-C)
  --seed N              replay the same readings
  --tempo X             discrete events (cable, door) X times faster than real life
  --mqtt-version 4|5    MQTT protocol (default 4)
  --help`

/** Bad command-line arguments: one line for the user, exit code 2. */
export class UsageError extends Error {}

export interface CliOptions {
  fleet: Omit<FleetOptions, 'devices'> & { devices: number }
  durationSeconds: number | null
  passwordFile: string | null
  help: boolean
}

/** Each share's flag and its fleet option. */
const SHARES = [
  ['failing', 'failing'],
  ['slow', 'slow'],
  ['deaf', 'deaf'],
  ['flapping', 'flapping'],
  ['out-of-range', 'outOfRange'],
  ['silent', 'silent'],
  ['offline', 'offline'],
] as const
const URL_SCHEMES = ['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ws:', 'wss:']

export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        devices: { type: 'string' },
        rate: { type: 'string' },
        model: { type: 'string' },
        url: { type: 'string' },
        'topic-root': { type: 'string' },
        prefix: { type: 'string' },
        'password-file': { type: 'string' },
        failing: { type: 'string' },
        slow: { type: 'string' },
        deaf: { type: 'string' },
        flapping: { type: 'string' },
        'out-of-range': { type: 'string' },
        silent: { type: 'string' },
        offline: { type: 'string' },
        'command-delay-ms': { type: 'string' },
        'slow-ms': { type: 'string' },
        duration: { type: 'string' },
        seed: { type: 'string' },
        tempo: { type: 'string' },
        'mqtt-version': { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const text = (name: string) => values[name] as string | undefined
  const number = (name: string, check: (n: number) => boolean, what: string, fallback: number) => {
    const raw = text(name)
    if (raw === undefined) return fallback
    const n = raw.trim() === '' ? Number.NaN : Number(raw)
    if (!check(n)) throw new UsageError(`--${name} must be ${what}, got '${raw}'`)
    return n
  }
  const whole = (n: number) => Number.isInteger(n)
  const envOr = (name: string) => (env[name] === '' ? undefined : env[name])

  const devices = number('devices', (n) => whole(n) && n >= 1, 'a whole number >= 1', 10)
  const rate = number('rate', (n) => Number.isFinite(n) && n >= 0, 'a number >= 0', 1)
  const model = (text('model') ?? 'charge-point') as Model
  if (!MODELS.includes(model)) {
    throw new UsageError(`--model must be one of ${MODELS.join(', ')}, got '${model}'`)
  }
  const url = text('url') ?? envOr('MQTT_URL') ?? `mqtt://127.0.0.1:${envOr('MQTT_PORT') ?? 1883}`
  let scheme: string
  try {
    scheme = new URL(url).protocol
  } catch {
    throw new UsageError(`--url must be a URL like mqtt://host:1883, got '${url}'`)
  }
  if (!URL_SCHEMES.includes(scheme)) {
    throw new UsageError(`--url must use one of ${URL_SCHEMES.join(' ')}, got '${url}'`)
  }
  const topicRoot = text('topic-root') ?? envOr('DEVTWIN_TOPIC_ROOT') ?? 'devices'
  if (!ID_CHARACTERS.test(topicRoot)) {
    throw new UsageError(`--topic-root must be letters, digits or _.:-, got '${topicRoot}'`)
  }
  const prefix = text('prefix') ?? 'sim'
  // The longest id, `${prefix}-${devices}`, must still be a valid device id.
  if (!ID_CHARACTERS.test(prefix) || `${prefix}-${devices}`.length > 64) {
    throw new UsageError(`--prefix must be a few letters, digits or _.:-, got '${prefix}'`)
  }
  const shares: Partial<Record<(typeof SHARES)[number][1], number>> = {}
  for (const [flag, option] of SHARES) {
    shares[option] = number(flag, (n) => n >= 0 && n <= 1, 'a share between 0 and 1', 0)
  }
  try {
    assignRoles(devices, shares)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const ms = (n: number) => whole(n) && n >= 0
  const commandDelayMs = number('command-delay-ms', ms, 'whole milliseconds >= 0', 200)
  const slowMs = number('slow-ms', ms, 'whole milliseconds >= 0', 30_000)
  const duration = number('duration', (n) => Number.isFinite(n) && n > 0, 'seconds > 0', 0)
  const seed = number('seed', (n) => whole(n) && n >= 0 && n < 2 ** 32, 'a whole number', -1)
  const tempo = number('tempo', (n) => Number.isFinite(n) && n > 0, 'a number > 0', 1)
  const version = number('mqtt-version', (n) => n === 4 || n === 5, '4 or 5', 4) as 4 | 5

  return {
    fleet: {
      url,
      topicRoot,
      devices,
      prefix,
      rate,
      model,
      ...shares,
      commandDelayMs,
      slowMs,
      tempo,
      ...(seed >= 0 ? { seed } : {}),
      mqtt: { protocolVersion: version },
    },
    durationSeconds: duration > 0 ? duration : null,
    passwordFile: text('password-file') ?? null,
    help: values.help === true,
  }
}

/** The password file's content: a JSON object of device id → password. */
export function parsePasswords(json: string, file: string): Map<string, string> {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch (error) {
    throw new UsageError(`--password-file ${file} is not JSON: ${(error as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--password-file ${file} must hold a JSON object of id -> password`)
  }
  const passwords = new Map<string, string>()
  for (const [id, password] of Object.entries(parsed)) {
    if (typeof password !== 'string') {
      throw new UsageError(`--password-file ${file}: the password of '${id}' is not a string`)
    }
    passwords.set(id, password)
  }
  return passwords
}
