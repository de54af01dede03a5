import { gql } from 'urql'

const TWIN_FIELDS = gql`
  fragment LiveTwin on Twin {
    version
    online
    health
    healthReason
    lastSeenAt
    reported
    sensors { name value deviceTime receivedAt changedAt health healthReason }
  }
`

export const FLEET = gql`
  query Fleet {
    fleet { devices online byHealth { health devices } }
  }
`

export const DEVICES = gql`
  query Devices($where: DeviceFilter) {
    devices(first: 200, where: $where) {
      edges { node { id model { id } twin { ...LiveTwin } } }
    }
  }
  ${TWIN_FIELDS}
`

export const TWIN_CHANGED = gql`
  subscription TwinChanged($deviceId: ID!) {
    twinChanged(deviceId: $deviceId) { version live kind twin { ...LiveTwin } }
  }
  ${TWIN_FIELDS}
`

const ALERT_FIELDS = gql`
  fragment AlertFields on Alert {
    id deviceId sensor kind message raisedAt clearedAt acknowledgedAt acknowledgedBy
  }
`

export const ACTIVE_ALERTS = gql`
  query ActiveAlerts($deviceId: ID) {
    alerts(where: { active: true, deviceId: $deviceId }, first: 50) {
      edges { node { ...AlertFields } }
    }
  }
  ${ALERT_FIELDS}
`

export const ALERTS_SUBSCRIPTION = gql`
  subscription Alerts($deviceId: ID) {
    alerts(deviceId: $deviceId) { ...AlertFields }
  }
  ${ALERT_FIELDS}
`

export const ACKNOWLEDGE_ALERT = gql`
  mutation AcknowledgeAlert($id: ID!) {
    acknowledgeAlert(id: $id) { ...AlertFields }
  }
  ${ALERT_FIELDS}
`

export const DEVICE = gql`
  query Device($id: ID!) {
    device(id: $id) {
      id serialNumber firmware labels createdAt decommissionedAt
      model { id name sensors { name kind unit min max } }
      twin {
        ...LiveTwin
        desired desiredVersion delta
        reservation { id holder status createdAt expiresAt }
      }
    }
  }
  ${TWIN_FIELDS}
`

export const HISTORY = gql`
  query History($id: ID!) {
    device(id: $id) {
      id
      history(first: 30) { edges { node { version live at kind changes } } }
    }
  }
`

const COMMAND_FIELDS = gql`
  fragment CommandFields on Command {
    id deviceId name args status attempts maxAttempts createdAt updatedAt result error requestedBy
    events { status attempt at error }
  }
`

export const COMMANDS = gql`
  query Commands($id: ID!) {
    device(id: $id) { id commands(first: 30) { edges { node { ...CommandFields } } } }
  }
  ${COMMAND_FIELDS}
`

export const COMMAND_UPDATED = gql`
  subscription CommandUpdated($deviceId: ID!) {
    commandUpdated(deviceId: $deviceId) { ...CommandFields }
  }
  ${COMMAND_FIELDS}
`

export const SEND_COMMAND = gql`
  mutation SendCommand($deviceId: ID!, $name: String!, $args: JSON) {
    sendCommand(deviceId: $deviceId, name: $name, args: $args) { ...CommandFields }
  }
  ${COMMAND_FIELDS}
`

export const SET_DESIRED = gql`
  mutation SetDesired($deviceId: ID!, $patch: JSON!, $expectedVersion: Int) {
    setDesired(deviceId: $deviceId, patch: $patch, expectedVersion: $expectedVersion) {
      deviceId desired desiredVersion delta
    }
  }
`

export const TELEMETRY_STATS = gql`
  query TelemetryStats($id: ID!, $sensor: String!, $from: DateTime!, $to: DateTime!, $bucket: String!) {
    device(id: $id) {
      id
      telemetryStats(sensor: $sensor, from: $from, to: $to, bucket: $bucket) {
        start min max avg count last
      }
    }
  }
`
