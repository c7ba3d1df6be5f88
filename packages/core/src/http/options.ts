import type { Clock } from '../clock.js'
import { parseDuration } from '../duration.js'
import { invalidOption, rejectUnknownOptions } from '../errors.js'
import type { HeaderFormat } from '../headers.js'
import { createLimiter, type Limiter } from '../limiter.js'
import type { Store } from '../store.js'
import type { Algorithm, Decision, LimiterOptions, Logger, MaybePromise, PolicyOptions } from '../types.js'
import type { HttpMessage } from './respond.js'

/** `'reject'` answers over-limit requests at once; `'delay'` holds them until their slot. */
export type HttpLimitMode = 'reject' | 'delay'

/**
 * What happens when the limiter cannot decide: a `key`/`weight`/`skip` callback throws,
 * rejects or returns an invalid key or weight, or the store fails.
 * `'open'` lets the request through uncounted; `'closed'` answers 500 (callback) or 503 (store).
 */
export type HttpFailurePolicy = 'open' | 'closed'

/**
 * The options every HTTP adapter takes, besides the policy (`limit` + `window` [+ `burst`], or `rates`).
 * `Args` are the framework's own request objects as callbacks receive them
 * (Express `[req, res]`, Koa `[ctx]`, Fastify `[request, reply]`); `Handler` is the
 * framework's custom rejection handler.
 */
export interface HttpLimitBehaviour<Args extends readonly unknown[], Handler> {
  /** The algorithm. `'sliding-window'` cannot shape, so it does not combine with `mode: 'delay'`. @default 'gcra' */
  readonly algorithm?: Algorithm
  /**
   * Where counters live (`memoryStore()`, `redisStore()`). Limiters that share a store and a `name` share counters.
   * @default with a `name`, the memory store every named limiter of the process shares; without, one of its own
   */
  readonly store?: Store
  /**
   * The policy name: the draft-8 header name of a single rate, and the namespace of its counters
   * (limiters with the same name share counters: route groups; with no `store` given they share
   * the process's memory store for named limiters). Limiters sharing a name must share their rates.
   * @default 'default'
   */
  readonly name?: string
  /** Rates of the bucket shared by keyless requests (`key` returned `undefined`). @default the limiter's own rates */
  readonly fallback?: PolicyOptions
  /** A ceiling every request is also charged against, all keys together (e.g. 5000/s for the whole app). @default none */
  readonly global?: PolicyOptions
  /** Time source and timers (delay mode waits on its `setTimeout`); tests pass `createManualClock()`. @default systemClock */
  readonly clock?: Clock
  /** Where warnings and request-time failures are logged. @default console */
  readonly logger?: Logger
  /**
   * The client's key. May be async. Returning `undefined` counts the request in the shared fallback bucket;
   * anything but a non-empty string (≤ 1024 characters) or `undefined` is a failure (see `failure`).
   * @default the client IP as the framework resolves it (proxy settings respected), IPv6 grouped by `ipv6Subnet`
   */
  readonly key?: (...args: Args) => MaybePromise<string | undefined>
  /**
   * Units the request costs. May be async. A positive finite number; a weight larger than a rate's `burst`
   * is rejected as `too-heavy` (it can never pass); `NaN`, `Infinity`, 0, negative or non-numbers are a
   * failure (see `failure`).
   * @default 1
   */
  readonly weight?: (...args: Args) => MaybePromise<number>
  /** Returns `true` for requests the limiter ignores entirely (no charge, no headers). May be async. @default none */
  readonly skip?: (...args: Args) => MaybePromise<boolean>
  /**
   * `'reject'` answers `statusCode` at once; `'delay'` reserves the next slot and lets the request proceed
   * when it comes (within `maxDelay`, otherwise it is rejected). Not with `algorithm: 'sliding-window'`.
   * @default 'reject'
   */
  readonly mode?: HttpLimitMode
  /** Delay mode: the longest wait accepted (ms or a duration string); later slots are rejected at once. @default '30s' */
  readonly maxDelay?: number | string
  /** Status of a rejected request (400–599). Store outages under `failure: 'closed'` answer 503 instead. @default 429 */
  readonly statusCode?: number
  /**
   * Body of a rejection: a string (sent as `text/plain`), an object (sent as JSON), or a function of
   * the request and the decision returning either (may be async).
   * @default plain text, or JSON `{ error, message, retryAfter, reason }` when the client prefers JSON
   */
  readonly message?: HttpMessage | ((...args: [...Args, Decision]) => MaybePromise<HttpMessage>)
  /**
   * Answers rejected requests yourself (headers are already set). Replaces `statusCode` and `message`.
   * @default none
   */
  readonly handler?: Handler
  /**
   * Which rate-limit header fields to send, on every response the limiter sees: `'draft-8'`
   * (`RateLimit-Policy` + `RateLimit`, drafts -08 to -11), `'draft-7'`, `'draft-6'`, or `false`.
   * @default 'draft-8'
   */
  readonly headers?: HeaderFormat | false
  /** Also send `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (epoch seconds). @default false */
  readonly legacyHeaders?: boolean
  /**
   * What happens when the limiter cannot decide. `'closed'`: a failing callback answers 500 and a failing
   * store 503, so a client that can make a callback fail (say a malformed `x-cost` header) cannot slip past
   * the limit. `'open'`: the request proceeds uncounted. Either way the failure is logged (at most once a minute).
   * @default 'closed'
   */
  readonly failure?: HttpFailurePolicy
  /** Give the units back when the response fails (status ≥ 400, or the connection closes first). @default false */
  readonly skipFailedRequests?: boolean
  /** Give the units back when the response succeeds (status < 400). @default false */
  readonly skipSuccessfulRequests?: boolean
  /** Called on every rejected request, before the response (logging, metrics). Errors are logged and ignored. @default none */
  readonly onLimited?: (...args: [...Args, Decision]) => void
  /** Prefix length IPv6 client addresses are grouped to by the default key, or `false` for whole addresses. @default 56 */
  readonly ipv6Subnet?: number | false
}

