import { parseDuration } from './duration.js'
import { invalidOption, rejectUnknownOptions, TollgateRangeError, TollgateTypeError } from './errors.js'
import type { Algorithm, PolicyOptions, RateOptions } from './types.js'

/**
 * A rate prepared for exact integer arithmetic.
 *
 * Time is counted in units of `1/u` ms where `u = limit / gcd(limit, window)`.
 * In those units the emission interval `T = window / gcd` and the tolerance
 * `tau = T * burst` are integers, so every sum the algorithms make is exact
 * (for whole-number weights) and a limit of N admits exactly N.
 */
export interface CompiledRate {
  /** The rate's name in headers and decisions. */
  readonly name: string
  /** Units allowed per `window`. */
  readonly limit: number
  /** Window in ms. */
  readonly window: number
  /** Units a fresh key may spend at once (`limit` unless configured). */
  readonly burst: number
  /** The quota unit, when one was configured. */
  readonly quotaUnit: string | undefined
  /** Time units per millisecond. */
  readonly u: number
  /** Emission interval in time units (cost of one unit of weight). */
  readonly T: number
  /** Tolerance in time units: `T * burst`. */
  readonly tau: number
}

/**
 * A validated policy, as stores receive it. `namespace` separates the counters
 * of different policies in one store; `fingerprint` describes the rates, so a
 * store can tell two limiters that share counters but disagree on the rules.
 */
export interface CompiledPolicy {
  /** Keys the policy's counters in a store: the limiter's `name` (or fingerprint), `|fallback`/`|global` suffixed for those. */
  readonly namespace: string
  /** The algorithm the store runs for every rate. */
  readonly algorithm: Algorithm
  /** The rates a request must all fit, in order. */
  readonly rates: readonly CompiledRate[]
  /** `algorithm|limit/window/burst,...`: equal exactly when two policies count alike. */
  readonly fingerprint: string
  /** Largest weight any request may carry: the smallest burst (or window limit). */
  readonly maxWeight: number
  /** `true` for the limiter's global ceiling (all keys share one bucket). */
  readonly global: boolean
}

/** Every {@link Algorithm}, for validating `algorithm` at runtime (a type cannot be enumerated). */
export const ALGORITHMS: readonly Algorithm[] = [
  'gcra',
  'token-bucket',
  'leaky-bucket',
  'fixed-window',
  'sliding-window',
]

const RATE_OPTIONS = new Set(['limit', 'window', 'burst', 'name', 'quotaUnit'])
const PRINTABLE = /^[\x20-\x7e]*$/
const TOKEN = /^[a-z*][a-z0-9_\-.:*]*$/i
// Scaled values stay below this, so sums of a few of them remain exact doubles, and a store's
// scaled clock (kept below 2^51, see memory-store.ts) has at least 2^50 units of room beyond
// 4 tolerances: its origin moves (O(keys)) at most every 2^50 / u ms, minutes for the finest rates.
// Round rates reduce far below it (10 million per day is u = 25, tau = 2.16e9).
const SAFE = 2 ** 48

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

function wholeNumber(where: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    invalidOption(where, option, 'a positive whole number', value)
  }
  return value
}

/** Validates a policy name or rate name: printable ASCII, as a Structured Field string allows. */
export function checkName(where: string, option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || !PRINTABLE.test(value)) {
    invalidOption(where, option, 'a non-empty string of printable ASCII characters', value)
  }
  return value
}

function compileRate(
  where: string,
  rate: RateOptions,
  algorithm: Algorithm,
  fallbackName: string,
): CompiledRate {
  if (typeof rate !== 'object' || rate === null)
    invalidOption(where, 'rates[]', 'an object { limit, window }', rate, 'type')
  rejectUnknownOptions(where, rate, RATE_OPTIONS)
  const limit = wholeNumber(where, 'limit', rate.limit)
  const window = parseDuration(rate.window, 'window', where)
  const windowed = algorithm === 'fixed-window' || algorithm === 'sliding-window'
  if (windowed && rate.burst !== undefined && rate.burst !== limit) {
    throw new TollgateRangeError(
      'ERR_TOLLGATE_INVALID_OPTION',
      `${where}: "burst" applies to the gcra, token-bucket and leaky-bucket algorithms; a ${algorithm} admits "limit" per window, got burst ${rate.burst} with limit ${limit}`,
    )
  }
  const burst = rate.burst === undefined ? limit : wholeNumber(where, 'burst', rate.burst)
  const name = rate.name === undefined ? fallbackName : checkName(where, 'name', rate.name)
  if (rate.quotaUnit !== undefined && (typeof rate.quotaUnit !== 'string' || !TOKEN.test(rate.quotaUnit))) {
    invalidOption(
      where,
      'quotaUnit',
      'a token such as "requests", "content-bytes" or "tokens"',
      rate.quotaUnit,
    )
  }
  const g = gcd(limit, window)
  const u = limit / g
  const T = window / g
  const tau = T * burst
  if (tau >= SAFE || u >= 2 ** 32) {
    throw new TollgateRangeError(
      'ERR_TOLLGATE_INVALID_OPTION',
      `${where}: the rate ${limit} per ${window} ms with burst ${burst} is too large to count exactly; use a coarser window or a smaller limit`,
    )
  }
  return { name, limit, window, burst, quotaUnit: rate.quotaUnit, u, T, tau }
}

/**
 * Validates `{ limit, window, burst }` or `{ rates }` and prepares it for the store.
 * @internal Exported for this repository's tests and benchmarks, which drive stores without a limiter.
 */
export function compilePolicy(
  where: string,
  options: PolicyOptions,
  algorithm: Algorithm,
  namespace: string | undefined,
  global = false,
  defaultName = 'default',
): CompiledPolicy {
  let raw: readonly RateOptions[]
  if (options.rates !== undefined) {
    if (options.limit !== undefined || options.window !== undefined || options.burst !== undefined) {
      throw new TollgateTypeError(
        'ERR_TOLLGATE_INVALID_OPTION',
        `${where}: give either "limit" and "window" or "rates", not both`,
      )
    }
    if (!Array.isArray(options.rates) || options.rates.length === 0) {
      invalidOption(where, 'rates', 'a non-empty array of { limit, window }', options.rates)
    }
    raw = options.rates
  } else {
    if (options.limit === undefined || options.window === undefined) {
      throw new TollgateTypeError(
        'ERR_TOLLGATE_INVALID_OPTION',
        `${where}: a policy needs "limit" and "window" (e.g. { limit: 100, window: '1m' }) or "rates"`,
      )
    }
    const single: RateOptions = { limit: options.limit, window: options.window }
    raw = [
      {
        ...single,
        ...(options.burst === undefined ? {} : { burst: options.burst }),
        ...(options.quotaUnit === undefined ? {} : { quotaUnit: options.quotaUnit }),
      },
    ]
  }
  const rates = raw.map((rate, index) =>
    compileRate(where, rate, algorithm, raw.length === 1 ? defaultName : `r${index}`),
  )
  const names = new Set(rates.map((rate) => rate.name))
  if (names.size !== rates.length) {
    throw new TollgateTypeError('ERR_TOLLGATE_INVALID_OPTION', `${where}: rate names must be unique`)
  }
  const fingerprint = `${algorithm}|${rates.map((r) => `${r.limit}/${r.window}/${r.burst}`).join(',')}`
  const maxWeight = Math.min(...rates.map((rate) => rate.burst))
  return {
    namespace: namespace ?? fingerprint,
    algorithm,
    rates,
    fingerprint,
    maxWeight,
    global,
  }
}
