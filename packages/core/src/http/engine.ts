import type { Clock } from '../clock.js'
import {
  draft6Headers,
  draft8Headers,
  type HeaderFormat,
  rateLimitHeaders,
  retryAfterValue,
  sfString,
  toSeconds,
} from '../headers.js'
import type { Limiter } from '../limiter.js'
import type { Decision, Logger, RateStatus } from '../types.js'
import { ipKey } from './ip-key.js'
import type { HttpConfig } from './options.js'
import { failureBody, type HttpBody, type HttpMessage, limitedBody, prefersJson } from './respond.js'

/**
 * The part of Node's `ServerResponse` the engine watches (client disconnects, final status).
 * @internal Part of {@link HttpBinding}, for the Express, Koa and Fastify adapters.
 */
export interface HttpResponseLike {
  /** The final status, read once the response is over to tell failed from successful requests. */
  readonly statusCode: number
  /** `false` at `close` when the client left before the response was sent (a failed request). */
  readonly writableFinished: boolean
  /** `true` once the connection is gone (the client left before a step that was async finished). */
  readonly destroyed?: boolean
  /** Subscribes to the end of the exchange (sent or abandoned): refunds and delay-mode give-backs wait on it. */
  once(event: 'close', listener: () => void): unknown
  /** Unsubscribes once the wait it guarded is over, so long-lived connections do not collect listeners. */
  removeListener(event: 'close', listener: () => void): unknown
}

/**
 * How one framework's request objects map onto the engine. `A` and `B` are what the
 * framework hands a middleware (Express `req, res`; Koa `ctx, undefined`; Fastify `request, reply`).
 * Every member is a plain function of them, so the hot path allocates no closures.
 * @internal Implemented by the Express, Koa and Fastify adapters; not a stable extension point.
 */
export interface HttpBinding<A, B> {
  /** 2: user callbacks receive `(a, b, decision?)`; 1: `(a, decision?)`. */
  readonly arity: 1 | 2
  /** The client address as the framework resolves it (its proxy setting applied). */
  clientIp(a: A, b: B): string | undefined
  /** The peer address of the socket, ignoring proxies (to warn about a missing proxy setting). */
  remoteAddress(a: A, b: B): string | undefined
  /** A request header, by lower-case name. */
  header(a: A, b: B, name: string): string | undefined
  /** Node's response, for disconnects and the final status. */
  response(a: A, b: B): HttpResponseLike
  /** Sets a response header (rate-limit fields, `Retry-After`), replacing any earlier value. */
  setHeader(a: A, b: B, name: string, value: string): void
  /** Exposes the decision to handlers and returns every decision made on this request so far. */
  record(a: A, b: B, decision: Decision): Decision | readonly Decision[]
  /** Answers the request; the return value is what the middleware returns. */
  send(a: A, b: B, status: number, body: HttpBody): unknown
  /** Runs the user's `handler` with the framework's own signature. */
  callHandler(handler: unknown, a: A, b: B, next: () => unknown, decision: Decision): unknown
}

const DECISIONS: unique symbol = Symbol.for('tollgate.decisions')

/**
 * Returns every decision made on a request so far, given what the adapter's own property
 * (`req.rateLimit`, ...) held before this one: that decision alone for the first limiter (nothing
 * else is kept on the request, so a single limiter adds one property to it), a list once limiters
 * are stacked. Headers then describe every limiter's policy. A value there that is not a Tollgate
 * decision (express-rate-limit keeps its own `req.rateLimit`, for one) is no limiter of ours and
 * is left out, and so are decisions made before other code cleared the property or put another
 * decision in it. The list is kept on the holder under a symbol, or in `lists` when given (an
 * adapter whose requests should not gain a property).
 * @internal Used by the `record` binding of each adapter, which keeps decisions on its request object.
 */
