import { createLimiter, createManualClock, type Decision, memoryStore, RateLimitError } from '@tollgate/core'
import { describe, expect, test, vi } from 'vitest'

const EPOCH = Date.UTC(2026, 10, 25, 10, 0, 0)
const quiet = { warn: vi.fn(), error: vi.fn() }

describe('several rates', () => {
  test('a request rejected by the daily rate leaves the per-second rate untouched', () => {
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({
      rates: [
        { limit: 10, window: '1s', name: 'second' },
        { limit: 20, window: '1d', name: 'day' },
      ],
      clock,
    })
    for (let i = 0; i < 20; i++) {
      expect(limiter.consume('u').allowed).toBe(true)
      clock.advance(200)
    }
    const before = limiter.peek('u')
    const rejected = limiter.consume('u')
    expect(rejected).toMatchObject({ allowed: false, reason: 'limited' })
    expect(rejected.rates.map((r) => [r.name, r.remaining])).toEqual([
      ['second', 10],
      ['day', 0],
    ])
    expect(limiter.peek('u').rates).toEqual(before.rates)
    // the day rate's retry-after: one unit refills in 86,400,000 / 20 ms, minus what already drained
    expect(rejected.retryAfterMs).toBe(86_400_000 / 20 - 20 * 200)
  })

  test('the tightest rate is reported at the top level', () => {
    const limiter = createLimiter({
      rates: [
        { limit: 5, window: '1s' },
        { limit: 100, window: '1h' },
      ],
      clock: createManualClock(EPOCH),
    })
    const decision = limiter.consume('u', { weight: 2 })
    expect(decision).toMatchObject({ limit: 5, remaining: 3 })
    expect(decision.rates.map((r) => r.name)).toEqual(['r0', 'r1'])
  })
})

describe('keys, fallback bucket and global ceiling', () => {
  test('keys are independent', () => {
    const limiter = createLimiter({ limit: 1, window: '1m', clock: createManualClock(EPOCH) })
    expect(limiter.consume('a').allowed).toBe(true)
    expect(limiter.consume('a').allowed).toBe(false)
    expect(limiter.consume('b').allowed).toBe(true)
  })

  test('requests without a key share one fallback bucket with its own rates', () => {
    const limiter = createLimiter({
      limit: 100,
      window: '1m',
      fallback: { limit: 2, window: '1m' },
      clock: createManualClock(EPOCH),
    })
    const keyless = [limiter.consume(undefined), limiter.consume(undefined), limiter.consume(undefined)]
    expect(keyless.map((d) => d.allowed)).toEqual([true, true, false])
    expect(keyless.every((d) => d.reason === 'fallback' && d.key === undefined)).toBe(true)
    expect(limiter.consume('someone').allowed).toBe(true)
  })

  test("the fallback bucket's own rates carry the limiter's name (one header member per policy name)", () => {
    const limiter = createLimiter({
      name: 'per-user',
      limit: 100,
      window: '1m',
      fallback: { limit: 20, window: '1m' },
      clock: createManualClock(EPOCH),
    })
    expect(limiter.consume(undefined).rates.map((r) => r.name)).toEqual(['per-user'])
    expect(limiter.consume('u').rates.map((r) => r.name)).toEqual(['per-user'])
  })

  test('limiters with the same name share counters without a store of their own (route groups)', async () => {
    const clock = createManualClock(EPOCH)
    const a = createLimiter({ name: 'reports', limit: 2, window: '1m', clock })
    const b = createLimiter({ name: 'reports', limit: 2, window: '1m', clock })
    const other = createLimiter({ name: 'exports', limit: 2, window: '1m', clock })
    const unnamed = createLimiter({ limit: 2, window: '1m', clock })
    expect([a.consume('u'), b.consume('u'), a.consume('u')].map((d) => d.allowed)).toEqual([
      true,
      true,
      false,
    ])
    expect(other.consume('u').remaining).toBe(1)
    expect(unnamed.consume('u').remaining).toBe(1)
    // Another clock is another timeline: its limiters keep apart.
    const elsewhere = createLimiter({
      name: 'reports',
      limit: 2,
      window: '1m',
      clock: createManualClock(EPOCH),
    })
    expect(elsewhere.consume('u').remaining).toBe(1)
    // Sharing counters means sharing rules.
    expect(() => createLimiter({ name: 'reports', limit: 5, window: '1m', clock })).toThrow(
      expect.objectContaining({ code: 'ERR_TOLLGATE_POLICY_CONFLICT' }),
    )
    // Once every limiter of a name has closed, the name may take other rules, with fresh counters.
    await a.close()
    await b.close()
    const renewed = createLimiter({ name: 'reports', limit: 5, window: '1m', clock })
    expect(renewed.consume('u').remaining).toBe(4)
    expect(other.consume('u').remaining).toBe(0)
  })

  test('the global ceiling charges every request, atomically with the key', () => {
    const limiter = createLimiter({
      limit: 3,
      window: '1m',
      global: { limit: 5, window: '1m' },
      clock: createManualClock(EPOCH),
    })
    const results = ['a', 'a', 'b', 'b', 'c', 'c', 'd'].map((key) => limiter.consume(key))
    expect(results.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false])
    expect(results[5]!.reason).toBe('global-limited')
    expect(results[5]!.rates.find((r) => r.global)).toMatchObject({ name: 'global', remaining: 0 })
    // the rejected requests charged neither bucket
    expect(limiter.peek('c').remaining).toBe(0)
    expect(limiter.peek('c').rates[0]!.remaining).toBe(2)
    expect(limiter.peek('d').rates[0]!.remaining).toBe(3)
  })

  test('a key rejection does not charge the global ceiling', () => {
    const limiter = createLimiter({
      limit: 1,
      window: '1m',
      global: { limit: 2, window: '1m' },
      clock: createManualClock(EPOCH),
    })
    expect(limiter.consume('a').allowed).toBe(true)
    expect(limiter.consume('a')).toMatchObject({ allowed: false, reason: 'limited' })
    expect(limiter.consume('b').allowed).toBe(true)
  })
})

