import { IncomingMessage } from 'node:http'
import { collectDecisions, type HttpBinding, HttpEngine, parseHttpOptions } from '@tollgate/core'
import type { NextFunction, Request, Response } from 'express'
import type { RateLimitHandler, RateLimitMiddleware, RateLimitOptions } from './types.js'

function header(req: Request, _res: Response, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/**
 * Per request prototype (one per app), looked at once: is its `ip` Express's own getter? The
 * first look also gives the prototype chain the `rateLimit` accessor ({@link installDecisionAccessor}).
 */
const prototypes = new WeakMap<object, boolean>()

/** {@link prototypes}' entry for the request's prototype, made on first sight; `false` without one. */
function lookAt(req: Request): boolean {
  const proto = Object.getPrototypeOf(req) as object | null
  if (proto === null) return false
  let expressIp = prototypes.get(proto)
  if (expressIp === undefined) {
    expressIp = isProxyAddrGetter(proto)
    prototypes.set(proto, expressIp)
    installDecisionAccessor(proto)
  }
  return expressIp
}

/**
 * Whether `req.ip` is Express's own getter, `proxyaddr(this, trust)` over X-Forwarded-For:
 * looked up once per request prototype. An `ip` replaced anywhere (on the request, the app's
 * request object or Express's), or a getter whose source a bundler renamed, answers false.
 */
function hasExpressIp(req: Request): boolean {
  return lookAt(req) && !Object.hasOwn(req, 'ip')
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
 * `req.ip`. Without an X-Forwarded-For header Express's getter returns the socket's address
 * whatever `trust proxy` says (proxy-addr has one address to choose from), so that address is
 * read directly: it skips proxy-addr's parsing, the costliest step of the default key.
 */
function clientIp(req: Request): string | undefined {
  return req.headers['x-forwarded-for'] === undefined && hasExpressIp(req)
    ? req.socket?.remoteAddress
    : req.ip
}

/** What `req.rateLimit` holds for each request, behind the accessor {@link installDecisionAccessor} adds. */
const decisions = new WeakMap<object, unknown>()

/**
 * Gives Express's shared request prototype a `rateLimit` accessor, so that recording a decision
 * adds no property to the request. Express gives every request its app's prototype
 * (`Object.setPrototypeOf(req, app.request)`), after which V8 cannot reuse a cached shape for a
 * property added to it. On a 2-core AMD EPYC VM, with each request given a fresh prototype as
 * Express does, the middleware (`headers: false`) took 4.1–4.7 µs per request with a plain
 * `req.rateLimit = decision` and 1.3–1.8 µs with the accessor. The accessor goes on the last
 * prototype before Node's `IncomingMessage.prototype` (Express's own request object, shared by
 * every app and mounted sub-app), so a decision stays readable when a request leaves a sub-app.
 * Nothing is installed when a prototype on the way already has `rateLimit` (the accessor itself,
 * from another app's first request), or when the chain does not reach `IncomingMessage.prototype`:
 * `req.rateLimit` is then a plain property, as before.
 */
function installDecisionAccessor(proto: object): void {
  let base: object | undefined
  for (let o: object | null = proto; ; o = Object.getPrototypeOf(o) as object | null) {
    if (o === null) return
    if (o === IncomingMessage.prototype) break
    if (Object.hasOwn(o, 'rateLimit')) return
    base = o
  }
  if (base === undefined) return
  Object.defineProperty(base, 'rateLimit', {
    configurable: true,
    enumerable: false,
    get(this: object) {
      return decisions.get(this)
    },
    set(this: object, value: unknown) {
      decisions.set(this, value)
    },
  })
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
  record: (req, _res, decision) => {
    lookAt(req)
    const previous = req.rateLimit
    req.rateLimit = decision
    return collectDecisions(req, previous, decision)
  },
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
