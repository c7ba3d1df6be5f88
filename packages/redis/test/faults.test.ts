import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createLimiter, type DecisionReason } from '@tollgate/core'
import { type FailurePolicy, redisStore } from '@tollgate/redis'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { startRedis, type TestRedis } from './helpers/redis-server.ts'

/*
 * Faults on the test's own redis-server: SIGKILL (a crash: the connection
 * drops) and SIGSTOP (a hung server: connected, never answering), while
 * traffic flows, then a restart. Traffic is bounded in count and time.
 */

const TIMEOUT = 100
// Slack on top of the store's timeout, plus however long this process was not scheduled at all
// (the event loop's worst delay while measuring): a loaded 2-core machine can stall any process.
const MARGIN = 100
const stalls = monitorEventLoopDelay({ resolution: 5 })
stalls.enable()

/** The longest a request may take: the timeout, the margin, and the worst stall of this process so far. */
function bound(): number {
  return TIMEOUT + MARGIN + stalls.max / 1e6
}

let server: TestRedis
let client: Redis

beforeAll(async () => {
  server = await startRedis()
})

beforeEach(async () => {
  stalls.reset()
  client = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 25 })
  client.on('error', () => {})
  await client.connect()
})

afterEach(async () => {
  client.disconnect()
  server.thaw()
  if ((await server.cli('PING').catch(() => '')) !== 'PONG') await server.restart()
})

afterAll(async () => {
  await server?.stop()
})

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function recordingLogger() {
  const errors: string[] = []
  const warnings: string[] = []
  return {
    errors,
    warnings,
    logger: { error: (m: string) => errors.push(m), warn: (m: string) => warnings.push(m) },
  }
}

/**
 * One error when an outage starts and one warning when it ends, never one per request. (The
 * injected outage is one; a loaded machine may add a short one of its own by a slow answer.)
 */
function expectLoggedOncePerOutage(errors: string[], warnings: string[]) {
  expect(errors.length).toBeGreaterThanOrEqual(1)
  expect(errors.length).toBeLessThanOrEqual(3)
  expect(warnings).toHaveLength(errors.length)
}

