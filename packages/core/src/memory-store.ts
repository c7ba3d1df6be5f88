import { LRUCache } from 'lru-cache'
import { type Kernel, kernelFor } from './algorithms/index.js'
import { ceilDiv, floorDiv } from './algorithms/kernel.js'
import { invalidOption, rejectUnknownOptions, TollgateError, TollgateTypeError } from './errors.js'
import type { CompiledPolicy, CompiledRate } from './policy.js'
import type { StoreOutcome, StoreRequest, StoreTarget, SyncStore } from './store.js'
import type { Decision } from './types.js'

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The most keys the store tracks (all policies together). When full, the
   * least recently used key is forgotten (it starts again as a fresh key), so
   * memory stays bounded under a flood of distinct keys. A tracked single-rate
   * key costs about 110 bytes with a short key string (see the package README).
   * @default 100_000
   */
  readonly max?: number
}

const OPTIONS = new Set(['max'])
// The scaled clock (ms since origin x units per ms) is moved to a new origin before it nears 2^53.
const SCALED_CEILING = 2 ** 51
// Slot 0 of every space holds its single shared bucket; slot 1 is scratch for keys not yet stored.
const SINGLE = 0
const SCRATCH = 1
/**
 * A space may answer a lookup of the key it found last without the cache's `get` while at most
 * this many cache gets and sets (of any space) came after its own, in a cache of at least
 * {@link RECENT_MIN_MAX} keys: the entry is then among the most recently used few and cannot be
 * the next to be evicted. Stacked limiters on one store (a global and a route limiter) alternate
 * their spaces on every request; each keeps its client's entry this way.
 */
const RECENT_SPAN = 8
const RECENT_MIN_MAX = 4 * RECENT_SPAN
/** A touch count far before any (a small integer, so the count stays a V8 small integer field). */
const NO_TOUCH = -(2 ** 30)

/**
 * The counters of one policy namespace: a slab of states (`stride` numbers per
 * key, in place, no allocation per decision: the kernel's state, then the
 * slot's expiry, so that a decision on a key reads one cache line rather than
 * one in each of two arrays), with slot 0 for the namespace's
 * single shared bucket (keyless fallback, global ceiling). Keyed states are
 * found through the store's LRU cache, which maps `prefix + key` to a slot.
 */
class Space {
  readonly kernel: Kernel
  /** Numbers per slot: the kernel's state, then the expiry (see {@link Space.expiry}). */
  readonly stride: number
  /**
   * Where in a slot its expiry is (after the kernel's numbers): the store time (ms) at which the
   * slot's state equals a fresh key's. After it the entry has expired, and the next lookup treats
   * it as a fresh key (see MemoryStore.find).
   */
  readonly expiry: number
  readonly horizon: number
  /**
   * The rate of a single-rate GCRA policy (the default), whose decisions on a stored key take
   * the store's fused path (`MemoryStore.decideGcra`); `undefined` for every other policy.
   */
  readonly gcra: CompiledRate | undefined
  origin = Number.NaN
  singleLive = false
  /** Store time (ms) after which the shared bucket has expired, as a slot's expiry is for a keyed state. */
  singleExpires = 0
  slab: Float64Array
  /**
   * The key this space's last cache `get` found, its slot, and the store's count of gets and sets
   * then (see `MemoryStore.lookUp`).
   */
  recentKey = ''
  recentSlot = 0
  /** {@link NO_TOUCH} while `recentKey` names no entry (a miss, or no lookup yet). */
  recentTouch = NO_TOUCH
  /**
   * Whether this space's last two cache `get`s found the same entry: only then is the next key
   * compared with `recentKey` (with many distinct keys that comparison would almost never match).
   */
  recentRepeat = false
  private readonly free: number[] = []
  private used = 2

