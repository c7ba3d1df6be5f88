import http from 'node:http'
import { createManualClock, type Decision } from '@tollgate/core'
import { Redis } from 'ioredis'
import request from 'supertest'
import { afterAll, afterEach, describe, expect, test } from 'vitest'
import { startRedis, type TestRedis } from '../../packages/redis/test/helpers/redis-server.ts'
import { brokenStore, countingStore, recordingLogger, watchedClock } from '../support/doubles.ts'
import { type AnyOptions, type AppOptions, frameworks, onRedis, type Started } from '../support/harness.ts'
import { parseDraft7, parseMembers } from '../support/headers.ts'

type Req = { headers: Record<string, string | string[] | undefined> }
const header = (name: string) => (r: unknown) => (r as Req).headers[name] as string | undefined

// The scenarios on the latest major of each framework once more, with a Redis store.
let redisServer: Promise<TestRedis> | undefined
let redisClient: Promise<Redis> | undefined
const redis = () => {
  redisServer ??= startRedis()
  redisClient ??= redisServer.then(async ({ port }) => {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true })
    await client.connect()
    return client
  })
  return redisClient
}
afterAll(async () => {
  ;(await redisClient)?.disconnect()
  await (await redisServer)?.stop()
})
const all = [
  ...frameworks,
  ...frameworks
    .filter((f) => ['express 5', 'koa 3', 'fastify 5'].includes(f.name))
    .map((f) => onRedis(f, redis)),
]