/** Background traffic on 50 keys: one request every few ms, each timed. */
function traffic(consume: (key: string) => Promise<{ reason: DecisionReason }>) {
  const records: { ms: number; reason: DecisionReason }[] = []
  let stopped = false
  const done = (async () => {
    const deadline = performance.now() + 30_000
    for (let i = 0; i < 20_000 && !stopped && performance.now() < deadline; i++) {
      const start = performance.now()
      const decision = await consume(`t${i % 50}`)
      records.push({ ms: performance.now() - start, reason: decision.reason })
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  })()
  return {
    records,
    seen: (reason: DecisionReason) => records.some((r) => r.reason === reason),
    async stop() {
      stopped = true
      await done
      return records
    },
  }
}

function setup(failure: FailurePolicy) {
  const log = recordingLogger()
  const store = redisStore({ client, failure, timeout: TIMEOUT, logger: log.logger })
  const limiter = createLimiter({ limit: 10, window: '1m', algorithm: 'fixed-window', name: failure, store })
  return { ...log, limiter }
}

describe('insurance (default)', () => {
  test('Redis killed mid-traffic: local decisions within the timeout, limits hold per process, back to Redis after restart', async () => {
    const { limiter, errors, warnings } = setup('insurance')
    const flow = traffic((key) => limiter.consume(key))
    await until('decisions from Redis', () => flow.seen('ok'))
    await server.kill()
    await until('decisions from the insurance store', () => flow.seen('insurance'))

    const outage = []
    for (let i = 0; i < 30; i++) outage.push(await limiter.consume('during-outage'))
    expect(outage.filter((d) => d.allowed)).toHaveLength(10)
    expect(new Set(outage.map((d) => d.reason))).toEqual(new Set(['insurance']))

    await server.restart()
    const before = flow.records.length
    await until('decisions from Redis again', () => flow.records.slice(before).some((r) => r.reason === 'ok'))
    await until('a decision from Redis', async () => (await limiter.consume('after-restart')).reason === 'ok')
    expect(await client.keys('tollgate:insurance@*:{after-restart}')).toHaveLength(1)

    const records = await flow.stop()
    expect(Math.max(...records.map((r) => r.ms))).toBeLessThan(bound())
    expectLoggedOncePerOutage(errors, warnings)
    expect(errors[0]).toMatch(/Redis is unavailable .* failure policy 'insurance'/)
    expect(warnings[0]).toMatch(/Redis answers again/)
  })

  test('Redis hung (SIGSTOP): no request waits longer than the timeout; commands stuck meanwhile never charge later', async () => {
    const { limiter, errors, warnings } = setup('insurance')
    // A second store on its own connection, known up when Redis freezes: its next command is surely sent.
    const other = new Redis({
      port: server.port,
      host: '127.0.0.1',
      lazyConnect: true,
      retryStrategy: () => 25,
    })
    other.on('error', () => {})
    await other.connect()
    const sender = createLimiter({
      limit: 10,
      window: '1m',
      name: 'insurance',
      store: redisStore({ client: other, logger: recordingLogger().logger }),
    })
    await until(
      'the second store answering from Redis',
      async () => (await sender.consume('warm')).reason === 'ok',
    )
    const flow = traffic((key) => limiter.consume(key))
    await until('decisions from Redis', () => flow.seen('ok'))
    server.freeze()
    const start = performance.now()
    const stuck = await sender.consume('stuck')
    expect(performance.now() - start).toBeLessThan(bound())
    expect(stuck.reason).toBe('insurance')
    await until(
      'insurance decisions',
      () => flow.records.filter((r) => r.reason === 'insurance').length >= 20,
    )

    server.thaw()
    const before = flow.records.length
    await until('decisions from Redis again', () => flow.records.slice(before).some((r) => r.reason === 'ok'))
    const records = await flow.stop()
    expect(Math.max(...records.map((r) => r.ms))).toBeLessThan(bound())
    expectLoggedOncePerOutage(errors, warnings)
    // The EVALSHA for "stuck" reached Redis only after the thaw, past its deadline: it charged nothing.
    expect(await client.keys('tollgate:insurance@*:{stuck}')).toHaveLength(0)
    other.disconnect()
  })
})

describe('a request decided without Redis is never charged in Redis too', () => {
  /**
   * Every request on its own key: afterwards, a key exists in Redis exactly when its request was
   * decided by Redis. A PING on the store's own connection, answered after the thaw, means every
   * command sent before it has run.
   */
  async function expectChargedOnlyByRedis(decided: { key: string; reason: DecisionReason }[]) {
    expect(await client.ping()).toBe('PONG')
    for (const { key, reason } of decided) {
      expect({ key, reason, inRedis: (await client.keys(`tollgate:late@*:{${key}}`)).length }).toEqual({
        key,
        reason,
        inRedis: reason === 'ok' ? 1 : 0,
      })
    }
  }

  test('a slow answer in time, then a hang: the late command charges nothing', async () => {
    const store = redisStore({ client, timeout: TIMEOUT, logger: recordingLogger().logger })
    const limiter = createLimiter({ limit: 10, window: '1h', name: 'late', store })
    const decided: { key: string; reason: DecisionReason }[] = []
    const consume = async (key: string) => decided.push({ key, reason: (await limiter.consume(key)).reason })
    await consume('warm')
    // A slow answer in time (its latency once inflated the estimate of Redis's clock, and so the
    // next deadline), then a hang a little past the timeout: the command runs after the caller gave up.
    for (const [i, ms] of [80, 150, 20, 150, 300].entries()) {
      server.freeze()
      const thaw = setTimeout(() => server.thaw(), ms)
      await consume(`k${i}`)
      await new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms - TIMEOUT) + 5))
      clearTimeout(thaw)
      server.thaw()
    }
    expect(decided.map((d) => d.reason)).toContain('insurance')
    await expectChargedOnlyByRedis(decided)
  })

  test('Redis hung while the app starts: commands queued before the first answer charge nothing later', async () => {
    server.freeze()
    const starting = new Redis({ port: server.port, host: '127.0.0.1', retryStrategy: () => 25 })
    starting.on('error', () => {})
    const store = redisStore({ client: starting, timeout: TIMEOUT, logger: recordingLogger().logger })
    const limiter = createLimiter({ limit: 10, window: '1h', name: 'late', store })
    const decided: { key: string; reason: DecisionReason }[] = []
    for (let i = 0; i < 3; i++) {
      const start = performance.now()
      decided.push({ key: `boot${i}`, reason: (await limiter.consume(`boot${i}`)).reason })
      expect(performance.now() - start).toBeLessThan(bound())
    }
    expect(decided.every((d) => d.reason === 'insurance')).toBe(true)
    server.thaw()
    expect(await starting.ping()).toBe('PONG')
    await until('a decision from Redis', async () => (await limiter.consume('after')).reason === 'ok')
    await expectChargedOnlyByRedis(decided)
    starting.disconnect()
  })
})