  constructor(
    readonly policy: CompiledPolicy,
    readonly prefix: string,
  ) {
    this.kernel = kernelFor(policy.algorithm)
    this.expiry = this.kernel.stride(policy.rates.length)
    this.stride = this.expiry + 1
    const maxU = Math.max(...policy.rates.map((rate) => rate.u))
    const maxTau = Math.max(...policy.rates.map((rate) => rate.tau))
    this.horizon = Math.floor((SCALED_CEILING - 4 * maxTau) / maxU)
    this.gcra = policy.algorithm === 'gcra' && policy.rates.length === 1 ? policy.rates[0] : undefined
    this.slab = new Float64Array(64 * this.stride)
  }

  /** Milliseconds since this space's origin; moves the origin when scaled times would grow too large. */
  relative(now: number, store: MemoryStore): number {
    if (Number.isNaN(this.origin)) this.origin = now
    const rel = now - this.origin
    if (rel <= this.horizon) return Math.max(rel, 0)
    this.rebase(rel, store)
    return 0
  }

  /** A slot for a new key's state (the slab grows by doubling; freed slots are reused). */
  allocate(): number {
    const reused = this.free.pop()
    if (reused !== undefined) return reused
    const slot = this.used++
    if ((slot + 1) * this.stride > this.slab.length) {
      const slab = new Float64Array(this.slab.length * 2)
      slab.set(this.slab)
      this.slab = slab
    }
    return slot
  }

  release(slot: number): void {
    this.free.push(slot)
  }

  /** The store time (ms) after which the slot's entry has expired. */
  expiresAt(slot: number): number {
    return this.slab[slot * this.stride + this.expiry]!
  }

  /** Sets the store time (ms) after which the slot's entry has expired. */
  expireAt(slot: number, time: number): void {
    this.slab[slot * this.stride + this.expiry] = time
  }

  /** Re-expresses every state relative to an origin `delta` ms later; rare (years for typical rates). */
  private rebase(delta: number, store: MemoryStore): void {
    const { kernel, policy, slab, stride } = this
    this.origin += delta
    if (this.singleLive) kernel.rebase(slab, SINGLE * stride, policy.rates, delta)
    const cache = store.cache
    if (!cache) return
    for (const [key, slot] of cache.entries()) {
      if (store.spaceOf(key) === this) kernel.rebase(slab, slot * stride, policy.rates, delta)
    }
  }
}

/**
 * The in-process store: one LRU cache (lru-cache) bounded by `max` keys maps
 * each key to a slot of its policy's state slab. An entry expires when its state
 * equals a fresh key (the store keeps that time per slot, moved whenever a charge
 * changes the state), so expiry never loses information. Every operation is
 * synchronous and a decision on a stored key allocates no state.
 */
export class MemoryStore implements SyncStore {
  /** Always `true`: limiters on this store answer without promises. */
  readonly synchronous = true as const
  /** @internal The one LRU cache of keyed states, created on first use. */
  cache: LRUCache<string, number> | undefined
  private readonly max: number
  private readonly spaces = new Map<string, Space>()
  private readonly byIndex: Space[] = []
  private readonly owners = new Map<string, { fingerprint: string; owners: Set<object> }>()
  private time = 0
  // The fast path's outcome, reused: decisions are built from it synchronously, before any other call.
  private readonly result: {
    allowed: boolean
    delayMs: number
    retryAfterMs: number
    rates: number[]
    blockedBy: number
  } = { allowed: false, delayMs: 0, retryAfterMs: 0, rates: [], blockedBy: -1 }
  private closed = false
  private lastPolicy: CompiledPolicy | undefined
  private lastSpace: Space | undefined
  /**
   * Cache gets and sets so far: how recently used a space's last found entry still is. A disposal
   * (and a retirement, close) moves it past every space's slack ({@link MemoryStore.forgetRecent}).
   */
  private touches = 0
  /** How many gets and sets may follow a space's own before its last found entry needs a `get` again. */
  private readonly recentSlack: number

