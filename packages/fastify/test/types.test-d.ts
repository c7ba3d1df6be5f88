import type { Decision, Limiter } from '@tollgate/core'
import Fastify, {
  type FastifyContextConfig,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type onRequestHookHandler,
  type preHandlerHookHandler,
} from 'fastify'
import { describe, expectTypeOf, test } from 'vitest'
import {
  type RateLimitHook,
  type RateLimitOptions,
  type RouteRateLimitConfig,
  type RouteRateLimitOptions,
  rateLimit,
} from '../src/index.ts'

describe('@tollgate/fastify types', () => {
  test('the issue examples type-check', async () => {
    const fastify = Fastify()
    await fastify.register(rateLimit, { limit: 100, window: '1m' })
    const handler = async () => 'ok'
    fastify.get('/login', { config: { rateLimit: { limit: 5, window: '15m' } } }, handler)
    fastify.get('/health', { config: { rateLimit: false } }, handler)
    fastify.get(
      '/stacked',
      {
        config: {
          rateLimit: [
            { limit: 5, window: '1s' },
            { name: 'daily', limit: 100, window: '1d' },
          ],
        },
      },
      handler,
    )
    fastify.setNotFoundHandler({ preHandler: fastify.rateLimit({ limit: 10, window: '1m' }) }, handler)
  })

  test('callbacks receive (request, reply)', () => {
    expectTypeOf<NonNullable<RateLimitOptions['key']>>().parameters.toEqualTypeOf<
      [request: FastifyRequest, reply: FastifyReply]
    >()
    expectTypeOf<NonNullable<RateLimitOptions['handler']>>().parameter(2).toEqualTypeOf<Decision>()
    expectTypeOf<NonNullable<RateLimitOptions['hook']>>().toEqualTypeOf<
      'onRequest' | 'preValidation' | 'preHandler'
    >()
  })

  test('module augmentation: request.rateLimit, route config, fastify.rateLimit()', () => {
    expectTypeOf<FastifyRequest['rateLimit']>().toEqualTypeOf<Decision | null>()
    expectTypeOf<FastifyContextConfig['rateLimit']>().toEqualTypeOf<RouteRateLimitConfig | undefined>()
    expectTypeOf<FastifyInstance['rateLimit']>().toMatchTypeOf<
      (options?: RouteRateLimitOptions) => RateLimitHook
    >()
    expectTypeOf<RateLimitHook['limiter']>().toEqualTypeOf<Limiter>()
    expectTypeOf<RateLimitHook>().toMatchTypeOf<preHandlerHookHandler>()
    expectTypeOf<RateLimitHook>().toMatchTypeOf<onRequestHookHandler>()
  })

  test('wrong options are type errors', async () => {
    const fastify = Fastify()
    // @ts-expect-error @fastify/rate-limit's names are not ours
    await fastify.register(rateLimit, { max: 5, timeWindow: 60_000 })
    // @ts-expect-error hooks after the handler cannot reject a request
    await fastify.register(rateLimit, { limit: 1, window: '1s', hook: 'onSend' })
    // @ts-expect-error a route's limiter options are checked too
    fastify.get('/', { config: { rateLimit: { limit: 1, window: '1s', mode: 'queue' } } }, async () => 'ok')
  })
})
