import type { CompiledPolicy } from './policy.js'
import type { MaybePromise } from './types.js'

/** One bucket to charge: a policy and a key (`undefined`: the policy's single shared bucket). */
export interface StoreTarget {
  readonly policy: CompiledPolicy
  readonly key: string | undefined
}

/** A charge the store makes atomically across all its targets: all are charged or none. */
export interface StoreRequest {
  readonly targets: readonly StoreTarget[]
  /** Units to charge to every rate of every target. */
  readonly weight: number
  /** Longest delay (ms) the caller accepts: 0 polices, a positive value shapes. */
  readonly maxDelay: number
  /** The limiter clock's time in ms. Stores with a clock of their own (Redis `TIME`) ignore it. */
  readonly now: number
}

/** Why a store answered without its backend. */
export type StoreFallbackReason = 'insurance' | 'store-unavailable'

/** What a store reports back; the limiter turns it into a `Decision`. */
export interface StoreOutcome {
  readonly allowed: boolean
  /** Shaping: ms until the reserved slot. */
  readonly delayMs: number
  /** 0 when allowed; otherwise ms until the same request would be allowed. */
  readonly retryAfterMs: number
  /** `remaining, resetMs` pairs for every rate of every target, in order, after the charge. */
  readonly rates: readonly number[]
  /** Index of the target that needed the longest wait when rejected; -1 when allowed. */
  readonly blockedBy: number
  /** Set when the store decided without its backend. */
  readonly fallback?: StoreFallbackReason
}

/**
 * Where limiter state lives. Two stores ship: `memoryStore()` (this package,
 * synchronous) and `redisStore()` (`@tollgate/redis`). A store runs the policy's
 * algorithm for each target and guarantees atomicity: a rejected request charges
 * nothing, and concurrent requests never see a half-applied charge.
 */
export interface Store {
  /** `true` when every method answers synchronously (no promise on the hot path). */
  readonly synchronous: boolean
  consume(request: StoreRequest): MaybePromise<StoreOutcome>
  /** The outcome a request of `weight` would get, without charging anything. */
  peek(targets: readonly StoreTarget[], weight: number, now: number): MaybePromise<StoreOutcome>
  /** Gives `weight` back to every target (never beyond a fresh key). */
  refund(targets: readonly StoreTarget[], weight: number, now: number): MaybePromise<void>
  /** Forgets a target's state. */
  reset(target: StoreTarget, now: number): MaybePromise<void>
  /**
   * Called once by every limiter that uses the store, for every policy it will
   * charge; lets the store warn about double counting or refuse conflicting
   * policies sharing one namespace. Returns how many limiters now share the namespace.
   */
  register?(policy: CompiledPolicy, owner: object): number
  /** Undoes `register` when a limiter closes: a namespace nobody uses may get other rules. */
  unregister?(policy: CompiledPolicy, owner: object): void
  /** Releases resources; the store answers no further calls. */
  close(): MaybePromise<void>
}

/** A store that answers synchronously, like `memoryStore()`. */
export interface SyncStore extends Store {
  readonly synchronous: true
  consume(request: StoreRequest): StoreOutcome
  peek(targets: readonly StoreTarget[], weight: number, now: number): StoreOutcome
  refund(targets: readonly StoreTarget[], weight: number, now: number): void
  reset(target: StoreTarget, now: number): void
  close(): void
}
