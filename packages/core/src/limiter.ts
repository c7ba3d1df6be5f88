import type { Clock } from './clock.js'
import { systemClock } from './clock.js'
import { parseDuration } from './duration.js'
import {
  describe,
  invalidOption,
  rejectUnknownOptions,
  TollgateError,
  TollgateRangeError,
  TollgateTypeError,
} from './errors.js'
import { MemoryStore } from './memory-store.js'
import { ALGORITHMS, type CompiledPolicy, type CompiledRate, checkName, compilePolicy } from './policy.js'
import { type Reservation, type Reservations, reservationsOf } from './reservations.js'
import type { Store, StoreOutcome, StoreTarget, SyncStore } from './store.js'
import type {
  AcquireOptions,
  Algorithm,
  ConsumeOptions,
  Decision,
  DecisionReason,
  LimiterOptions,
  Logger,
  PolicyOptions,
  RateStatus,
} from './types.js'

/** `T` when the limiter is synchronous, `Promise<T>` when it is not. */
export type Result<Sync extends boolean, T> = Sync extends true ? T : Promise<T>

/** A rate as the limiter runs it: the public view of a validated rate. */
export interface RateInfo {
  /** The rate's name in headers and decisions (`'default'`, `'r0'`, ... unless configured). */
  readonly name: string
  /** Units allowed per `window`. */
  readonly limit: number
  /** Window in ms. */
  readonly window: number
  /** Units a fresh key may spend at once (`limit` unless configured; always `limit` for windows). */
  readonly burst: number
  /** The quota unit, when one was configured. */
  readonly quotaUnit: string | undefined
}

/** Options of {@link Limiter.wrap}. */
export interface WrapOptions<A extends unknown[]> {
  /** The key to charge, or a function of the call's arguments. `undefined`: the fallback bucket. @default undefined */
  readonly key?: string | ((...args: A) => string | undefined)
  /** Units per call, or a function of the call's arguments (e.g. estimated LLM tokens). @default 1 */
  readonly weight?: number | ((...args: A) => number)
  /** Longest wait for a slot; later slots reject at once. @default Infinity */
  readonly maxDelay?: number | string
}

/**
 * A rate limiter: turns `(key, weight)` into a {@link Decision}.
 * With a synchronous store (the default memory store) `consume`, `peek`,
 * `reserve`, `refund` and `reset` answer synchronously (`Sync = true`).
 */
export interface Limiter<Sync extends boolean = boolean> {
  /** The policy name (`'default'` unless named). */
  readonly name: string
  /** The algorithm every rate runs. */
  readonly algorithm: Algorithm
  /** The key's rates as validated (not the fallback's or the global ceiling's), in order. */
  readonly rates: readonly RateInfo[]
  /** The limiter's time source; adapters read it so headers and waits agree with decisions. */
  readonly clock: Clock
  /** `true` when the store answers synchronously: `consume` and friends then return plain values. */
  readonly synchronous: Sync
  /**
   * Polices a request: allowed or not; charges only when allowed (every rate, or none).
   * @param key The client's key; `undefined` counts against the shared fallback bucket.
   * @throws TollgateTypeError/TollgateRangeError (synchronously) for an invalid key or weight.
   */
  consume(key: string | undefined, options?: ConsumeOptions): Result<Sync, Decision>
  /** The decision `consume` would make, without charging. */
  peek(key: string | undefined, options?: ConsumeOptions): Result<Sync, Decision>
  /**
   * Shapes a request without waiting: reserves the earliest slot within `maxDelay` and
   * answers with `delayMs` until it; rejects (charging nothing) when the slot is later.
   * The caller waits `delayMs`, or calls `cancel(decision)` to give the slot back.
   */
  reserve(key: string | undefined, options?: Omit<AcquireOptions, 'signal'>): Result<Sync, Decision>
  /**
   * Gives back a reservation of `reserve` that will not be used (the caller stopped waiting).
   * Its units return once no later reservation of the same key on this store in this process
   * still waits: refunding a reservation in the middle of a key's schedule would hand the next
   * newcomer the slot of a later waiter (two requests at once). Until then the slot goes
   * unused, which never admits more than the policy. A reservation whose slot has come, or that
   * was not delayed, is in use and is not given back (use `refund` for units already spent).
   */
  cancel(decision: Decision): Result<Sync, void>
  /**
   * Shapes a request and waits: resolves with the decision when the reserved slot arrives.
   * Rejects at once with `ERR_TOLLGATE_LIMITED` (error.decision) when the slot is later than
   * `maxDelay` or the weight can never pass; an aborted `signal` cancels the wait, gives the
   * reservation back and rejects with the signal's reason.
   */
  acquire(key: string | undefined, options?: AcquireOptions): Promise<Decision>
  /** Gives `weight` units back to the key (and the global ceiling), never beyond a fresh key. */
  refund(key: string | undefined, weight?: number): Result<Sync, void>
  /** Forgets the key's state (not the global ceiling's). */
  reset(key: string | undefined): Result<Sync, void>
  /**
   * Wraps an outbound call (an API client, an LLM request): each call waits for a slot
   * (`acquire`), then runs. Rejects with `ERR_TOLLGATE_LIMITED` when no slot is within `maxDelay`.
   */
  wrap<A extends unknown[], R>(
    fn: (...args: A) => R,
    options?: WrapOptions<A>,
  ): (...args: A) => Promise<Awaited<R>>
  /**
   * Rejects pending `acquire` waits (giving their reservations back) and closes the store if the
   * limiter created it; a shared store (one passed in, or the one named limiters share) stays open.
   */
  close(): Promise<void>
}

