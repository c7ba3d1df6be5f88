import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { type Algorithm, createLimiter, createManualClock, type Decision, memoryStore } from '@tollgate/core'
import { describe, expect, test } from 'vitest'

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

/** The slot the store's cache maps a key to, expired or not. */
function slotOf(store: ReturnType<typeof memoryStore>, key: string): number | undefined {
  return store.cache?.peek(key, { allowStale: true })
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
      const ttl = store.cache?.getRemainingTTL('k') ?? 0
      expect(ttl).toBeGreaterThan(0)

      // Long past the TTL (and past the sliding window's previous window): the entry is expired.
      clock.advance(5_000)
      expect(ttl).toBeLessThan(5_000)
      expect(store.cache?.size).toBe(1)

      // A key never seen, on its own store at the same time, is the reference.
      const fresh = createLimiter({ limit: 5, window: '1s', algorithm, store: memoryStore(), clock })
      const reused: Decision[] = []
      const reference: Decision[] = []
      for (let i = 0; i < 7; i++) {
        const ops = cacheOps(() => reused.push({ ...limiter.consume('k') }))
        reference.push({ ...fresh.consume('k') })
        if (i === 0) {
          // The first charge reused the expired entry: no delete and insert, a new TTL in place.
          expect(ops).toEqual(['get:stale', 'set:update'])
          expect(slotOf(store, 'k')).toBe(slot)
          expect(store.size()).toBe(1)
          expect(store.cache?.getRemainingTTL('k')).toBeGreaterThan(0)
        }
        clock.advance(50)
      }
      expect(reused).toEqual(reference)
      expect(reused.filter((d) => d.allowed)).toHaveLength(reference.filter((d) => d.allowed).length)
      expect(store.size()).toBe(1)
      expect(slotOf(store, 'k')).toBe(slot)
    })
  }

  test('many keys hit less often than their TTL keep their slots and decide as fresh keys', () => {
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
      expect(new Set(ops)).toEqual(new Set(['get:stale', 'set:update']))
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
    const decision = limiter.consume('k')
    expect(decision.reason).toBe('global-limited')
    expect(decision.rates[0]!.remaining).toBe(10)
    expect(store.cache?.size).toBe(0)
  })
})
