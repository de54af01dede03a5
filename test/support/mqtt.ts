import type { MqttClient } from 'mqtt'

/** The QoS a subscription was granted, or 'refused' (mqtt.js rejects a failed SUBACK). */
export const grantedQos = (client: MqttClient, topic: string) =>
  client.subscribeAsync(topic, { qos: 1 }).then(
    (granted) => granted[0]?.qos,
    (error: Error) => {
      if (/Subscribe error/.test(error.message)) return 'refused'
      throw error
    },
  )
