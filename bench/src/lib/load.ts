import autocannon from 'autocannon'
import { KEY_COUNT, KEY_HEADER, makeKeys } from './common.ts'

export interface LoadOptions {
  readonly port: number
  readonly connections: number
  /** Seconds of load; ignored when `amount` is set. */
  readonly seconds: number
  /** Total requests instead of a duration. */
  readonly amount?: number
  /** `many`: each request carries the next of 100,000 keys in the x-key header. */
  readonly keys: 'one' | 'many'
}

export interface LoadResult {
  readonly requests: number
  readonly seconds: number
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly non2xx: number
  readonly errors: number
}

const keys = makeKeys(KEY_COUNT)
// Carried across calls, so a measurement continues where its warm-up stopped (new keys, not the warm-up's).
let next = 0

/** Drives 127.0.0.1:port with autocannon (in this process, separate from the server's). */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const requests: autocannon.Request[] | undefined =
    options.keys === 'many'
      ? [
          {
            setupRequest: (request) => {
              const key = keys[next]!
              next = next + 1 === keys.length ? 0 : next + 1
              return { ...request, headers: { ...request.headers, [KEY_HEADER]: key } }
            },
          },
        ]
      : undefined
  const opts: autocannon.Options = {
    url: `http://127.0.0.1:${options.port}/`,
    connections: options.connections,
    ...(options.amount === undefined ? { duration: options.seconds } : { amount: options.amount }),
    ...(requests ? { requests } : {}),
  }
  // Bounded in time even when counting requests: stopped at twice the expected length (at least 2 min).
  const limitMs = Math.max(120_000, 2_000 * options.seconds)
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(opts, (error, done) => {
      clearTimeout(timer)
      if (error) reject(error)
      else resolve(done)
    })
    const timer = setTimeout(() => instance.stop(), limitMs)
  })
  const seconds = result.duration
  return {
    requests: result.requests.total,
    seconds,
    rps: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }
}