describe.each([
  ['open', true],
  ['closed', false],
] as const)("failure: '%s'", (failure, allowed) => {
  test(`Redis killed: every request is ${allowed ? 'allowed' : 'rejected'} with reason 'store-unavailable', within the timeout`, async () => {
    const { limiter, errors, warnings } = setup(failure)
    const flow = traffic((key) => limiter.consume(key))
    await until('decisions from Redis', () => flow.seen('ok'))
    await server.kill()
    await until('store-unavailable decisions', () => flow.seen('store-unavailable'))
    const outage = []
    for (let i = 0; i < 20; i++) outage.push(await limiter.consume('k'))
    expect(outage.every((d) => d.allowed === allowed && d.reason === 'store-unavailable')).toBe(true)
    if (!allowed) expect(outage[0]!.retryAfterMs).toBe(1_000)

    await server.restart()
    const before = flow.records.length
    await until('decisions from Redis again', () => flow.records.slice(before).some((r) => r.reason === 'ok'))
    const records = await flow.stop()
    expect(Math.max(...records.map((r) => r.ms))).toBeLessThan(bound())
    expectLoggedOncePerOutage(errors, warnings)
  })
})

describe('a Redis that never answers', () => {
  test('a client pointed at a closed port: every call decided by the failure policy within the timeout', async () => {
    const { port } = await startRedis().then(async (s) => {
      await s.stop()
      return s
    })
    const dead = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 25 })
    dead.on('error', () => {})
    const { logger, errors } = recordingLogger()
    const limiter = createLimiter({
      limit: 3,
      window: '1m',
      store: redisStore({ client: dead, timeout: TIMEOUT, logger }),
    })
    const timed = async <T>(call: () => Promise<T>) => {
      const start = performance.now()
      const result = await call()
      expect(performance.now() - start).toBeLessThan(bound())
      return result
    }
    const decisions = []
    for (let i = 0; i < 5; i++) decisions.push(await timed(() => limiter.consume('x')))
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false, false])
    expect(new Set(decisions.map((d) => d.reason))).toEqual(new Set(['insurance']))
    expect((await timed(() => limiter.peek('x'))).reason).toBe('insurance')
    await timed(() => limiter.refund('x', 1))
    expect((await timed(() => limiter.consume('x'))).allowed).toBe(true)
    await expect(limiter.reset('x')).rejects.toMatchObject({ code: 'ERR_TOLLGATE_STORE' })
    expect(errors).toHaveLength(1)
    await limiter.close()
    dead.disconnect()
  })
})
