import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { type Algorithm, createLimiter, createManualClock, type Decision, memoryStore } from '@tollgate/core'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { kernelFor } from '../src/algorithms/index.js'
import { compilePolicy } from '../src/policy.js'

const EPOCH = Date.UTC(2026, 10, 25, 10, 0, 0)
const ALGORITHMS: readonly Algorithm[] = [
  'gcra',
  'token-bucket',
  'leaky-bucket',
  'fixed-window',
  'sliding-window',
]

/** What lru-cache reports on its diagnostics channel while `fn` runs: `op:outcome` per operation. */
function cacheOps(fn: () => void): string[] {
  const ops: string[] = []
  const listener = (message: unknown) => {
    const m = message as { op: string; get?: string; set?: string; delete?: string }
    ops.push(`${m.op}:${m.get ?? m.set ?? m.delete ?? ''}`)
  }
  subscribe('lru-cache:metrics', listener)
  try {
    fn()
  } finally {
    unsubscribe('lru-cache:metrics', listener)
  }
  return ops
}

/** The slot the store's cache maps a key to (expired or not: the store keeps expiry itself). */
function slotOf(store: ReturnType<typeof memoryStore>, key: string): number | undefined {
  return store.cache?.peek(key)
}

describe('an expired entry is reused in place by the next charge', () => {
  for (const algorithm of ALGORITHMS) {
    test(`${algorithm}: same slot, one entry, and the decisions of a fresh key`, () => {
      const clock = createManualClock(EPOCH)
      const store = memoryStore()
      const limiter = createLimiter({ limit: 5, window: '1s', algorithm, store, clock })
      for (let i = 0; i < 3; i++) limiter.consume('k')
      const slot = slotOf(store, 'k')
      expect(slot).toBeDefined()

      // Long past the time its state equals a fresh key's (two windows at most): expired.
      clock.advance(5_000)
      expect(store.size()).toBe(1)

      // A key never seen, on its own store at the same time, is the reference.
      const fresh = createLimiter({ limit: 5, window: '1s', algorithm, store: memoryStore(), clock })
      const reused: Decision[] = []
      const reference: Decision[] = []
      for (let i = 0; i < 7; i++) {
        const ops = cacheOps(() => reused.push({ ...limiter.consume('k') }))
        reference.push({ ...fresh.consume('k') })
        // The expired entry was renewed in place: nothing deleted or inserted.
        expect(ops.filter((op) => !op.startsWith('get:'))).toEqual([])
        clock.advance(50)
      }
      expect(reused).toEqual(reference)
      expect(reused.filter((d) => d.allowed)).toHaveLength(reference.filter((d) => d.allowed).length)
      expect(store.size()).toBe(1)
      expect(slotOf(store, 'k')).toBe(slot)
    })
  }

  test('many keys hit less often than they expire keep their slots and decide as fresh keys', () => {
    const clock = createManualClock(EPOCH)
    const store = memoryStore({ max: 1_000 })
    // A high limit: a GCRA key's TTL is one emission interval (3.6 ms), far shorter than a round.
    const limiter = createLimiter({ limit: 1_000_000, window: '1h', store, clock })
    const keys = Array.from({ length: 1_000 }, (_, i) => `k${i}`)
    for (const key of keys) limiter.consume(key)
    const slots = keys.map((key) => slotOf(store, key))
    for (let round = 0; round < 3; round++) {
      clock.advance(10)
      const ops = cacheOps(() => {
        for (const key of keys) {
          const decision = limiter.consume(key)
          expect(decision.allowed).toBe(true)
          expect(decision.remaining).toBe(999_999)
          expect(decision.resetMs).toBe(4)
        }
      })
      // Every lookup found its expired entry and renewed it in place: nothing deleted or inserted.
      expect(new Set(ops)).toEqual(new Set(['get:hit']))
      expect(ops).toHaveLength(keys.length)
    }
    expect(store.size()).toBe(1_000)
    expect(keys.map((key) => slotOf(store, key))).toEqual(slots)
  })

  test('an expired entry a rejected charge looked at is forgotten, as one a peek looks at', () => {
    const clock = createManualClock(EPOCH)
    const store = memoryStore()
    const limiter = createLimiter({
      limit: 10,
      window: '1s',
      global: { limit: 1, window: '1h' },
      store,
      clock,
    })
    expect(limiter.consume('k').allowed).toBe(true)
    clock.advance(1_000) // the key's entry expires; the global ceiling stays spent
    expect(store.cache?.size).toBe(1)
    expect(slotOf(store, 'k')).toBeDefined()
    const decision = limiter.consume('k')
    expect(decision.reason).toBe('global-limited')
    expect(decision.rates[0]!.remaining).toBe(10)
    expect(store.cache?.size).toBe(0)
  })
})