/** The policy fields an HTTP limiter takes, all optional (Fastify route options inherit them). */
export interface HttpPolicyFields {
  /** Units allowed per `window`. @default none (inherited, or required with `window`) */
  readonly limit?: number
  /** Milliseconds or a duration string. @default none (inherited, or required with `limit`) */
  readonly window?: number | string
  /** Units a fresh key may spend at once. @default limit */
  readonly burst?: number
  /** The quota unit reported in `RateLimit-Policy`. @default 'requests' (not printed) */
  readonly quotaUnit?: string
  /** Several rates instead of `limit`/`window`. @default none */
  readonly rates?: PolicyOptions['rates']
}

/** Options of an HTTP adapter: a policy and the behaviour options. */
export type HttpRateLimitOptions<Args extends readonly unknown[], Handler> = PolicyOptions &
  HttpLimitBehaviour<Args, Handler>

type Callback = (a: unknown, b: unknown) => unknown
type DecisionCallback = (a: unknown, b: unknown, decision: Decision) => unknown

/**
 * Validated options with defaults applied, and the limiter they describe.
 * @internal The output of {@link parseHttpOptions} and the input of `HttpEngine`, for the adapters.
 */
export interface HttpConfig {
  /** The limiter built from the options (or the shared one passed to `parseHttpOptions`). */
  readonly limiter: Limiter
  /** {@link HttpLimitBehaviour.key}; `undefined`: the client IP via `ipKey`. */
  readonly key: Callback | undefined
  /** {@link HttpLimitBehaviour.weight}; `undefined`: 1. */
  readonly weight: Callback | undefined
  /** {@link HttpLimitBehaviour.skip}; `undefined`: skip nothing. */
  readonly skip: Callback | undefined
  /** `mode: 'delay'`: reserve a slot rather than reject. */
  readonly delay: boolean
  /** {@link HttpLimitBehaviour.maxDelay} in ms (`Infinity` allowed). */
  readonly maxDelay: number
  /** {@link HttpLimitBehaviour.statusCode}. */
  readonly statusCode: number
  /** {@link HttpLimitBehaviour.message}; `undefined`: the default sentence. */
  readonly message: HttpMessage | DecisionCallback | undefined
  /** {@link HttpLimitBehaviour.handler}, typed by each adapter (its signature differs per framework). */
  readonly handler: unknown
  /** {@link HttpLimitBehaviour.headers}. */
  readonly headers: HeaderFormat | false
  /** {@link HttpLimitBehaviour.legacyHeaders}. */
  readonly legacyHeaders: boolean
  /** {@link HttpLimitBehaviour.failure}. */
  readonly failure: HttpFailurePolicy
  /** {@link HttpLimitBehaviour.skipFailedRequests}. */
  readonly skipFailedRequests: boolean
  /** {@link HttpLimitBehaviour.skipSuccessfulRequests}. */
  readonly skipSuccessfulRequests: boolean
  /** {@link HttpLimitBehaviour.onLimited}. */
  readonly onLimited: DecisionCallback | undefined
  /** {@link HttpLimitBehaviour.ipv6Subnet}. */
  readonly ipv6Subnet: number | false
  /** Where request-time failures and warnings go (the `logger` option, or `console`). */
  readonly logger: Logger
}

