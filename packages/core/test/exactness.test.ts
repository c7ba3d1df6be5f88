import { type Algorithm, createLimiter, createManualClock, memoryStore } from '@tollgate/core'
import { describe, expect, test } from 'vitest'

// A realistic epoch (late 2026): where one ulp of a float ms timestamp is 0.24 µs.
const EPOCH = Date.UTC(2026, 10, 25, 9, 30, 0) + 417

function burst(algorithm: Algorithm, limit: number, window: string | number, start = EPOCH): number {
  const clock = createManualClock(start)
  const limiter = createLimiter({ limit, window, algorithm, clock })
  let admitted = 0
  for (let i = 0; i < limit * 2 + 10; i++) if (limiter.consume('k').allowed) admitted++
  return admitted
}

const ALL: Algorithm[] = ['gcra', 'token-bucket', 'leaky-bucket', 'fixed-window', 'sliding-window']

describe('a limit of N admits exactly N on a fresh key', () => {
  for (const algorithm of ALL) {
    test.each([
      [7, '1s'],
      [3, '1s'],
      [999, '1d'],
      [1000, '1h'],
      [13, 7919],
      [20_000, '1m'],
    ])(`${algorithm}: %i per %s`, (limit, window) => {
      expect(burst(algorithm, limit, window)).toBe(limit)
      // and at other clock magnitudes, including the far future where floats are coarser
      expect(burst(algorithm, limit, window, 1)).toBe(limit)
      expect(burst(algorithm, limit, window, 4_102_444_800_123)).toBe(limit)
    })
  }
})

/**
 * One hour of steady overload: a request every millisecond against 3 per second.
 * Derivations (t in ms from the first request, T = 1000/3):
 * - GCRA and the buckets admit the burst of 3 at t = 0, 1, 2, then the k-th further
 *   request at t = ceil(k*T). Requests run to t = 3,599,999, so k <= floor(3,599,999 * 3 / 1000)
 *   = 10,799: 3 + 10,799 = 10,802.
 * - Fixed window: windows open at 0, 1000, 2000, ...: 3 per window x 3600 windows = 10,800.
 * - Sliding window: the first window admits 3. In every later window the estimate starts at
 *   the previous window's count (weight 1 at elapsed 0) and a request fits when
 *   prev*(1000-e)/1000 + curr <= 2. After a window of 3: e = 334 and 667, then no third
 *   (it would need e >= 1000): 2. After a window of 2: e = 0 and 500: 2 again. So
 *   3 + 2 x 3599 = 7,201: the two-window estimate is stricter than the limit under sustained
 *   overload (documented in the README).
 */
describe('steady overload for a simulated hour admits exactly what each definition allows', () => {
  const expected: Record<Algorithm, number> = {
    gcra: 10_802,
    'token-bucket': 10_802,
    'leaky-bucket': 10_802,
    'fixed-window': 10_800,
    'sliding-window': 7_201,
  }
  for (const algorithm of ALL) {
    test(`${algorithm} admits ${expected[algorithm]}`, () => {
      const clock = createManualClock(EPOCH)
      const limiter = createLimiter({
        limit: 3,
        window: '1s',
        algorithm,
        clock,
        store: memoryStore({ max: 8 }),
      })
      let admitted = 0
      for (let t = 0; t < 3_600_000; t++) {
        if (limiter.consume('hot').allowed) admitted++
        clock.advance(1)
      }
      expect(admitted).toBe(expected[algorithm])
    }, 60_000)
  }
})