export function collectDecisions(
  holder: object,
  previous: unknown,
  decision: Decision,
  lists?: WeakMap<object, readonly Decision[]>,
): Decision | readonly Decision[] {
  if (previous === undefined || previous === null) return decision
  const slot = holder as { [DECISIONS]?: readonly Decision[] }
  const earlier = lists === undefined ? slot[DECISIONS] : lists.get(holder)
  let list: readonly Decision[]
  if (isDecision(previous)) {
    // The kept list is this request's only while it ends with the previous decision: a property
    // cleared or replaced by other code in between started a new one.
    list =
      earlier !== undefined && earlier[earlier.length - 1] === previous
        ? [...earlier, decision]
        : [previous, decision]
  } else if (earlier === undefined) return decision
  // A foreign value: earlier Tollgate decisions, if any, were kept in the list.
  else list = [...earlier, decision]
  if (lists === undefined) slot[DECISIONS] = list
  else lists.set(holder, list)
  return list
}

/** Whether a value has the shape of a {@link Decision} (the fields the headers are built from). */
function isDecision(value: unknown): value is Decision {
  const d = value as Partial<Decision>
  return typeof d === 'object' && typeof d.allowed === 'boolean' && Array.isArray(d.rates)
}

/** Whether the decisions list exactly `rates`, in order (see {@link StackText}). */
function sameRates(
  rates: readonly (readonly [string, number, number, string | undefined])[],
  list: readonly Decision[],
): boolean {
  let i = 0
  for (const d of list) {
    for (const r of d.rates) {
      const known = rates[i++]
      if (
        known === undefined ||
        known[0] !== r.name ||
        known[1] !== r.limit ||
        known[2] !== r.window ||
        known[3] !== r.quotaUnit
      )
        return false
    }
  }
  return i === rates.length
}

/**
 * Appends the draft-8 `RateLimit` members of `rates` to `value`: each rate's cached prefix
 * (`"name";r=`, from `prefixes[at]` on) with its remaining and reset, comma-separated.
 */
function draft8Members(
  value: string,
  prefixes: readonly string[],
  at: number,
  rates: readonly RateStatus[],
): string {
  for (let i = 0; i < rates.length; i++) {
    const rate = rates[i]!
    value += `${at + i === 0 ? '' : ', '}${prefixes[at + i]}${rate.remaining};t=${toSeconds(rate.resetMs)}`
  }
  return value
}

/** Signals that the request proceeds without a decision (skipped, or failed open). */
const PASS: unique symbol = Symbol('tollgate.pass')

/** The limiter could not decide and the failure policy is closed. */
class Failure {
  constructor(readonly status: 500 | 503) {}
}

type Verdict = Decision | Failure | typeof PASS
type Callback = (a: unknown, b: unknown, decision?: Decision) => unknown

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as Promise<unknown> | undefined)?.then === 'function'
}

const LOG_INTERVAL = 60_000

/**
 * Until it has warned, the engine looks for an untrusted proxy on the first request and on every
 * this-many after. Requests through a proxy all carry X-Forwarded-For, so the warning comes within
 * that many requests; the others skip the header read, which on Express is a runtime property
 * lookup per request.
 */
const PROXY_CHECK_EVERY = 64

/**
 * What a `key` callback returned, as the limiter's key: no key (`undefined`, `null`, `''`, as an
 * absent header gives) is the keyless fallback bucket; a number or bigint (a user id) is its
 * decimal string. Anything else goes to the limiter as is, which rejects it.
 */
function requestKey(key: unknown): string | undefined {
  if (key === undefined || key === null || key === '') return undefined
  if ((typeof key === 'number' && Number.isFinite(key)) || typeof key === 'bigint') return String(key)
  return key as string
}

/** Header text that depends only on the policy, computed once per kind of decision. */
interface PolicyText {
  readonly count: number
  readonly policy: string
  /** draft-8: `"name";r=` per rate. */
  readonly prefixes: readonly string[]
}

/**
 * draft-8 header text of stacked limiters' decisions, kept for the next request while every rate in
 * the list is the same (name, limit, window, quota unit: the text depends on nothing else).
 */
