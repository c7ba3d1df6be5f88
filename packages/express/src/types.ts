import type { Decision, HttpRateLimitOptions, Limiter } from '@tollgate/core'
import type { NextFunction, Request, RequestHandler, Response } from 'express'

/** Answers a rejected request yourself; the rate-limit headers are already set. */
export type RateLimitHandler = (
  req: Request,
  res: Response,
  next: NextFunction,
  decision: Decision,
) => unknown

/**
 * Options of {@link rateLimit}: a policy (`limit` + `window` [+ `burst`], or `rates`) and the
 * behaviour options. Callbacks receive Express's `(req, res)`.
 */
export type RateLimitOptions = HttpRateLimitOptions<[req: Request, res: Response], RateLimitHandler>

/** The middleware, with the limiter it runs (for `reset`, `peek`, `refund`, `close`). */
export interface RateLimitMiddleware extends RequestHandler {
  readonly limiter: Limiter
}

declare global {
  namespace Express {
    interface Request {
      /** The decision of the last `@tollgate/express` limiter that ran on this request. */
      rateLimit?: Decision
    }
  }
}
