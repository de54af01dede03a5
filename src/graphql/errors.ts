import { GraphQLError } from 'graphql'

/** The API's error codes, each with a message a person can act on. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'DEVICE_NOT_FOUND'
  | 'DEVICE_UNAVAILABLE'
  | 'ALREADY_RESERVED'
  | 'NOT_RESERVATION_HOLDER'
  | 'VERSION_CONFLICT'
  | 'COMMAND_NOT_FOUND'
  | 'RESERVATION_NOT_FOUND'
  | 'SERVICE_UNAVAILABLE'

export const apiError = (code: ErrorCode, message: string) =>
  new GraphQLError(message, { extensions: { code } })

export const badInput = (message: string) => apiError('BAD_USER_INPUT', message)