describe.each(all)('$name', (framework) => {
  let running: Started[] = []
  afterEach(async () => {
    await Promise.all(running.map((app) => app.close()))
    running = []
  })
  async function startApp(limiters: AnyOptions | AnyOptions[], app?: AppOptions): Promise<Started> {
    const started = await framework.start(Array.isArray(limiters) ? limiters : [limiters], app)
    running.push(started)
    return started
  }
  async function start(limiters: AnyOptions | AnyOptions[], app?: AppOptions): Promise<string> {
    return (await startApp(limiters, app)).url
  }

  test('allows the first N requests, then answers 429 with Retry-After and a plain-text body', async () => {
    const url = await start({ limit: 3, window: '1m', clock: createManualClock() })
    for (const remaining of [2, 1, 0]) {
      const res = await request(url).get('/')
      expect(res.status).toBe(200)
      expect(res.text).toBe('ok')
      expect(parseMembers(res.headers.ratelimit)[0]!.params.r).toBe(remaining)
      expect(res.headers['retry-after']).toBeUndefined()
    }
    const res = await request(url).get('/')
    expect(res.status).toBe(429)
    expect(res.headers['content-type']).toMatch(/^text\/plain/)
    expect(res.text).toBe('Too many requests, please try again in 20 seconds.')
    expect(res.headers['retry-after']).toBe('20')
    expect(parseMembers(res.headers.ratelimit)).toEqual([{ name: 'default', params: { r: 0, t: 60 } }])
  })

  test('answers JSON to a client that prefers JSON', async () => {
    const url = await start({ limit: 1, window: '10s', clock: createManualClock() })
    await request(url).get('/')
    const res = await request(url).get('/').set('Accept', 'application/json, text/plain;q=0.5')
    expect(res.status).toBe(429)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    expect(res.body).toEqual({
      error: 'Too Many Requests',
      message: 'Too many requests, please try again in 10 seconds.',
      retryAfter: 10,
      reason: 'limited',
    })
    const text = await request(url).get('/').set('Accept', '*/*')
    expect(text.headers['content-type']).toMatch(/^text\/plain/)
  })

  test('exposes the decision to handlers', async () => {
    const url = await start({ limit: 5, window: '1m', clock: createManualClock() })
    const res = await request(url).get('/decision')
    const decision = JSON.parse(res.text) as Decision
    expect(decision).toMatchObject({
      allowed: true,
      key: '127.0.0.1',
      weight: 1,
      limit: 5,
      remaining: 4,
      reason: 'ok',
    })
  })

  describe('header modes (DESIGN.md §6 vectors: limit 100, window 60 s, 50 remaining, 30 s to reset)', () => {
    // A fixed window starts at the key's first hit: 49 hits, 30 s later the 50th leaves 50 and 30 s.
    async function vector(options: AnyOptions, advance = 30_000) {
      const clock = createManualClock()
      const url = await start({ limit: 100, window: '1m', algorithm: 'fixed-window', clock, ...options })
      for (let i = 0; i < 49; i++) await request(url).get('/')
      clock.advance(advance)
      return { url, clock, res: await request(url).get('/') }
    }

    test('draft-8 (default)', async () => {
      const { res } = await vector({})
      expect(res.headers['ratelimit-policy']).toBe('"default";q=100;w=60')
      expect(res.headers.ratelimit).toBe('"default";r=50;t=30')
      expect(parseMembers(res.headers['ratelimit-policy'])).toEqual([
        { name: 'default', params: { q: 100, w: 60 } },
      ])
      expect(parseMembers(res.headers.ratelimit)).toEqual([{ name: 'default', params: { r: 50, t: 30 } }])
      expect(res.headers['x-ratelimit-limit']).toBeUndefined()
    })

    test('draft-7', async () => {
      const { res } = await vector({ headers: 'draft-7' })
      expect(res.headers['ratelimit-policy']).toBe('100;w=60')
      expect(res.headers.ratelimit).toBe('limit=100, remaining=50, reset=30')
      expect(parseDraft7(res.headers.ratelimit)).toEqual({ limit: 100, remaining: 50, reset: 30 })
    })

    test('draft-6', async () => {
      const { res } = await vector({ headers: 'draft-6' })
      expect(res.headers['ratelimit-policy']).toBe('100;w=60')
      expect(res.headers['ratelimit-limit']).toBe('100')
      expect(res.headers['ratelimit-remaining']).toBe('50')
      expect(res.headers['ratelimit-reset']).toBe('30')
      expect(res.headers.ratelimit).toBeUndefined()
    })

    test('false sends no RateLimit fields, but a 429 still carries Retry-After', async () => {
      const clock = createManualClock()
      const url = await start({ limit: 1, window: '1m', algorithm: 'fixed-window', clock, headers: false })
      const ok = await request(url).get('/')
      expect(Object.keys(ok.headers).filter((name) => name.includes('ratelimit'))).toEqual([])
      clock.advance(30_000)
      const limited = await request(url).get('/')
      expect(limited.status).toBe(429)
      expect(limited.headers['retry-after']).toBe('30')
      expect(limited.headers.ratelimit).toBeUndefined()
    })

    test('legacy headers', async () => {
      const { res, clock } = await vector({ legacyHeaders: true })
      expect(res.headers['x-ratelimit-limit']).toBe('100')
      expect(res.headers['x-ratelimit-remaining']).toBe('50')
      expect(res.headers['x-ratelimit-reset']).toBe(String(Math.ceil((clock.now() + 30_000) / 1000)))
    })

    test('429: r=0, t=30 and Retry-After: 30', async () => {
      const clock = createManualClock()
      const url = await start({ limit: 100, window: '1m', algorithm: 'fixed-window', clock })
      for (let i = 0; i < 100; i++) await request(url).get('/')
      clock.advance(30_000)
      const res = await request(url).get('/')
      expect(res.status).toBe(429)
      expect(res.headers.ratelimit).toBe('"default";r=0;t=30')
      expect(res.headers['retry-after']).toBe('30')
    })

    test('29.4 s left rounds up to t=30', async () => {
      const { res } = await vector({}, 30_600)
      expect(res.headers.ratelimit).toBe('"default";r=50;t=30')
    })

    test('a name with a quote is escaped', async () => {
      const { res } = await vector({ name: 'a"b' })
      expect(res.headers.ratelimit).toBe('"a\\"b";r=50;t=30')
      expect(parseMembers(res.headers.ratelimit)[0]!.name).toBe('a"b')
    })

    test('two rates: one list member each', async () => {
      const url = await start({
        rates: [
          { limit: 100, window: '1m', name: 'burst' },
          { limit: 1000, window: '1d', name: 'daily' },
        ],
        clock: createManualClock(),
      })
      const res = await request(url).get('/')
      expect(res.headers['ratelimit-policy']).toBe('"burst";q=100;w=60, "daily";q=1000;w=86400')
      expect(parseMembers(res.headers.ratelimit).map((m) => [m.name, m.params.r])).toEqual([
        ['burst', 99],
        ['daily', 999],
      ])
    })

    test('quota unit', async () => {
      const url = await start({
        rates: [{ limit: 65535, window: '10s', name: 'peruser', quotaUnit: 'content-bytes' }],
        clock: createManualClock(),
      })
      const res = await request(url).get('/')
      expect(res.headers['ratelimit-policy']).toBe('"peruser";q=65535;qu="content-bytes";w=10')
    })

    test('a sub-second window omits w rather than lie', async () => {
      const url = await start({ limit: 5, window: 500, clock: createManualClock() })
      const res = await request(url).get('/')
      expect(parseMembers(res.headers['ratelimit-policy'])).toEqual([{ name: 'default', params: { q: 5 } }])
    })
  })

  test('several rates must all allow a request; the tightest one rejects', async () => {
    const clock = createManualClock()
    const url = await start({
      rates: [
        { limit: 3, window: '1s', name: 'second' },
        { limit: 5, window: '1m', name: 'minute' },
      ],
      clock,
    })
    for (let i = 0; i < 3; i++) expect((await request(url).get('/')).status).toBe(200)
    const perSecond = await request(url).get('/')
    expect(perSecond.status).toBe(429)
    expect(perSecond.headers['retry-after']).toBe('1')
    clock.advance(1000)
    expect((await request(url).get('/')).status).toBe(200)
    expect((await request(url).get('/')).status).toBe(200)
    const perMinute = await request(url).get('/')
    expect(perMinute.status).toBe(429)
    expect(parseMembers(perMinute.headers.ratelimit).map((m) => [m.name, m.params.r])).toEqual([
      ['second', 1],
      ['minute', 0],
    ])
    expect(Number(perMinute.headers['retry-after'])).toBeGreaterThan(1)
  })

  test('weights: each request costs what the weight callback says', async () => {
    const url = await start({
      limit: 10,
      window: '1m',
      clock: createManualClock(),
      weight: (r: unknown) => Number(header('x-cost')(r) ?? 1),
    })
    const first = await request(url).get('/').set('x-cost', '4')
    expect(parseMembers(first.headers.ratelimit)[0]!.params.r).toBe(6)
    expect((await request(url).get('/').set('x-cost', '6')).status).toBe(200)
    const over = await request(url).get('/').set('x-cost', '2')
    expect(over.status).toBe(429)
    expect(over.headers['retry-after']).toBe('12')
  })

  test('custom key: clients are counted apart', async () => {
    const url = await start({ limit: 1, window: '1m', clock: createManualClock(), key: header('x-user') })
    expect((await request(url).get('/').set('x-user', 'ann')).status).toBe(200)
    expect((await request(url).get('/').set('x-user', 'ann')).status).toBe(429)
    const bob = await request(url).get('/decision').set('x-user', 'bob')
    expect(bob.status).toBe(200)
    expect(JSON.parse(bob.text)).toMatchObject({ key: 'bob', reason: 'ok' })
  })

  test('keyless requests share the fallback bucket', async () => {
    const url = await start({
      limit: 2,
      window: '1m',
      clock: createManualClock(),
      key: header('x-user'),
      fallback: { limit: 1, window: '1m' },
    })
    const anonymous = JSON.parse((await request(url).get('/decision')).text) as Decision
    expect(anonymous).toMatchObject({ reason: 'fallback', limit: 1, remaining: 0 })
    expect(anonymous.key).toBeUndefined()
    expect((await request(url).get('/')).status).toBe(429)
    expect((await request(url).get('/').set('x-user', 'ann')).status).toBe(200)
  })

  test("a key of '' or null is keyless (the fallback bucket); a numeric key is its decimal string", async () => {
    const ids: Record<string, unknown> = { empty: '', none: null, seven: 7, big: 12345678901234567890n }
    const url = await start({
      limit: 1,
      window: '1m',
      clock: createManualClock(),
      key: (r: unknown) => ids[header('x-user')(r) ?? ''],
      fallback: { limit: 3, window: '1m' },
    })
    const decision = async (user: string) =>
      JSON.parse((await request(url).get('/decision').set('x-user', user)).text) as Decision
    expect(await decision('empty')).toMatchObject({ reason: 'fallback', limit: 3, remaining: 2 })
    // JSON drops the undefined key.
    expect(await decision('empty')).not.toHaveProperty('key')
    expect(await decision('none')).toMatchObject({ reason: 'fallback', limit: 3, remaining: 0 })
    expect(await decision('seven')).toMatchObject({ key: '7', reason: 'ok', remaining: 0 })
    expect(await decision('big')).toMatchObject({ key: '12345678901234567890', reason: 'ok' })
    expect((await request(url).get('/').set('x-user', 'seven')).status).toBe(429)
  })

  test('limiters with the same name share counters, with no store given (route groups)', async () => {
    const clock = createManualClock()
    const group = { name: 'reports', limit: 2, window: '1m', clock }
    const first = await start(group)
    const second = await start({ ...group })
    const unnamed = await start({ limit: 2, window: '1m', clock })
    expect((await request(first).get('/')).status).toBe(200)
    expect((await request(second).get('/')).status).toBe(200)
    const third = await request(first).get('/')
    expect(third.status).toBe(429)
    expect(parseMembers(third.headers.ratelimit)[0]!.name).toBe('reports')
    expect((await request(unnamed).get('/')).status).toBe(200)
  })

  test('skip: skipped requests are neither counted nor given headers', async () => {
    const url = await start({
      limit: 1,
      window: '1m',
      clock: createManualClock(),
      skip: (r: unknown) => header('x-internal')(r) === 'yes',
    })
    for (let i = 0; i < 3; i++) {
      const res = await request(url).get('/').set('x-internal', 'yes')
      expect(res.status).toBe(200)
      expect(res.headers.ratelimit).toBeUndefined()
    }
    expect((await request(url).get('/')).status).toBe(200)
    expect((await request(url).get('/')).status).toBe(429)
  })

  test('async key, weight and skip callbacks', async () => {
    const url = await start({
      limit: 5,
      window: '1m',
      clock: createManualClock(),
      key: async (r: unknown) => header('x-user')(r),
      weight: async () => 2,
      skip: async () => false,
    })
    const res = await request(url).get('/decision').set('x-user', 'ann')
    expect(JSON.parse(res.text)).toMatchObject({ key: 'ann', weight: 2, remaining: 3 })
  })

  describe('delay mode', () => {
    test('an over-limit request proceeds when its slot comes; beyond maxDelay it is rejected', async () => {
      const clock = watchedClock()
      const url = await start({ limit: 1, window: '1s', mode: 'delay', maxDelay: 1500, clock })
      expect((await request(url).get('/')).status).toBe(200)
      let settled = false
      const delayed = request(url)
        .get('/')
        .then((res) => {
          settled = true
          return res
        })
      expect(await clock.nextTimer()).toBe(1000)
      const beyond = await request(url).get('/')
      expect(beyond.status).toBe(429)
      expect(beyond.headers['retry-after']).toBe('1')
      expect(settled).toBe(false)
      expect(clock.pending()).toBe(1)
      clock.advance(1000)
      const res = await delayed
      expect(res.status).toBe(200)
      expect(res.text).toBe('ok')
    })

    test('a client that disconnects while waiting gives its slot back', async () => {
      const clock = watchedClock()
      const store = countingStore()
      const url = await start({ limit: 1, window: '1s', mode: 'delay', clock, store })
      expect((await request(url).get('/')).status).toBe(200)
      const waiting = http.get(`${url}/`)
      waiting.on('error', () => {})
      expect(await clock.nextTimer()).toBe(1000)
      waiting.destroy()
      await store.refunded(1)
      expect(clock.pending()).toBe(0)
      // The slot at +1 s is free again: the next request waits 1 s, not 2 s.
      const next = request(url).get('/')
      const timer = clock.nextTimer()
      next.then(() => {})
      expect(await timer).toBe(1000)
      clock.advance(1000)
      expect((await next).status).toBe(200)
    })

    test('a client that left during an async key callback gets no wait, and its slot is given back', async () => {
      const clock = watchedClock()
      const store = countingStore()
      let release = () => {}
      const gate = new Promise<void>((resolve) => {
        release = resolve
      })
      let entered = () => {}
      const keyCalled = new Promise<void>((resolve) => {
        entered = resolve
      })
      const key = (r: unknown) => {
        if (header('x-slow')(r) !== 'yes') return 'k'
        entered()
        return gate.then(() => 'k')
      }
      const app = await startApp({ limit: 1, window: '1s', mode: 'delay', clock, store, key })
      expect((await request(app.url).get('/')).status).toBe(200)
      const closed = new Promise<void>((resolve) => {
        app.server.once('connection', (socket) => socket.once('close', () => resolve()))
      })
      const leaving = http.get(`${app.url}/`, { headers: { 'x-slow': 'yes' } })
      leaving.on('error', () => {})
      await keyCalled
      leaving.destroy()
      await closed
      release()
      await store.refunded(1)
      expect(clock.pending()).toBe(0)
    })

    test('delay mode with the sliding window is refused at construction', async () => {
      await expect(
        framework.start([{ limit: 1, window: '1s', mode: 'delay', algorithm: 'sliding-window' }]),
      ).rejects.toThrow(/"mode" must be 'reject' with algorithm 'sliding-window'/)
    })
  })

  test('skipFailedRequests gives back the units of failed responses', async () => {
    const store = countingStore()
    const url = await start({
      limit: 2,
      window: '1m',
      clock: createManualClock(),
      store,
      skipFailedRequests: true,
    })
    for (let i = 1; i <= 3; i++) {
      expect((await request(url).get('/fail')).status).toBe(500)
      await store.refunded(i)
    }
    expect((await request(url).get('/')).status).toBe(200)
    expect((await request(url).get('/')).status).toBe(200)
    expect((await request(url).get('/')).status).toBe(429)
    expect(store.refunds).toBe(3)
  })

  test('skipSuccessfulRequests gives back the units of successful responses', async () => {
    const store = countingStore()
    const url = await start({
      limit: 2,
      window: '1m',
      clock: createManualClock(),
      store,
      skipSuccessfulRequests: true,
    })
    for (let i = 1; i <= 3; i++) {
      expect((await request(url).get('/')).status).toBe(200)
      await store.refunded(i)
    }
    expect((await request(url).get('/fail')).status).toBe(500)
    expect((await request(url).get('/fail')).status).toBe(500)
    expect((await request(url).get('/')).status).toBe(429)
    expect(store.refunds).toBe(3)
  })

  test('IPv6 clients are grouped by /56; IPv4-mapped IPv6 counts as IPv4', async () => {
    const url = await start({ limit: 1, window: '1m', clock: createManualClock() }, { trustProxy: true })
    const first = await request(url).get('/decision').set('X-Forwarded-For', '2001:db8:0:100::1')
    expect(JSON.parse(first.text)).toMatchObject({ key: '2001:db8:0:100::/56' })
    expect((await request(url).get('/').set('X-Forwarded-For', '2001:db8:0:1ff:abcd::2')).status).toBe(429)
    expect((await request(url).get('/').set('X-Forwarded-For', '2001:db8:0:200::1')).status).toBe(200)
    expect((await request(url).get('/').set('X-Forwarded-For', '::ffff:203.0.113.7')).status).toBe(200)
    expect((await request(url).get('/').set('X-Forwarded-For', '203.0.113.7')).status).toBe(429)
  })

  test('ipv6Subnet: 64 separates what /56 would group', async () => {
    const url = await start(
      { limit: 1, window: '1m', clock: createManualClock(), ipv6Subnet: 64 },
      { trustProxy: true },
    )
    expect((await request(url).get('/').set('X-Forwarded-For', '2001:db8:0:100::1')).status).toBe(200)
    expect((await request(url).get('/').set('X-Forwarded-For', '2001:db8:0:101::1')).status).toBe(200)
    expect((await request(url).get('/').set('X-Forwarded-For', '2001:db8:0:100::2')).status).toBe(429)
  })

  test('warns once when requests come through a proxy the framework does not trust', async () => {
    const logger = recordingLogger()
    const url = await start({ limit: 10, window: '1m', clock: createManualClock(), logger })
    await request(url).get('/').set('X-Forwarded-For', '198.51.100.1')
    await request(url).get('/').set('X-Forwarded-For', '198.51.100.2')
    expect(logger.warnings).toHaveLength(1)
    expect(logger.warnings[0]).toMatch(/X-Forwarded-For/)
  })

  test('looks for an untrusted proxy on the first request and on every 64th after, until it warns', async () => {
    const logger = recordingLogger()
    const url = await start({ limit: 1000, window: '1m', clock: createManualClock(), logger })
    await request(url).get('/')
    // Requests 2 to 64 are not looked at; request 65 is.
    for (let i = 2; i <= 64; i++) await request(url).get('/').set('X-Forwarded-For', '198.51.100.1')
    expect(logger.warnings).toHaveLength(0)
    await request(url).get('/').set('X-Forwarded-For', '198.51.100.1')
    expect(logger.warnings).toHaveLength(1)
  })

  describe('failing callbacks follow the failure policy and never crash the server', () => {
    const failing = {
      'a throwing key': {
        key: (r: unknown) => {
          if (header('x-user')(r) === 'bad') throw new Error('bug in key')
          return header('x-user')(r)
        },
      },
      'a rejecting key': {
        key: async (r: unknown) => {
          if (header('x-user')(r) === 'bad') throw new Error('bug in key')
          return header('x-user')(r)
        },
      },
      'a throwing weight': {
        key: header('x-user'),
        weight: (r: unknown) => {
          if (header('x-user')(r) === 'bad') throw new Error('bug in weight')
          return 1
        },
      },
      'a rejecting weight': {
        key: header('x-user'),
        weight: async (r: unknown) => {
          if (header('x-user')(r) === 'bad') throw new Error('bug in weight')
          return 1
        },
      },
      'an invalid key': {
        key: (r: unknown) => (header('x-user')(r) === 'bad' ? { id: 42 } : header('x-user')(r)),
      },
    }
    for (const [what, callbacks] of Object.entries(failing)) {
      test(`${what}: 'closed' (default) answers 500, other keys unaffected, logged once`, async () => {
        const logger = recordingLogger()
        const url = await start({ limit: 2, window: '1m', clock: createManualClock(), logger, ...callbacks })
        for (let i = 0; i < 3; i++) {
          const res = await request(url).get('/').set('x-user', 'bad')
          expect(res.status).toBe(500)
          expect(res.text).toMatch(/rate limiter could not decide/)
        }
        const good = await request(url).get('/').set('x-user', 'good')
        expect(good.status).toBe(200)
        expect(parseMembers(good.headers.ratelimit)[0]!.params.r).toBe(1)
        expect(logger.errors).toHaveLength(1)
        expect(logger.errors[0]).toMatch(/callback failed/)
      })

      test(`${what}: 'open' lets the request through uncounted`, async () => {
        const logger = recordingLogger()
        const url = await start({
          limit: 1,
          window: '1m',
          clock: createManualClock(),
          logger,
          failure: 'open',
          ...callbacks,
        })
        for (let i = 0; i < 3; i++) {
          const res = await request(url).get('/').set('x-user', 'bad')
          expect(res.status).toBe(200)
          expect(res.headers.ratelimit).toBeUndefined()
        }
        expect((await request(url).get('/').set('x-user', 'good')).status).toBe(200)
        expect((await request(url).get('/').set('x-user', 'good')).status).toBe(429)
        expect(logger.errors).toHaveLength(1)
      })
    }
  })

  describe('weights from a callback: NaN, -1 and Infinity are invalid, 1e308 is too heavy', () => {
    const options = (failure: string) => ({
      limit: 5,
      window: '1m',
      clock: createManualClock(),
      logger: recordingLogger(),
      failure,
      key: header('x-user'),
      weight: (r: unknown) => Number(header('x-cost')(r) ?? 1),
    })

    test.each(['NaN', '-1', 'Infinity', '0', 'abc'])(
      '%s: 500 under failure closed, state untouched',
      async (cost) => {
        const url = await start(options('closed'))
        const res = await request(url).get('/').set('x-user', 'u').set('x-cost', cost)
        expect(res.status).toBe(500)
        const next = await request(url).get('/').set('x-user', 'u')
        expect(parseMembers(next.headers.ratelimit)[0]!.params.r).toBe(4)
      },
    )

    test.each(['NaN', '-1'])('%s: passes uncounted under failure open', async (cost) => {
      const url = await start(options('open'))
      expect((await request(url).get('/').set('x-user', 'u').set('x-cost', cost)).status).toBe(200)
      const next = await request(url).get('/').set('x-user', 'u')
      expect(parseMembers(next.headers.ratelimit)[0]!.params.r).toBe(4)
    })

    test('1e308: 429 too-heavy, no Retry-After (waiting cannot help), nothing charged', async () => {
      const url = await start(options('closed'))
      const res = await request(url).get('/decision').set('x-user', 'u').set('x-cost', '1e308')
      expect(res.status).toBe(429)
      expect(res.headers['retry-after']).toBeUndefined()
      expect(res.text).toMatch(/can never pass/)
      expect(parseMembers(res.headers.ratelimit)[0]!.params.r).toBe(5)
      const json = await request(url)
        .get('/')
        .set('x-user', 'u')
        .set('x-cost', '6')
        .set('Accept', 'application/json')
      expect(json.body).toMatchObject({ retryAfter: null, reason: 'too-heavy' })
    })
  })

  test("a store that fails answers 503 under failure 'closed' and passes under 'open'", async () => {
    const closed = await start({ limit: 1, window: '1m', store: brokenStore(), logger: recordingLogger() })
    const res = await request(closed).get('/')
    expect(res.status).toBe(503)
    expect(res.text).toMatch(/cannot reach its store/)
    const open = await start({
      limit: 1,
      window: '1m',
      store: brokenStore(),
      logger: recordingLogger(),
      failure: 'open',
    })
    expect((await request(open).get('/')).status).toBe(200)
  })

  test('stacked limiters: every policy appears in the headers; the tighter one rejects', async () => {
    const clock = createManualClock()
    const url = await start([
      { limit: 5, window: '1m', name: 'minute', clock },
      { limit: 2, window: '1s', name: 'second', clock },
    ])
    const first = await request(url).get('/')
    expect(parseMembers(first.headers['ratelimit-policy'])).toEqual([
      { name: 'minute', params: { q: 5, w: 60 } },
      { name: 'second', params: { q: 2, w: 1 } },
    ])
    expect(parseMembers(first.headers.ratelimit).map((m) => m.params.r)).toEqual([4, 1])
    await request(url).get('/')
    const third = await request(url).get('/')
    expect(third.status).toBe(429)
    expect(third.headers['retry-after']).toBe('1')
    expect(parseMembers(third.headers.ratelimit).map((m) => [m.name, m.params.r])).toEqual([
      ['minute', 2],
      ['second', 0],
    ])
  })

  test('stacked: an earlier limiter with skipFailedRequests gets back what a later one rejected', async () => {
    const clock = createManualClock()
    const url = await start([
      { limit: 5, window: '1h', name: 'outer', clock, skipFailedRequests: true },
      { limit: 1, window: '1h', name: 'inner', clock },
    ])
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await request(url).get('/')).status)
    expect(statuses).toEqual([200, 429, 429])
    const fourth = await request(url).get('/')
    // outer: 1 request kept, the two rejected ones refunded, the fourth charged: 5 - 2 = 3
    expect(parseMembers(fourth.headers.ratelimit).map((m) => [m.name, m.params.r])).toEqual([
      ['outer', 3],
      ['inner', 0],
    ])
  })

  test('stacked limiters with the same rate names warn once (their header members look alike)', async () => {
    const clock = createManualClock()
    const logger = recordingLogger()
    const url = await start([
      { limit: 5, window: '1m', clock, logger },
      { limit: 2, window: '1s', clock, logger },
    ])
    for (let i = 0; i < 3; i++) await request(url).get('/')
    expect(logger.warnings).toHaveLength(1)
    expect(logger.warnings[0]).toMatch(/same name "default"/)
  })

  test('statusCode, message and onLimited', async () => {
    const limited: Decision[] = []
    const url = await start({
      limit: 1,
      window: '1m',
      clock: createManualClock(),
      statusCode: 503,
      message: { error: 'slow down' },
      onLimited: (...args: unknown[]) => {
        limited.push(args.at(-1) as Decision)
      },
    })
    await request(url).get('/')
    const res = await request(url).get('/')
    expect(res.status).toBe(503)
    expect(res.body).toEqual({ error: 'slow down' })
    expect(limited).toHaveLength(1)
    expect(limited[0]).toMatchObject({ allowed: false, reason: 'limited', key: '127.0.0.1' })
  })

  test('the default JSON body names the configured status', async () => {
    const url = await start({ limit: 1, window: '1m', clock: createManualClock(), statusCode: 503 })
    await request(url).get('/')
    const res = await request(url).get('/').set('Accept', 'application/json')
    expect(res.status).toBe(503)
    expect(res.body).toMatchObject({ error: 'Service Unavailable', reason: 'limited', retryAfter: 60 })
  })

  test('message as an async function of the request and the decision', async () => {
    const url = await start({
      limit: 1,
      window: '1m',
      clock: createManualClock(),
      message: async (...args: unknown[]) => `retry in ${(args.at(-1) as Decision).retryAfterMs} ms`,
    })
    await request(url).get('/')
    expect((await request(url).get('/')).text).toBe('retry in 60000 ms')
  })

  test('unknown and invalid options throw at construction, naming the option', async () => {
    await expect(framework.start([{ limit: 1, window: '1m', windowMs: 1000 }])).rejects.toThrow(
      /rateLimit: unknown option "windowMs"/,
    )
    await expect(framework.start([{ limit: 1, window: '1m', mode: 'slow' }])).rejects.toThrow(
      /rateLimit: "mode" must be one of 'reject', 'delay', got "slow"/,
    )
    await expect(framework.start([{ limit: 1, window: -5 }])).rejects.toThrow(
      /rateLimit: "window" must be a positive duration/,
    )
    await expect(framework.start([{ limit: 1, window: '1m', statusCode: 200 }])).rejects.toThrow(
      /"statusCode"/,
    )
    await expect(framework.start([{ limit: 1, window: '1m', failure: 'maybe' }])).rejects.toThrow(/"failure"/)
  })
})
