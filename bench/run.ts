// `npm run bench -- --devices 3000 --rate 0.2 --duration 600` (a fleet at a steady rate) or
// `npm run bench -- --ramp` (rates up until loss, slow live state or a growing twin lag: the
// knee). See docs/performance.md. Options: --embedded (one process, aedes + PGlite), --batch-ms,
// --checkpoint-ms, --unhealthy (share of the fleet with health episodes), --sample, --no-limits,
// --limit-seconds, --ramp-devices, --ramp-steps 25,50,…, --step-seconds, --out, --profile, and
// --kill-worker 120 (SIGKILL the worker 120 s into a steady run, --worker-down 20 s, then time
// until every urgent batch is applied and every twin is within its checkpoint again), and
// --commands 2 (commands a second to healthy devices during a steady run; 0 for none).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { freePort } from '../src/embedded/ports.ts'
import { mintToken } from '../src/graphql/auth.ts'
import { startFleet } from '../src/simulator/fleet.ts'
import { findTemporalCli } from '../temporal/cli.ts'
import { startDevServer } from '../temporal/dev-server.ts'
import { startMosquitto } from '../test/support/mosquitto.ts'
import { createTestDatabase } from '../test/support/services.ts'
import { startAlertProbe } from './alert-probe.ts'
import { startCommandProbe } from './command-probe.ts'
import { BENCH_MODEL, registerFleet } from './fleet-model.ts'
import { startEpisodes, unhealthyDevices } from './health-episodes.ts'
import { historyCost } from './histories.ts'
import { startLagProbe, summarizeLag } from './lag-probe.ts'
import { type Ledger, openLedger } from './ledger.ts'
import { measureBrokerLimit } from './limits/broker.ts'
import { measureTemporalLimit } from './limits/temporal.ts'
import { describePercentiles, formatMs, percentiles } from './percentiles.ts'
import { startProbes, within } from './probes.ts'
import { pidsMatching, watchProcesses } from './processes.ts'
import { QUERY_SAMPLE, startQueryProbe } from './query-probe.ts'
import { type BenchResult, type StepResult, writeResults } from './report.ts'
import { type RoleProcess, startRole } from './roles.ts'
import { stepIsGood } from './targets.ts'
import { killWorker, type WorkerFault, workflowTaskTimes } from './worker-fault.ts'
import { workflowTasksDone } from './workflow-tasks.ts'

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '3000' },
    rate: { type: 'string', default: '0.2' },
    duration: { type: 'string', default: '60' },
    ramp: { type: 'boolean', default: false },
    'ramp-devices': { type: 'string', default: '10000' },
    'ramp-steps': { type: 'string', default: '25,50,100,200,400,800,1000,2000,5000,10000,12000' },
    'step-seconds': { type: 'string', default: '30' },
    embedded: { type: 'boolean', default: false },
    /** devtwin's own default (DEVTWIN_BATCH_MS). */
    'batch-ms': { type: 'string', default: '100' },
    /** DEVTWIN_CHECKPOINT_MS of the roles; the twin lag is judged against it + 30 s. */
    'checkpoint-ms': { type: 'string', default: '300000' },
    /** Share of the fleet with health episodes, half flapping and half out of range. */
    unhealthy: { type: 'string', default: '0.05' },
    /** Devices the subscriptions follow; default 50, or 500 in a ramp (its devices are slow). */
    sample: { type: 'string' },
    'no-limits': { type: 'boolean', default: false },
    'limit-seconds': { type: 'string', default: '15' },
    out: { type: 'string', default: new URL('./results/', import.meta.url).pathname },
    /** A role to CPU-profile (node --cpu-prof); the profile lands in --out. */
    profile: { type: 'string' },
    /** Seconds into a steady run at which the worker is killed (SIGKILL) and later restarted. */
    'kill-worker': { type: 'string' },
    'worker-down': { type: 'string', default: '20' },
    /** Commands a second during a steady run, each timed sendCommand → SUCCEEDED. */
    commands: { type: 'string', default: '2' },
  },
})
const number = (name: keyof typeof args, min: number, max = Number.POSITIVE_INFINITY) => {
  const value = Number(args[name])
  if (!Number.isFinite(value) || value < min || value > max) {
    console.error(`bench: --${name} must be a number from ${min} to ${max}, got ${args[name]}`)
    process.exit(2)
  }
  return value
}
const ramp = args.ramp
const devices = Math.round(number(ramp ? 'ramp-devices' : 'devices', 1))
const steps = ramp
  ? (args['ramp-steps'] as string).split(',').map(Number)
  : [number('rate', 0.001) * devices]
