import {
  BREAK,
  type DocumentNode,
  type GraphQLError,
  getOperationAST,
  valueFromASTUntyped,
  visit,
} from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { describeUnstorable, findUnstorable } from '../db/storable.ts'
import { badInput } from './errors.ts'

/**
 * Refuses, before any resolver runs, an operation with an argument Postgres cannot store (a NUL,
 * a lone surrogate; see `src/db/storable.ts`), in a value or an object key, inline or in a
 * variable. Otherwise the same input would fail deep inside a write as an internal error, or
 * after a twin had already acted on it. `onExecute` covers queries and mutations, `onSubscribe`
 * subscriptions: over HTTP and over graphql-ws, which runs operations through `getEnveloped`.
 */
export function storableArgumentsPlugin(): Plugin {
  const check = ({
    args,
    setResultAndStopExecution,
  }: {
    args: { document: DocumentNode; operationName?: string | null; variableValues?: unknown }
    setResultAndStopExecution: (result: { errors: GraphQLError[] }) => void
  }) => {
    const variables = (args.variableValues ?? {}) as Record<string, unknown>
    const error = unstorableArgument(args.document, args.operationName, variables)
    if (error) setResultAndStopExecution({ errors: [error] })
  }
  return { onExecute: check, onSubscribe: check }
}

/** BAD_USER_INPUT for the first argument holding a string Postgres refuses, naming it, or null. */
function unstorableArgument(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
): GraphQLError | null {
  const values = { ...defaultValues(document, operationName), ...variables }
  let error: GraphQLError | null = null
  // Every argument, of fields and directives, in the operation and its fragments alike.
  visit(document, {
    Argument(node) {
      const found = findUnstorable(valueFromASTUntyped(node.value, values))
      if (!found) return
      const name = `argument "${node.name.value}"`
      error = badInput(
        found.path === '$' ? `${name}: ${found.reason}` : `${name} at ${describeUnstorable(found)}`,
      )
      return BREAK
    },
  })
  return error
}

/** The operation's variable defaults, which stand in for variables the request leaves out. */
function defaultValues(document: DocumentNode, operationName: string | null | undefined) {
  const operation = getOperationAST(document, operationName)
  return Object.fromEntries(
    (operation?.variableDefinitions ?? []).flatMap((definition) =>
      definition.defaultValue
        ? [[definition.variable.name.value, valueFromASTUntyped(definition.defaultValue)]]
        : [],
    ),
  )
}