  /** @throws TollgateTypeError / TollgateRangeError (`ERR_TOLLGATE_INVALID_OPTION`, `ERR_TOLLGATE_UNKNOWN_OPTION`). */
  constructor(options: MemoryStoreOptions = {}) {
    if (typeof options !== 'object' || options === null)
      invalidOption('memoryStore', 'options', 'an object', options, 'type')
    rejectUnknownOptions('memoryStore', options, OPTIONS)
    const max = options.max ?? 100_000
    if (!Number.isSafeInteger(max) || max < 1)
      invalidOption('memoryStore', 'max', 'a positive whole number', max)
    this.max = max
    // In a smaller cache only the most recently used entry is sure not to be evicted next.
    this.recentSlack = max >= RECENT_MIN_MAX ? RECENT_SPAN : 0
  }

  /**
   * {@link Store.register}. A namespace whose every owner has unregistered may take new rules
   * (its old counters are dropped), so a closed limiter does not pin its rates for the process.
   * @throws TollgateTypeError `ERR_TOLLGATE_POLICY_CONFLICT` when live owners use other rules.
   */
  register(policy: CompiledPolicy, owner: object): number {
    let entry = this.owners.get(policy.namespace)
    if (entry && entry.owners.size === 0 && entry.fingerprint !== policy.fingerprint) {
      // Everyone who used the namespace has gone; its old counters, kept by other rules, mean
      // nothing to the new ones. Their entries stay in the cache until the LRU drops them.
      this.retire(policy.namespace)
      entry = undefined
    }
    if (!entry) {
      entry = { fingerprint: policy.fingerprint, owners: new Set() }
      this.owners.set(policy.namespace, entry)
    } else if (entry.fingerprint !== policy.fingerprint) {
      throw new TollgateTypeError(
        'ERR_TOLLGATE_POLICY_CONFLICT',
        `memoryStore: two policies share the name "${policy.namespace}" with different rules (${entry.fingerprint} and ${policy.fingerprint}); limiters that share a name must share their rates and algorithm`,
      )
    }
    entry.owners.add(owner)
    return entry.owners.size
  }

  /** {@link Store.unregister}; the counters stay until another policy takes the namespace. */
  unregister(policy: CompiledPolicy, owner: object): void {
    this.owners.get(policy.namespace)?.owners.delete(owner)
  }

  /** Detaches a namespace's space: its lookups start afresh under a new prefix. */
  private retire(namespace: string): void {
    this.spaces.delete(namespace)
    this.lastPolicy = undefined
    this.lastSpace = undefined
    this.forgetRecent()
  }