/** Thrown (rejected) by `acquire` and `wrap` when a request cannot get a slot. */
export class RateLimitError extends TollgateError {
  /** The rejecting decision: `retryAfterMs` says when to try again (`Infinity` for `too-heavy`). */
  readonly decision: Decision
  /** Words the message from the decision; `code` is always `ERR_TOLLGATE_LIMITED`. */
  constructor(decision: Decision) {
    const why =
      decision.reason === 'too-heavy'
        ? `weight ${decision.weight} exceeds what a rate admits at once`
        : `retry in ${decision.retryAfterMs} ms`
    super('ERR_TOLLGATE_LIMITED', `rate limited (${decision.reason}): ${why}`)
    this.name = 'RateLimitError'
    this.decision = decision
  }
}

const OPTIONS = new Set([
  'limit',
  'window',
  'burst',
  'quotaUnit',
  'rates',
  'algorithm',
  'store',
  'name',
  'fallback',
  'global',
  'clock',
  'logger',
])
const POLICY_OPTIONS = new Set(['limit', 'window', 'burst', 'quotaUnit', 'rates'])
const MAX_KEY_LENGTH = 1024

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function'
}

function policyOf(options: LimiterOptions): PolicyOptions {
  const { limit, window, burst, quotaUnit, rates } = options
  return (
    rates !== undefined ? { rates, limit, window, burst } : { limit, window, burst, quotaUnit }
  ) as PolicyOptions
}

function parseMaxDelay(value: unknown, where: string): number {
  if (value === undefined || value === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY
  if (typeof value === 'number' && value >= 0 && Number.isFinite(value)) return Math.floor(value)
  if (typeof value === 'string') return parseDuration(value, 'maxDelay', where, true)
  return invalidOption(
    where,
    'maxDelay',
    'a duration of 0 or more (ms, a string like "5s", or Infinity)',
    value,
  )
}

/** Validates a request-time key: a non-empty string of at most 1024 characters not starting with NUL, or `undefined`. */
export function checkKey(key: unknown): string | undefined {
  if (key === undefined) return undefined
  // A leading NUL is reserved: the memory store tags the keys of secondary namespaces with it.
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH || key.charCodeAt(0) === 0)
    invalidKey(key)
  return key
}

/** `checkKey`'s error, apart so that `checkKey` stays small enough for V8 to inline anywhere. */
function invalidKey(key: unknown): never {
  throw new TollgateTypeError(
    'ERR_TOLLGATE_INVALID_KEY',
    `tollgate: a key must be a non-empty string of at most ${MAX_KEY_LENGTH} characters not starting with NUL (or undefined for the fallback bucket), got ${describe(key)}`,
  )
}

/** Validates a request-time weight: a positive finite number. */
export function checkWeight(weight: unknown): number {
  if (weight === undefined) return 1
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
    throw new TollgateRangeError(
      'ERR_TOLLGATE_INVALID_WEIGHT',
      `tollgate: "weight" must be a positive finite number, got ${describe(weight)}`,
    )
  }
  return weight
}

/**
 * The decision of a charge on a one-rate policy without a global ceiling (and not too heavy),
 * from the memory store's outcome: what the limiter's general `toDecision` builds, field for field
 * and in the same order, in one object literal, without its loop and its holey rates array.
 */
