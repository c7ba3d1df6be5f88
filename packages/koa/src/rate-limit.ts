import {
  collectDecisions,
  type Decision,
  type HttpBinding,
  HttpEngine,
  parseHttpOptions,
} from '@tollgate/core'
import type { Context, Next } from 'koa'
import type { RateLimitHandler, RateLimitMiddleware, RateLimitOptions } from './types.js'

const binding: HttpBinding<Context, undefined> = {
  arity: 1,
  // ctx.ip honours app.proxy (and app.proxyIpHeader); it is '' when the socket is gone.
  clientIp: (ctx) => ctx.ip,
  remoteAddress: (ctx) => ctx.req.socket.remoteAddress,
  header: (ctx, _b, name) => {
    const value = ctx.req.headers[name]
    return Array.isArray(value) ? value.join(', ') : value
  },
  response: (ctx) => ctx.res,
  // What ctx.set does for one string value, without its per-call arrays (Koa 3 builds three).
  setHeader: (ctx, _b, name, value) => {
    const res = ctx.res
    if (!res.headersSent) res.setHeader(name, value)
  },
  record: (ctx, _b, decision) => {
    const previous = ctx.state.rateLimit as Decision | undefined
    ctx.state.rateLimit = decision
    return collectDecisions(ctx, previous, decision)
  },
  send: (ctx, _b, status, body) => {
    ctx.status = status
    ctx.set('Content-Type', body.contentType)
    ctx.body = body.body
  },
  callHandler: (handler, ctx, _b, next, decision) =>
    (handler as RateLimitHandler)(ctx, next as Next, decision),
}

/**
 * Koa middleware that rate-limits requests.
 *
 * ```ts
 * app.use(rateLimit({ limit: 100, window: '1m' }))
 * ```
 *
 * The decision is on `ctx.state.rateLimit`; responses carry `RateLimit-Policy` / `RateLimit`
 * headers (every stacked limiter's policy), rejections `Retry-After` and a 429.
 *
 * @throws TollgateTypeError / TollgateRangeError (code `ERR_TOLLGATE_INVALID_OPTION` or
 * `ERR_TOLLGATE_UNKNOWN_OPTION`) when an option is invalid.
 */
export function rateLimit(options: RateLimitOptions): RateLimitMiddleware {
  const engine = new HttpEngine('rateLimit', parseHttpOptions('rateLimit', options), binding)
  const middleware = (ctx: Context, next: Next) => engine.handle(ctx, undefined, next)
  return Object.assign(middleware, { limiter: engine.limiter }) as RateLimitMiddleware
}