  /**
   * @internal Used by `createLimiter` alone, for its fast path: one policy, no global ceiling.
   * The decision on a stored key of a single-rate GCRA policy (the default) that fits within
   * `maxDelay`, built whole in one method with no outcome object in between: what `consumeOne`
   * and the limiter's `oneRateDecision` would answer, field for field. Having charged nothing, it
   * answers `null` for a key the cache does not hold (the caller goes on with `consumeNew`, which
   * skips the lookup), and `undefined` for every other request, which takes the general path
   * (`consumeOne`): a rejection, another policy, a store the policy has not used yet or that must
   * move to a new time origin, a closed store.
   *
   * One body on purpose, calling no function of ours: V8 inlines lru-cache's `get` (about 700
   * bytes of bytecode with what it inlines) only into a caller that has spent little of its
   * 920-byte inlining budget on other callees; inlined, it costs no call and allocates no options
   * object. Count a change's effect with bench/src/tools/instructions.ts (timings drift too much).
   */
  decideGcra(
    policy: CompiledPolicy,
    key: string,
    weight: number,
    maxDelay: number,
    now: number,
  ): Decision | null | undefined {
    const cache = this.cache
    if (cache === undefined || this.closed) return undefined
    const space = this.space(policy)
    const r = space.gcra
    // A NaN origin (first use) fails the comparison too.
    let rel = now - space.origin
    if (r === undefined || !(rel <= space.horizon)) return undefined
    if (now > this.time) this.time = now
    if (rel < 0) rel = 0
    // lookUp, written out: calling it costs a decision at 100,000 keys ~40 more instructions
    // (lru-cache's get then stays out of line with its options object), though ~90 fewer with one
    // key; the many-keys case is the one that is short of its target.
    let slot: number | undefined
    if (
      space.recentRepeat &&
      key === space.recentKey &&
      this.touches - space.recentTouch <= this.recentSlack
    ) {
      slot = space.recentSlot
    } else {
      const prefix = space.prefix
      slot = cache.get(prefix === '' ? key : prefix + key)
      const touches = ++this.touches
      space.recentRepeat = slot !== undefined && slot === space.recentSlot
      space.recentKey = key
      space.recentSlot = slot ?? 0
      space.recentTouch = slot === undefined ? NO_TOUCH : touches
      if (slot === undefined) return null
    }
    // GCRA on the key's one number, its TAT (tatDelay, tatCharge and backlogInspect written out),
    // followed in the slot by its expiry (GCRA keeps one number per rate: `space.expiry` is 1).
    const { u, T, tau } = r
    const nowU = rel * u
    const slab = space.slab
    const o = slot * space.stride
    // An expired entry is a fresh key (TAT −∞); any TAT before now decides as now does.
    const expired = this.time > slab[o + 1]!
    const stored = slab[o]!
    const tat = expired || stored < nowU ? nowU : stored
    // How far past the tolerance the request would end, in time units; the wait is ⌈excess / u⌉
    // ms, which is over maxDelay exactly when the excess is over maxDelay × u (all integers).
    const excess = tat + weight * T - tau - nowU
    if (excess > maxDelay * u) return undefined
    const delay = ceilDiv(excess, u)
    const next = Math.max(tat, (rel + delay) * u) + weight * T
    slab[o] = next
    // A charge leaves at least one weight's backlog, so resetMs (GCRA's TTL) is over 0.
    const backlog = next - nowU
    const resetMs = ceilDiv(backlog, u)
    const remaining = Math.max(floorDiv(tau - backlog, T), 0)
    slab[o + 1] = this.time + resetMs
    // The limiter's oneRateDecision literal for an allowed keyed request.
    return {
      allowed: true,
      key,
      weight,
      limit: r.limit,
      remaining,
      resetMs,
      retryAfterMs: 0,
      delayMs: delay,
      rates: [
        {
          name: r.name,
          limit: r.limit,
          window: r.window,
          quotaUnit: r.quotaUnit,
          remaining,
          resetMs,
          global: false,
        },
      ],
      reason: 'ok',
    }
  }

  /**
   * @internal Used by `createLimiter` alone, for its fast path: one policy, no global ceiling.
   * Same semantics as `consume` with a single target, minus the request objects.
   * The outcome object is reused by the next call: read it before calling again.
   */
  consumeOne(
    policy: CompiledPolicy,
    key: string | undefined,
    weight: number,
    maxDelay: number,
    now: number,
  ): StoreOutcome {
    if (this.closed) this.tick(now)
    if (now > this.time) this.time = now
    const space = this.space(policy)
    const rel = space.relative(now, this)
    return this.consumeAt(space, key, this.find(space, key, rel, true), rel, weight, maxDelay)
  }

  /**
   * @internal `consumeOne` for the key `decideGcra` has just answered `null` for, without looking
   * it up again: the same policy and time, and no other call of the store in between.
   */
  consumeNew(
    policy: CompiledPolicy,
    key: string,
    weight: number,
    maxDelay: number,
    now: number,
  ): StoreOutcome {
    const space = this.space(policy)
    const rel = space.relative(now, this)
    return this.consumeAt(space, key, this.resolve(space, key, undefined, rel, true), rel, weight, maxDelay)
  }

