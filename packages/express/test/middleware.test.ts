import { createManualClock, memoryStore } from '@tollgate/core'
import express from 'express'
import request from 'supertest'
import { describe, expect, test } from 'vitest'
import { rateLimit } from '../src/index.ts'

describe('@tollgate/express', () => {
  test('global limit plus a stricter route: both policies in the headers', async () => {
    const clock = createManualClock()
    const app = express()
    app.use(rateLimit({ limit: 100, window: '1m', clock }))
    app.post('/login', rateLimit({ limit: 1, window: '15m', name: 'login', clock }), (_req, res) => {
      res.send('in')
    })
    const first = await request(app).post('/login')
    expect(first.status).toBe(200)
    expect(first.headers['ratelimit-policy']).toBe('"default";q=100;w=60, "login";q=1;w=900')
    const second = await request(app).post('/login')
    expect(second.status).toBe(429)
    expect(second.headers['retry-after']).toBe('900')
  })

  test('req.rateLimit holds the decision', async () => {
    const app = express()
    app.use(rateLimit({ limit: 3, window: '1m', clock: createManualClock() }))
    app.get('/', (req, res) => {
      res.json({ remaining: req.rateLimit?.remaining, reason: req.rateLimit?.reason })
    })
    expect((await request(app).get('/')).body).toEqual({ remaining: 2, reason: 'ok' })
  })

  test('route groups: limiters with the same name on one store share counters', async () => {
    const store = memoryStore()
    const clock = createManualClock()
    const app = express()
    app.get('/a', rateLimit({ limit: 2, window: '1m', name: 'reports', store, clock }), (_req, res) => {
      res.send('a')
    })
    app.get('/b', rateLimit({ limit: 2, window: '1m', name: 'reports', store, clock }), (_req, res) => {
      res.send('b')
    })
    expect((await request(app).get('/a')).status).toBe(200)
    expect((await request(app).get('/b')).status).toBe(200)
    expect((await request(app).get('/a')).status).toBe(429)
  })

  test('a custom handler receives (req, res, next, decision)', async () => {
    const app = express()
    app.use(
      rateLimit({
        limit: 1,
        window: '1m',
        clock: createManualClock(),
        handler: (_req, res, _next, decision) => {
          res.status(418).json({ reason: decision.reason })
        },
      }),
    )
    app.get('/', (_req, res) => {
      res.send('ok')
    })
    await request(app).get('/')
    const res = await request(app).get('/')
    expect(res.status).toBe(418)
    expect(res.body).toEqual({ reason: 'limited' })
  })

  test('a handler that passes an error to next reaches the error handler', async () => {
    const app = express()
    app.use(
      rateLimit({
        limit: 1,
        window: '1m',
        clock: createManualClock(),
        handler: (_req, _res, next) => next(new Error('limited')),
      }),
    )
    app.get('/', (_req, res) => {
      res.send('ok')
    })
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(429).send(`handled: ${error.message}`)
    })
    await request(app).get('/')
    expect((await request(app).get('/')).text).toBe('handled: limited')
  })

  test('an async handler that rejects reaches the error handler (Express 4 would drop it)', async () => {
    const app = express()
    app.use(
      rateLimit({
        limit: 1,
        window: '1m',
        clock: createManualClock(),
        key: async () => 'k',
        handler: async () => {
          throw new Error('handler bug')
        },
      }),
    )
    app.get('/', (_req, res) => {
      res.send('ok')
    })
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).send(error.message)
    })
    await request(app).get('/')
    expect((await request(app).get('/')).text).toBe('handler bug')
  })

  test('the middleware exposes its limiter', async () => {
    const clock = createManualClock()
    const middleware = rateLimit({ limit: 1, window: '1m', clock })
    const app = express()
    app.use(middleware)
    app.get('/', (_req, res) => {
      res.send('ok')
    })
    await request(app).get('/')
    expect((await request(app).get('/')).status).toBe(429)
    middleware.limiter.reset('127.0.0.1')
    expect((await request(app).get('/')).status).toBe(200)
  })

  test('options are validated when the middleware is created', () => {
    expect(() => rateLimit({ limit: 1, window: '1m', windowMs: 1 } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_TOLLGATE_UNKNOWN_OPTION' }),
    )
    expect(() => rateLimit({ limit: 1, window: '1m', ipv6Subnet: 129 })).toThrow(
      'rateLimit: "ipv6Subnet" must be a prefix length from 1 to 128, or false, got 129',
    )
    expect(() => rateLimit({ limit: 1, window: '1m', key: 'ip' as never })).toThrow(
      'rateLimit: "key" must be a function, got "ip"',
    )
  })
})
