import { IncomingMessage } from 'node:http'
import {
  collectDecisions,
  type Decision,
  type HttpBinding,
  HttpEngine,
  parseHttpOptions,
} from '@tollgate/core'
import type { NextFunction, Request, Response } from 'express'
import type { RateLimitHandler, RateLimitMiddleware, RateLimitOptions } from './types.js'

function header(req: Request, _res: Response, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** The part of an Express application the adapter reads: its settings. */
interface ExpressApp {
  get(setting: string): unknown
}

/** What the first look at a request prototype found (see {@link lookAt}). */
interface Prototype {
  /** `req.ip` is Express's own getter ({@link isProxyAddrGetter}). */
  readonly expressIp: boolean
  /** `rateLimit` resolves, through the chain, to this module's accessor over {@link decisions}. */
  readonly accessor: boolean
  /**
   * The application whose request object this prototype is (Express gives each app's `request`
   * an own `app`), which Express's `req.ip` asks for its `trust proxy fn`.
   */
  readonly app: ExpressApp | undefined
  /** The app's `trust proxy fn` when last read, and whether it trusts no proxy ({@link isTrustNone}). */
  trust: unknown
  trustsNone: boolean
}

/** The entry of a request without a prototype. Frozen: its `app` is undefined, so nothing writes it. */
const PLAIN: Prototype = Object.freeze({
  expressIp: false,
  accessor: false,
  app: undefined,
  trust: undefined,
  trustsNone: false,
})

/**
 * Per request prototype (one per app), looked at once. The first look also gives the prototype
 * chain the `rateLimit` accessor ({@link installDecisionAccessor}).
 */
const prototypes = new WeakMap<object, Prototype>()

/** {@link prototypes}' entry for the request's prototype, made on first sight. */
function lookAt(req: Request): Prototype {
  const proto = Object.getPrototypeOf(req) as object | null
  if (proto === null) return PLAIN
  let found = prototypes.get(proto)
  if (found === undefined) {
    const expressIp = isProxyAddrGetter(proto)
    found = {
      expressIp,
      accessor: installDecisionAccessor(proto),
      app: expressIp ? ownApp(proto) : undefined,
      trust: undefined,
      trustsNone: false,
    }
    prototypes.set(proto, found)
  }
  return found
}

function ownApp(proto: object): ExpressApp | undefined {
  const app = Object.getOwnPropertyDescriptor(proto, 'app')?.value as { get?: unknown } | undefined
  return typeof app?.get === 'function' ? (app as ExpressApp) : undefined
}

function isProxyAddrGetter(proto: object): boolean {
  for (let o: object | null = proto; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(o, 'ip')
    if (descriptor !== undefined)
      return (
        typeof descriptor.get === 'function' &&
        /\bproxyaddr\(this\b/.test(Function.prototype.toString.call(descriptor.get))
      )
  }
  return false
}

/**
 * `req.ip`. Express's getter is `proxyaddr(this, app.get('trust proxy fn'))`: the socket's
 * address, unless X-Forwarded-For is there and the trust function trusts that address. So when
 * the app trusts no proxy (`trust proxy` off, the default) or the request has no X-Forwarded-For,
 * the socket's address is read directly. That skips proxy-addr's parsing, the costliest step of
 * the default key, and in the default case also the read of `req.headers`, which costs a runtime
 * lookup on an Express request (see {@link installDecisionAccessor}). An `ip` replaced anywhere
 * (on the request, the app's request object or Express's), or a getter whose source a bundler
 * renamed, is called as it is.
 */
function clientIp(req: Request): string | undefined {
  const found = lookAt(req)
  if (!found.expressIp || Object.hasOwn(req, 'ip')) return req.ip
  if (found.app !== undefined) {
    // Read on every request, so that a changed setting counts; recognised once per function.
    const trust = found.app.get('trust proxy fn')
    if (trust !== found.trust) {
      found.trust = trust
      found.trustsNone = isTrustNone(trust)
    }
    if (found.trustsNone) return req.socket?.remoteAddress
  }
  return req.headers['x-forwarded-for'] === undefined ? req.socket?.remoteAddress : req.ip
}

/**
 * Whether `trust` is proxy-addr's `trustNone`, which Express compiles from `trust proxy` false
 * (and from an empty list): it returns false for every address, so proxy-addr stops at the
 * socket's. Recognised by its source.
 */
function isTrustNone(trust: unknown): boolean {
  return (
    typeof trust === 'function' &&
    /^function trustNone\s*\(\)\s*\{\s*return false;?\s*\}$/.test(Function.prototype.toString.call(trust))
  )
}

/** What `req.rateLimit` holds for each request, behind the accessor {@link installDecisionAccessor} adds. */
const decisions = new WeakMap<object, unknown>()

/**
 * Every decision of a request on which limiters are stacked, for its headers: kept here rather
 * than on the request (see `collectDecisions`), whose shape would change as `rateLimit`'s would.
 */
const stacks = new WeakMap<object, readonly Decision[]>()

function getDecision(this: object): unknown {
  return decisions.get(this)
}

function setDecision(this: object, value: unknown): void {
  decisions.set(this, value)
}

/**
 * Gives Express's shared request prototype a `rateLimit` accessor, so that recording a decision
 * adds no property to the request. Express gives every request its app's prototype
 * (`Object.setPrototypeOf(req, app.request)`), after which V8 cannot reuse a cached shape for a
 * property added to it. On a 2-core AMD EPYC VM, with each request given a fresh prototype as
 * Express does, the middleware (`headers: false`) took 4.1–4.7 µs per request with a plain
 * `req.rateLimit = decision` and 1.3–1.8 µs with the accessor. The accessor goes on the last
 * prototype before Node's `IncomingMessage.prototype` (Express's own request object, shared by
 * every app and mounted sub-app), so a decision stays readable when a request leaves a sub-app.
 * Nothing is installed when a prototype on the way already has `rateLimit` (another copy of this
 * module's accessor, say), or when the chain does not reach `IncomingMessage.prototype`:
 * `req.rateLimit` is then whatever is there, or a plain property, as before.
 *
 * @returns whether `rateLimit` on this chain is this module's accessor (installed now or earlier),
 * so that {@link binding}'s `record` may use {@link decisions} directly.
 */
function installDecisionAccessor(proto: object): boolean {
  let base: object | undefined
  for (let o: object | null = proto; ; o = Object.getPrototypeOf(o) as object | null) {
    if (o === null) return false
    if (o === IncomingMessage.prototype) break
    const descriptor = Object.getOwnPropertyDescriptor(o, 'rateLimit')
    if (descriptor !== undefined) return descriptor.get === getDecision && descriptor.set === setDecision
    base = o
  }
  if (base === undefined) return false
  Object.defineProperty(base, 'rateLimit', {
    configurable: true,
    enumerable: false,
    get: getDecision,
    set: setDecision,
  })
  return true
}

/**
 * Records the decision as `req.rateLimit` and returns every decision of this request. Through the
 * accessor, the request's entry in {@link decisions} is read and written directly: a property
 * access on an Express request misses V8's inline caches (its shape is new on each request) and
 * costs a runtime lookup up the prototype chain, twice here. On a 2-core Intel Xeon VM, Express's
 * `app.handle` on fresh requests took 2.1 µs more with the middleware (`headers: false`) than with
 * an empty one when `record` went through `req.rateLimit`, and 1.2–1.6 µs more this way.
 */
function record(req: Request, decision: Decision): Decision | readonly Decision[] {
  if (lookAt(req).accessor && !Object.hasOwn(req, 'rateLimit')) {
    const previous = decisions.get(req)
    decisions.set(req, decision)
    return collectDecisions(req, previous, decision, stacks)
  }
  const previous = req.rateLimit
  req.rateLimit = decision
  return collectDecisions(req, previous, decision)
}

const binding: HttpBinding<Request, Response> = {
  arity: 2,
  clientIp,
  remoteAddress: (req) => req.socket?.remoteAddress,
  header,
  response: (_req, res) => res,
  setHeader: (_req, res, name, value) => {
    res.setHeader(name, value)
  },
  record: (req, _res, decision) => record(req, decision),
  // Node's own response API: identical on Express 4 and 5, and cheaper than res.send.
  send: (_req, res, status, body) => {
    res.statusCode = status
    res.setHeader('Content-Type', body.contentType)
    res.end(body.body)
  },
  callHandler: (handler, req, res, next, decision) =>
    (handler as RateLimitHandler)(req, res, next as NextFunction, decision),
}

/**
 * Express middleware that rate-limits requests.
 *
 * ```ts
 * app.use(rateLimit({ limit: 100, window: '1m' }))
 * app.post('/login', rateLimit({ limit: 5, window: '15m', name: 'login' }), login)
 * ```
 *
 * The decision is on `req.rateLimit`; responses carry `RateLimit-Policy` / `RateLimit`
 * headers (every stacked limiter's policy), rejections `Retry-After` and a 429.
 *
 * @throws TollgateTypeError / TollgateRangeError (code `ERR_TOLLGATE_INVALID_OPTION` or
 * `ERR_TOLLGATE_UNKNOWN_OPTION`) when an option is invalid.
 */
export function rateLimit(options: RateLimitOptions): RateLimitMiddleware {
  const engine = new HttpEngine('rateLimit', parseHttpOptions('rateLimit', options), binding)
  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    const result = engine.handle(req, res, next)
    // Only an async step returns a promise; Express 4 would not catch its rejection.
    if (typeof (result as Promise<unknown> | undefined)?.then === 'function') {
      ;(result as Promise<unknown>).then(undefined, next)
    }
  }
  return Object.assign(middleware, { limiter: engine.limiter })
}