const stepSeconds = number(ramp ? 'step-seconds' : 'duration', 1)
args.sample ??= ramp ? '500' : '50'
const sample = Math.min(devices, Math.round(number('sample', 1)))
const checkpointMs = Math.round(number('checkpoint-ms', 1000))
/** The applied state may lag its checkpoint by this much (issue 19's target). */
const CHECKPOINT_SLACK_MS = 30_000
/** Routine readings wait for the checkpoint: the applied state may be this far behind. */
const maxLagMs = checkpointMs + CHECKPOINT_SLACK_MS
const unhealthyShare = number('unhealthy', 0, 1)
const commandsPerSecond = ramp ? 0 : number('commands', 0, 100)
const killWorkerAt = args['kill-worker'] === undefined ? null : number('kill-worker', 0) * 1000
if (killWorkerAt !== null && (ramp || args.embedded)) {
  console.error('bench: --kill-worker needs a steady run with the roles as separate processes')
  process.exit(2)
}
if (steps.some((s) => !Number.isFinite(s) || s <= 0)) {
  console.error('bench: --ramp-steps is a comma-separated list of total messages a second')
  process.exit(2)
}

/** The worker role's /metrics (its default probe port: the bench's roles set none). */
const WORKER_METRICS = 'http://127.0.0.1:9465/metrics'

/**
 * Workflow tasks a second in a step, split by what woke them: urgent deliveries, checkpoints,
 * and the rest (timers, updates and activity results). The total is the worker's own count
 * (`done`, the tasks it completed in the step); null when it could not be read.
 */
function workflowTaskRates(
  done: number | null,
  urgent: number,
  checkpoint: number,
  perSecond: (n: number) => number,
): StepResult['workflowTasksPerSecond'] {
  if (done === null || done < 0) return null
  const total = done
  return {
    total: perSecond(total),
    urgent: perSecond(urgent),
    checkpoint: perSecond(checkpoint),
    timersAndOther: perSecond(Math.max(0, total - urgent - checkpoint)),
  }
}

/** Tasks the worker completed between two reads of its count, across a kill between them. */
function tasksDone(
  before: number | null,
  atKill: number | null,
  after: number | null,
  killed: boolean,
): number | null {
  if (before === null || after === null) return null
  if (!killed) return after - before
  return atKill === null ? null : atKill - before + after
}

/** Twins followed for the history cost, at the end. */
const HISTORY_SAMPLE = 20
/** The longest the first readings take to send, before the clock. */
const WARM_UP_MAX_S = 30
/** How long after a step the bench waits for alerts still on their way. */
const ALERT_GRACE_MS = 15_000
/** Commands still in flight at a step's end may take their timeout (30 s) to end. */
const COMMAND_GRACE_MS = 35_000
const secret = 'bench-secret-that-is-long-enough-for-hs256'
const dataDir = mkdtempSync(join(tmpdir(), 'devtwin-bench-'))
const root = `bench-${process.pid}`
const cleanup: (() => Promise<void>)[] = []

