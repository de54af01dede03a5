const KEY = 'devtwin.token'

export type Role = 'viewer' | 'operator' | 'admin'

export const loadToken = () => localStorage.getItem(KEY)
export const saveToken = (token: string) => localStorage.setItem(KEY, token)
export const forgetToken = () => localStorage.removeItem(KEY)

/**
 * The role the token claims, read (not verified: the server does that) only to hide what the
 * viewer may not do. Null when it is not a JWT at all.
 */
export function tokenRole(token: string): Role | null {
  try {
    const payload = token.split('.')[1] ?? ''
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'))
    const role = (JSON.parse(json) as { role?: unknown }).role
    return role === 'viewer' || role === 'operator' || role === 'admin' ? role : null
  } catch {
    return null
  }
}

export const mayOperate = (role: Role | null) => role === 'operator' || role === 'admin'
