import type { IClientOptions } from 'mqtt'

/** How ingest connects: its own client id and account, on a session that outlives restarts. */
export interface IngestMqtt {
  url: string
  clientId: string
  protocolVersion: 4 | 5
  username?: string
  password?: string
}

export function mqttOptions(o: IngestMqtt): IClientOptions {
  return {
    clientId: o.clientId,
    username: o.username,
    password: o.password,
    // A persistent session: messages not yet acknowledged are re-delivered after a restart.
    clean: false,
    protocolVersion: o.protocolVersion,
    // MQTT 5: keep the session an hour, and let the broker have many messages in flight to us
    // while their acks wait for the batch (the default of 20 would throttle ingest).
    properties:
      o.protocolVersion === 5 ? { sessionExpiryInterval: 3600, receiveMaximum: 65_535 } : undefined,
    reconnectPeriod: 1000,
    manualConnect: true,
  }
}
