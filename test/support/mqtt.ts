import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'

/** The QoS a subscription was granted, or 'refused' (mqtt.js rejects a failed SUBACK). */
export const grantedQos = (client: MqttClient, topic: string) =>
  client.subscribeAsync(topic, { qos: 1 }).then(
    (granted) => granted[0]?.qos,
    (error: Error) => {
      if (/Subscribe error/.test(error.message)) return 'refused'
      throw error
    },
  )

/** MQTT clients a test opens (no reconnects), each ended by `closeAll()`. */
export function mqttClients(url: () => string, defaults: IClientOptions = {}) {
  const clients: MqttClient[] = []
  const connect = async (opts: IClientOptions) => {
    const client = await mqtt.connectAsync(url(), { reconnectPeriod: 0, ...defaults, ...opts })
    clients.push(client)
    return client
  }
  return {
    connect,
    /** The CONNACK refusal a connection gets (e.g. "Bad username or password"), or 'connected'. */
    refusal: (opts: IClientOptions) =>
      connect(opts).then(
        () => 'connected',
        (error: Error) => error.message,
      ),
    closeAll: () => Promise.all(clients.splice(0).map((c) => c.endAsync(true))),
  }
}
