import { ROLES, type Role } from './auth.ts'
import type { ApiContext } from './context.ts'
import { apiError } from './errors.ts'

/** Roles are ordered: an operator may do what a viewer may, an admin what an operator may. */
export function requireRole(ctx: ApiContext, role: Role): void {
  if (ROLES.indexOf(ctx.viewer.role) < ROLES.indexOf(role)) {
    throw apiError('FORBIDDEN', `this needs the ${role} role; your token has ${ctx.viewer.role}`)
  }
}
