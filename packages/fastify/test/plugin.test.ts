import { createManualClock, memoryStore } from '@tollgate/core'
import Fastify, { type FastifyInstance } from 'fastify'
import Fastify4 from 'fastify4'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { rateLimit } from '../src/index.ts'

// Every test runs on the latest Fastify and on the major before it (the peer range is 4 and 5).
const MAJORS = [
  ['fastify 5', Fastify],
  ['fastify 4', Fastify4 as unknown as typeof Fastify],
] as const

let create: typeof Fastify = Fastify
let apps: FastifyInstance[] = []
afterEach(async () => {
  await Promise.all(apps.map((app) => app.close()))
  apps = []
})
function app(): FastifyInstance {
  const instance = create() as FastifyInstance
  apps.push(instance)
  return instance
}

describe.each(MAJORS)('%s', (_name, factory) => {
  beforeAll(() => {
    create = factory
  })

  describe('per-route config', () => {
    test('an object replaces the plugin default on that route; false turns limiting off', async () => {
      const clock = createManualClock()
      const fastify = app()
      await fastify.register(rateLimit, { limit: 2, window: '1m', clock })
      fastify.get('/', async () => 'ok')
      fastify.get(
        '/login',
        { config: { rateLimit: { limit: 1, window: '15m', name: 'login' } } },
        async () => 'in',
      )
      fastify.get('/health', { config: { rateLimit: false } }, async () => 'up')

      const login1 = await fastify.inject('/login')
      expect(login1.statusCode).toBe(200)
      expect(login1.headers['ratelimit-policy']).toBe('"login";q=1;w=900')
      expect((await fastify.inject('/login')).statusCode).toBe(429)
      // The login limiter has counters of its own: the default still has both units.
      expect((await fastify.inject('/')).headers.ratelimit).toBe('"default";r=1;t=30')
      for (let i = 0; i < 5; i++) {
        const health = await fastify.inject('/health')
        expect(health.statusCode).toBe(200)
        expect(health.headers.ratelimit).toBeUndefined()
      }
    })

    test('route options inherit the plugin behaviour options (key, headers)', async () => {
      const fastify = app()
      await fastify.register(rateLimit, {
        limit: 10,
        window: '1m',
        clock: createManualClock(),
        headers: 'draft-7',
        key: (request) => request.headers['x-user'] as string | undefined,
      })
      fastify.get(
        '/strict',
        { config: { rateLimit: { limit: 1, window: '1m' } } },
        async (request) => request.rateLimit,
      )
      const res = await fastify.inject({ url: '/strict', headers: { 'x-user': 'ann' } })
      expect(res.json()).toMatchObject({ key: 'ann', limit: 1 })
      expect(res.headers.ratelimit).toBe('limit=1, remaining=0, reset=60')
      expect((await fastify.inject({ url: '/strict', headers: { 'x-user': 'bob' } })).statusCode).toBe(200)
    })

    test('a list of limiters stacks; every policy appears in the headers', async () => {
      const fastify = app()
      const clock = createManualClock()
      await fastify.register(rateLimit, { clock })
      fastify.get(
        '/',
        {
          config: {
            rateLimit: [
              { limit: 10, window: '1m', name: 'minute' },
              { limit: 1, window: '1s', name: 'second' },
            ],
          },
        },
        async () => 'ok',
      )
      const res = await fastify.inject('/')
      expect(res.headers['ratelimit-policy']).toBe('"minute";q=10;w=60, "second";q=1;w=1')
      expect(res.headers.ratelimit).toBe('"minute";r=9;t=6, "second";r=0;t=1')
      expect((await fastify.inject('/')).statusCode).toBe(429)
    })

    test('without a policy the plugin limits only routes that configure one', async () => {
      const fastify = app()
      await fastify.register(rateLimit, { clock: createManualClock() })
      fastify.get('/open', async () => 'ok')
      fastify.get('/limited', { config: { rateLimit: { limit: 1, window: '1m' } } }, async () => 'ok')
      expect((await fastify.inject('/open')).headers.ratelimit).toBeUndefined()
      expect((await fastify.inject('/limited')).statusCode).toBe(200)
      expect((await fastify.inject('/limited')).statusCode).toBe(429)
    })

    test('GET and its automatic HEAD route share one limiter', async () => {
      const fastify = app()
      await fastify.register(rateLimit, { clock: createManualClock() })
      fastify.get('/', { config: { rateLimit: { limit: 2, window: '1m' } } }, async () => 'ok')
      expect((await fastify.inject('/')).statusCode).toBe(200)
      expect((await fastify.inject({ method: 'HEAD', url: '/' })).statusCode).toBe(200)
      expect((await fastify.inject('/')).statusCode).toBe(429)
    })
  })

  describe('fastify.rateLimit()', () => {
    test('limits the 404 handler', async () => {
      const fastify = app()
      await fastify.register(rateLimit, { limit: 100, window: '1m', clock: createManualClock() })
      fastify.setNotFoundHandler(
        { preHandler: fastify.rateLimit({ limit: 2, window: '1m' }) },
        (_request, reply) => {
          reply.code(404).send('nope')
        },
      )
      expect((await fastify.inject('/a')).statusCode).toBe(404)
      expect((await fastify.inject('/b')).statusCode).toBe(404)
      const third = await fastify.inject('/c')
      expect(third.statusCode).toBe(429)
      expect(third.headers['retry-after']).toBe('30')
    })

    test("stacks with the plugin's default in a route's own hooks", async () => {
      const fastify = app()
      await fastify.register(rateLimit, { limit: 100, window: '1m', clock: createManualClock() })
      fastify.get(
        '/login',
        { onRequest: fastify.rateLimit({ limit: 5, window: '15m', name: 'login' }) },
        async () => 'in',
      )
      const res = await fastify.inject('/login')
      // The plugin's limiter runs first, as app.use(rateLimit()) does in Express and Koa.
      expect(res.headers['ratelimit-policy']).toBe('"default";q=100;w=60, "login";q=5;w=900')
      expect(res.headers.ratelimit).toBe('"default";r=99;t=1, "login";r=4;t=180')
    })

    test('carries its limiter and hook name', async () => {
      const fastify = app()
      await fastify.register(rateLimit, { limit: 1, window: '1m' })
      const hook = fastify.rateLimit({ hook: 'preHandler' })
      expect(hook).toHaveProperty('hook', 'preHandler')
      expect(hook).toHaveProperty('limiter.rates', [
        { name: 'default', limit: 1, window: 60_000, burst: 1, quotaUnit: undefined },
      ])
    })
  })

  test("hook: 'preHandler' sees what earlier hooks set (an authenticated user)", async () => {
    const fastify = app()
    fastify.decorateRequest('user', null)
    fastify.addHook('onRequest', async (request) => {
      ;(request as unknown as { user: string }).user = String(request.headers.authorization)
    })
    await fastify.register(rateLimit, {
      limit: 1,
      window: '1m',
      clock: createManualClock(),
      hook: 'preHandler',
      key: (request) => (request as unknown as { user: string }).user,
    })
    fastify.post('/', async (request) => request.rateLimit?.key)
    expect((await fastify.inject({ method: 'POST', url: '/', headers: { authorization: 'ann' } })).body).toBe(
      'ann',
    )
    expect(
      (await fastify.inject({ method: 'POST', url: '/', headers: { authorization: 'ann' } })).statusCode,
    ).toBe(429)
    expect(
      (await fastify.inject({ method: 'POST', url: '/', headers: { authorization: 'bob' } })).statusCode,
    ).toBe(200)
  })

  test('two routes with limiters of the same name share counters, with no store given', async () => {
    const fastify = app()
    await fastify.register(rateLimit, { clock: createManualClock() })
    const group = { limit: 2, window: '1m', name: 'reports' }
    fastify.get('/a', { config: { rateLimit: group } }, async () => 'a')
    fastify.get('/b', { config: { rateLimit: { ...group } } }, async () => 'b')
    expect((await fastify.inject('/a')).statusCode).toBe(200)
    expect((await fastify.inject('/b')).statusCode).toBe(200)
    expect((await fastify.inject('/b')).statusCode).toBe(429)
  })

  describe('a route that only changes behaviour runs on the plugin limiter', () => {
    for (const withStore of [false, true]) {
      test(`and shares its counters (${withStore ? 'a store given' : 'no store given'})`, async () => {
        const warnings: unknown[] = []
        const logger = { warn: (m: unknown) => warnings.push(m), error: () => {} }
        const fastify = app()
        await fastify.register(rateLimit, {
          limit: 2,
          window: '1m',
          clock: createManualClock(),
          logger,
          ...(withStore ? { store: memoryStore() } : {}),
        })
        fastify.get('/', async () => 'ok')
        fastify.get('/r', { config: { rateLimit: { headers: 'draft-7' } } }, async () => 'r')
        expect((await fastify.inject('/')).statusCode).toBe(200)
        const r = await fastify.inject('/r')
        expect(r.headers.ratelimit).toBe('limit=2, remaining=0, reset=60')
        expect((await fastify.inject('/r')).statusCode).toBe(429)
        expect((await fastify.inject('/')).statusCode).toBe(429)
        expect(warnings).toEqual([])
      })
    }
  })

  test('two limiters with the same name on one store share counters (route groups)', async () => {
    const fastify = app()
    const store = memoryStore()
    const clock = createManualClock()
    await fastify.register(rateLimit, { clock, store })
    const group = { limit: 2, window: '1m', name: 'reports' }
    fastify.get('/a', { config: { rateLimit: group } }, async () => 'a')
    fastify.get('/b', { config: { rateLimit: { ...group } } }, async () => 'b')
    expect((await fastify.inject('/a')).statusCode).toBe(200)
    expect((await fastify.inject('/b')).statusCode).toBe(200)
    expect((await fastify.inject('/a')).statusCode).toBe(429)
  })

  test('a custom handler answers rejections', async () => {
    const fastify = app()
    await fastify.register(rateLimit, {
      limit: 1,
      window: '1m',
      clock: createManualClock(),
      handler: (_request, reply, decision) => {
        reply.code(418).send({ wait: decision.retryAfterMs })
      },
    })
    fastify.get('/', async () => 'ok')
    await fastify.inject('/')
    const res = await fastify.inject('/')
    expect(res.statusCode).toBe(418)
    expect(res.json()).toEqual({ wait: 60_000 })
    expect(res.headers['retry-after']).toBe('60')
  })

  test('request.rateLimit is null on routes without a limiter', async () => {
    const fastify = app()
    await fastify.register(rateLimit, { limit: 1, window: '1m' })
    fastify.get('/', { config: { rateLimit: false } }, async (request) => ({ decision: request.rateLimit }))
    expect((await fastify.inject('/')).json()).toEqual({ decision: null })
  })

  test('invalid plugin options fail the registration, naming the option', async () => {
    await expect(app().register(rateLimit, { limit: 1, window: '1m', max: 5 } as never)).rejects.toThrow(
      /rateLimit: unknown option "max"/,
    )
    await expect(app().register(rateLimit, { hook: 'onSend' } as never)).rejects.toThrow(
      /"hook" must be one of/,
    )
    await expect(app().register(rateLimit, { headers: 'draft-9' } as never)).rejects.toThrow(/"headers"/)
  })

  test('an invalid route config fails when the route is added', async () => {
    const fastify = app()
    await fastify.register(rateLimit, {})
    expect(() =>
      fastify.get('/', { config: { rateLimit: { limit: 0, window: '1m' } } }, async () => 'ok'),
    ).toThrow(/rateLimit: "limit" must be a positive whole number, got 0/)
  })
})