  /** `consumeOne` on the slot `find` gave, through the policy's kernel. */
  private consumeAt(
    space: Space,
    key: string | undefined,
    found: number,
    rel: number,
    weight: number,
    maxDelay: number,
  ): StoreOutcome {
    const { kernel, stride } = space
    const rates = space.policy.rates
    const result = this.result
    let slot = found
    let o = slot * stride
    const delay = kernel.delay(space.slab, o, rates, rel, weight)
    if (delay > maxDelay) {
      kernel.inspect(space.slab, o, rates, rel, result.rates, 0)
      this.forgetUnused(space, key, slot)
      result.allowed = false
      result.delayMs = 0
      result.retryAfterMs = delay - maxDelay
      result.blockedBy = 0
      return result
    }
    const inserted = slot === SCRATCH
    if (inserted) {
      slot = space.allocate()
      o = slot * stride
      space.slab.copyWithin(o, SCRATCH * stride, SCRATCH * stride + stride)
    }
    kernel.charge(space.slab, o, rates, rel, rel + delay, weight)
    kernel.inspect(space.slab, o, rates, rel, result.rates, 0)
    const ttl = kernel.ttlIsLongestReset
      ? longestReset(result.rates, rates.length)
      : kernel.ttl(space.slab, o, rates, rel)
    this.keep(space, key, slot, ttl, inserted)
    result.allowed = true
    result.delayMs = delay
    result.retryAfterMs = 0
    result.blockedBy = -1
    return result
  }

  /** {@link Store.consume}, synchronously. */
  consume(request: StoreRequest): StoreOutcome {
    const { targets, weight, maxDelay } = request
    const now = this.tick(request.now)
    const n = targets.length
    const spaces = new Array<Space>(n)
    const rels = new Array<number>(n)
    const slots = new Array<number>(n)
    let delay = 0
    let blockedBy = -1
    for (let i = 0; i < n; i++) {
      const target = targets[i]!
      const space = this.space(target.policy)
      const rel = space.relative(now, this)
      const slot = this.find(space, target.key, rel, true)
      spaces[i] = space
      rels[i] = rel
      slots[i] = slot
      const d = space.kernel.delay(space.slab, slot * space.stride, space.policy.rates, rel, weight)
      if (d > delay) {
        delay = d
        blockedBy = i
      }
    }
    const allowed = delay <= maxDelay
    const rates: number[] = []
    for (let i = 0; i < n; i++) {
      const space = spaces[i]!
      const rel = rels[i]!
      const { kernel, stride } = space
      let slot = slots[i]!
      if (allowed) {
        const inserted = slot === SCRATCH
        if (inserted) {
          slot = space.allocate()
          space.slab.copyWithin(slot * stride, SCRATCH * stride, SCRATCH * stride + stride)
        }
        kernel.charge(space.slab, slot * stride, space.policy.rates, rel, rel + delay, weight)
        const ttl = kernel.ttl(space.slab, slot * stride, space.policy.rates, rel)
        this.keep(space, targets[i]!.key, slot, ttl, inserted)
      } else {
        this.forgetUnused(space, targets[i]!.key, slot)
      }
      kernel.inspect(space.slab, slot * stride, space.policy.rates, rel, rates, rates.length)
    }
    return allowed
      ? { allowed, delayMs: delay, retryAfterMs: 0, rates, blockedBy: -1 }
      : { allowed, delayMs: 0, retryAfterMs: delay - maxDelay, rates, blockedBy }
  }