function oneRateDecision(
  key: string | undefined,
  weight: number,
  rate: CompiledRate,
  outcome: StoreOutcome,
): Decision {
  const allowed = outcome.allowed
  const remaining = outcome.rates[0]!
  const resetMs = outcome.rates[1]!
  return {
    allowed,
    key,
    weight,
    limit: rate.limit,
    remaining,
    resetMs,
    retryAfterMs: allowed ? 0 : outcome.retryAfterMs,
    delayMs: allowed ? outcome.delayMs : 0,
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
    reason: key === undefined ? 'fallback' : allowed ? 'ok' : 'limited',
  }
}

/**
 * The memory store of limiters that have a `name` but no `store`, one per clock: limiters with
 * the same name share counters (route groups) without passing a store around. Limiters on
 * different clocks (a test's manual clock) keep apart, as their times are not comparable.
 */
const namedStores = new WeakMap<Clock, MemoryStore>()

function namedStore(clock: Clock): MemoryStore {
  let store = namedStores.get(clock)
  if (store === undefined) {
    store = new MemoryStore()
    namedStores.set(clock, store)
  }
  return store
}

/** What the limiter remembers of a reservation that still waits, to give it back. */
interface Waiting {
  readonly key: string | undefined
  readonly own: Reservation
  readonly global: Reservation | undefined
}

class RateLimiter implements Limiter<boolean> {
  readonly name: string
  readonly algorithm: Algorithm
  readonly rates: readonly RateInfo[]
  readonly clock: Clock
  readonly synchronous: boolean
  private readonly store: Store
  private readonly ownsStore: boolean
  private readonly policy: CompiledPolicy
  private readonly fallback: CompiledPolicy
  private readonly global: CompiledPolicy | undefined
  private readonly globalTarget: StoreTarget | undefined
  private readonly fallbackTargets: readonly StoreTarget[]
  private readonly waits = new Set<() => void>()
  /** The reservations of this limiter still waiting for their slot, by decision. */
  private readonly waiting = new WeakMap<Decision, Waiting>()
  private readonly reservations: Reservations
  /** The memory store's allocation-free path, when there is no global ceiling to charge too. */
  private readonly fast: MemoryStore | undefined
  private readonly keyedRates: readonly CompiledRate[]
  private readonly fallbackRates: readonly CompiledRate[]
  private closed = false

  constructor(options: LimiterOptions) {
    const where = 'createLimiter'
    if (typeof options !== 'object' || options === null)
      invalidOption(where, 'options', 'an object', options, 'type')
    rejectUnknownOptions(where, options, OPTIONS)
    const algorithm = options.algorithm ?? 'gcra'
    if (!ALGORITHMS.includes(algorithm))
      invalidOption(where, 'algorithm', `one of ${ALGORITHMS.join(', ')}`, algorithm, 'type')
    const name = options.name === undefined ? undefined : checkName(where, 'name', options.name)
    const clock = options.clock ?? systemClock
    if (typeof clock?.now !== 'function' || typeof clock.setTimeout !== 'function') {
      invalidOption(where, 'clock', 'an object with now(), setTimeout() and clearTimeout()', clock, 'type')
    }
    const logger = options.logger ?? console
    const store = options.store ?? (name === undefined ? new MemoryStore() : namedStore(clock))
    if (typeof store?.consume !== 'function')
      invalidOption(where, 'store', 'a store such as memoryStore()', store, 'type')

    this.policy = compilePolicy(where, policyOf(options), algorithm, name, false, name ?? 'default')
    const base = this.policy.namespace
    this.fallback = options.fallback
      ? compilePolicy(
          `${where}: fallback`,
          this.subPolicy('fallback', options.fallback),
          algorithm,
          `${base}|fallback`,
          false,
          name ?? 'default',
        )
      : { ...this.policy, namespace: `${base}|fallback` }
    this.global = options.global
      ? compilePolicy(
          `${where}: global`,
          this.subPolicy('global', options.global),
          algorithm,
          `${base}|global`,
          true,
          'global',
        )
      : undefined
    this.globalTarget = this.global ? { policy: this.global, key: undefined } : undefined
    this.fallbackTargets = this.targets(undefined)

    this.name = name ?? 'default'
    this.algorithm = algorithm
    this.rates = this.policy.rates.map(({ name, limit, window, burst, quotaUnit }) => ({
      name,
      limit,
      window,
      burst,
      quotaUnit,
    }))
    this.clock = clock
    this.store = store
    this.ownsStore = options.store === undefined && name === undefined
    this.reservations = reservationsOf(store)
    this.synchronous = store.synchronous
    this.fast = store instanceof MemoryStore && !this.global ? store : undefined
    const globalRates = this.global?.rates ?? []
    this.keyedRates = [...this.policy.rates, ...globalRates]
    this.fallbackRates = [...this.fallback.rates, ...globalRates]

    for (const policy of [this.policy, this.fallback, this.global]) {
      if (!policy || !store.register) continue
      const sharers = store.register(policy, this)
      if (sharers > 1 && name === undefined && policy === this.policy) {
        logger.warn(
          `tollgate: ${sharers} limiters count the same requests in one store under the same unnamed policy (${policy.fingerprint}); each request is charged once per limiter. Give limiters that should share counters the same "name", and different names otherwise.`,
        )
      }
    }
  }

