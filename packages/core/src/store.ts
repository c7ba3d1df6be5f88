import type { CompiledPolicy } from './policy.js'
import type { MaybePromise } from './types.js'

/** One bucket to charge: a policy and a key (`undefined`: the policy's single shared bucket). */
export interface StoreTarget {
  /** The rules to apply; its `namespace` keeps its counters apart from other policies'. */
  readonly policy: CompiledPolicy
  /** The client's key; `undefined` for the policy's single shared bucket (keyless fallback, global ceiling). */
  readonly key: string | undefined
}

/** A charge the store makes atomically across all its targets: all are charged or none. */
export interface StoreRequest {
  /** The buckets to charge, in order: the key's own (or the fallback), then the global ceiling's if any. */
  readonly targets: readonly StoreTarget[]
  /** Units to charge to every rate of every target. */
  readonly weight: number
  /** Longest delay (ms) the caller accepts: 0 polices, a positive value shapes. */
  readonly maxDelay: number
  /** The limiter clock's time in ms. Stores with a clock of their own (Redis `TIME`) ignore it. */
  readonly now: number
}

/** Why a store answered without its backend. */
export type StoreFallbackReason =
  /** Decided by a local insurance store with the same rates. */
  | 'insurance'
  /** Decided by the store's failure policy alone (allow all or reject all). */
  | 'store-unavailable'

/** What a store reports back; the limiter turns it into a `Decision`. */
export interface StoreOutcome {
  /** Whether the request fits every target (and, from `consume`, was charged); `false`: nothing was charged. */
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
  /**
   * Charges `weight` to every target if it fits within `maxDelay` (the earliest slot for all of
   * them), atomically: a rejected request charges nothing, so a daily rate is not used up by
   * requests the per-second rate refused.
   */
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
  /** Always `true`: lets `createLimiter` type its limiter `Limiter<true>`. */
  readonly synchronous: true
  /** {@link Store.consume}, answered without a promise. */
  consume(request: StoreRequest): StoreOutcome
  /** {@link Store.peek}, answered without a promise. */
  peek(targets: readonly StoreTarget[], weight: number, now: number): StoreOutcome
  /** {@link Store.refund}, done before it returns. */
  refund(targets: readonly StoreTarget[], weight: number, now: number): void
  /** {@link Store.reset}, done before it returns. */
  reset(target: StoreTarget, now: number): void
  /** {@link Store.close}, done before it returns. */
  close(): void
}