describe('kernels whose TTL is their longest resetMs', () => {
  // The store takes a charged entry's TTL from the decision's resetMs for these kernels.
  for (const algorithm of ALGORITHMS) {
    const kernel = kernelFor(algorithm)
    if (!kernel.ttlIsLongestReset) continue
    test(`${algorithm}: ttl equals the largest resetMs inspect reports, over random traces`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 3 }),
          fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 3 }),
          fc.array(
            fc.record({
              gap: fc.integer({ min: 0, max: 3_000 }),
              weight: fc.integer({ min: 1, max: 4 }),
              op: fc.constantFrom('consume', 'reserve', 'refund'),
            }),
            { maxLength: 40 },
          ),
          (limits, windows, steps) => {
            const rates = limits.map((limit, i) => ({ limit, window: windows[i % windows.length]! * 3 }))
            const policy = compilePolicy('test', { rates }, algorithm, 'test')
            const stride = kernel.stride(rates.length)
            const s = new Float64Array(stride)
            const out: number[] = []
            let now = 0
            kernel.fresh(s, 0, policy.rates, now)
            for (const { gap, weight, op } of steps) {
              now += gap
              if (op === 'refund') kernel.refund(s, 0, policy.rates, now, weight)
              else if (weight <= policy.maxWeight) {
                const delay = kernel.delay(s, 0, policy.rates, now, weight)
                if (op === 'reserve' || delay === 0)
                  kernel.charge(s, 0, policy.rates, now, now + delay, weight)
              }
              kernel.inspect(s, 0, policy.rates, now, out, 0)
              const longest = Math.max(...policy.rates.map((_, i) => out[2 * i + 1]!))
              expect(kernel.ttl(s, 0, policy.rates, now)).toBe(longest)
            }
          },
        ),
        { numRuns: 300 },
      )
    })
  }
})

describe('the lookup of the key found last', () => {
  test('skips the cache once two lookups in a row found one key, and only then', () => {
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 1_000, window: '1s', store: memoryStore(), clock })
    const ops = (key: string) => cacheOps(() => limiter.consume(key)).join(' ')
    // The store makes its cache on the first insertion.
    expect(ops('a')).toBe('set:add')
    expect(ops('a')).toBe('get:hit')
    // Two gets in a row found a's entry: from now on a needs none.
    expect(ops('a')).toBe('get:hit')
    expect(ops('a')).toBe('')
    expect(ops('a')).toBe('')
    // Alternating keys never repeat: each decision looks its key up.
    expect(ops('b')).toBe('get:miss set:add')
    for (let i = 0; i < 3; i++) {
      expect(ops('a')).toBe('get:hit')
      expect(ops('b')).toBe('get:hit')
    }
    expect(limiter.consume('a').remaining).toBe(1_000 - 9)
  })

  test('keeps least-recently-used order exact: a key looked up again after an insertion moves to the tail', () => {
    const clock = createManualClock(EPOCH)
    const store = memoryStore({ max: 2 })
    const limiter = createLimiter({ limit: 10, window: '1h', store, clock })
    limiter.consume('a')
    limiter.consume('a') // found: the most recent entry
    limiter.consume('b') // inserted after it: now b is the most recent
    limiter.consume('a') // must become the most recent again
    limiter.consume('c') // evicts the least recently used: b
    expect(limiter.peek('a').remaining).toBe(7)
    expect(limiter.peek('b').remaining).toBe(10)
    expect(limiter.peek('c').remaining).toBe(9)
  })

  test('limiters stacked on one store keep their hot key while other keys flood the cache', () => {
    // Two spaces alternate on one key, as a global and a route limiter do for one client, while
    // a new key fills the 32-key cache after each pair, then evicts: each space answers its key
    // without a cache get for a while, so the test fails if such an entry can drift to the tail
    // and be evicted (nothing else is evicted before the cache is full).
    const clock = createManualClock(EPOCH)
    const store = memoryStore({ max: 32 })
    const global = createLimiter({ limit: 1000, window: '1h', name: 'global', store, clock })
    const route = createLimiter({ limit: 1000, window: '1h', name: 'route', store, clock })
    const other = createLimiter({ limit: 1000, window: '1h', name: 'other', store, clock })
    let fresh = 0
    for (let i = 1; i <= 300; i++) {
      expect(global.consume('hot').remaining).toBe(1000 - i)
      expect(route.consume('hot').remaining).toBe(1000 - i)
      // From the third pair on, when each space has found its entry once (the cache is created by
      // the first insertion): no other key is older than those entries.
      if (i > 2) other.consume(`k${fresh++}`)
    }
    expect(store.size()).toBe(32)
    // The flood went in least-recently-used order: the cache holds the two hot entries and the
    // 30 newest keys (k268 to k297).
    expect(fresh).toBe(298)
    expect(other.peek('k267').remaining).toBe(1000)
    expect(other.peek('k268').remaining).toBe(999)
    expect(other.peek('k297').remaining).toBe(999)
  })

  test('a key reset through one of several limiters on a store is fresh for it alone', () => {
    const clock = createManualClock(EPOCH)
    const store = memoryStore({ max: 100 })
    const a = createLimiter({ limit: 10, window: '1h', name: 'a', store, clock })
    const b = createLimiter({ limit: 10, window: '1h', name: 'b', store, clock })
    for (let i = 0; i < 3; i++) {
      a.consume('k')
      b.consume('k')
    }
    a.reset('k')
    expect(a.consume('k').remaining).toBe(9)
    expect(b.consume('k').remaining).toBe(6)
    b.reset('k')
    expect(b.consume('k').remaining).toBe(9)
    expect(a.consume('k').remaining).toBe(8)
  })

  test('forgets a key that was reset, evicted or dropped', () => {
    const clock = createManualClock(EPOCH)
    const store = memoryStore({ max: 1 })
    const limiter = createLimiter({ limit: 10, window: '1s', store, clock })
    limiter.consume('a')
    limiter.reset('a')
    expect(limiter.consume('a').remaining).toBe(9)
    limiter.consume('b') // evicts a
    expect(limiter.consume('a').remaining).toBe(9)
    clock.advance(1_000)
    expect(limiter.peek('a').remaining).toBe(10) // expired: dropped
    expect(store.size()).toBe(0)
    expect(limiter.consume('a').remaining).toBe(9)
    expect(store.size()).toBe(1)
  })
})