interface StackText extends PolicyText {
  /** The rates the text was built from, in order, each as `[name, limit, window, quotaUnit]`. */
  readonly rates: readonly (readonly [string, number, number, string | undefined])[]
}

/**
 * The framework-neutral request pipeline of the adapters: skip → key → weight →
 * consume/reserve → headers → proceed, delay or reject. With synchronous callbacks
 * and a synchronous store it runs without a promise; any async step switches the
 * rest of that request to promises.
 * @internal Shared by the Express, Koa and Fastify adapters, which only bind it to their request objects.
 */
export class HttpEngine<A, B> {
  /** The limiter the engine charges; adapters expose it so applications can `reset` or `refund` keys. */
  readonly limiter: Limiter
  private readonly config: HttpConfig
  private readonly binding: HttpBinding<A, B>
  private readonly where: string
  private readonly clock: Clock
  private readonly logger: Logger
  private readonly format: HeaderFormat | false
  private readonly watching: boolean
  private readonly texts: [PolicyText | undefined, PolicyText | undefined] = [undefined, undefined]
  private stackText: StackText | undefined
  private lastLog = Number.NEGATIVE_INFINITY
  private unlogged = 0
  private proxyWarned = false
  /** Requests until the next proxy check ({@link PROXY_CHECK_EVERY}). */
  private proxyCountdown = 1
  private namesChecked = false

  /** @param where - The adapter's name (`'rateLimit'`), prefixed to every message it logs. */
  constructor(where: string, config: HttpConfig, binding: HttpBinding<A, B>) {
    this.where = where
    this.config = config
    this.binding = binding
    this.limiter = config.limiter
    this.clock = config.limiter.clock
    this.logger = config.logger
    this.format = config.headers
    this.watching = config.skipFailedRequests || config.skipSuccessfulRequests
  }

  /**
   * Runs the limiter for one request. `next` continues the framework's chain; its
   * return value (Koa's promise) is returned, or a promise of it when a step was async.
   * Never rejects because of a callback or the store: those follow the failure policy.
   */
  handle(a: A, b: B, next: () => unknown): unknown {
    const verdict = this.evaluate(a, b)
    if (isPromise(verdict)) return verdict.then((v) => this.apply(a, b, next, v as Verdict))
    return this.apply(a, b, next, verdict)
  }

  private evaluate(a: A, b: B): Verdict | Promise<Verdict> {
    const skip = this.config.skip
    if (skip !== undefined) {
      let skipped: unknown
      try {
        skipped = skip(a, b)
      } catch (error) {
        return this.callbackFailed('skip', error)
      }
      if (isPromise(skipped)) {
        return skipped.then(
          (s) => (s === true ? PASS : this.keyStep(a, b)),
          (error) => this.callbackFailed('skip', error),
        )
      }
      if (skipped === true) return PASS
    }
    return this.keyStep(a, b)
  }

  private keyStep(a: A, b: B): Verdict | Promise<Verdict> {
    const keyFn = this.config.key
    if (keyFn === undefined) {
      if (!this.proxyWarned && --this.proxyCountdown === 0) {
        this.proxyCountdown = PROXY_CHECK_EVERY
        this.checkProxy(a, b)
      }
      return this.weightStep(a, b, ipKey(this.binding.clientIp(a, b), this.config.ipv6Subnet))
    }
    let key: unknown
    try {
      key = keyFn(a, b)
    } catch (error) {
      return this.callbackFailed('key', error)
    }
    if (isPromise(key)) {
      return key.then(
        (k) => this.weightStep(a, b, k),
        (error) => this.callbackFailed('key', error),
      )
    }
    return this.weightStep(a, b, key)
  }

  private weightStep(a: A, b: B, key: unknown): Verdict | Promise<Verdict> {
    const weightFn = this.config.weight
    if (weightFn === undefined) return this.charge(key, undefined)
    let weight: unknown
    try {
      weight = weightFn(a, b)
    } catch (error) {
      return this.callbackFailed('weight', error)
    }
    if (isPromise(weight)) {
      return weight.then(
        (w) => this.charge(key, w),
        (error) => this.callbackFailed('weight', error),
      )
    }
    return this.charge(key, weight)
  }