  consume(key: string | undefined, options?: ConsumeOptions) {
    return this.decide(key, options?.weight, 0, true)
  }

  peek(key: string | undefined, options?: ConsumeOptions) {
    return this.decide(key, options?.weight, 0, false)
  }

  reserve(key: string | undefined, options?: Omit<AcquireOptions, 'signal'>) {
    return this.reserveAs('reserve', key, options)
  }

  private reserveAs(where: string, key: string | undefined, options?: Omit<AcquireOptions, 'signal'>) {
    this.assertShaping()
    const now = this.now()
    const decision = this.decide(key, options?.weight, parseMaxDelay(options?.maxDelay, where), true)
    if (isPromise(decision)) return decision.then((d) => this.remember(d, now))
    return this.remember(decision, now)
  }

  cancel(decision: Decision) {
    this.assertOpen()
    const waiting = this.waiting.get(decision)
    if (waiting === undefined) return this.synchronous ? undefined : Promise.resolve()
    this.waiting.delete(decision)
    const now = this.now()
    const own = waiting.key === undefined ? this.fallback : this.policy
    const ownUnits = this.reservations.cancel(counterOf(own, waiting.key), waiting.own, now)
    const globalUnits =
      waiting.global && this.global
        ? this.reservations.cancel(counterOf(this.global), waiting.global, now)
        : 0
    const ownRefund =
      ownUnits > 0 ? this.store.refund([{ policy: own, key: waiting.key }], ownUnits, now) : undefined
    const globalRefund =
      globalUnits > 0 ? this.store.refund([this.globalTarget!], globalUnits, now) : undefined
    if (this.synchronous) return undefined
    return Promise.all([ownRefund, globalRefund]).then(() => undefined)
  }

  async acquire(key: string | undefined, options: AcquireOptions = {}): Promise<Decision> {
    const signal = options.signal
    signal?.throwIfAborted()
    const decision = await this.reserveAs('acquire', key, options)
    if (!decision.allowed) throw new RateLimitError(decision)
    if (decision.delayMs <= 0) return decision
    // The signal may have been aborted while the reservation was being made.
    if (signal?.aborted) {
      await this.giveBackQuietly(decision)
      throw signal.reason
    }
    await new Promise<void>((resolve, reject) => {
      const finish = (error?: unknown) => {
        this.clock.clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        this.waits.delete(cancel)
        if (error === undefined) resolve()
        else reject(error)
      }
      const giveBack = (error: unknown) => {
        finish(error)
        void this.giveBackQuietly(decision)
      }
      const onAbort = () => giveBack(signal?.reason)
      const cancel = () =>
        giveBack(new TollgateError('ERR_TOLLGATE_CLOSED', 'tollgate: the limiter was closed'))
      const timer = this.clock.setTimeout(() => finish(), decision.delayMs)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waits.add(cancel)
    })
    return decision
  }

  refund(key: string | undefined, weight?: number) {
    this.assertOpen()
    const targets = this.targets(checkKey(key))
    return this.store.refund(targets, checkWeight(weight), this.now())
  }

  reset(key: string | undefined) {
    this.assertOpen()
    checkKey(key)
    return this.store.reset(
      key === undefined ? this.fallbackTargets[0]! : { policy: this.policy, key },
      this.now(),
    )
  }

