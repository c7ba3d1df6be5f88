import type { CompiledRate } from '../policy.js'

/**
 * One algorithm over one key's state, kept in place in a `Float64Array` slab:
 * `stride(n)` numbers per key at offset `o`. All times are whole milliseconds
 * since the store's origin. A state that has become indistinguishable from a
 * fresh key decides exactly as a fresh key, so an entry that lingers in a cache
 * past that moment changes nothing.
 * @internal The memory store's contract with its algorithms, exported alongside `kernelFor`.
 */
export interface Kernel {
  /** How many numbers one key's state takes for `rateCount` rates. */
  stride(rateCount: number): number
  /** Writes a fresh key's state at `now`. */
  fresh(s: Float64Array, o: number, rates: readonly CompiledRate[], now: number): void
  /** Milliseconds from `now` until `weight` fits under every rate (0 = fits now). Does not modify. */
  delay(s: Float64Array, o: number, rates: readonly CompiledRate[], now: number, weight: number): number
  /** Charges `weight` arriving at `at` (`at >= now`, where `delay` said it fits). */
  charge(
    s: Float64Array,
    o: number,
    rates: readonly CompiledRate[],
    now: number,
    at: number,
    weight: number,
  ): void
  /** Gives `weight` back, never beyond a fresh key. */
  refund(s: Float64Array, o: number, rates: readonly CompiledRate[], now: number, weight: number): void
  /** Writes `remaining, resetMs` of each rate into `out` from `offset` on. */
  inspect(
    s: Float64Array,
    o: number,
    rates: readonly CompiledRate[],
    now: number,
    out: number[],
    offset: number,
  ): void
  /** Milliseconds until the state is indistinguishable from a fresh key (0: it already is). */
  ttl(s: Float64Array, o: number, rates: readonly CompiledRate[], now: number): number
  /**
   * Whether `ttl` always equals the largest `resetMs` that `inspect` writes for the same state
   * at the same time, so a store that has just inspected a state can skip computing its TTL.
   */
  readonly ttlIsLongestReset?: boolean
  /** Re-expresses the state relative to an origin `delta` ms later. */
  rebase(s: Float64Array, o: number, rates: readonly CompiledRate[], delta: number): void
}

/*
 * Exact integer division. For integers |a| <= 2^53 and b >= 1 the float quotient
 * a / b is correctly rounded and cannot round across an integer (that would need
 * a fractional part below ulp(a / b) / 2, i.e. a > 2^53), so Math.ceil/Math.floor
 * of it are exact. Policies are compiled so scaled values stay below 2^51.
 */

/** `ceil(a / b)` for positive `b`, 0 for `a <= 0`. */
export function ceilDiv(a: number, b: number): number {
  return a <= 0 ? 0 : Math.ceil(a / b)
}

/** `floor(a / b)` for positive `b`. */
export function floorDiv(a: number, b: number): number {
  return Math.floor(a / b)
}