  private charge(key: unknown, weight: unknown): Verdict | Promise<Verdict> {
    let result: Decision | Promise<Decision>
    try {
      const k = typeof key === 'string' && key !== '' ? key : requestKey(key)
      if (this.config.delay) {
        result = this.limiter.reserve(k, { weight: weight as number, maxDelay: this.config.maxDelay })
      } else {
        result = this.limiter.consume(k, weight === undefined ? undefined : { weight: weight as number })
      }
    } catch (error) {
      const code = (error as { code?: unknown } | undefined)?.code
      if (code === 'ERR_TOLLGATE_INVALID_KEY') return this.callbackFailed('key', error)
      if (code === 'ERR_TOLLGATE_INVALID_WEIGHT') return this.callbackFailed('weight', error)
      return this.storeFailed(error)
    }
    if (isPromise(result)) return result.then(undefined, (error) => this.storeFailed(error))
    return result
  }

  private callbackFailed(what: string, error: unknown): Verdict {
    this.log(
      `${this.where}: the "${what}" callback failed; the request was ${this.config.failure === 'open' ? 'let through uncounted' : 'answered 500'} (failure: '${this.config.failure}')`,
      error,
    )
    return this.config.failure === 'open' ? PASS : new Failure(500)
  }

  private storeFailed(error: unknown): Verdict {
    this.log(
      `${this.where}: the limiter's store failed; the request was ${this.config.failure === 'open' ? 'let through uncounted' : 'answered 503'} (failure: '${this.config.failure}')`,
      error,
    )
    return this.config.failure === 'open' ? PASS : new Failure(503)
  }

  /** Logs a request-time failure, at most once a minute, so an attack cannot flood the log. */
  private log(message: string, error: unknown): void {
    const now = this.clock.now()
    if (now - this.lastLog < LOG_INTERVAL) {
      this.unlogged++
      return
    }
    const unlogged = this.unlogged
    this.lastLog = now
    this.unlogged = 0
    try {
      this.logger.error(
        unlogged > 0 ? `${message} (${unlogged} earlier failures not logged)` : message,
        error,
      )
    } catch {}
  }

  private checkProxy(a: A, b: B): void {
    const forwarded = this.binding.header(a, b, 'x-forwarded-for')
    if (forwarded === undefined) return
    const ip = this.binding.clientIp(a, b)
    if (ip === undefined || ip !== this.binding.remoteAddress(a, b)) return
    this.proxyWarned = true
    this.logger.warn(
      `${this.where}: requests carry X-Forwarded-For but the client IP is the proxy's (${ip}); every client behind the proxy shares one key. Enable your framework's proxy setting (Express "trust proxy", Koa app.proxy, Fastify trustProxy) or give a "key".`,
    )
  }

  private apply(a: A, b: B, next: () => unknown, verdict: Verdict): unknown {
    if (verdict === PASS) return next()
    if (verdict instanceof Failure) return this.fail(a, b, verdict.status)
    const decision = verdict
    const all = this.binding.record(a, b, decision)
    if (decision.reason === 'store-unavailable') {
      if (!decision.allowed) return this.fail(a, b, 503)
      return next()
    }
    this.writeHeaders(a, b, all)
    if (decision.allowed) {
      if (decision.delayMs > 0) return this.wait(a, b, next, decision)
      if (this.watching) this.watch(a, b, decision)
      return next()
    }
    const onLimited = this.config.onLimited
    if (onLimited !== undefined) this.notify(onLimited as Callback, a, b, decision)
    if (this.config.handler !== undefined)
      return this.binding.callHandler(this.config.handler, a, b, next, decision)
    return this.reject(a, b, decision)
  }

  private fail(a: A, b: B, status: 500 | 503): unknown {
    return this.binding.send(
      a,
      b,
      status,
      failureBody(status, prefersJson(this.binding.header(a, b, 'accept'))),
    )
  }

