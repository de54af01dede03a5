import { GraphQLError } from 'graphql'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/embedded/ports.ts'
import { TopicHub } from '../../src/events/topic-hub.ts'
import type { ApiContext } from '../../src/graphql/context.ts'
import { followThenReplay, MAX_REPLAY } from '../../src/graphql/resolvers/resume-point.ts'
import { startHoldingBroker } from '../support/holding-broker.ts'

const DEADLINE_MS = 500

/** How a resumed subscription starts: the broker's part of it, and the replay's limit. */
describe('followThenReplay', () => {
  let broker: Awaited<ReturnType<typeof startHoldingBroker>>
  let client: mqtt.MqttClient
  let ctx: ApiContext
  beforeAll(async () => {
    const port = await freePort()
    broker = await startHoldingBroker(port)
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`)
    // The start of a subscription uses the api's TopicHub and nothing else of its context.
    ctx = { hub: new TopicHub(client, DEADLINE_MS) } as ApiContext
  })
  afterAll(async () => {
    await client?.endAsync(true)
    await broker?.close()
  })

  const codeOf = (error: unknown) =>
    error instanceof GraphQLError ? error.extensions.code : `not a GraphQLError: ${error}`

  it('is SERVICE_UNAVAILABLE, saying to subscribe again, while the broker does not confirm; the log is not read', async () => {
    broker.hold()
    let read = false
    const error = await followThenReplay(
      ctx,
      'devices/x/twin',
      async () => {
        read = true
        return []
      },
      'versions',
      'read them elsewhere',
    ).catch((e: unknown) => e)
    broker.release()
    expect(codeOf(error)).toBe('SERVICE_UNAVAILABLE')
    expect((error as Error).message).toMatch(
      /^live updates are unavailable for now \(the message broker did not confirm a subscription to "devices\/x\/twin" within 500 ms\): subscribe again shortly$/,
    )
    expect(read).toBe(false)
  })

  it('follows first, then replays; a replay over the limit is BAD_USER_INPUT saying where to read instead', async () => {
    const { followed, replayed } = await followThenReplay(
      ctx,
      'devices/y/twin',
      async () => [1, 2, 3],
      'versions',
      'read them elsewhere',
    )
    expect(replayed).toEqual([1, 2, 3])
    await client.publishAsync('devices/y/twin', 'live')
    expect((await followed.next()).value?.toString()).toBe('live')
    await followed.return?.()

    const tooMany = Array.from({ length: MAX_REPLAY + 1 }, (_, i) => i)
    const error = await followThenReplay(
      ctx,
      'devices/y/twin',
      async () => tooMany,
      'versions',
      'read them elsewhere',
    ).catch((e: unknown) => e)
    expect(codeOf(error)).toBe('BAD_USER_INPUT')
    expect((error as Error).message).toContain('read them elsewhere')
  })
})