const POLICY = ['limit', 'window', 'burst', 'quotaUnit', 'rates'] as const
const LIMITER = ['algorithm', 'store', 'name', 'fallback', 'global', 'clock', 'logger'] as const
const BEHAVIOUR = [
  'key',
  'weight',
  'skip',
  'mode',
  'maxDelay',
  'statusCode',
  'message',
  'handler',
  'headers',
  'legacyHeaders',
  'failure',
  'skipFailedRequests',
  'skipSuccessfulRequests',
  'onLimited',
  'ipv6Subnet',
] as const

/**
 * Every option name the HTTP adapters share.
 * @internal Exported for this repository's tests, which check it against the documented options.
 */
export const HTTP_OPTIONS: readonly string[] = [...POLICY, ...LIMITER, ...BEHAVIOUR]

const DEFAULT_MAX_DELAY = 30_000

function optionalFunction(where: string, option: string, value: unknown): Callback | undefined {
  if (value !== undefined && typeof value !== 'function')
    invalidOption(where, option, 'a function', value, 'type')
  return value as Callback | undefined
}

function optionalBoolean(where: string, option: string, value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean')
    invalidOption(where, option, 'true or false', value, 'type')
  return value === true
}

function oneOf<T extends string | false>(
  where: string,
  option: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback
  if (!allowed.includes(value as T)) {
    invalidOption(
      where,
      option,
      `one of ${allowed.map((v) => (v === false ? 'false' : `'${v}'`)).join(', ')}`,
      value,
      'type',
    )
  }
  return value as T
}

/**
 * Merges route options over defaults (Fastify route config over plugin options): a route
 * that gives its own policy (`limit`/`window`/`burst`/`quotaUnit` or `rates`) drops the
 * defaults' policy and `name`, so it never shares counters with the default limiter by accident.
 * @internal Used by `@tollgate/fastify` to merge route config over plugin options.
 */
export function mergeHttpOptions<T extends object>(defaults: T | undefined, route: T): T {
  if (!defaults) return route
  const own = POLICY.some((field) => (route as Record<string, unknown>)[field] !== undefined)
  const merged = { ...defaults } as Record<string, unknown>
  if (own) for (const field of [...POLICY, 'name']) delete merged[field]
  for (const [field, value] of Object.entries(route)) if (value !== undefined) merged[field] = value
  return merged as T
}

function buildLimiter(where: string, o: Record<string, unknown>): Limiter {
  const limiterOptions: Record<string, unknown> = {}
  for (const field of [...POLICY, ...LIMITER]) if (o[field] !== undefined) limiterOptions[field] = o[field]
  try {
    return createLimiter(limiterOptions as LimiterOptions)
  } catch (error) {
    // The limiter's own errors say "createLimiter"; the user called the adapter.
    if (error instanceof Error && error.message.startsWith('createLimiter')) {
      error.message = `${where}${error.message.slice('createLimiter'.length)}`
    }
    throw error
  }
}

/**
 * Whether options say anything about the limiter itself (its policy, algorithm, store, name,
 * fallback, global ceiling, clock or logger) rather than only about how requests map to it.
 * Route options that do not can run on the default limiter, sharing its counters.
 * @internal Used by `@tollgate/fastify` to decide whether a route needs a limiter of its own.
 */
export function hasLimiterOptions(options: object | undefined): boolean {
  if (!options) return false
  const o = options as Record<string, unknown>
  return [...POLICY, ...LIMITER].some((field) => o[field] !== undefined)
}

/**
 * Whether options carry a policy of their own (`limit`/`window` or `rates`).
 * @internal Used by `@tollgate/fastify` to tell plugin options that define a default limiter.
 */
export function hasPolicy(options: object | undefined): boolean {
  if (!options) return false
  const o = options as Record<string, unknown>
  return o.limit !== undefined || o.window !== undefined || o.rates !== undefined
}

