import type { IPublishPacket, MqttClient, Packet } from 'mqtt'

type SendPacket = (packet: Packet, cb?: (error?: Error) => void, ...rest: unknown[]) => void

/**
 * Hands each received message to `onMessage` with an `ack` that sends its QoS 1 PUBACK.
 *
 * mqtt.js sends the PUBACK when `handleMessage` calls back and reads the next message only
 * after that, so waiting there for a batch to be accepted would make ingest one message per
 * flush. Instead every message is taken at once and its PUBACK is held until `ack()`. An ack
 * for a connection that has since closed is dropped: the broker re-delivers that message on
 * the resumed session, and re-delivery is harmless (de-duplicated downstream).
 */
export function receiveWithDeferredAcks(
  client: MqttClient,
  onMessage: (topic: string, payload: Buffer, ack: () => void) => void,
): void {
  // mqtt.js has no public way to hold a PUBACK; its private sender is wrapped, pinned mqtt version.
  const internal = client as unknown as { _sendPacket: SendPacket }
  const send = internal._sendPacket.bind(client)
  const held = new Set<number>()
  let connection = 0
  client.on('close', () => {
    connection++
    held.clear()
  })

  internal._sendPacket = (packet, cb, ...rest) => {
    if (packet.cmd === 'puback' && held.delete(packet.messageId ?? -1)) {
      cb?.()
      return
    }
    send(packet, cb, ...rest)
  }

  client.handleMessage = (packet: IPublishPacket, callback) => {
    const { messageId, qos } = packet
    let ack = () => {}
    if (qos === 1 && messageId !== undefined) {
      held.add(messageId)
      const sentOn = connection
      ack = () => {
        if (connection === sentOn) send({ cmd: 'puback', messageId })
      }
    }
    onMessage(packet.topic, packet.payload as Buffer, ack)
    callback()
  }
}