  /** {@link Store.peek}; stores nothing, so a peek at an unknown key does not take a cache slot. */
  peek(targets: readonly StoreTarget[], weight: number, now: number): StoreOutcome {
    now = this.tick(now)
    const rates: number[] = []
    let delay = 0
    let blockedBy = -1
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i]!
      const space = this.space(target.policy)
      const rel = space.relative(now, this)
      const o = this.find(space, target.key, rel, false) * space.stride
      const d = space.kernel.delay(space.slab, o, space.policy.rates, rel, weight)
      if (d > delay) {
        delay = d
        blockedBy = i
      }
      space.kernel.inspect(space.slab, o, space.policy.rates, rel, rates, rates.length)
    }
    return { allowed: delay === 0, delayMs: 0, retryAfterMs: delay, rates, blockedBy }
  }

  /** {@link Store.refund}; a key the store does not hold is already fresh and is skipped. */
  refund(targets: readonly StoreTarget[], weight: number, now: number): void {
    now = this.tick(now)
    for (const target of targets) {
      const space = this.space(target.policy)
      const rel = space.relative(now, this)
      const slot = this.find(space, target.key, rel, false)
      if (slot === SCRATCH) continue
      space.kernel.refund(space.slab, slot * space.stride, space.policy.rates, rel, weight)
      this.keep(
        space,
        target.key,
        slot,
        space.kernel.ttl(space.slab, slot * space.stride, space.policy.rates, rel),
        false,
      )
    }
  }

  /** {@link Store.reset}: drops the key's entry (or the shared bucket), freeing its slot. */
  reset(target: StoreTarget, now: number): void {
    this.tick(now)
    const space = this.spaces.get(target.policy.namespace)
    if (!space) return
    if (target.key === undefined) space.singleLive = false
    else this.drop(space.prefix + target.key)
  }

  /** Number of keyed states held (expired entries not yet purged included), plus live shared buckets. */
  size(): number {
    let size = this.cache?.size ?? 0
    for (const space of this.spaces.values()) if (space.singleLive) size++
    return size
  }

  /** {@link Store.close}: frees every state; later calls throw `ERR_TOLLGATE_CLOSED`. */
  close(): void {
    this.closed = true
    this.lastPolicy = undefined
    this.lastSpace = undefined
    this.forgetRecent()
    this.cache?.clear()
    this.cache = undefined
    this.spaces.clear()
  }

  /** @internal The space a cache key belongs to (keys of secondary spaces carry `\0<index>\0`). */
  spaceOf(key: string): Space | undefined {
    if (key.charCodeAt(0) !== 0) return this.byIndex[0]
    return this.byIndex[Number.parseInt(key.slice(1, key.indexOf('\u0000', 1)), 36)]
  }

  /**
   * The slot holding the target's state; SCRATCH (filled with a fresh state) when it has none.
   *
   * An expired entry is a fresh key. A lookup that is about to charge (`reuse`) keeps it and
   * resets its slot to a fresh state in place; `keep` then sets its new expiry. Deleting it and
   * inserting it again would cost a dispose, a slot release and an insertion per decision for
   * every key hit less often than it takes to expire (with a high limit a GCRA key expires one
   * emission interval after its last hit: nearly every key of a large working set). Other
   * lookups forget an expired entry.
   */
  private find(space: Space, key: string | undefined, rel: number, reuse: boolean): number {
    if (key === undefined) {
      // An expired shared bucket is a fresh one (a stale sliding window would keep its old window boundaries).
      if (!space.singleLive || this.time > space.singleExpires) {
        space.kernel.fresh(space.slab, SINGLE * space.stride, space.policy.rates, rel)
      }
      return SINGLE
    }
    return this.resolve(space, key, this.lookUp(space, key), rel, reuse)
  }

  /**
   * The slot the cache holds for the key (expired or not), `undefined` when it holds none.
   *
   * The key the space found last needs no cache `get` while at most `recentSlack` gets and sets
   * (0: none), and no disposal, came after the space's own: its entry is still among the
   * most recently used, where the `get` would only move it up a few places, and far from eviction.
   * A flood of one client's requests (or a benchmark's one key) then costs no cache lookup, even
   * with limiters stacked on one store. The key is compared only once two `get`s in a row found
   * the same entry, so traffic from many clients pays no string comparison for it.
   */
  private lookUp(space: Space, key: string): number | undefined {
    const cache = this.cache
    if (cache === undefined) return undefined
    if (space.recentRepeat && key === space.recentKey && this.touches - space.recentTouch <= this.recentSlack)
      return space.recentSlot
    const prefix = space.prefix
    const slot = cache.get(prefix === '' ? key : prefix + key)
    const touches = ++this.touches
    space.recentRepeat = slot !== undefined && slot === space.recentSlot
    // Always a string, so that the comparison above compiles to a string comparison alone.
    space.recentKey = key
    space.recentSlot = slot ?? 0
    space.recentTouch = slot === undefined ? NO_TOUCH : touches
    return slot
  }

  /** The rest of `find` for a keyed target, given what `lookUp` found. */
  private resolve(space: Space, key: string, slot: number | undefined, rel: number, reuse: boolean): number {
    if (slot !== undefined) {
      if (this.time <= space.expiresAt(slot)) return slot
      if (reuse) {
        space.kernel.fresh(space.slab, slot * space.stride, space.policy.rates, rel)
        return slot
      }
      this.drop(space.prefix + key)
    }
    space.kernel.fresh(space.slab, SCRATCH * space.stride, space.policy.rates, rel)
    return SCRATCH
  }

  /**
   * After a lookup that charged nothing: an expired entry `find` kept for reuse goes, as
   * any other lookup of an expired entry forgets it.
   */
  private forgetUnused(space: Space, key: string | undefined, slot: number): void {
    if (key !== undefined && slot > SCRATCH && this.time > space.expiresAt(slot))
      this.drop(space.prefix + key)
  }

  /**
   * Records a state change, given the state's TTL now: stores new keys, moves their expiry,
   * drops states that became fresh.
   */
  private keep(space: Space, key: string | undefined, slot: number, ttl: number, inserted: boolean): void {
    if (key === undefined) {
      space.singleLive = ttl > 0
      space.singleExpires = this.time + ttl
      return
    }
    if (ttl <= 0) {
      if (inserted) space.release(slot)
      else this.drop(space.prefix + key)
      return
    }
    space.expireAt(slot, this.time + ttl)
    if (!inserted) return
    this.cache ??= this.createCache()
    this.cache.set(space.prefix + key, slot)
    this.touches++
  }

  /**
   * Forgets a key's entry. lru-cache's delete of its last entry runs clear(), which
   * fills its max-sized arrays (1.6 ms at max 100_000, for every request of a lone
   * key idle past its TTL); popping that entry is O(1) and disposes of it the same way.
   */
  private drop(cacheKey: string): void {
    const cache = this.cache
    if (cache === undefined) return
    if (cache.size !== 1) cache.delete(cacheKey)
    else if (cache.peek(cacheKey) !== undefined) cache.pop()
  }

  private createCache(): LRUCache<string, number> {
    // No lru-cache TTLs: the store keeps each entry's expiry itself (in its slot), so a
    // lookup costs no clock reads and an entry's expiry moves without a set.
    return new LRUCache<string, number>({
      max: this.max,
      dispose: (slot, key) => {
        this.forgetRecent()
        const space = this.spaceOf(key)
        if (space) {
          space.expireAt(slot, 0)
          space.release(slot)
        }
      },
    })
  }

  /** Every space's last found entry needs a `get` again: its entry may be the one disposed of. */
  private forgetRecent(): void {
    this.touches += RECENT_SPAN + 1
  }

  private tick(now: number): number {
    if (this.closed) throw new TollgateError('ERR_TOLLGATE_CLOSED', 'memoryStore: the store is closed')
    if (now > this.time) this.time = now
    return now
  }

  private space(policy: CompiledPolicy): Space {
    // Most calls come from one limiter's one policy: skip the map lookup for it (and keep this
    // method small enough to be inlined into every caller).
    return policy === this.lastPolicy ? this.lastSpace! : this.lookUpSpace(policy)
  }

  private lookUpSpace(policy: CompiledPolicy): Space {
    let space = this.spaces.get(policy.namespace)
    if (!space) {
      // The first namespace uses keys as they are (no string building on the hot path); the
      // others get a short Latin-1 tag that starts with NUL, which user keys never do.
      const n = this.byIndex.length
      space = new Space(policy, n === 0 ? '' : `\u0000${n.toString(36)}\u0000`)
      this.spaces.set(policy.namespace, space)
      this.byIndex.push(space)
    }
    this.lastPolicy = policy
    this.lastSpace = space
    return space
  }
}

/** The largest `resetMs` of `count` rates in an inspect output (`remaining, resetMs` pairs). */
function longestReset(out: readonly number[], count: number): number {
  let longest = out[1]!
  for (let i = 1; i < count; i++) longest = Math.max(longest, out[2 * i + 1]!)
  return longest
}

/** Creates a {@link MemoryStore}: the default store, fast and synchronous, for one process. */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options)
}