  wrap<A extends unknown[], R>(fn: (...args: A) => R, options: WrapOptions<A> = {}) {
    if (typeof fn !== 'function') invalidOption('wrap', 'fn', 'a function', fn, 'type')
    const { key, weight, maxDelay } = options
    parseMaxDelay(maxDelay, 'wrap')
    return async (...args: A): Promise<Awaited<R>> => {
      const k = typeof key === 'function' ? key(...args) : key
      const w = typeof weight === 'function' ? weight(...args) : weight
      await this.acquire(k, {
        ...(w === undefined ? {} : { weight: w }),
        ...(maxDelay === undefined ? {} : { maxDelay }),
      })
      return await fn(...args)
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    // Waits give their reservations back while the limiter is still open.
    for (const cancel of [...this.waits]) cancel()
    this.closed = true
    for (const policy of [this.policy, this.fallback, this.global]) {
      if (policy) this.store.unregister?.(policy, this)
    }
    if (this.ownsStore) await this.store.close()
  }

  /** Records a delayed reservation, so that `cancel` can give it back. */
  private remember(decision: Decision, now: number): Decision {
    if (!decision.allowed || decision.delayMs <= 0) return decision
    const at = now + decision.delayMs
    const own = decision.key === undefined ? this.fallback : this.policy
    this.waiting.set(decision, {
      key: decision.key,
      own: this.reservations.add(counterOf(own, decision.key), at, decision.weight, now),
      global: this.global
        ? this.reservations.add(counterOf(this.global), at, decision.weight, now)
        : undefined,
    })
    return decision
  }

  /** `cancel`, for waits that end: a failure to give back must not mask why the wait ended. */
  private async giveBackQuietly(decision: Decision): Promise<void> {
    try {
      await this.cancel(decision)
    } catch {}
  }

  private subPolicy(option: string, value: unknown): PolicyOptions {
    if (typeof value !== 'object' || value === null) {
      invalidOption('createLimiter', option, 'a policy such as { limit: 1000, window: "1s" }', value, 'type')
    }
    rejectUnknownOptions(`createLimiter: ${option}`, value, POLICY_OPTIONS)
    return value as PolicyOptions
  }

  private assertOpen(): void {
    if (this.closed) throw new TollgateError('ERR_TOLLGATE_CLOSED', 'tollgate: the limiter is closed')
  }

  private assertShaping(): void {
    if (this.algorithm === 'sliding-window') {
      throw new TollgateTypeError(
        'ERR_TOLLGATE_UNSUPPORTED',
        'tollgate: shaping (reserve, acquire, wrap, delay mode) needs an algorithm that can reserve future slots; the sliding-window estimate cannot, use gcra, a bucket or fixed-window',
      )
    }
  }

  private now(): number {
    return Math.floor(this.clock.now())
  }

  private targets(key: string | undefined): readonly StoreTarget[] {
    const own: StoreTarget = key === undefined ? { policy: this.fallback, key } : { policy: this.policy, key }
    return this.globalTarget ? [own, this.globalTarget] : [own]
  }

  /**
   * Validates the request, reads the clock and, on the memory store's fused path (one GCRA rate,
   * a stored key, no global ceiling), answers at once; everything else goes to `decideRest`.
   * Kept small so that V8 inlines it into `consume` (V8 inlines functions of at most 460 bytes of
   * bytecode): as one function with the rest, every decision paid a call into it, with `now`
   * boxed, before the call into the store.
   */
  private decide(
    rawKey: unknown,
    rawWeight: unknown,
    maxDelay: number,
    charge: boolean,
  ): Decision | Promise<Decision> {
    if (this.closed) this.assertOpen()
    const key = checkKey(rawKey)
    const weight = rawWeight === undefined ? 1 : checkWeight(rawWeight)
    const now = Math.floor(this.clock.now())
    const fast = this.fast
    if (fast === undefined || !charge || key === undefined || weight > this.policy.maxWeight)
      return this.decideRest(key, weight, maxDelay, charge, now, undefined)
    const decided = fast.decideGcra(this.policy, key, weight, maxDelay, now)
    return decided || this.decideRest(key, weight, maxDelay, charge, now, decided)
  }

  /**
   * `decide` past its fused path. `found` is what the fused path answered when it ran: `null`
   * when the key has no state (the store need not look it up again), `undefined` otherwise.
   */
  private decideRest(
    key: string | undefined,
    weight: number,
    maxDelay: number,
    charge: boolean,
    now: number,
    found: null | undefined,
  ): Decision | Promise<Decision> {
    const fast = this.fast
    if (fast !== undefined && charge) {
      const policy = key === undefined ? this.fallback : this.policy
      if (weight <= policy.maxWeight) {
        const outcome =
          found === null
            ? fast.consumeNew(policy, key!, weight, maxDelay, now)
            : fast.consumeOne(policy, key, weight, maxDelay, now)
        return policy.rates.length === 1
          ? oneRateDecision(key, weight, policy.rates[0]!, outcome)
          : this.toDecision(key, weight, policy.rates, false, outcome, false, true)
      }
    }
    const targets = key === undefined ? this.fallbackTargets : this.targets(key)
    const heavy =
      weight > targets[0]!.policy.maxWeight || (this.global !== undefined && weight > this.global.maxWeight)
    // A too-heavy request only reports the rates' state (its wait is infinite): the store peeks
    // with one unit, never with a weight whose arithmetic could overflow (1e308 × an interval).
    const outcome = heavy
      ? this.store.peek(targets, 1, now)
      : charge
        ? this.store.consume({ targets, weight, maxDelay, now })
        : this.store.peek(targets, weight, now)
    const rates = this.global ? this.allRates(targets[0]!.policy) : targets[0]!.policy.rates
    if (isPromise(outcome)) {
      return outcome.then((o) =>
        this.toDecision(key, weight, rates, this.global !== undefined, o, heavy, charge),
      )
    }
    const decision = this.toDecision(key, weight, rates, this.global !== undefined, outcome, heavy, charge)
    // An asynchronous store's limiter always answers with a promise, as its type says.
    return this.synchronous ? decision : Promise.resolve(decision)
  }

  /** The key's (or fallback's) rates followed by the global ceiling's. */
  private allRates(own: CompiledPolicy): readonly CompiledRate[] {
    return own === this.policy ? this.keyedRates : this.fallbackRates
  }

  private toDecision(
    key: string | undefined,
    weight: number,
    compiled: readonly CompiledRate[],
    withGlobal: boolean,
    outcome: StoreOutcome,
    heavy: boolean,
    charged: boolean,
  ): Decision {
    const values = outcome.rates
    const globalFrom = withGlobal ? compiled.length - this.global!.rates.length : compiled.length
    const rates = new Array<RateStatus>(compiled.length)
    let tightest = 0
    for (let i = 0; i < compiled.length; i++) {
      const rate = compiled[i]!
      const remaining = values[2 * i]!
      const resetMs = values[2 * i + 1]!
      rates[i] = {
        name: rate.name,
        limit: rate.limit,
        window: rate.window,
        quotaUnit: rate.quotaUnit,
        remaining,
        resetMs,
        global: i >= globalFrom,
      }
      const best = rates[tightest]!
      if (remaining < best.remaining || (remaining === best.remaining && resetMs > best.resetMs)) tightest = i
    }
    const allowed = !heavy && outcome.allowed
    let reason: DecisionReason
    if (heavy) reason = 'too-heavy'
    else if (outcome.fallback) reason = outcome.fallback
    else if (!allowed && withGlobal && outcome.blockedBy === 1) reason = 'global-limited'
    else if (key === undefined) reason = 'fallback'
    else reason = allowed ? 'ok' : 'limited'
    const top = rates[tightest]!
    return {
      allowed,
      key,
      weight,
      limit: top.limit,
      remaining: top.remaining,
      resetMs: top.resetMs,
      retryAfterMs: allowed ? 0 : heavy ? Number.POSITIVE_INFINITY : outcome.retryAfterMs,
      delayMs: charged && allowed ? outcome.delayMs : 0,
      rates,
      reason,
    }
  }
}

/** The name of a counter (a policy's namespace and a key) among the reservations of a store. */
function counterOf(policy: CompiledPolicy, key?: string): string {
  return key === undefined ? `${policy.namespace}\u0000` : `${policy.namespace}\u0000\u0000${key}`
}

/**
 * Creates a rate limiter.
 *
 * ```ts
 * const limiter = createLimiter({ limit: 100, window: '1m' })
 * const decision = limiter.consume(userId)
 * if (!decision.allowed) retryLater(decision.retryAfterMs)
 * ```
 *
 * @throws TollgateTypeError / TollgateRangeError with a stable `code` when an option is invalid.
 */
export function createLimiter(options: LimiterOptions & { readonly store?: SyncStore }): Limiter<true>
export function createLimiter(options: LimiterOptions): Limiter<false>
export function createLimiter(options: LimiterOptions): Limiter<boolean> {
  return new RateLimiter(options)
}

export type { Logger }
