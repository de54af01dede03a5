import { z } from 'zod'
import { parseDuration } from './duration.ts'
import { ID_CHARACTERS } from './protocol/ids.ts'

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes')

const port = z.coerce.number().int().min(0).max(65535)

/** Defaults that ingest also falls back on when started without a config (tests). */
export const DEFAULT_RENUDGE_MS = 15_000
export const DEFAULT_CHECKPOINT_MS = 300_000
export const DEFAULT_MAX_DELIVERIES_IN_FLIGHT = 100
/** How long an update (which the twin runs before it answers) may take, by default. */
export const DEFAULT_UPDATE_TIMEOUT_MS = 30_000

/** A duration with its unit ("30d", "12h", "90m"), at least `min` ms, as milliseconds. */
const duration = (min: number, minText: string) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text)
    if (ms === null || ms < min) {
      ctx.addIssue({
        code: 'custom',
        message: `"${text}" is not a duration of at least ${minText} (write e.g. 30d, 12h, 90m)`,
      })
      return z.NEVER
    }
    return ms
  })
const retention = duration(60_000, '1m').optional()

/** Every setting, from the environment (docs/operations.md, Configuration). Unset means "embedded" where it can. */
const schema = z.object({
  DATABASE_URL: z.string().url().optional(),
  MQTT_URL: z.string().url().optional(),
  /** The embedded broker's port; unset: 1883, or the next free port after it. */
  MQTT_PORT: port.optional(),
  /** MQTT protocol of ingest's session: 5 for external brokers (unset), 4 for aedes. */
  MQTT_PROTOCOL_VERSION: z.coerce
    .number()
    .pipe(z.union([z.literal(4), z.literal(5)]))
    .optional(),
  /**
   * devtwin's own MQTT account (ingest, worker, api). Required by a broker that authenticates,
   * as the shipped Mosquitto config does; the embedded broker makes up a password when unset.
   */
  DEVTWIN_MQTT_USERNAME: z.string().min(1).default('devtwin'),
  DEVTWIN_MQTT_PASSWORD: z.string().optional(),
  TEMPORAL_ADDRESS: z.string().optional(),
  /** The embedded Temporal dev server's port (its UI on this + 1000); unset: 7233 or the next free. */
  TEMPORAL_PORT: port.optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  /** The Temporal UI the dashboard links twins to; the embedded dev server's when unset. */
  TEMPORAL_UI_URL: z.string().url().optional(),
  DEVTWIN_TASK_QUEUE: z.string().default('twins'),
  /** First level of device topics; another root lets deployments share one broker. */
  DEVTWIN_TOPIC_ROOT: z.string().regex(ID_CHARACTERS).default('devices'),
  DEVTWIN_DATA_DIR: z.string().default('.devtwin'),
  DEVTWIN_JWT_SECRET: z.string().optional(),
  DEVTWIN_AUTO_PROVISION: flag.optional(),
  /**
   * How long ingest gathers messages into one flush (one transaction, then the PUBACKs); 0 = a
   * flush per message. Live reported state is as old as this, plus the commit.
   */
  DEVTWIN_BATCH_MS: z.coerce.number().int().min(0).default(100),
  /**
   * How long routine readings (numbers moving within their range) wait before their twin's
   * workflow folds them into its applied state and change log: its checkpoint. Apps see them
   * live at once; what the workflow decides on (alerts, acks, status, commands) is applied at
   * once, and a decision that needs fresh data reads the inbox first. Temporal's work for a
   * quiet fleet is about one task per twin per checkpoint.
   */
  DEVTWIN_CHECKPOINT_MS: z.coerce.number().int().min(1000).default(DEFAULT_CHECKPOINT_MS),
  /**
   * A delivery claimed by an ingest that crashed before making it is made again after this long.
   * (A failed call is made again after 2 s; one Temporal accepted waits for its twin; inbox.ts.)
   */
  DEVTWIN_RENUDGE_MS: z.coerce.number().int().min(100).default(DEFAULT_RENUDGE_MS),
  /** How long a mutation waits for its twin's answer before SERVICE_UNAVAILABLE. */
  DEVTWIN_UPDATE_TIMEOUT_MS: z.coerce.number().int().min(1000).default(DEFAULT_UPDATE_TIMEOUT_MS),
  /**
   * Deliveries waiting in Temporal at most, fleet-wide: urgent ones (alerts, acks, status) go
   * first and never queue behind more than this. About what Temporal and the workers run in a
   * few seconds, well inside the 30 s a worker's sticky queue keeps a task.
   */
  DEVTWIN_MAX_DELIVERIES_IN_FLIGHT: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_MAX_DELIVERIES_IN_FLIGHT),
  /**
   * Several ingest processes share the device topics through this MQTT shared-subscription
   * group (`$share/{group}/…`, MQTT 5 brokers such as Mosquitto); unset: one ingest.
   */
  DEVTWIN_INGEST_SHARE_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .optional(),
  DEVTWIN_MAX_PAYLOAD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  /** Per-device rate limit of ingest: messages a second on average, and the burst above it. */
  DEVTWIN_DEVICE_RATE: z.coerce.number().positive().default(20),
  DEVTWIN_DEVICE_BURST: z.coerce.number().int().positive().default(200),
  /**
   * Twin workflows a worker keeps in memory. A twin that falls out is replayed from its history
   * at its next signal, which costs far more than its memory: size it to the twins per worker.
   */
  DEVTWIN_WORKER_CACHE: z.coerce.number().int().min(2).default(10_000),
  /**
   * Workflow tasks a worker runs at once. Workflow code runs on one thread: after a restart every
   * twin is replayed, and tasks taken beyond what that thread gets through wait inside the worker
   * on the task's clock (the SDK's 40 made tasks of a few ms last 12 s and time out). Left in
   * Temporal's queue, they wait on no clock. Enough to overlap the twins' Postgres writes.
   */
  DEVTWIN_WORKFLOW_TASK_SLOTS: z.coerce.number().int().min(2).default(16),
  /** Ingest logs its counters ("ingest stats") this often; 0 = never. */
  DEVTWIN_STATS_MS: z.coerce.number().int().min(0).default(0),
  /** Stable MQTT client id of ingest's persistent session; one per ingest process. */
  DEVTWIN_INGEST_CLIENT_ID: z.string().default('devtwin-ingest'),
  /**
   * How long old rows are kept (unset: for ever); a Temporal Schedule deletes older ones every
   * DEVTWIN_RETENTION_INTERVAL (see src/workflows/retention-schedule.ts).
   */
  DEVTWIN_RETENTION_TELEMETRY: retention,
  DEVTWIN_RETENTION_TWIN_EVENTS: retention,
  DEVTWIN_RETENTION_REJECTED_MESSAGES: retention,
  DEVTWIN_RETENTION_COMMAND_EVENTS: retention,
  DEVTWIN_RETENTION_INTERVAL: duration(1000, '1s').default(3_600_000),
  /** The GraphQL API's port; unset: 4000, or the next free port after it. */
  PORT: port.optional(),
  /**
   * The address the API, the embedded broker and the Temporal dev server listen on. Loopback by
   * default: the dev broker lets any device in. 0.0.0.0 opens them to the network on purpose.
   */
  DEVTWIN_BIND: z.string().min(1).default('127.0.0.1'),
  /**
   * Where this process serves /metrics, /healthz and /readyz. Unset: on the GraphQL port (PORT)
   * when the api runs in the process (npm run dev, npm run api), else 9464 for ingest and 9465
   * for a worker (see `probePort` in stack.ts).
   */
  DEVTWIN_METRICS_PORT: port.optional(),
  NODE_ENV: z.string().default('development'),
  LOG_LEVEL: z.string().default('info'),
  /** Human-readable logs (pino-pretty); unset: when not in production and stdout is a terminal. */
  DEVTWIN_LOG_PRETTY: flag.optional(),
})

export type Config = z.infer<typeof schema>

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (as compose files and shells often leave) means unset.
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
  const parsed = schema.safeParse(set)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`)
  }
  return parsed.data
}

/** A problem the operator fixes by changing the environment: printed as one line, no stack. */
export class ConfigError extends Error {}