  private notify(onLimited: Callback, a: A, b: B, decision: Decision): void {
    try {
      const result = this.binding.arity === 2 ? onLimited(a, b, decision) : onLimited(a, decision)
      if (isPromise(result))
        result.then(undefined, (error) => this.log(`${this.where}: "onLimited" failed`, error))
    } catch (error) {
      this.log(`${this.where}: "onLimited" failed`, error)
    }
  }

  private reject(a: A, b: B, decision: Decision): unknown {
    const json = prefersJson(this.binding.header(a, b, 'accept'))
    const message = this.config.message
    if (typeof message !== 'function') {
      return this.binding.send(
        a,
        b,
        this.config.statusCode,
        limitedBody(decision, message, json, this.config.statusCode),
      )
    }
    const fallback = (error: unknown) => {
      this.log(`${this.where}: "message" failed; the default message was sent`, error)
      return this.binding.send(
        a,
        b,
        this.config.statusCode,
        limitedBody(decision, undefined, json, this.config.statusCode),
      )
    }
    let custom: unknown
    try {
      custom = this.binding.arity === 2 ? message(a, b, decision) : (message as Callback)(a, decision)
    } catch (error) {
      return fallback(error)
    }
    if (isPromise(custom)) {
      return custom.then(
        (m) => this.binding.send(a, b, this.config.statusCode, limitedBody(decision, m as HttpMessage, json)),
        fallback,
      )
    }
    return this.binding.send(a, b, this.config.statusCode, limitedBody(decision, custom as HttpMessage, json))
  }

  /** Delay mode: proceeds when the reserved slot comes; a client that leaves first gives the slot back. */
  private wait(a: A, b: B, next: () => unknown, decision: Decision): Promise<unknown> {
    const response = this.binding.response(a, b)
    if (response.destroyed === true) {
      this.giveBack(decision, 'cancel')
      return new Promise(() => {})
    }
    return new Promise((resolve) => {
      const onClose = () => {
        this.clock.clearTimeout(timer)
        this.giveBack(decision, 'cancel')
      }
      const timer = this.clock.setTimeout(() => {
        response.removeListener('close', onClose)
        if (this.watching) this.watch(a, b, decision)
        resolve(next())
      }, decision.delayMs)
      response.once('close', onClose)
    })
  }

  /** skipFailedRequests / skipSuccessfulRequests: refunds once the response is over. */
  private watch(a: A, b: B, decision: Decision): void {
    const response = this.binding.response(a, b)
    const settle = () => {
      const failed = !response.writableFinished || response.statusCode >= 400
      if (failed ? this.config.skipFailedRequests : this.config.skipSuccessfulRequests)
        this.giveBack(decision, 'refund')
    }
    // Already closed (the client left during an async step): 'close' will not come again.
    if (response.destroyed === true) settle()
    else response.once('close', settle)
  }

  /**
   * Gives a request's units back without failing the request, logging a failure: `'cancel'` for
   * the reservation of a client that left before its slot, `'refund'` for units a response that
   * does not count (skipFailedRequests, skipSuccessfulRequests) already spent.
   */
  private giveBack(decision: Decision, how: 'cancel' | 'refund'): void {
    try {
      const done =
        how === 'cancel' ? this.limiter.cancel(decision) : this.limiter.refund(decision.key, decision.weight)
      if (isPromise(done)) done.then(undefined, (error) => this.log(`${this.where}: ${how} failed`, error))
    } catch (error) {
      this.log(`${this.where}: ${how} failed`, error)
    }
  }