describe('peek, refund and reset', () => {
  test('peek never charges', () => {
    const limiter = createLimiter({ limit: 2, window: '1m', clock: createManualClock(EPOCH) })
    for (let i = 0; i < 5; i++) expect(limiter.peek('k')).toMatchObject({ allowed: true, remaining: 2 })
    limiter.consume('k', { weight: 2 })
    expect(limiter.peek('k')).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 30_000 })
  })

  test('refund gives units back, never beyond a fresh key', () => {
    const limiter = createLimiter({ limit: 10, window: '1m', clock: createManualClock(EPOCH) })
    limiter.consume('k', { weight: 8 })
    limiter.refund('k', 5)
    expect(limiter.peek('k').remaining).toBe(7)
    limiter.refund('k', 100)
    expect(limiter.peek('k').remaining).toBe(10)
    expect(limiter.consume('k', { weight: 10 }).allowed).toBe(true)
    expect(limiter.consume('k').allowed).toBe(false)
  })

  test('reset forgets a key', () => {
    const limiter = createLimiter({ limit: 1, window: '1h', clock: createManualClock(EPOCH) })
    limiter.consume('k')
    expect(limiter.consume('k').allowed).toBe(false)
    limiter.reset('k')
    expect(limiter.consume('k').allowed).toBe(true)
  })
})

