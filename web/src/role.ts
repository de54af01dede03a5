import { createContext, useContext } from 'react'
import { mayOperate, type Role } from './token.ts'

export const RoleContext = createContext<Role | null>(null)

/** Whether the signed-in token may act (operator or admin): viewers see actions disabled. */
export const useMayOperate = () => mayOperate(useContext(RoleContext))