  private writeHeaders(a: A, b: B, all: Decision | readonly Decision[]): void {
    const binding = this.binding
    if (Array.isArray(all)) {
      const list = all as readonly Decision[]
      if (!this.namesChecked) this.checkNames(list)
      if (this.format === 'draft-8' && !this.config.legacyHeaders) {
        // The default headers, as for one decision: the policy's text from the cache, the values
        // appended to each rate's prefix.
        const text = this.stackedText(list)
        let value = ''
        let at = 0
        for (const d of list) {
          value = draft8Members(value, text.prefixes, at, d.rates)
          at += d.rates.length
        }
        binding.setHeader(a, b, 'RateLimit-Policy', text.policy)
        binding.setHeader(a, b, 'RateLimit', value)
        const retry = retryAfterValue(list)
        if (retry !== undefined) binding.setHeader(a, b, 'Retry-After', retry)
        return
      }
      const headers = rateLimitHeaders(list, {
        format: this.format,
        legacy: this.config.legacyHeaders,
        now: this.clock.now(),
      })
      for (const name in headers) binding.setHeader(a, b, name, headers[name]!)
      return
    }
    const d = all as Decision
    const format = this.format
    if (format !== false) {
      const text = this.policyText(d)
      binding.setHeader(a, b, 'RateLimit-Policy', text.policy)
      if (format === 'draft-8') {
        binding.setHeader(a, b, 'RateLimit', draft8Members('', text.prefixes, 0, d.rates))
      } else if (format === 'draft-7') {
        binding.setHeader(
          a,
          b,
          'RateLimit',
          `limit=${d.limit}, remaining=${d.remaining}, reset=${toSeconds(d.resetMs)}`,
        )
      } else {
        binding.setHeader(a, b, 'RateLimit-Limit', String(d.limit))
        binding.setHeader(a, b, 'RateLimit-Remaining', String(d.remaining))
        binding.setHeader(a, b, 'RateLimit-Reset', String(toSeconds(d.resetMs)))
      }
    }
    if (this.config.legacyHeaders) {
      binding.setHeader(a, b, 'X-RateLimit-Limit', String(d.limit))
      binding.setHeader(a, b, 'X-RateLimit-Remaining', String(d.remaining))
      binding.setHeader(a, b, 'X-RateLimit-Reset', String(Math.ceil((this.clock.now() + d.resetMs) / 1000)))
    }
    const retry = retryAfterValue(d)
    if (retry !== undefined) binding.setHeader(a, b, 'Retry-After', retry)
  }

  /**
   * Stacked limiters whose rates share a name give header members a client cannot tell apart
   * (two `"default"` members): warned once, at the first stacked request.
   */
  private checkNames(all: readonly Decision[]): void {
    this.namesChecked = true
    const seen = new Set<string>()
    for (const decision of all) {
      for (const rate of decision.rates) {
        if (seen.has(rate.name)) {
          this.logger.warn(
            `${this.where}: limiters stacked on one request report rates with the same name "${rate.name}", so their RateLimit header members look alike; give each limiter its own "name" (or its rates their own names).`,
          )
          return
        }
        seen.add(rate.name)
      }
    }
  }

  /** {@link StackText} for the decisions of stacked limiters: the last one's, or built anew. */
  private stackedText(list: readonly Decision[]): StackText {
    const cached = this.stackText
    if (cached !== undefined && sameRates(cached.rates, list)) return cached
    const rates = list.flatMap((d) => d.rates.map((r) => [r.name, r.limit, r.window, r.quotaUnit] as const))
    const text: StackText = {
      count: rates.length,
      policy: draft8Headers(list)['RateLimit-Policy']!,
      prefixes: rates.map(([name]) => `${sfString(name)};r=`),
      rates,
    }
    this.stackText = text
    return text
  }

  /** Keyed and keyless decisions of one limiter always list the same rates: their static header text is cached. */
  private policyText(d: Decision): PolicyText {
    const kind = d.key === undefined ? 1 : 0
    const cached = this.texts[kind]
    if (cached !== undefined && cached.count === d.rates.length) return cached
    const policy =
      this.format === 'draft-8'
        ? draft8Headers(d)['RateLimit-Policy']!
        : draft6Headers(d)['RateLimit-Policy']!
    const text: PolicyText = {
      count: d.rates.length,
      policy,
      prefixes: d.rates.map((rate) => `${sfString(rate.name)};r=`),
    }
    this.texts[kind] = text
    return text
  }
}