describe('weights', () => {
  test('a weight of 20,000 tokens against 100,000 tokens per minute passes 5 times, then waits for refill', () => {
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 100_000, window: '1m', clock })
    const results = Array.from({ length: 6 }, () => limiter.consume('llm', { weight: 20_000 }).allowed)
    expect(results).toEqual([true, true, true, true, true, false])
    const rejected = limiter.consume('llm', { weight: 20_000 })
    // 20,000 tokens refill in 12 s at 100,000 per minute
    expect(rejected.retryAfterMs).toBe(12_000)
    clock.advance(11_999)
    expect(limiter.consume('llm', { weight: 20_000 }).allowed).toBe(false)
    clock.advance(1)
    expect(limiter.consume('llm', { weight: 20_000 }).allowed).toBe(true)
  })

  test('a weight above the burst is too heavy and never waits', () => {
    const limiter = createLimiter({ limit: 10, window: '1s', clock: createManualClock(EPOCH) })
    const decision = limiter.consume('k', { weight: 11 })
    expect(decision).toMatchObject({
      allowed: false,
      reason: 'too-heavy',
      retryAfterMs: Number.POSITIVE_INFINITY,
    })
    // and it charged nothing
    expect(limiter.peek('k').remaining).toBe(10)
  })

  test('fractional weights are accepted', () => {
    const limiter = createLimiter({ limit: 2, window: '1s', clock: createManualClock(EPOCH) })
    const admitted = Array.from({ length: 5 }, () => limiter.consume('k', { weight: 0.5 }).allowed)
    expect(admitted).toEqual([true, true, true, true, false])
  })
})

describe('decision fields follow DESIGN.md §3', () => {
  test('GCRA remaining, resetMs and retryAfterMs', () => {
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 10, window: '10s', clock })
    const first = limiter.consume('k')
    expect(first).toMatchObject({
      allowed: true,
      limit: 10,
      remaining: 9,
      resetMs: 1000,
      retryAfterMs: 0,
      delayMs: 0,
      reason: 'ok',
    })
    for (let i = 0; i < 9; i++) limiter.consume('k')
    const limited = limiter.consume('k')
    expect(limited).toMatchObject({
      allowed: false,
      remaining: 0,
      resetMs: 10_000,
      retryAfterMs: 1000,
      reason: 'limited',
    })
    clock.advance(250)
    expect(limiter.consume('k').retryAfterMs).toBe(750)
    expect(limiter.consume('k', { weight: 3 }).retryAfterMs).toBe(2750)
  })

  test('fixed window resets when its window ends, counted from the first hit', () => {
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 2, window: '1m', algorithm: 'fixed-window', clock })
    expect(limiter.consume('k')).toMatchObject({ remaining: 1, resetMs: 60_000 })
    clock.advance(20_000)
    expect(limiter.consume('k')).toMatchObject({ remaining: 0, resetMs: 40_000 })
    expect(limiter.consume('k')).toMatchObject({ allowed: false, retryAfterMs: 40_000 })
    clock.advance(40_000)
    expect(limiter.consume('k')).toMatchObject({ allowed: true, remaining: 1, resetMs: 60_000 })
  })

  test('a limit whose window is far from a whole number of emission intervals stays exact over long idle gaps', () => {
    const clock = createManualClock(EPOCH)
    const limiter = createLimiter({ limit: 999_983, window: '1d', clock })
    expect(limiter.consume('k', { weight: 999_983 }).allowed).toBe(true)
    expect(limiter.consume('k').allowed).toBe(false)
    // ten years later (the store moves its internal origin on the way) the key is fresh again
    clock.advance(10 * 365 * 86_400_000)
    expect(limiter.consume('k', { weight: 999_983 }).allowed).toBe(true)
    expect(limiter.consume('k').allowed).toBe(false)
  })

  test('the internal origin moves without changing live state', () => {
    const clock = createManualClock(EPOCH)
    // u = 999,983 units per ms: the scaled clock reaches 2^51 after ~26 days and 2^53 after ~104
    const limiter = createLimiter({ limit: 999_983, window: '1d', clock })
    expect(limiter.consume('k', { weight: 999_983 }).allowed).toBe(true)
    for (let day = 0; day < 120; day++) {
      clock.advance(86_400_000 - 1)
      // one millisecond short of a full refill: 999,982.99 units
      expect(limiter.consume('k', { weight: 999_983 }).allowed).toBe(false)
      clock.advance(1)
      expect(limiter.consume('k', { weight: 999_983 }).allowed).toBe(true)
    }
  })
})
