// `npx tsx bench/limits/try.ts broker [--url mqtt://127.0.0.1:1883] [--seconds 10] [--qos 1]
//   [--publishers 8] [--v 5] [--rate N] [--backlog N] [--aedes]`
// `npx tsx bench/limits/try.ts temporal [--seconds 10] [--workflows 1000] [--concurrency 64]`
//
// Runs one limit probe by hand and prints its result as JSON. `--aedes` starts devtwin's embedded
// broker; `temporal` starts a throwaway dev server unless `--address` names one.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startBroker } from '../../src/embedded/broker.ts'
import { freePort } from '../../src/embedded/ports.ts'
import { findTemporalCli } from '../../temporal/cli.ts'
import { startDevServer } from '../../temporal/dev-server.ts'
import { measureBrokerLimit } from './broker.ts'
import { measureTemporalLimit } from './temporal.ts'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
    aedes: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '10' },
    qos: { type: 'string', default: '1' },
    publishers: { type: 'string', default: '8' },
    v: { type: 'string' },
    rate: { type: 'string' },
    backlog: { type: 'string' },
    address: { type: 'string' },
    workflows: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '64' },
  },
})
const seconds = Number(values.seconds)

if (positionals[0] === 'broker') {
  const aedes = values.aedes ? await startBroker(await freePort()) : null
  try {
    const result = await measureBrokerLimit({
      url: aedes?.url ?? values.url,
      seconds,
      qos: values.qos === '0' ? 0 : 1,
      publishers: Number(values.publishers),
      // aedes speaks MQTT 3.1.1 only.
      protocolVersion: (values.v ?? (aedes ? '4' : '5')) === '4' ? 4 : 5,
      ...(values.rate ? { targetRate: Number(values.rate) } : {}),
      ...(values.backlog ? { maxBacklog: Number(values.backlog) } : {}),
    })
    console.log(JSON.stringify({ broker: aedes ? 'aedes' : values.url, ...result }, null, 2))
  } finally {
    await aedes?.close()
  }
} else if (positionals[0] === 'temporal') {
  const dir = values.address ? null : mkdtempSync(join(tmpdir(), 'devtwin-limit-'))
  const server = dir
    ? await startDevServer({
        cli: await findTemporalCli((line) => console.error(line)),
        port: await freePort(),
        uiPort: null,
        dbFile: join(dir, 'temporal.db'),
      })
    : null
  try {
    const result = await measureTemporalLimit({
      address: server?.address ?? (values.address as string),
      seconds,
      workflows: Number(values.workflows),
      concurrency: Number(values.concurrency),
    })
    console.log(JSON.stringify(result, null, 2))
  } finally {
    await server?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
} else {
  console.error('usage: tsx bench/limits/try.ts broker|temporal [options]')
  process.exit(2)
}