describe('shaping', () => {
  test('100 concurrent acquires at 10/s (burst 1) are released 100 ms apart, in order', async () => {
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 10, window: '1s', burst: 1, clock })
    const released: number[] = []
    const all = Array.from({ length: 100 }, (_, i) =>
      limiter.acquire('out').then(() => {
        released[i] = clock.now() - EPOCH
      }),
    )
    for (let t = 0; t <= 10_000; t += 10) {
      clock.advance(t === 0 ? 0 : 10)
      await Promise.resolve()
      await Promise.resolve()
    }
    await Promise.all(all)
    expect(released).toEqual(Array.from({ length: 100 }, (_, i) => i * 100))
  })

  test('with the default burst the first 10 pass at once, then one per 100 ms', async () => {
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 10, window: '1s', clock })
    const decisions = Array.from({ length: 30 }, () => limiter.reserve('out'))
    expect(decisions.map((d) => d.delayMs)).toEqual([
      ...Array(10).fill(0),
      ...Array.from({ length: 20 }, (_, i) => (i + 1) * 100),
    ])
  })

  test('an aborted acquire at the end of the schedule gives its slot back', async () => {
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 10, window: '1s', burst: 1, clock })
    await limiter.acquire('out') // slot at 0
    const second = limiter.acquire('out') // slot at 100
    const controller = new AbortController()
    const third = limiter.acquire('out', { signal: controller.signal }) // slot at 200
    await Promise.resolve()
    controller.abort(new Error('client went away'))
    await expect(third).rejects.toThrow('client went away')
    // the returned slot lets the next newcomer in at 200, not 300
    expect(limiter.reserve('out').delayMs).toBe(200)
    clock.advance(100)
    await second
  })

  test('an aborted acquire in the middle of the schedule never hands its slot to a newcomer twice', async () => {
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 10, window: '1s', burst: 1, clock })
    await limiter.acquire('out') // slot at 0
    const controller = new AbortController()
    const second = limiter.acquire('out', { signal: controller.signal }) // slot at 100
    const third = limiter.acquire('out') // slot at 200
    await Promise.resolve()
    controller.abort(new Error('client went away'))
    await expect(second).rejects.toThrow('client went away')
    // Refunding the slot at 100 would give the newcomer 200, the third waiter's slot: two at once.
    // It goes unused instead.
    const fourth = limiter.reserve('out')
    expect(fourth.delayMs).toBe(300)
    // Cancelling the tail returns its own slot; the one at 100 stays unused while the third waits.
    limiter.cancel(fourth)
    const fifth = limiter.reserve('out')
    expect(fifth.delayMs).toBe(300)
    clock.advance(200)
    await third
  })

  test('cancelling the tail also returns the cancelled slots just before it', async () => {
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 10, window: '1s', burst: 1, clock })
    const slots = [0, 1, 2, 3].map(() => limiter.reserve('out'))
    expect(slots.map((d) => d.delayMs)).toEqual([0, 100, 200, 300])
    limiter.cancel(slots[2]!) // in the middle: unused for now
    expect(limiter.peek('out').retryAfterMs).toBe(400)
    limiter.cancel(slots[3]!) // the tail: returns 300 and 200
    expect(limiter.reserve('out').delayMs).toBe(200)
    // Not delayed, or already cancelled: nothing to give back.
    limiter.cancel(slots[0]!)
    limiter.cancel(slots[3]!)
    expect(limiter.reserve('out').delayMs).toBe(300)
  })

  test('an acquire aborted in the same tick as it was called still gives its slot back', async () => {
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 10, window: '1s', burst: 1, clock })
    limiter.reserve('out') // slot at 0
    const controller = new AbortController()
    const waiting = limiter.acquire('out', { signal: controller.signal }) // slot at 100
    controller.abort(new Error('gone at once'))
    await expect(waiting).rejects.toThrow('gone at once')
    expect(limiter.reserve('out').delayMs).toBe(100)
    expect(clock.pending()).toBe(0)
  })

  test('close() gives pending reservations back to a store it shares', async () => {
    const clock = createManualClock(EPOCH)
    const store = memoryStore()
    const limiter = createLimiter({ limit: 10, window: '1s', burst: 1, clock, store, name: 'out' })
    const other = createLimiter({ limit: 10, window: '1s', burst: 1, clock, store, name: 'out' })
    limiter.reserve('out')
    const waiting = limiter.acquire('out')
    await Promise.resolve()
    await limiter.close()
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_TOLLGATE_CLOSED' })
    expect(other.reserve('out').delayMs).toBe(100)
  })

  test('a slot beyond maxDelay rejects at once and charges nothing', async () => {
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 10, window: '1s', burst: 1, clock })
    limiter.reserve('out')
    limiter.reserve('out') // slot at 100
    const error = await limiter.acquire('out', { maxDelay: 150 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RateLimitError)
    expect((error as RateLimitError).code).toBe('ERR_TOLLGATE_LIMITED')
    expect((error as RateLimitError).decision).toMatchObject({ allowed: false, retryAfterMs: 50 })
    expect(limiter.reserve('out', { maxDelay: '200ms' }).delayMs).toBe(200)
    expect(clock.pending()).toBe(0)
  })

  test('acquire of a too-heavy weight rejects at once instead of waiting forever', async () => {
    const limiter = createLimiter({ limit: 10, window: '1s', clock: createManualClock(EPOCH) })
    await expect(limiter.acquire('out', { weight: 11 })).rejects.toMatchObject({
      code: 'ERR_TOLLGATE_LIMITED',
      decision: { reason: 'too-heavy' },
    })
  })

  test('fixed windows shape into the next window', () => {
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 2, window: '1s', algorithm: 'fixed-window', clock })
    expect([0, 1, 2, 3, 4].map(() => limiter.reserve('k').delayMs)).toEqual([0, 0, 1000, 1000, 2000])
  })

  test('sliding windows cannot shape', () => {
    const limiter = createLimiter({ limit: 2, window: '1s', algorithm: 'sliding-window' })
    expect(() => limiter.reserve('k')).toThrow(expect.objectContaining({ code: 'ERR_TOLLGATE_UNSUPPORTED' }))
  })

  test('wrap charges an outbound call by its weight and waits for the slot', async () => {
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 30_000, window: '1m', clock })
    const complete = vi.fn(async (prompt: string, maxTokens: number) => `${prompt}:${maxTokens}`)
    const call = limiter.wrap(complete, { key: 'openai', weight: (_prompt, maxTokens) => maxTokens })
    await expect(call('a', 20_000)).resolves.toBe('a:20000')
    let done = false
    const second = call('b', 20_000).then((value) => {
      done = true
      return value
    })
    await Promise.resolve()
    expect(done).toBe(false)
    expect(complete).toHaveBeenCalledTimes(1)
    // 10,000 tokens short: at 500 tokens/s that is 20 s
    clock.advance(19_999)
    await Promise.resolve()
    expect(done).toBe(false)
    clock.advance(1)
    await expect(second).resolves.toBe('b:20000')
  })

  test('close rejects pending waits and the limiter refuses further calls', async () => {
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 1, window: '1s', clock })
    await limiter.acquire('k')
    const waiting = limiter.acquire('k')
    await Promise.resolve()
    await limiter.close()
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_TOLLGATE_CLOSED' })
    expect(() => limiter.consume('k')).toThrow(expect.objectContaining({ code: 'ERR_TOLLGATE_CLOSED' }))
    expect(clock.pending()).toBe(0)
  })
})

