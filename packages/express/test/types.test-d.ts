import type { Decision, Limiter } from '@tollgate/core'
import express, { type Request, type RequestHandler, type Response } from 'express'
import { describe, expectTypeOf, test } from 'vitest'
import { type RateLimitMiddleware, type RateLimitOptions, rateLimit } from '../src/index.ts'

describe('@tollgate/express types', () => {
  test('the issue examples type-check', () => {
    const app = express()
    app.use(rateLimit({ limit: 100, window: '1m' }))
    app.use(
      rateLimit({
        rates: [
          { limit: 10, window: '1s' },
          { limit: 1000, window: '1d' },
        ],
        key: (req) => req.get('x-user') ?? undefined,
        weight: (req) => Number(req.headers['x-cost'] ?? 1),
      }),
    )
  })

  test('the middleware is a RequestHandler with its limiter', () => {
    const middleware = rateLimit({ limit: 1, window: 1000 })
    expectTypeOf(middleware).toMatchTypeOf<RequestHandler>()
    expectTypeOf(middleware).toEqualTypeOf<RateLimitMiddleware>()
    expectTypeOf(middleware.limiter).toEqualTypeOf<Limiter>()
  })

  test('callbacks receive (req, res) and may be async', () => {
    expectTypeOf<NonNullable<RateLimitOptions['key']>>().parameters.toEqualTypeOf<
      [req: Request, res: Response]
    >()
    expectTypeOf<NonNullable<RateLimitOptions['skip']>>().returns.toEqualTypeOf<boolean | Promise<boolean>>()
    expectTypeOf<NonNullable<RateLimitOptions['weight']>>().returns.toEqualTypeOf<number | Promise<number>>()
    expectTypeOf<NonNullable<RateLimitOptions['handler']>>().parameter(3).toEqualTypeOf<Decision>()
  })

  test('req.rateLimit is augmented', () => {
    expectTypeOf<Request['rateLimit']>().toEqualTypeOf<Decision | undefined>()
  })

  test('wrong options are type errors', () => {
    // @ts-expect-error express-rate-limit's names are not ours
    rateLimit({ windowMs: 60_000, max: 5 })
    // @ts-expect-error a policy is limit + window or rates, not both
    rateLimit({ limit: 1, window: '1s', rates: [{ limit: 1, window: '1s' }] })
    // @ts-expect-error mode is 'reject' or 'delay'
    rateLimit({ limit: 1, window: '1s', mode: 'queue' })
    // @ts-expect-error headers is a draft name or false
    rateLimit({ limit: 1, window: '1s', headers: true })
    // @ts-expect-error failure is 'open' or 'closed'
    rateLimit({ limit: 1, window: '1s', failure: 'insurance' })
    // @ts-expect-error a key is a string or undefined
    rateLimit({ limit: 1, window: '1s', key: () => 42 })
  })
})