/**
 * Validates an adapter's options and builds its limiter. Throws at construction, naming the option
 * (`rateLimit: "mode" must be one of 'reject', 'delay', got "slow"`); unknown option names throw too.
 * @param extra Option names a particular adapter adds (Fastify's `hook`); validated by that adapter.
 * @param shared A limiter to run on instead of building one (a Fastify route that only changes
 *   behaviour options runs on the plugin's limiter); the options' limiter fields are then ignored.
 * @internal Used by the Express, Koa and Fastify adapters to validate their options identically.
 */
export function parseHttpOptions(
  where: string,
  options: unknown,
  extra: readonly string[] = [],
  shared?: Limiter,
): HttpConfig {
  if (typeof options !== 'object' || options === null) {
    invalidOption(where, 'options', 'an object such as { limit: 100, window: "1m" }', options, 'type')
  }
  rejectUnknownOptions(where, options, new Set([...HTTP_OPTIONS, ...extra]))
  const o = options as Record<string, unknown>

  const mode = oneOf<HttpLimitMode>(where, 'mode', o.mode, ['reject', 'delay'], 'reject')
  if (mode === 'delay' && o.algorithm === 'sliding-window') {
    invalidOption(
      where,
      'mode',
      `'reject' with algorithm 'sliding-window' (its estimate cannot reserve future slots)`,
      mode,
    )
  }
  let maxDelay = DEFAULT_MAX_DELAY
  if (o.maxDelay !== undefined) {
    if (o.maxDelay === Number.POSITIVE_INFINITY) maxDelay = o.maxDelay
    else if (typeof o.maxDelay === 'number' || typeof o.maxDelay === 'string')
      maxDelay = parseDuration(o.maxDelay, 'maxDelay', where, true)
    else invalidOption(where, 'maxDelay', 'a duration (ms, or a string such as "10s")', o.maxDelay)
  }
  const statusCode = o.statusCode ?? 429
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 400 ||
    statusCode > 599
  ) {
    invalidOption(where, 'statusCode', 'an HTTP error status (an integer from 400 to 599)', statusCode)
  }
  const message = o.message
  if (
    message !== undefined &&
    typeof message !== 'string' &&
    typeof message !== 'function' &&
    (typeof message !== 'object' || message === null)
  ) {
    invalidOption(
      where,
      'message',
      'a string, an object (sent as JSON) or a function returning one',
      message,
      'type',
    )
  }
  const handler = optionalFunction(where, 'handler', o.handler)
  const headers = oneOf<HeaderFormat | false>(
    where,
    'headers',
    o.headers,
    ['draft-8', 'draft-7', 'draft-6', false],
    'draft-8',
  )
  const failure = oneOf<HttpFailurePolicy>(where, 'failure', o.failure, ['open', 'closed'], 'closed')
  const ipv6Subnet = o.ipv6Subnet ?? 56
  if (
    ipv6Subnet !== false &&
    (typeof ipv6Subnet !== 'number' || !Number.isInteger(ipv6Subnet) || ipv6Subnet < 1 || ipv6Subnet > 128)
  ) {
    invalidOption(where, 'ipv6Subnet', 'a prefix length from 1 to 128, or false', ipv6Subnet)
  }
  const logger = (o.logger ?? console) as Logger
  if (typeof logger?.warn !== 'function' || typeof logger.error !== 'function') {
    invalidOption(where, 'logger', 'an object with warn() and error(), such as console', logger, 'type')
  }

  const key = optionalFunction(where, 'key', o.key)
  const weight = optionalFunction(where, 'weight', o.weight)
  const skip = optionalFunction(where, 'skip', o.skip)
  const onLimited = optionalFunction(where, 'onLimited', o.onLimited) as DecisionCallback | undefined
  const legacyHeaders = optionalBoolean(where, 'legacyHeaders', o.legacyHeaders)
  const skipFailedRequests = optionalBoolean(where, 'skipFailedRequests', o.skipFailedRequests)
  const skipSuccessfulRequests = optionalBoolean(where, 'skipSuccessfulRequests', o.skipSuccessfulRequests)

  const limiter = shared ?? buildLimiter(where, o)

  return {
    limiter,
    key,
    weight,
    skip,
    delay: mode === 'delay',
    maxDelay,
    statusCode,
    message: message as HttpConfig['message'],
    handler,
    headers,
    legacyHeaders,
    failure,
    skipFailedRequests,
    skipSuccessfulRequests,
    onLimited,
    ipv6Subnet: ipv6Subnet as number | false,
    logger,
  }
}
