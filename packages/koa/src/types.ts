import type { Decision, HttpRateLimitOptions, Limiter } from '@tollgate/core'
import type { Context, Middleware, Next } from 'koa'

/** Answers a rejected request yourself (set `ctx.status` and `ctx.body`); the rate-limit headers are already set. */
export type RateLimitHandler = (ctx: Context, next: Next, decision: Decision) => unknown

/**
 * Options of {@link rateLimit}: a policy (`limit` + `window` [+ `burst`], or `rates`) and the
 * behaviour options. Callbacks receive Koa's `ctx`.
 */
export type RateLimitOptions = HttpRateLimitOptions<[ctx: Context], RateLimitHandler>

/** The middleware, with the limiter it runs (for `reset`, `peek`, `refund`, `close`). */
export interface RateLimitMiddleware extends Middleware {
  readonly limiter: Limiter
}

declare module 'koa' {
  interface DefaultState {
    /** The decision of the last `@tollgate/koa` limiter that ran on this request. */
    rateLimit?: Decision
  }
}
