import type { Decision, Limiter } from '@tollgate/core'
import Koa, { type Context, type Middleware } from 'koa'
import { describe, expectTypeOf, test } from 'vitest'
import { type RateLimitOptions, rateLimit } from '../src/index.ts'

describe('@tollgate/koa types', () => {
  test('the issue examples type-check', () => {
    const app = new Koa()
    app.use(rateLimit({ limit: 100, window: '1m' }))
    app.use(
      rateLimit({
        rates: [
          { limit: 10, window: '1s' },
          { limit: 1000, window: '1d' },
        ],
        key: (ctx) => ctx.get('x-user') || undefined,
        weight: (ctx) => Number(ctx.headers['x-cost'] ?? 1),
      }),
    )
  })

  test('the middleware is a Koa middleware with its limiter', () => {
    const middleware = rateLimit({ limit: 1, window: 1000 })
    expectTypeOf(middleware).toMatchTypeOf<Middleware>()
    expectTypeOf(middleware.limiter).toEqualTypeOf<Limiter>()
  })

  test('callbacks receive ctx; the handler (ctx, next, decision)', () => {
    expectTypeOf<NonNullable<RateLimitOptions['key']>>().parameters.toEqualTypeOf<[ctx: Context]>()
    expectTypeOf<NonNullable<RateLimitOptions['handler']>>().parameter(2).toEqualTypeOf<Decision>()
    expectTypeOf<NonNullable<RateLimitOptions['onLimited']>>().parameters.toEqualTypeOf<
      [ctx: Context, Decision]
    >()
  })

  test('ctx.state.rateLimit is augmented', () => {
    expectTypeOf<Koa.DefaultState['rateLimit']>().toEqualTypeOf<Decision | undefined>()
  })

  test('wrong options are type errors', () => {
    // @ts-expect-error koa-ratelimit's names are not ours
    rateLimit({ duration: 60_000, max: 5 })
    // @ts-expect-error mode is 'reject' or 'delay'
    rateLimit({ limit: 1, window: '1s', mode: 'queue' })
    // @ts-expect-error ipv6Subnet is a number or false
    rateLimit({ limit: 1, window: '1s', ipv6Subnet: true })
  })
})
