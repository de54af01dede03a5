import mqtt from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../../src/embedded/ports.ts'
import { BrokerUnavailableError, TopicHub } from '../../src/events/topic-hub.ts'
import { startHoldingBroker } from '../support/holding-broker.ts'
import { waitFor } from '../support/wait.ts'

const DEADLINE_MS = 1_000

describe('TopicHub.follow', () => {
  const cleanup: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step()
  })

  async function hubOnBroker() {
    const port = await freePort()
    let broker = await startHoldingBroker(port)
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 100 })
    cleanup.push(
      () => broker.close(),
      () => client.endAsync(true),
    )
    return {
      client,
      hub: new TopicHub(client, DEADLINE_MS),
      broker: () => broker,
      stopBroker: () => broker.close(),
      startBroker: async () => {
        broker = await startHoldingBroker(port)
      },
    }
  }

  /** How `follow` failed, and how long it took to say so. */
  async function refusal(hub: TopicHub, filter: string) {
    const asked = Date.now()
    const error = await hub.follow(filter).then(
      () => null,
      (e: unknown) => e,
    )
    return { error, ms: Date.now() - asked }
  }

  it('resolves once the broker has the subscription, and delivers what is published after', async () => {
    const { client, hub } = await hubOnBroker()
    const followed = await hub.follow('things/+/news')
    await client.publishAsync('things/a/news', 'hello')
    expect((await followed.next()).value?.toString()).toBe('hello')
    await followed.return?.()
  })

  it('gives up within its deadline on a broker that does not answer, and works once it does', async () => {
    const { client, hub, broker } = await hubOnBroker()
    broker().hold()
    const { error, ms } = await refusal(hub, 'things/+/news')
    expect(error).toBeInstanceOf(BrokerUnavailableError)
    expect((error as Error).message).toBe(
      `the message broker did not confirm a subscription to "things/+/news" within ${DEADLINE_MS} ms`,
    )
    expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50)
    expect(ms).toBeLessThan(DEADLINE_MS + 2_000)

    broker().release()
    const followed = await hub.follow('things/+/news')
    await client.publishAsync('things/b/news', 'answered')
    expect((await followed.next()).value?.toString()).toBe('answered')
    await followed.return?.()
  })

  it('fails at once while the broker is away, and works once it is back', async () => {
    const { client, hub, stopBroker, startBroker } = await hubOnBroker()
    await stopBroker()
    await waitFor(() => !client.connected, { what: 'the client to notice the broker left' })
    const { error, ms } = await refusal(hub, 'things/+/news')
    expect(error).toBeInstanceOf(BrokerUnavailableError)
    expect((error as Error).message).toMatch(
      /^the message broker refused a subscription to "things\/\+\/news" \(.+\)$/,
    )
    expect(ms).toBeLessThan(DEADLINE_MS + 2_000)

    await startBroker()
    await waitFor(() => client.connected, { what: 'the client to reconnect' })
    const followed = await hub.follow('things/+/news')
    await client.publishAsync('things/c/news', 'back')
    expect((await followed.next()).value?.toString()).toBe('back')
    await followed.return?.()
  })
})
