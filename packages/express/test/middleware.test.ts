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

  describe('req.rateLimit without a property added to each request', () => {
    test('the decision sits behind an accessor, so Express requests keep their shape', async () => {
      const app = express()
      app.use(rateLimit({ limit: 3, window: '1m', clock: createManualClock() }))
      app.get('/', (req, res) => {
        res.json({ own: Object.hasOwn(req, 'rateLimit'), remaining: req.rateLimit?.remaining })
      })
      expect((await request(app).get('/')).body).toEqual({ own: false, remaining: 2 })
      // The accessor is on Express's shared request prototype: a request that no limiter saw,
      // in another app, has no decision.
      const plain = express()
      plain.get('/', (req, res) => {
        res.json({ decided: req.rateLimit !== undefined })
      })
      expect((await request(plain).get('/')).body).toEqual({ decided: false })
    })

    test('stacked limiters keep their list of decisions off the request too', async () => {
      const clock = createManualClock()
      const app = express()
      app.use(rateLimit({ limit: 5, window: '1m', name: 'outer', clock }))
      app.use(rateLimit({ limit: 3, window: '1m', name: 'inner', clock }))
      app.get('/', (req, res) => {
        res.json({ symbols: Object.getOwnPropertySymbols(req).map(String), key: req.rateLimit?.remaining })
      })
      const res = await request(app).get('/')
      expect(res.body.symbols).not.toContain('Symbol(tollgate.decisions)')
      expect(res.body.key).toBe(2)
      expect(res.headers['ratelimit-policy']).toBe('"outer";q=5;w=60, "inner";q=3;w=60')
      expect(res.headers.ratelimit).toBe('"outer";r=4;t=12, "inner";r=2;t=20')
    })

    test('a decision made in a mounted sub-app is still there in the parent', async () => {
      const clock = createManualClock()
      const sub = express()
      sub.use(rateLimit({ limit: 5, window: '1m', clock }))
      sub.use((_req, _res, next) => next())
      const app = express()
      app.use('/api', sub)
      app.use((req, res) => {
        res.json({ remaining: req.rateLimit?.remaining })
      })
      expect((await request(app).get('/api/x')).body).toEqual({ remaining: 4 })
    })

    test('each request sees only its own decision, and others may set req.rateLimit too', async () => {
      const clock = createManualClock()
      const app = express()
      app.use((req, _res, next) => {
        if (req.path === '/preset') (req as { rateLimit?: unknown }).rateLimit = undefined
        next()
      })
      app.use(rateLimit({ limit: 5, window: '1m', clock, key: (req) => String(req.query.k) }))
      app.get(['/', '/preset'], (req, res) => {
        res.json({ key: req.rateLimit?.key, remaining: req.rateLimit?.remaining })
      })
      expect((await request(app).get('/?k=a')).body).toEqual({ key: 'a', remaining: 4 })
      expect((await request(app).get('/preset?k=b')).body).toEqual({ key: 'b', remaining: 4 })
      expect((await request(app).get('/?k=a')).body).toEqual({ key: 'a', remaining: 3 })
    })

    test('a request with its own rateLimit property keeps it as the decision', async () => {
      const app = express()
      app.use((req, _res, next) => {
        Object.defineProperty(req, 'rateLimit', { value: undefined, writable: true, configurable: true })
        next()
      })
      app.use(rateLimit({ limit: 3, window: '1m', name: 'a', clock: createManualClock() }))
      app.use(rateLimit({ limit: 9, window: '1m', name: 'b', clock: createManualClock() }))
      app.get('/', (req, res) => {
        res.json({ own: Object.hasOwn(req, 'rateLimit'), remaining: req.rateLimit?.remaining })
      })
      const res = await request(app).get('/')
      expect(res.body).toEqual({ own: true, remaining: 8 })
      expect(res.headers['ratelimit-policy']).toBe('"a";q=3;w=60, "b";q=9;w=60')
    })
  })

  test("another library's req.rateLimit (express-rate-limit's) is no decision of ours", async () => {
    const clock = createManualClock()
    const app = express()
    // What express-rate-limit leaves on the request; limiters of both kinds run while migrating.
    const foreign = (req: express.Request, _res: express.Response, next: express.NextFunction) => {
      ;(req as { rateLimit?: unknown }).rateLimit = {
        limit: 100,
        used: 1,
        remaining: 99,
        resetTime: new Date(),
      }
      next()
    }
    app.get('/one', foreign, rateLimit({ limit: 5, window: '1m', name: 'one', clock }), (req, res) => {
      res.json({ remaining: req.rateLimit?.remaining })
    })
    const between = [
      rateLimit({ limit: 5, window: '1m', name: 'outer', clock }),
      foreign,
      rateLimit({ limit: 2, window: '1m', name: 'inner', clock }),
    ]
    app.get('/two', ...between, (req, res) => {
      res.json({ remaining: req.rateLimit?.remaining })
    })
    const one = await request(app).get('/one')
    expect(one.status).toBe(200)
    expect(one.body).toEqual({ remaining: 4 })
    expect(one.headers['ratelimit-policy']).toBe('"one";q=5;w=60')
    const two = await request(app).get('/two')
    expect(two.status).toBe(200)
    expect(two.body).toEqual({ remaining: 1 })
    // The foreign value replaced the outer decision, which only a list of stacked decisions would
    // have kept: the headers describe the inner limiter (no 500, nothing miscounted).
    expect(two.headers['ratelimit-policy']).toBe('"inner";q=2;w=60')
    expect(two.headers.ratelimit).toBe('"inner";r=1;t=30')
    expect((await request(app).get('/two')).headers.ratelimit).toBe('"inner";r=0;t=60')
  })

  test('one limiter last in two different stacks sends each stack its own headers', async () => {
    const clock = createManualClock()
    const app = express()
    const login = rateLimit({ limit: 2, window: '1m', name: 'login', clock })
    const ok = (_req: express.Request, res: express.Response) => {
      res.send('ok')
    }
    app.get('/a', rateLimit({ limit: 5, window: '1m', name: 'a', clock }), login, ok)
    app.get('/b', rateLimit({ limit: 7, window: '1h', name: 'b', clock }), login, ok)
    const a = await request(app).get('/a')
    expect(a.headers['ratelimit-policy']).toBe('"a";q=5;w=60, "login";q=2;w=60')
    expect(a.headers.ratelimit).toBe('"a";r=4;t=12, "login";r=1;t=30')
    const b = await request(app).get('/b')
    expect(b.headers['ratelimit-policy']).toBe('"b";q=7;w=3600, "login";q=2;w=60')
    expect(b.headers.ratelimit).toBe('"b";r=6;t=515, "login";r=0;t=60')
    const again = await request(app).get('/a')
    expect(again.status).toBe(429)
    expect(again.headers['ratelimit-policy']).toBe('"a";q=5;w=60, "login";q=2;w=60')
    expect(again.headers.ratelimit).toBe('"a";r=3;t=24, "login";r=0;t=60')
    expect(again.headers['retry-after']).toBe('30')
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

  describe('the default key is req.ip', () => {
    const keyed = (setup: (app: express.Express) => void, warnings: string[] = []) => {
      const app = express()
      setup(app)
      const logger = { warn: (message: string) => warnings.push(message), error: () => {} }
      app.use(rateLimit({ limit: 1, window: '1m', clock: createManualClock(), logger }))
      app.get('/', (req, res) => {
        res.json({ key: req.rateLimit?.key, ip: req.ip })
      })
      return app
    }

    test('the socket address without X-Forwarded-For, whatever trust proxy says', async () => {
      for (const trust of [false, true, 1, 'loopback']) {
        const app = keyed((a) => a.set('trust proxy', trust))
        const { body } = await request(app).get('/')
        expect(body).toEqual({ key: '127.0.0.1', ip: '127.0.0.1' })
        expect((await request(app).get('/')).status).toBe(429)
      }
    })

    test('the forwarded client when trust proxy says so, the socket address when not', async () => {
      const trusted = keyed((a) => a.set('trust proxy', 1))
      const forwarded = await request(trusted).get('/').set('X-Forwarded-For', '198.51.100.1')
      expect(forwarded.body).toEqual({ key: '198.51.100.1', ip: '198.51.100.1' })
      expect((await request(trusted).get('/').set('X-Forwarded-For', '198.51.100.2')).status).toBe(200)
      expect((await request(trusted).get('/').set('X-Forwarded-For', '198.51.100.1')).status).toBe(429)

      const warnings: string[] = []
      const direct = keyed(() => {}, warnings)
      expect((await request(direct).get('/').set('X-Forwarded-For', '198.51.100.1')).body.key).toBe(
        '127.0.0.1',
      )
      expect((await request(direct).get('/').set('X-Forwarded-For', '198.51.100.2')).status).toBe(429)
      expect(warnings).toEqual([expect.stringMatching(/X-Forwarded-For but the client IP is the proxy's/)])
    })

    test('trust proxy changed while the app runs is honoured on the next request', async () => {
      const app = keyed(() => {})
      const first = await request(app).get('/').set('X-Forwarded-For', '198.51.100.1')
      expect(first.body).toEqual({ key: '127.0.0.1', ip: '127.0.0.1' })
      app.set('trust proxy', true)
      const second = await request(app).get('/').set('X-Forwarded-For', '198.51.100.1')
      expect(second.body).toEqual({ key: '198.51.100.1', ip: '198.51.100.1' })
      app.set('trust proxy', false)
      expect((await request(app).get('/').set('X-Forwarded-For', '198.51.100.2')).status).toBe(429)
    })

    test('two apps with different trust proxy settings, requests alternating', async () => {
      const trusting = keyed((a) => a.set('trust proxy', true))
      const direct = keyed(() => {})
      for (let i = 0; i < 2; i++) {
        const forwarded = await request(trusting).get('/').set('X-Forwarded-For', `198.51.100.${i}`)
        expect(forwarded.body.key).toBe(`198.51.100.${i}`)
        const own = await request(direct).get('/').set('X-Forwarded-For', `198.51.100.${i}`)
        expect(own.status).toBe(i === 0 ? 200 : 429)
      }
    })

    test("a mounted app follows its parent's trust proxy, and a function that trusts no one", async () => {
      const sub = express()
      sub.use(rateLimit({ limit: 1, window: '1m', clock: createManualClock() }))
      sub.get('/', (req, res) => {
        res.json({ key: req.rateLimit?.key, ip: req.ip })
      })
      const parent = express()
      parent.set('trust proxy', true)
      parent.use('/sub', sub)
      const mounted = await request(parent).get('/sub').set('X-Forwarded-For', '198.51.100.1')
      expect(mounted.body).toEqual({ key: '198.51.100.1', ip: '198.51.100.1' })

      const own = keyed((a) => a.set('trust proxy', () => false))
      const direct = await request(own).get('/').set('X-Forwarded-For', '198.51.100.1')
      expect(direct.body).toEqual({ key: '127.0.0.1', ip: '127.0.0.1' })
    })

    test("an ip getter replaced on the app's request object is honoured", async () => {
      const app = keyed((a) => {
        Object.defineProperty(a.request, 'ip', {
          configurable: true,
          get(this: express.Request) {
            return this.get('x-client')
          },
        })
      })
      expect((await request(app).get('/').set('X-Client', 'a')).body).toEqual({ key: 'a', ip: 'a' })
      expect((await request(app).get('/').set('X-Client', 'b')).status).toBe(200)
      expect((await request(app).get('/').set('X-Client', 'a')).status).toBe(429)
    })

    test('an ip set on the request by an earlier middleware is honoured', async () => {
      const app = keyed((a) =>
        a.use((req, _res, next) => {
          Object.defineProperty(req, 'ip', { value: String(req.get('x-client')) })
          next()
        }),
      )
      expect((await request(app).get('/').set('X-Client', 'a')).body).toEqual({ key: 'a', ip: 'a' })
      expect((await request(app).get('/').set('X-Client', 'b')).status).toBe(200)
      expect((await request(app).get('/').set('X-Client', 'a')).status).toBe(429)
    })
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
