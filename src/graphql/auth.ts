import { GraphQLError } from 'graphql'
import { jwtVerify, SignJWT } from 'jose'

export const ROLES = ['viewer', 'operator', 'admin'] as const
export type Role = (typeof ROLES)[number]

export interface Viewer {
  sub: string
  role: Role
  /** When the token expires (epoch ms), if it does: a subscription ends then. */
  expiresAt?: number
}

const key = (secret: string) => new TextEncoder().encode(secret)

/** Mints a token for `sub` with `role` (dev token, tests, `npm run token`). */
export function mintToken(
  secret: string,
  viewer: Pick<Viewer, 'sub' | 'role'>,
  expiresIn = '30d',
): Promise<string> {
  return new SignJWT({ role: viewer.role })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(viewer.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(key(secret))
}

/** The caller behind an `Authorization: Bearer <JWT>` value, or UNAUTHENTICATED saying why. */
export async function authenticate(secret: string, authorization: unknown): Promise<Viewer> {
  if (typeof authorization !== 'string' || !authorization.startsWith('Bearer ')) {
    throw unauthenticated(
      'send an Authorization header (or connectionParams.authorization) "Bearer <JWT>"',
    )
  }
  try {
    const { payload } = await jwtVerify(authorization.slice('Bearer '.length), key(secret), {
      algorithms: ['HS256'],
    })
    const role = payload.role
    if (typeof payload.sub !== 'string' || !ROLES.includes(role as Role)) {
      throw unauthenticated(`the token needs a "sub" and a "role" of ${ROLES.join(', ')}`)
    }
    const viewer: Viewer = { sub: payload.sub, role: role as Role }
    if (payload.exp !== undefined) viewer.expiresAt = payload.exp * 1000
    return viewer
  } catch (error) {
    if (error instanceof GraphQLError) throw error
    throw unauthenticated(`invalid token: ${(error as Error).message}`)
  }
}

const unauthenticated = (message: string) =>
  new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } })
