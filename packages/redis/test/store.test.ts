import { createHash } from 'node:crypto'
import { compilePolicy, createLimiter, createManualClock } from '@tollgate/core'
import { redisStore, SCRIPTS } from '@tollgate/redis'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest'
import { rulesTag } from './helpers/keys.ts'
import { random } from './helpers/random.ts'
import { startRedis, type TestRedis } from './helpers/redis-server.ts'

/** How many keys match a KEYS pattern (`tollgate:r@*:{k}`: a named policy's key, whatever its rules). */
async function count(pattern: string): Promise<number> {
  return (await client.keys(pattern)).length
}

// Far above any answer time: on a loaded machine no call here may be decided by the failure policy.
const SLOW = 10_000

let server: TestRedis
let client: Redis

beforeAll(async () => {
  server = await startRedis()
  client = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true })
  client.on('error', () => {})
  await client.connect()
})

afterAll(async () => {
  client?.disconnect()
  await server?.stop()
})

beforeEach(async () => {
  await client.flushall()
  await client.config('RESETSTAT')
})

/** How often Redis ran a command since the last CONFIG RESETSTAT. */
async function until(what: string, check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function calls(command: string): Promise<number> {
  const info = await client.info('commandstats')
  const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)
  return match ? Number(match[1]) : 0
}

describe('scripts', () => {
  test.each(SCRIPTS.map((script) => [script.name, script] as const))(
    'SCRIPT LOAD of the %s script returns its SHA1',
    async (_name, script) => {
      expect(await client.script('LOAD', script.source)).toBe(script.sha)
      expect(createHash('sha1').update(script.source).digest('hex')).toBe(script.sha)
    },
  )

  test('one EVALSHA per decision, all rates and the global ceiling together', async () => {
    const limiter = createLimiter({
      rates: [
        { limit: 5, window: '1s' },
        { limit: 100, window: '1h' },
      ],
      global: { limit: 1000, window: '1s' },
      store: redisStore({ timeout: SLOW, client, denyCache: false }),
    })
    await limiter.consume('warmup')
    await client.config('RESETSTAT')
    for (let i = 0; i < 10; i++) await limiter.consume('alice')
    expect(await calls('evalsha')).toBe(10)
    expect(await calls('eval')).toBe(0)
    await limiter.close()
  })

  test('requests made in one turn of the event loop share EVALSHA calls (at most 64 each), decided in order', async () => {
    const store = redisStore({ timeout: SLOW, client, denyCache: false })
    const limiter = createLimiter({ limit: 150, window: '1h', store })
    const other = createLimiter({ limit: 3, window: '1h', algorithm: 'fixed-window', name: 'fw', store })
    await limiter.consume('warmup')
    await other.consume('warmup')
    await client.config('RESETSTAT')
    // 200 requests on one key and 5 on a limiter with another script, all issued before any answer.
    const pending = Array.from({ length: 200 }, () => limiter.consume('crowd'))
    const others = Array.from({ length: 5 }, () => other.consume('crowd'))
    const decisions = await Promise.all(pending)
    const otherDecisions = await Promise.all(others)
    // 200 requests: 4 calls of 50 (at most 64 each); the other script's 5 requests: one call.
    expect(await calls('evalsha')).toBe(5)
    // Order within and across batches is the order of the calls: remaining counts down, then the limit holds.
    expect(decisions.map((d) => d.remaining)).toEqual([
      ...Array.from({ length: 150 }, (_, i) => 149 - i),
      ...Array.from({ length: 50 }, () => 0),
    ])
    expect(decisions.filter((d) => d.allowed)).toHaveLength(150)
    expect(decisions.every((d) => d.reason === 'ok' || d.reason === 'limited')).toBe(true)
    expect(otherDecisions.map((d) => d.allowed)).toEqual([true, true, true, false, false])
    await limiter.close()
    await other.close()
  })

  test('a call whose reply outgrows the format constant and the Lua stack (over 4,000 doubles) decides every request', async () => {
    // Closed: a call Redis cannot answer rejects instead of deciding in memory as Redis would.
    const store = redisStore({ timeout: SLOW, client, denyCache: false, failure: 'closed' })
    // 40 rates of 2 reply numbers each (the window scripts) and 5 more per request: a call of 64
    // requests answers with 2 + 64 × 85 = 5,442 doubles, which the script packs in two parts, each
    // with a format longer than its 1,024-double constant.
    const rates = Array.from({ length: 40 }, (_, i) => ({ limit: 100 + i, window: (i + 1) * 60_000 }))
    const limiter = createLimiter({ rates, algorithm: 'sliding-window', store })
    await limiter.consume('warmup')
    await client.config('RESETSTAT')
    const decisions = await Promise.all(Array.from({ length: 129 }, (_, i) => limiter.consume(`k${i % 3}`)))
    // 129 requests: three calls of 43 (at most 64 each).
    expect(await calls('evalsha')).toBe(3)
    expect(decisions.every((d) => d.allowed && d.reason === 'ok')).toBe(true)
    // Each key's n-th request leaves 100 - n on the tightest rate (limit 100), whichever call it was in.
    expect(decisions.map((d) => d.remaining)).toEqual(
      Array.from({ length: 129 }, (_, i) => 99 - Math.floor(i / 3)),
    )
    await limiter.close()
  })

  test('a batch reads each key once and writes it once, however many of its requests share the key', async () => {
    const store = redisStore({ timeout: SLOW, client, denyCache: false })
    const limiter = createLimiter({ limit: 100, window: '1h', global: { limit: 1000, window: '1h' }, store })
    await limiter.consume('warmup')
    await client.config('RESETSTAT')
    // 40 requests in one turn (30 on one key, 10 on another).
    const decisions = await Promise.all([
      ...Array.from({ length: 30 }, () => limiter.consume('hot')),
      ...Array.from({ length: 10 }, () => limiter.consume('cold')),
    ])
    expect(decisions.slice(0, 30).map((d) => d.remaining)).toEqual(
      Array.from({ length: 30 }, (_, i) => 99 - i),
    )
    expect(decisions.slice(30).map((d) => d.remaining)).toEqual(Array.from({ length: 10 }, (_, i) => 99 - i))
    // Split in two calls of 20 (from 32 requests on): each reads its keys with one MGET and writes
    // "hot", "cold" (second call only) and the ceiling once.
    expect(await calls('evalsha')).toBe(2)
    expect(await calls('get')).toBe(0)
    expect(await calls('mget')).toBe(2)
    expect(await calls('set')).toBe(2 + 3)
    expect((await limiter.peek('hot')).remaining).toBe(70)
    expect((await limiter.peek('cold')).remaining).toBe(90)
    await limiter.close()
  })

  test.each(['gcra', 'fixed-window', 'sliding-window'] as const)(
    '%s: a huge weight (1e308, Number.MAX_VALUE) is too heavy at once and never stalls Redis',
    async (algorithm) => {
      const store = redisStore({ timeout: SLOW, client, denyCache: false })
      const limiter = createLimiter({ limit: 5, window: '1m', algorithm, store })
      for (const weight of [1e308, Number.MAX_VALUE]) {
        expect(await limiter.consume('k', { weight })).toMatchObject({ allowed: false, reason: 'too-heavy' })
        expect(await limiter.peek('k', { weight })).toMatchObject({ allowed: false, reason: 'too-heavy' })
        await limiter.refund('k', weight)
      }
      // The scripts themselves survive it too (their whole-number division once looped forever on
      // an infinite product): a peek straight through the store answers.
      const policy = compilePolicy('test', { limit: 5, window: 60_000 }, algorithm, 'direct')
      // (Stores leave too-heavy to the limiter: only that it answers matters here.)
      const outcome = await store.peek([{ policy, key: 'k' }], 1e308, 0)
      expect(outcome.rates).toHaveLength(2)
      expect(await limiter.consume('k')).toMatchObject({ allowed: true, remaining: 4 })
      await limiter.close()
    },
  )

  test('an answer that arrived while the event loop was stalled past the timeout still counts', async () => {
    const errors: string[] = []
    const store = redisStore({
      timeout: 50,
      client,
      logger: { warn: () => {}, error: (m: string) => errors.push(m) },
    })
    const limiter = createLimiter({ limit: 5, window: '1m', store })
    await limiter.consume('warmup')
    const pending = limiter.consume('stalled')
    // The request goes out in the next turn of the loop; then a long synchronous task stalls the loop
    // well past the timeout while Redis answers. Timers run before sockets are read; the answer wins.
    await new Promise<void>((resolve) => setImmediate(resolve))
    const until = performance.now() + 500
    while (performance.now() < until) {
      // a stalled event loop (a long synchronous task, a GC pause)
    }
    const decision = await pending
    expect(decision.reason).toBe('ok')
    expect(decision.remaining).toBe(4)
    expect(errors).toEqual([])
    await limiter.close()
  })

  test('after SCRIPT FLUSH (a restarted Redis) the script is sent again once, then EVALSHA resumes', async () => {
    const limiter = createLimiter({ limit: 5, window: '1s', store: redisStore({ timeout: SLOW, client }) })
    expect((await limiter.consume('a')).reason).toBe('ok')
    await client.script('FLUSH')
    await client.config('RESETSTAT')
    expect((await limiter.consume('a')).remaining).toBe(3)
    expect(await calls('eval')).toBe(1)
    expect((await limiter.consume('a')).remaining).toBe(2)
    expect(await calls('eval')).toBe(1)
    expect(await calls('evalsha')).toBe(2)
    await limiter.close()
  })
})

describe('keys', () => {
  test('layout: <prefix><namespace>:{<key>} for keys, <prefix>{<namespace>} for shared buckets', async () => {
    const limiter = createLimiter({
      limit: 5,
      window: '1s',
      name: 'api',
      global: { limit: 100, window: '1s' },
      store: redisStore({ timeout: SLOW, client, prefix: 'rl:' }),
    })
    await limiter.consume('alice')
    await limiter.consume(undefined)
    const own = rulesTag('gcra|5/1000/5')
    const ceiling = rulesTag('gcra|100/1000/100')
    expect((await client.keys('*')).sort()).toEqual(
      [`rl:api@${own}:{alice}`, `rl:{api|fallback@${own}}`, `rl:{api|global@${ceiling}}`].sort(),
    )
    await limiter.close()
  })

  test.each([
    ['alone in its call', 1],
    ['with other keys in its call', 3],
  ])(
    'a bucket value written before values kept their expiry is read, and rewritten with one (%s)',
    async (_, keys) => {
      // Earlier versions wrote n + 1 doubles: the ms of the last update and each rate's backlog.
      const limiter = createLimiter({
        limit: 5,
        window: '1m',
        name: 'api',
        store: redisStore({ timeout: SLOW, client, prefix: 'rl:' }),
      })
      const rate = compilePolicy('api', { limit: 5, window: 60_000 }, 'gcra', 'direct').rates[0]!
      const key = `rl:api@${rulesTag('gcra|5/60000/5')}:{old}`
      const [seconds, micros] = await client.time()
      const old = Buffer.alloc(16)
      old.writeDoubleLE(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000), 0)
      old.writeDoubleLE(3 * rate.T, 8) // three requests' backlog
      await client.set(key, old, 'PX', 60_000)
      // A call of its own, or one turn's call with other keys.
      const others = Array.from({ length: keys - 1 }, (_, i) => limiter.consume(`new${i}`))
      const decision = await limiter.consume('old')
      await Promise.all(others)
      // 5 − 3 − 1, as the value said (a value misread as fresh would leave 4).
      expect(decision).toMatchObject({ allowed: true, remaining: 1 })
      const value = await client.getBuffer(key)
      expect(value).toHaveLength(24)
      expect(await client.pttl(key)).toBeGreaterThan(0)
      expect((await limiter.consume('old')).remaining).toBe(0)
      await limiter.close()
    },
  )

  test("a named policy's keys carry its rules: a deploy that changes them starts fresh, never misreads", async () => {
    const logger = { error: vi.fn(), warn: vi.fn() }
    const before = createLimiter({
      limit: 2,
      window: '1m',
      name: 'api',
      store: redisStore({ client, logger }),
    })
    await before.consume('k')
    await before.consume('k')
    expect((await before.consume('k')).allowed).toBe(false)
    // The next deploy: other rates, another algorithm (a hash where a string was), same name.
    for (const algorithm of ['fixed-window', 'sliding-window', 'gcra'] as const) {
      const after = createLimiter({
        limit: 3,
        window: '1m',
        name: 'api',
        algorithm,
        store: redisStore({ client, logger }),
      })
      expect(await after.consume('k')).toMatchObject({ allowed: true, reason: 'ok', remaining: 2 })
    }
    expect(logger.error).not.toHaveBeenCalled()
  })

  test('namespaces are escaped, so no two (namespace, key) pairs share a key', async () => {
    const store = redisStore({ timeout: SLOW, client })
    const a = createLimiter({ limit: 5, window: '1s', name: 'a:b', store })
    const b = createLimiter({ limit: 5, window: '1s', name: 'a', store })
    await a.consume('c')
    await b.consume('b:c')
    const tag = rulesTag('gcra|5/1000/5')
    expect((await client.keys('*')).sort()).toEqual(
      [`tollgate:a%3Ab@${tag}:{c}`, `tollgate:a@${tag}:{b:c}`].sort(),
    )
  })

  test.each([
    // The bucket script sets an expiry a little longer than it must (an eighth more, at least 10 s),
    // so that a busy key does not set one at every write.
    ['gcra', 6_000, 10_000],
    ['token-bucket', 6_000, 10_000],
    ['leaky-bucket', 6_000, 10_000],
    ['fixed-window', 60_000, 0],
    ['sliding-window', 120_000, 0],
  ] as const)(
    '%s: the expiry is the time until the key is indistinguishable from a fresh one, plus its slack',
    async (algorithm, ttl, slack) => {
      const limiter = createLimiter({
        limit: 10,
        window: '1m',
        algorithm,
        name: 'p',
        store: redisStore({ timeout: SLOW, client }),
      })
      await limiter.consume('k')
      const [key] = await client.keys('tollgate:p@*:{k}')
      const pttl = await client.pttl(key!)
      expect(pttl).toBeGreaterThan(ttl + slack - 1_000)
      // The bucket script adds 1 ms: Redis may count PX from the script's start, before the TIME it read.
      expect(pttl).toBeLessThanOrEqual(ttl + slack + 1)
      await limiter.close()
    },
  )

  test('a bucket key written again within its expiry keeps it; one that outgrows it gets a longer one', async () => {
    // 100 per minute: each request adds 600 ms of drain time; a new expiry covers 10 s more.
    const limiter = createLimiter({
      limit: 100,
      window: '1m',
      name: 'x',
      store: redisStore({ timeout: SLOW, client }),
    })
    await limiter.consume('k')
    const [key] = await client.keys('tollgate:x@*:{k}')
    await client.config('RESETSTAT')
    // 1,200 ms of drain time: within the 10,600 ms set by the first write, rewritten in place.
    await limiter.consume('k')
    expect(await calls('setrange')).toBe(1)
    expect(await calls('set')).toBe(0)
    const kept = await client.pttl(key!)
    expect(kept).toBeGreaterThan(10_600 - 1_000)
    expect(kept).toBeLessThanOrEqual(10_601)
    // 16 more: 10,800 ms, past it, so a new expiry of 10,800 + 10,000 ms.
    await limiter.consume('k', { weight: 16 })
    expect(await calls('set')).toBe(1)
    expect(await client.pttl(key!)).toBeGreaterThan(20_800 - 1_000)
    expect(await client.pttl(key!)).toBeLessThanOrEqual(20_801)
    await limiter.close()
  })

  test('a bucket key never expires before it drains, whatever the weights (Redis clock)', async () => {
    const rng = random(Number(process.env.TOLLGATE_SEED ?? 7))
    // The hourly rate's drain time grows by seconds per request, past the 10 s of slack now and
    // then, so the key gets new expiries (SET) as well as writes in place (SETRANGE).
    const limiter = createLimiter({
      rates: [
        { limit: 1_500, window: '10s' },
        { limit: 1_000, window: '1h' },
      ],
      name: 'never-early',
      store: redisStore({ timeout: SLOW, client, denyCache: false }),
    })
    let key: string | undefined
    let allowed = 0
    await client.config('RESETSTAT')
    for (let i = 0; i < 300; i++) {
      const started = performance.now()
      const decision = await limiter.consume('k', { weight: rng.int(1, 12) })
      key ??= (await client.keys('tollgate:never-early@*:{k}'))[0]
      const pttl = await client.pttl(key!)
      const elapsed = performance.now() - started
      if (!decision.allowed) continue
      allowed++
      // The key must outlive every rate's drain time, counted from the decision.
      const drain = Math.max(...decision.rates.map((rate) => rate.resetMs))
      expect(pttl + elapsed + 1, `request ${i}`).toBeGreaterThanOrEqual(drain)
    }
    // Both kinds of writes were checked, and some requests hit the limit.
    expect(allowed).toBeGreaterThan(100)
    expect(allowed).toBeLessThan(300)
    expect(await calls('setrange')).toBeGreaterThan(20)
    expect(await calls('set')).toBeGreaterThan(5)
    await limiter.close()
  })

  test('a refund back to fresh deletes the key', async () => {
    const limiter = createLimiter({
      limit: 10,
      window: '1m',
      name: 'r',
      store: redisStore({ timeout: SLOW, client }),
    })
    await limiter.consume('k', { weight: 3 })
    expect(await count('tollgate:r@*:{k}')).toBe(1)
    await limiter.refund('k', 3)
    expect(await count('tollgate:r@*:{k}')).toBe(0)
    await limiter.consume('k')
    await limiter.reset('k')
    expect(await count('tollgate:r@*:{k}')).toBe(0)
  })
})

describe('decisions', () => {
  test('a limit of N admits exactly N, then retry-after counts down on the Redis clock', async () => {
    const limiter = createLimiter({ limit: 7, window: '1s', store: redisStore({ timeout: SLOW, client }) })
    const decisions = []
    for (let i = 0; i < 10; i++) decisions.push(await limiter.consume('seven'))
    expect(decisions.filter((d) => d.allowed)).toHaveLength(7)
    const rejected = decisions[7]!
    expect(rejected).toMatchObject({ allowed: false, reason: 'limited', remaining: 0 })
    expect(rejected.retryAfterMs).toBeGreaterThan(0)
    expect(rejected.retryAfterMs).toBeLessThanOrEqual(143)
    await limiter.close()
  })

  test('numbers reach the script intact when Buffer hands out a slice that is not 8-byte aligned', async () => {
    // Node's pool is aligned (the fast path); a slice that is not, or a big-endian machine, takes
    // the path that writes each double. Both rates, the weights and the batch must survive it.
    const allocUnsafe = Buffer.allocUnsafe
    const misaligned = vi
      .spyOn(Buffer, 'allocUnsafe')
      .mockImplementation((size: number) => allocUnsafe(size + 1).subarray(1))
    try {
      const limiter = createLimiter({
        rates: [
          { limit: 10, window: '1m' },
          { limit: 12, window: '1h' },
        ],
        store: redisStore({ timeout: SLOW, client, denyCache: false }),
      })
      expect(await limiter.consume('m', { weight: 4 })).toMatchObject({ allowed: true, remaining: 6 })
      const batch = await Promise.all([1, 2, 3].map((weight) => limiter.consume('m', { weight })))
      expect(batch.map((d) => [d.allowed, d.remaining])).toEqual([
        [true, 5],
        [true, 3],
        [true, 0],
      ])
      const denied = await limiter.consume('m', { weight: 3 })
      expect(denied.allowed).toBe(false)
      expect(denied.rates.map((r) => r.remaining)).toEqual([0, 2])
      expect(misaligned.mock.results.some((r) => (r.value as Buffer).byteOffset % 8 !== 0)).toBe(true)
      await limiter.close()
    } finally {
      misaligned.mockRestore()
    }
  })

  test('the limiter clock is ignored: a limiter whose clock is a year off agrees with one on time', async () => {
    const store = redisStore({ timeout: SLOW, client })
    const onTime = createLimiter({ limit: 3, window: '1m', name: 'skew', store })
    const off = createLimiter({
      limit: 3,
      window: '1m',
      name: 'skew',
      store,
      clock: createManualClock(Date.UTC(2000, 0, 1)),
    })
    expect((await onTime.consume('k')).remaining).toBe(2)
    expect((await off.consume('k')).remaining).toBe(1)
    expect((await onTime.consume('k')).remaining).toBe(0)
    expect((await off.consume('k')).allowed).toBe(false)
  })

  test('shaping: concurrent reservations get distinct, increasing slots, reserved atomically', async () => {
    const limiter = createLimiter({ limit: 2, window: '1s', store: redisStore({ timeout: SLOW, client }) })
    const decisions = await Promise.all([0, 1, 2, 3, 4].map(() => limiter.reserve('s', { maxDelay: 1_200 })))
    const delays = decisions
      .filter((d) => d.allowed)
      .map((d) => d.delayMs)
      .sort((a, b) => a - b)
    expect(decisions.filter((d) => d.allowed)).toHaveLength(4)
    expect(delays[0]).toBe(0)
    expect(delays[1]).toBe(0)
    expect(delays[2]).toBeGreaterThan(400)
    expect(delays[2]).toBeLessThanOrEqual(500)
    expect(delays[3]).toBeGreaterThan(900)
    expect(delays[3]).toBeLessThanOrEqual(1_000)
    const rejected = decisions.find((d) => !d.allowed)!
    expect(rejected.retryAfterMs).toBeGreaterThan(0)
    expect(rejected.retryAfterMs).toBeLessThanOrEqual(300)
    await limiter.close()
  })

  test('acquire waits for its reserved slot', async () => {
    const limiter = createLimiter({
      limit: 10,
      window: '1s',
      burst: 1,
      store: redisStore({ timeout: SLOW, client }),
    })
    const start = performance.now()
    await limiter.acquire('w')
    const second = await limiter.acquire('w', { maxDelay: 1_000 })
    expect(second.delayMs).toBeGreaterThan(50)
    expect(performance.now() - start).toBeGreaterThanOrEqual(second.delayMs - 1)
    await limiter.close()
  })

  test('an aborted acquire gives its reservation back in Redis', async () => {
    const limiter = createLimiter({
      limit: 2,
      window: '10s',
      burst: 1,
      store: redisStore({ timeout: SLOW, client }),
    })
    await limiter.acquire('a')
    const controller = new AbortController()
    const waiting = limiter.acquire('a', { signal: controller.signal })
    // Two units reserved: the bucket is full again only in about 10 s.
    await until('the reservation', async () => (await limiter.peek('a')).resetMs > 5_000)
    controller.abort(new Error('client went away'))
    await expect(waiting).rejects.toThrow('client went away')
    // The second unit was given back: about 5 s left.
    await until('the refund', async () => (await limiter.peek('a')).resetMs <= 5_000)
    await limiter.close()
  })

  test('a heavier request than any rate admits is too heavy, without charging', async () => {
    const limiter = createLimiter({ limit: 5, window: '1s', store: redisStore({ timeout: SLOW, client }) })
    const decision = await limiter.consume('h', { weight: 6 })
    expect(decision).toMatchObject({ allowed: false, reason: 'too-heavy', remaining: 5 })
    expect(await client.dbsize()).toBe(0)
  })
})

describe('deny cache', () => {
  test('a key known blocked is rejected locally until its retry time; a refund forgets it', async () => {
    const clock = createManualClock(Date.now())
    const limiter = createLimiter({
      limit: 1,
      window: '1m',
      clock,
      store: redisStore({ timeout: SLOW, client }),
    })
    expect((await limiter.consume('d')).allowed).toBe(true)
    expect((await limiter.consume('d')).allowed).toBe(false)
    await client.config('RESETSTAT')
    const local = await limiter.consume('d', { weight: 1 })
    expect(local).toMatchObject({ allowed: false, reason: 'limited', remaining: 0 })
    expect(local.retryAfterMs).toBeGreaterThan(50_000)
    expect(await calls('evalsha')).toBe(0)
    await limiter.refund('d', 1)
    expect((await limiter.consume('d')).allowed).toBe(true)
    expect(await calls('evalsha')).toBe(2)
    await limiter.close()
  })

  test('answers only until the retry time, and never for weights below 1', async () => {
    // With the caller's clock the scripts and the cache share the manual clock, so the test can move time.
    const clock = createManualClock(Date.now())
    const limiter = createLimiter({
      limit: 1,
      window: '1m',
      clock,
      store: redisStore({ timeout: SLOW, client, clock: 'caller' }),
    })
    await limiter.consume('e')
    const rejected = await limiter.consume('e')
    await client.config('RESETSTAT')
    await limiter.consume('e', { weight: 0.5 })
    expect(await calls('evalsha')).toBe(1)
    clock.advance(rejected.retryAfterMs)
    await limiter.consume('e')
    expect(await calls('evalsha')).toBe(2)
    await limiter.close()
  })

  test("runs on the store's clock, not on the clocks of the limiters sharing it", async () => {
    const store = redisStore({ timeout: SLOW, client })
    const onTime = createLimiter({ limit: 1, window: 200, name: 'dc', store })
    const behind = createLimiter({
      limit: 1,
      window: 200,
      name: 'dc',
      store,
      clock: createManualClock(Date.UTC(2000, 0, 1)),
    })
    expect((await onTime.consume('k')).allowed).toBe(true)
    expect((await onTime.consume('k')).allowed).toBe(false)
    // The entry ends about 200 ms from now for every limiter, whatever its clock says.
    const deadline = performance.now() + 5_000
    let allowed = false
    while (!allowed && performance.now() < deadline) {
      allowed = (await behind.consume('k')).allowed
      if (!allowed) await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(allowed).toBe(true)
  })

  test('is bounded', async () => {
    const limiter = createLimiter({
      limit: 1,
      window: '1m',
      store: redisStore({ timeout: SLOW, client, denyCache: { max: 2 } }),
    })
    for (const key of ['a', 'b', 'c']) {
      await limiter.consume(key)
      await limiter.consume(key)
    }
    await client.config('RESETSTAT')
    // The cache holds b and c (a was evicted when c came): only a needs Redis.
    for (const key of ['c', 'b', 'a']) await limiter.consume(key)
    expect(await calls('evalsha')).toBe(1)
    await limiter.close()
  })
})

describe('options', () => {
  test.each([
    [{}, 'ERR_TOLLGATE_INVALID_OPTION', /"client" must be an ioredis Redis or Cluster client/],
    [{ client: 'x' }, 'ERR_TOLLGATE_INVALID_OPTION', /"client"/],
    [{ windowMs: 5 }, 'ERR_TOLLGATE_UNKNOWN_OPTION', /unknown option "windowMs"/],
    [
      { prefix: 'a{b}' },
      'ERR_TOLLGATE_INVALID_OPTION',
      /"prefix" must be a string without "\{" or "\}", got "a\{b\}"/,
    ],
    [{ timeout: -5 }, 'ERR_TOLLGATE_INVALID_OPTION', /"timeout" must be a positive duration/],
    [
      { failure: 'maybe' },
      'ERR_TOLLGATE_INVALID_OPTION',
      /"failure" must be one of 'insurance', 'open', 'closed'/,
    ],
    [
      { denyCache: { max: 0 } },
      'ERR_TOLLGATE_INVALID_OPTION',
      /"denyCache.max" must be a positive whole number/,
    ],
    [{ insuranceMax: 1.5 }, 'ERR_TOLLGATE_INVALID_OPTION', /"insuranceMax"/],
    [{ logger: {} }, 'ERR_TOLLGATE_INVALID_OPTION', /"logger"/],
    [{ clock: 'local' }, 'ERR_TOLLGATE_INVALID_OPTION', /"clock" must be 'redis' or 'caller'/],
  ])('rejects %j', (options, code, message) => {
    const withClient =
      'client' in options || Object.keys(options).length === 0 ? options : { client, ...options }
    expect(() => redisStore(withClient as never)).toThrow(message)
    try {
      redisStore(withClient as never)
    } catch (error) {
      expect((error as { code: string }).code).toBe(code)
    }
  })

  test('accepts a duration string as timeout', () => {
    expect(() => redisStore({ client, timeout: '250ms' })).not.toThrow()
  })
})
