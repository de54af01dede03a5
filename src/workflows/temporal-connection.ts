import {
  InterceptingCall,
  type Interceptor,
  ListenerBuilder,
  RequesterBuilder,
} from '@grpc/grpc-js'
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client'

/**
 * The longest the SDK's default retry waits before trying a call again: 5 s, plus 20 % jitter.
 * A retry decided before `close()` has fired by then.
 */
const LONGEST_RETRY_WAIT_MS = 6_000

/**
 * A client connection to Temporal that can be closed while calls on it are failing. The SDK
 * retries a failed call (Temporal unreachable, say) from a timer; a connection closed while such
 * a timer waits makes that retry throw from the timer, an uncaught exception that ends the process.
 * So `close()` stops further retries and waits for the calls still open, but no longer than a
 * retry already decided can wait: a call without a deadline (a query of a stuck twin) must not
 * hold the close, and once no retry timer can be pending, closing ends such a call cleanly.
 */
export async function connectTemporal(address: string) {
  let closing = false
  const open = new Set<Promise<void>>()
  const defaults = defaultGrpcRetryOptions()
  const retry = makeGrpcRetryInterceptor({
    ...defaults,
    retryableDecider: (attempt, status) => !closing && defaults.retryableDecider(attempt, status),
  })
  // Outermost, so it sees a call end only once the retries are done with it.
  const track: Interceptor = (options, nextCall) => {
    let ended!: () => void
    const call = new Promise<void>((resolve) => {
      ended = resolve
    })
    open.add(call)
    void call.then(() => open.delete(call))
    const requester = new RequesterBuilder()
      .withStart((metadata, _listener, next) => {
        const onStatus = new ListenerBuilder()
          .withOnReceiveStatus((status, nextStatus) => {
            ended()
            nextStatus(status)
          })
          .build()
        next(metadata, onStatus)
      })
      .build()
    return new InterceptingCall(nextCall(options), requester)
  }
  const connection = await Connection.connect({ address, interceptors: [track, retry] })
  return {
    connection,
    async close() {
      closing = true
      let timer: NodeJS.Timeout | undefined
      const longestRetry = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, LONGEST_RETRY_WAIT_MS)
      })
      await Promise.race([Promise.all(open), longestRetry]).finally(() => clearTimeout(timer))
      await connection.close()
    },
  }
}