try {
  const cli = await findTemporalCli((line) => console.log(line))
  const temporal = await startDevServer({
    cli,
    port: await freePort(),
    uiPort: null,
    dbFile: join(dataDir, 'temporal.db'),
  })
  cleanup.push(temporal.stop)
  const database = args.embedded ? null : await createTestDatabase()
  if (database) cleanup.push(database.drop)
  const mqttPort = await freePort()
  // The machine's Mosquitto binary with the shipped config's queue limits (its default drops
  // QoS 1 messages past 1000 queued for a subscriber that falls behind), without password checks.
  const mosquitto = args.embedded ? null : await startMosquitto(dataDir, { auth: false })
  if (mosquitto) cleanup.push(mosquitto.stop)
  const mqttUrl = mosquitto?.url ?? `mqtt://127.0.0.1:${mqttPort}`
  const port = await freePort()
  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: temporal.address,
    DEVTWIN_JWT_SECRET: secret,
    DEVTWIN_TOPIC_ROOT: root,
    DEVTWIN_TASK_QUEUE: root,
    DEVTWIN_INGEST_CLIENT_ID: `${root}-ingest`,
    DEVTWIN_DATA_DIR: dataDir,
    DEVTWIN_BATCH_MS: args['batch-ms'] as string,
    DEVTWIN_CHECKPOINT_MS: String(checkpointMs),
    DEVTWIN_STATS_MS: '1000',
    // Every twin stays in the worker's cache: one evicted is replayed from its history at its
    // next batch (the default of 10,000 is exactly the ramp's fleet).
    DEVTWIN_WORKER_CACHE: String(Math.max(10_000, Math.ceil(devices * 1.2))),
    // The bench decides the load; ingest's flood guard is not what is measured.
    DEVTWIN_DEVICE_RATE: '1000',
    DEVTWIN_DEVICE_BURST: '10000',
    PORT: String(port),
    LOG_LEVEL: 'info',
    ...(database
      ? { DATABASE_URL: database.url, MQTT_URL: mqttUrl }
      : { MQTT_PORT: String(mqttPort), DEVTWIN_MQTT_PASSWORD: secret }),
  }
  // Production's shape: each role its own process (embedded services live in one process).
  const roles: RoleProcess[] = []
  for (const role of args.embedded ? (['all'] as const) : (['worker', 'ingest', 'api'] as const)) {
    const started = await startRole(
      role,
      env,
      args.profile === role ? ['--cpu-prof', '--cpu-prof-dir', args.out as string] : [],
    )
    roles.push(started)
  }
  // Looked up when needed: --kill-worker replaces the worker's process.
  const roleProcess = (role: RoleProcess['role']) =>
    roles.find((r) => r.role === role) as RoleProcess
  for (const { role } of roles) cleanup.push(() => roleProcess(role).stop())
  const ingest = roles.find((r) => r.role === 'ingest' || r.role === 'all') as RoleProcess
  const ledger: Ledger = openLedger(database?.url ?? null, ingest)
  cleanup.push(ledger.close)

  const url = `http://127.0.0.1:${port}/graphql`
  const ids = Array.from({ length: devices }, (_, i) => `b-${i + 1}`)
  console.log(`registering ${devices} devices with model ${BENCH_MODEL.id}…`)
  const specs = await registerFleet(
    url,
    await mintToken(secret, { sub: 'bench', role: 'admin' }),
    ids,
  )
  const token = await mintToken(secret, { sub: 'bench', role: 'viewer' })
  const unhealthy = unhealthyDevices(ids, unhealthyShare)
  const alertProbe = startAlertProbe(
    url,
    token,
    BENCH_MODEL,
    unhealthy.map((d) => d.id),
  )
  cleanup.push(alertProbe.stop)

  const probes = startProbes(url, token, ids.slice(0, sample))
  cleanup.push(probes.stop)

  console.log(`connecting ${devices} simulated devices to ${mqttUrl}…`)
  const fleet = await startFleet({
    url: mqttUrl,
    topicRoot: root,
    devices: specs,
    rate: 0,
    connectConcurrency: 200,
    // Devices answer a command at once: the round trip is devtwin's.
    commandDelayMs: 0,
    mqtt: { protocolVersion: args.embedded ? 4 : 5, connectTimeoutMs: 120_000 },
    onReading: (id, reading) => {
      probes.published(id, reading)
      alertProbe.observe(id, reading)
    },
  })
  cleanup.push(() => fleet.stop())
  // Every twin started (status online went through) and written before the clock starts.
  await ledger.waitForTwins(devices)
  await ledger.waitForQuiet(5000, 300_000)
  // Each device's first reading is urgent (a new sensor): a fleet coming online costs a workflow
  // task a twin. Sent before the clock starts, and timed on its own, so that the run measures
  // the steady state. One reading each within a period of the first step's rate, or 30 s at
  // most (a ramp's first step is far slower than its fleet).
  const warmUpStarted = Date.now()
  const warmUpRate = Math.max((steps[0] as number) / devices, 1 / WARM_UP_MAX_S)
  fleet.setRate(warmUpRate)
  await sleep(1000 / warmUpRate)
  fleet.setRate(0)
  const quiet = await ledger.waitForQuiet(5000, 300_000)
  const warmUpMs = Date.now() - warmUpStarted - 5000
  console.log(
    quiet
      ? `first readings of ${devices} devices applied in ${formatMs(warmUpMs)}`
      : `first readings of ${devices} devices: twins still writing after ${formatMs(warmUpMs)} (gave up waiting)`,
  )
  const queryProbe = startQueryProbe(url, token, ids.slice(0, sample))
  cleanup.push(queryProbe.stop)
  // Every 10 s, or thrice a shorter step.
  const lagProbe = startLagProbe(url, token, Math.min(10_000, (stepSeconds * 1000) / 3))
  cleanup.push(lagProbe.stop)
  const watch = watchProcesses({
    ...Object.fromEntries(
      roles.map((r) => [r.role, () => [roleProcess(r.role).child.pid as number]]),
    ),
    'bench + simulator': () => [process.pid],
    'temporal dev server': () => [temporal.process.pid as number],
    ...(database
      ? {
          postgres: () => pidsMatching(/^postgres/),
          mosquitto: () => [mosquitto?.process.pid as number],
        }
      : {}),
  })
  // Readings a second per device of the step under way (episodes last a few readings).
  let perDevice = (steps[0] as number) / devices
  const episodes = startEpisodes(
    fleet,
    unhealthy,
    BENCH_MODEL,
    () => 1000 / perDevice,
    stepSeconds * 1000,
  )

  const unhealthyIds = new Set(unhealthy.map((d) => d.id))
  const commandProbe =
    commandsPerSecond > 0
      ? startCommandProbe(
          url,
          await mintToken(secret, { sub: 'bench', role: 'operator' }),
          ids.filter((id) => !unhealthyIds.has(id)),
          commandsPerSecond,
        )
      : null
  if (commandProbe) cleanup.push(commandProbe.stop)

  const results: StepResult[] = []
  let killedAt = 0
  let workerFault: WorkerFault | null = null
  for (const total of steps) {
    const before = { sent: fleet.stats().sent, ...(await ledger.counts()) }
    const deliveriesBefore = ledger.deliveries()
    const kindsBefore = ledger.deliveryKinds()
    const tasksBefore = await workflowTasksDone(WORKER_METRICS)
    let tasksAtKill: number | null = null
    const alertsBefore = { ...alertProbe.counts }
    const updatesBefore = await ledger.twinUpdates()
    const from = Date.now()
    perDevice = total / devices
    fleet.setRate(perDevice)
    const fault =
      killWorkerAt === null
        ? null
        : sleep(killWorkerAt).then(async () => {
            // The killed worker's count is lost with it: the step adds it to the new one's.
            tasksAtKill = await workflowTasksDone(WORKER_METRICS)
            console.log('killing the worker (SIGKILL)…')
            killedAt = Date.now()
            const opts = {
              url,
              token,
              // Every twin within its checkpoint, checkpoint + 60 s after the restart at most.
              maxLagMs,
              deadlineMs: checkpointMs + 300_000,
              urgentWaiting: () => ledger.urgentWaiting(),
            }
            return killWorker(roles, env, { ...opts, downMs: number('worker-down', 0) * 1000 })
          })
    await sleep(stepSeconds * 1000)
    workerFault = await fault
    fleet.setRate(0)
    const to = Date.now()
    const updatesAfter = await ledger.twinUpdates()
    const tasksAfter = await workflowTasksDone(WORKER_METRICS)
    const kindsAfter = ledger.deliveryKinds()
    const drained = await ledger.drain(
      () => before.readings + fleet.stats().sent - before.sent,
      60_000,
    )
    await alertProbe.settle(ALERT_GRACE_MS)
    await commandProbe?.settle(COMMAND_GRACE_MS)
    const until = Date.now()
    // Every reading the broker acknowledged, publishes in flight at the step's end included.
    const sent = fleet.stats().sent - before.sent
    const stored = drained.readings - before.readings
    const deliveries = ledger.deliveries() - deliveriesBefore
    const perSecond = (n: number) => Math.round(n / ((to - from) / 1000))
    const counted = (name: keyof typeof alertsBefore) =>
      alertProbe.counts[name] - alertsBefore[name]
    const step: StepResult = {
      offeredPerSecond: total,
      seconds: (to - from) / 1000,
      sent,
      sentPerSecond: perSecond(sent),
      stored,
      lost: Math.max(0, sent - stored),
      duplicates: drained.duplicates - before.duplicates,
      ingestPerSecond: perSecond(stored),
      deliveries,
      deliveriesPerSecond: perSecond(deliveries),
      twinUpdatesPerSecond:
        updatesBefore === null || updatesAfter === null
          ? null
          : perSecond(updatesAfter - updatesBefore),
      workflowTasksPerSecond: workflowTaskRates(
        tasksDone(tasksBefore, tasksAtKill, tasksAfter, fault !== null),
        kindsAfter.urgent - kindsBefore.urgent,
        kindsAfter.checkpoint - kindsBefore.checkpoint,
        perSecond,
      ),
      readingsPerDelivery: deliveries > 0 ? Math.round((sent / deliveries) * 10) / 10 : null,
      telemetryMs: percentiles(within(probes.telemetry, from, until)),
      liveEventMs: percentiles(within(probes.live, from, until)),
      liveQueryMs: percentiles(within(queryProbe.samples, from, until)),
      appliedMs: percentiles(within(probes.applied, from, until)),
      alerts: {
        ms: percentiles(within(alertProbe.samples, from, until)),
        raisedMs: percentiles(within(alertProbe.raised, from, until)),
        predicted: counted('predicted'),
        matched: counted('matched'),
        missed: counted('missed'),
        unpredicted: counted('unpredicted'),
      },
      lag: summarizeLag(lagProbe.rounds, from, to),
      commands: commandProbe && {
        ms: percentiles(within(commandProbe.samples, from, until)),
        ...commandProbe.counts,
      },
    }
    results.push(step)
    console.log(
      `${total} msg/s offered: sent ${step.sent} (${step.sentPerSecond}/s), stored ${step.stored}, lost ${step.lost}, ` +
        `${step.deliveriesPerSecond} deliveries/s, ${step.twinUpdatesPerSecond ?? '?'} twin updates/s; ` +
        `live event ${describePercentiles(step.liveEventMs)}; live query ${describePercentiles(step.liveQueryMs)}; ` +
        `alerts ${describePercentiles(step.alerts.ms)}; twin lag p99 ${formatMs(step.lag.p99)}`,
    )
    if (ramp && !stepIsGood(step, maxLagMs)) break
  }
  episodes.stop()
  const processes = watch.stop()
  for (const role of roles) {
    for (const [msg, { count, example }] of Object.entries(role.problems())) {
      console.log(`${role.role}: ${count}× ${msg}: ${JSON.stringify(example).slice(0, 300)}`)
    }
  }
  for (const [name, errors] of Object.entries({
    subscriptions: probes.errors,
    'query probe': queryProbe.errors,
    'lag probe': lagProbe.errors,
    'alert probe': alertProbe.errors,
    'command probe': commandProbe?.errors ?? [],
  })) {
    if (errors.length > 0)
      console.log(`${name}: ${errors.length} errors, first: ${String(errors[0])}`)
  }
  await Promise.all([
    probes.stop(),
    queryProbe.stop(),
    lagProbe.stop(),
    alertProbe.stop(),
    commandProbe?.stop(),
  ])
  await fleet.stop()

  console.log(`counting the history events of ${Math.min(HISTORY_SAMPLE, devices)} twins…`)
  const histories = await historyCost(temporal.address, 'default', ids.slice(0, HISTORY_SAMPLE))
  const faultResult = workerFault && {
    ...workerFault,
    tasks: await workflowTaskTimes(temporal.address, killedAt),
  }
  let limits: BenchResult['limits'] = null
  if (!args['no-limits']) {
    const seconds = number('limit-seconds', 1)
    console.log('measuring the limits of the same broker and Temporal server…')
    limits = {
      broker: await measureBrokerLimit({
        url: mqttUrl,
        seconds,
        protocolVersion: args.embedded ? 4 : 5,
        ...(args.embedded ? { username: 'devtwin', password: secret } : {}),
      }),
      temporal: await measureTemporalLimit({ address: temporal.address, seconds }),
    }
  }

  const readings = results.reduce((sum, s) => sum + s.stored, 0)
  const result: BenchResult = {
    at: new Date().toISOString(),
    mode: ramp ? 'ramp' : 'steady',
    stack: args.embedded
      ? 'embedded (aedes + PGlite, one process)'
      : 'Mosquitto (shipped config) + Postgres, ingest/worker/api processes',
    devices,
    unhealthy: unhealthy.length,
    batchMs: Number(args['batch-ms']),
    maxLagMs,
    checkpointMs,
    stepSeconds,
    sample: { subscribed: sample, polled: Math.min(sample, QUERY_SAMPLE) },
    steps: results,
    knee: ramp ? (results.filter((s) => stepIsGood(s, maxLagMs)).at(-1) ?? null) : null,
    limits,
    histories,
    workerFault: faultResult,
    warmUpMs,
    processes: Object.fromEntries(
      Object.entries(processes).map(([name, cost]) => [
        name,
        {
          ...cost,
          cpuMsPerThousandReadings:
            readings > 0 ? Math.round((cost.cpuSeconds * 1000) / (readings / 1000)) : null,
        },
      ]),
    ),
  }
  const written = writeResults(result, args.out as string)
  console.log(written.markdown)
  console.log(`results: ${written.files.join(', ')}`)
} catch (error) {
  console.error(error)
  process.exitCode = 1
} finally {
  for (const step of cleanup.reverse()) await step().catch((error) => console.error(error))
  rmSync(dataDir, { recursive: true, force: true })
  // The Temporal runtime of the limit probe keeps the process alive otherwise.
  process.exit(process.exitCode ?? 0)
}