describe('memory', () => {
  test('1,000,000 distinct keys through a store with max 10,000 leave at most 10,000 entries', () => {
    const store = memoryStore({ max: 10_000 })
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 10, window: '1h', store, clock })
    for (let i = 0; i < 1_000_000; i++) limiter.consume(`flood-${i}`)
    expect(store.size()).toBe(10_000)
    // the most recent keys are the ones kept
    expect(limiter.peek('flood-999999').remaining).toBe(9)
    expect(limiter.peek('flood-0').remaining).toBe(10)
  }, 60_000)

  test('an entry never expires before it equals a fresh key, and goes within one TTL of the last access', () => {
    const store = memoryStore()
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 10, window: '10s', store, clock })
    limiter.consume('k', { weight: 3 }) // 3 s of backlog: TTL 3000
    clock.advance(2999)
    expect(limiter.peek('k').remaining).toBe(9) // 1 ms of backlog left: not forgotten
    limiter.consume('k', { weight: 5 }) // 5.001 s of backlog: the TTL is raised to 5001
    clock.advance(5000)
    expect(limiter.peek('k').remaining).toBe(9)
    clock.advance(1)
    expect(limiter.peek('k').remaining).toBe(10)
    expect(store.size()).toBe(1) // fresh-equivalent, lingering until its TTL runs out
    clock.advance(5002)
    limiter.peek('k')
    expect(store.size()).toBe(0)
  })

  test('limiters sharing a store and a name share counters', () => {
    const store = memoryStore()
    const clock = createManualClock(EPOCH)
    const a = createLimiter({ limit: 2, window: '1m', name: 'login', store, clock })
    const b = createLimiter({ limit: 2, window: '1m', name: 'login', store, clock })
    const c = createLimiter({ limit: 2, window: '1m', name: 'search', store, clock })
    expect([a.consume('u').allowed, b.consume('u').allowed, a.consume('u').allowed]).toEqual([
      true,
      true,
      false,
    ])
    expect(c.consume('u').allowed).toBe(true)
  })

  test('two unnamed limiters on one store with the same rates warn once about double counting', () => {
    const store = memoryStore()
    const logger = { warn: vi.fn(), error: vi.fn() }
    createLimiter({ limit: 2, window: '1m', store, logger })
    expect(logger.warn).not.toHaveBeenCalled()
    createLimiter({ limit: 2, window: '1m', store, logger })
    expect(logger.warn).toHaveBeenCalledTimes(1)
    expect(logger.warn.mock.calls[0]![0]).toMatch(/same requests/)
  })
})

describe('type-level sync/async split', () => {
  test('a memory-store limiter answers without a promise', () => {
    const limiter = createLimiter({ limit: 1, window: '1s', logger: quiet })
    const decision: Decision = limiter.consume('k')
    expect(decision.allowed).toBe(true)
    expect(limiter.synchronous).toBe(true)
  })
})
