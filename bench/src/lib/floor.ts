/*
 * The floor: the least a GCRA rate limiter keyed in lru-cache does per decision. A reference
 * for the core and HTTP benchmarks, not a limiter anyone should use: no validation, no expiry,
 * no shaping, no failure handling.
 */
import { LRUCache } from 'lru-cache'
import { HIGH_LIMIT, KEY_COUNT, WINDOW_MS } from './common.ts'

/** A decision of Tollgate's shape (so that building one costs what Tollgate's does). */
export interface FloorDecision {
  readonly allowed: boolean
  readonly key: string
  readonly weight: number
  readonly limit: number
  readonly remaining: number
  readonly resetMs: number
  readonly retryAfterMs: number
  readonly delayMs: number
  readonly rates: readonly {
    readonly name: string
    readonly limit: number
    readonly window: number
    readonly quotaUnit: string | undefined
    readonly remaining: number
    readonly resetMs: number
    readonly global: boolean
  }[]
  readonly reason: 'ok' | 'limited'
}

/**
 * A GCRA limiter (limit {@link HIGH_LIMIT} per {@link WINDOW_MS}, burst = limit) whose per-key
 * state is one number in a `Float64Array` slot, found through an lru-cache of at most `capacity`
 * keys (as Tollgate's memory store keeps it): one clock read, one `get`, a `set` for a new key,
 * and a decision object.
 */
export function floorGcra(capacity = KEY_COUNT): (key: string) => FloorDecision {
  const tats = new Float64Array(capacity).fill(Number.NEGATIVE_INFINITY)
  const free: number[] = []
  let used = 0
  const cache = new LRUCache<string, number>({
    max: capacity,
    dispose: (slot) => {
      free.push(slot)
    },
  })
  // The rate in ms: emission interval T, tolerance tau.
  const T = WINDOW_MS / HIGH_LIMIT
  const tau = WINDOW_MS - T
  // Milliseconds since process start: small enough that adding T (3.6 ns) is exact enough.
  const perf = performance
  const rate = { name: 'default', limit: HIGH_LIMIT, window: WINDOW_MS, quotaUnit: undefined }
  return (key) => {
    const now = Math.floor(perf.now())
    let slot = cache.get(key)
    if (slot === undefined) {
      slot = free.pop() ?? used++
      tats[slot] = Number.NEGATIVE_INFINITY
      cache.set(key, slot)
    }
    const tat = Math.max(tats[slot]!, now)
    const allowed = tat + T - now <= tau
    const next = allowed ? tat + T : tat
    tats[slot] = next
    const remaining = Math.max(Math.floor((tau - (next - now)) / T), 0)
    const resetMs = Math.ceil(next - now)
    return {
      allowed,
      key,
      weight: 1,
      limit: rate.limit,
      remaining,
      resetMs,
      retryAfterMs: 0,
      delayMs: 0,
      rates: [
        {
          name: rate.name,
          limit: rate.limit,
          window: rate.window,
          quotaUnit: rate.quotaUnit,
          remaining,
          resetMs,
          global: false,
        },
      ],
      reason: allowed ? 'ok' : 'limited',
    }
  }
}

/** The draft-8 `RateLimit` value Tollgate sends for a floor decision. */
export function floorRateLimitHeader(decision: FloorDecision): string {
  return `"default";r=${decision.remaining};t=${Math.ceil(decision.resetMs / 1000)}`
}
