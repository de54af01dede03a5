import { timingSafeEqual } from 'node:crypto'
import type { Aedes, AuthenticateError, Client } from 'aedes'
import { verifySecret } from '../device-access/credentials.ts'
import { canPublish, canSubscribe, type MqttPrincipal } from '../device-access/topic-access.ts'
import type { Logger } from '../log.ts'

/** What the broker needs to know of a device to let it in. */
export interface DeviceCredentials {
  secretHash: string | null
  decommissioned: boolean
}

export interface BrokerAuthOptions {
  /** devtwin's own account. */
  service: { username: string; password: string }
  findDevice(deviceId: string): Promise<DeviceCredentials | null>
  /** Auto-provisioning: unknown and anonymous devices are let in (see MqttPrincipal). */
  autoProvision: boolean
  topicRoot: string
  log: Logger
}

// MQTT 3.1.1 CONNACK return codes.
const IDENTIFIER_REJECTED = 2
const BAD_CREDENTIALS = 4
const NOT_AUTHORIZED = 5

const refuse = (returnCode: number, message: string) =>
  Object.assign(new Error(message), { returnCode }) as AuthenticateError

/**
 * Device authentication and per-device topic ACLs for the embedded broker: the same rules as
 * the shipped Mosquitto ACL file (src/device-access/topic-access.ts), checked against the registry.
 */
export function protectBroker(broker: Aedes, opts: BrokerAuthOptions): void {
  const principals = new WeakMap<Client, MqttPrincipal>()

  const identify = async (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<MqttPrincipal> => {
    const secret = password?.toString('utf8') ?? ''
    if (username === opts.service.username) {
      if (sameSecret(secret, opts.service.password)) return { kind: 'service' }
      throw refuse(BAD_CREDENTIALS, 'bad service credentials')
    }
    if (!username) {
      if (opts.autoProvision) return { kind: 'anonymous' }
      throw refuse(NOT_AUTHORIZED, 'a device connects with its id as username and its secret')
    }
    // A device's session is its own: no device may take over another's by its client id.
    if (client.id !== username) {
      throw refuse(IDENTIFIER_REJECTED, 'a device connects with its id as client id')
    }
    const device = await opts.findDevice(username)
    if (device?.decommissioned) throw refuse(NOT_AUTHORIZED, 'device decommissioned')
    if (device?.secretHash) {
      if (await verifySecret(secret, device.secretHash))
        return { kind: 'device', deviceId: username }
      throw refuse(BAD_CREDENTIALS, 'bad device credentials')
    }
    if (opts.autoProvision) return { kind: 'device', deviceId: username }
    throw refuse(NOT_AUTHORIZED, device ? 'device has no MQTT secret yet' : 'unknown device')
  }

  broker.authenticate = (client, username, password, done) => {
    identify(client, username, password).then(
      (principal) => {
        principals.set(client, principal)
        done(null, true)
      },
      (error: AuthenticateError) => {
        opts.log.warn({ clientId: client.id, username, reason: error.message }, 'MQTT refused')
        done(error.returnCode ? error : refuse(NOT_AUTHORIZED, String(error)), false)
      },
    )
  }

  broker.authorizePublish = (client, packet, done) => {
    // No client: the broker itself, sending the will of a session it already let in.
    const principal = client ? principals.get(client) : { kind: 'service' as const }
    if (principal && canPublish(principal, packet.topic, opts.topicRoot)) return done(null)
    opts.log.warn({ clientId: client?.id, topic: packet.topic }, 'MQTT publish refused')
    // MQTT 3.1.1 has no negative PUBACK: aedes closes the connection instead.
    done(new Error(`not allowed to publish to ${packet.topic}`))
  }

  broker.authorizeSubscribe = (client, subscription, done) => {
    const principal = principals.get(client)
    if (principal && canSubscribe(principal, subscription.topic, opts.topicRoot)) {
      return done(null, subscription)
    }
    opts.log.warn({ clientId: client.id, topic: subscription.topic }, 'MQTT subscribe refused')
    done(null, null) // a SUBACK failure (0x80) for this filter; the session stays
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
