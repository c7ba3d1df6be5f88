import type { Clock } from './clock.js'
import type { Duration } from './duration.js'
import type { Store } from './store.js'

/** The algorithms a limiter can run. */
export type Algorithm = 'gcra' | 'token-bucket' | 'leaky-bucket' | 'fixed-window' | 'sliding-window'

/** One rate: `limit` units per `window`. */
export interface RateOptions {
  /** Units allowed per `window`: a positive whole number. */
  readonly limit: number
  /** Milliseconds, or a duration string such as `'1m'`, `'10 s'`, `'1d'`. */
  readonly window: Duration
  /**
   * How many units may arrive at once on a fresh key (GCRA and the buckets only;
   * windows admit `limit` per window by definition). A positive whole number.
   * @default limit
   */
  readonly burst?: number
  /**
   * The rate's name in `RateLimit-Policy` / `RateLimit` headers (draft-8) and in decisions.
   * Printable ASCII. @default 'default' for a single rate, otherwise `'r0'`, `'r1'`, ...
   */
  readonly name?: string
  /** The quota unit reported in `RateLimit-Policy` (`qu`), e.g. `'content-bytes'` or `'tokens'`. @default 'requests' (not printed) */
  readonly quotaUnit?: string
}

/** A policy given as one rate (`limit` + `window`) or as several rates that must all allow a request. */
export type PolicyOptions =
  | {
      /** Units allowed per `window`: a positive whole number. */
      readonly limit: number
      /** Milliseconds, or a duration string such as `'1m'`. */
      readonly window: Duration
      /** Units a fresh key may spend at once (GCRA and the buckets only). @default limit */
      readonly burst?: number
      /** The quota unit reported in `RateLimit-Policy` (`qu`). @default 'requests' (not printed) */
      readonly quotaUnit?: string
      /** Not with `limit`/`window`: give one form or the other. */
      readonly rates?: never
    }
  | {
      /** Several rates; a request is allowed only when all allow it, and a rejection charges none. */
      readonly rates: readonly RateOptions[]
      /** Not with `rates`: each rate carries its own. */
      readonly limit?: never
      /** Not with `rates`: each rate carries its own. */
      readonly window?: never
      /** Not with `rates`: each rate carries its own. */
      readonly burst?: never
      /** Not with `rates`: each rate carries its own. */
      readonly quotaUnit?: never
    }

/** A destination for warnings and store errors. `console` fits. */
export interface Logger {
  /** Likely misconfigurations and notable changes (double counting, a missing proxy setting, a store back up). */
  warn(message: string, ...details: unknown[]): void
  /** Failures at request time (a store outage, a throwing callback), the error as a detail; throttled, never per request. */
  error(message: string, ...details: unknown[]): void
}

/** Options of {@link createLimiter}. */
export type LimiterOptions = PolicyOptions & {
  /**
   * The algorithm every rate runs; `'sliding-window'` cannot shape (`reserve`, `acquire`, `wrap`).
   * @default 'gcra'
   */
  readonly algorithm?: Algorithm
  /**
   * Where state lives. Limiters that share a store and a `name` share counters.
   * @default with a `name`: one memory store shared by the named limiters of this process that
   *   run on the same clock (so the same name means the same counters); without: a new
   *   `memoryStore()` of its own
   */
  readonly store?: Store
  /**
   * The policy's name: the draft-8 header name of a single rate, and the namespace
   * of its counters in the store: two limiters with the same name (and store, or no store and
   * the same clock) share counters, and must then have the same rates and algorithm.
   * @default 'default' (counters namespaced by the policy's own rates)
   */
  readonly name?: string
  /**
   * Rates of the one bucket shared by every request without a key.
   * @default the limiter's own rates
   */
  readonly fallback?: PolicyOptions
  /** An optional ceiling every request is also charged against (all keys together). @default none */
  readonly global?: PolicyOptions
  /** Time source. @default systemClock */
  readonly clock?: Clock
  /** Where one-off warnings go. @default console */
  readonly logger?: Logger
}

/** Why a decision came out the way it did; `allowed` always tells the outcome. */
export type DecisionReason =
  /** Allowed by the key's rates (and the global ceiling). */
  | 'ok'
  /** Rejected by the key's own rates. */
  | 'limited'
  /** Rejected by the global ceiling. */
  | 'global-limited'
  /** The weight exceeds a rate's burst: this request can never pass. */
  | 'too-heavy'
  /** The request had no key and was decided by the shared fallback bucket. */
  | 'fallback'
  /** The store was unreachable; decided by a local insurance store with the same rates. */
  | 'insurance'
  /** The store was unreachable; decided by the failure policy (`'open'` allows, `'closed'` rejects). */
  | 'store-unavailable'

/** The state of one rate as a decision saw it. */
export interface RateStatus {
  /** The rate's name (`'default'`, or as configured). */
  readonly name: string
  /** Units the rate allows per `window`. */
  readonly limit: number
  /** Window in milliseconds. */
  readonly window: number
  /** The quota unit, when one was configured. */
  readonly quotaUnit: string | undefined
  /** Whole units still available now. */
  remaining: number
  /** Milliseconds until this rate is fully replenished (buckets) or its window ends (windows). */
  resetMs: number
  /** `true` for the limiter's global ceiling. */
  readonly global: boolean
}

/** The answer to one request. A plain object: safe to log, serialise and compare. */
export interface Decision {
  /** Whether the request may proceed (after `delayMs`, when shaping). A rejected request was charged nothing. */
  readonly allowed: boolean
  /** The key the request was counted under (`undefined`: the shared fallback bucket). */
  readonly key: string | undefined
  /** The units the request cost, or would have cost when rejected. */
  readonly weight: number
  /** The limit of the tightest rate (lowest `remaining`). */
  readonly limit: number
  /** Whole units still available now, for the tightest rate. */
  readonly remaining: number
  /** Milliseconds until the tightest rate is fully replenished or its window ends. */
  readonly resetMs: number
  /** 0 when allowed; otherwise milliseconds until this same request would be allowed (`Infinity` when it never can). */
  readonly retryAfterMs: number
  /** Shaping: milliseconds the caller must wait before proceeding (its slot is reserved). 0 when policing. */
  readonly delayMs: number
  /** Every rate of the policy (then the global ceiling's), in order. */
  readonly rates: readonly RateStatus[]
  /** Why: which rates decided, or which fallback did when the store could not. */
  readonly reason: DecisionReason
}

/** Options of `consume` and `peek`. */
export interface ConsumeOptions {
  /** Units this request costs: a positive finite number. @default 1 */
  readonly weight?: number
}

/** Options of `reserve`, `acquire` and `wrap`. */
export interface AcquireOptions extends ConsumeOptions {
  /** The longest wait accepted, as a duration; a later slot rejects at once. @default Infinity (any slot a rate can give) */
  readonly maxDelay?: Duration
  /** Aborting cancels the wait and gives the reservation back. @default none */
  readonly signal?: AbortSignal
}

/** `T` or a promise of it: memory-store limiters answer synchronously. */
export type MaybePromise<T> = T | Promise<T>
