import { type Algorithm, createLimiter, createManualClock, type Decision, memoryStore } from '@tollgate/core'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'

type Op =
  | { kind: 'consume'; key: number; weight: number; gap: number }
  | { kind: 'reserve'; key: number; weight: number; gap: number; maxDelay: number }
  | { kind: 'refund'; key: number; weight: number; gap: number }
  | { kind: 'peek'; key: number; weight: number; gap: number }

const rateArb = fc
  .record({
    limit: fc.integer({ min: 1, max: 50 }),
    window: fc.integer({ min: 1, max: 5000 }),
    burstFactor: fc.integer({ min: 1, max: 3 }),
    smallBurst: fc.integer({ min: 1, max: 50 }),
    small: fc.boolean(),
  })
  // burst above the limit (a multiple of it) or at most the limit (as low as 1)
  .map((r) => ({
    limit: r.limit,
    window: r.window,
    burst: r.small ? Math.min(r.smallBurst, r.limit) : r.limit * r.burstFactor,
  }))

// Whole units mostly, and binary fractions (an LLM call's estimate need not be whole).
const weightArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 8 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 32 }).map((n) => n / 4) },
)

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('consume' as const),
      key: fc.integer({ min: 0, max: 3 }),
      weight: weightArb,
      gap: fc.integer({ min: 0, max: 700 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('reserve' as const),
      key: fc.integer({ min: 0, max: 3 }),
      weight: weightArb,
      gap: fc.integer({ min: 0, max: 700 }),
      maxDelay: fc.integer({ min: 0, max: 3000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('refund' as const),
      key: fc.integer({ min: 0, max: 3 }),
      weight: weightArb,
      gap: fc.integer({ min: 0, max: 700 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('peek' as const),
      key: fc.integer({ min: 0, max: 3 }),
      weight: weightArb,
      gap: fc.integer({ min: 0, max: 700 }),
    }),
  },
)

function run(algorithm: Algorithm, rates: { limit: number; window: number; burst: number }[], ops: Op[]) {
  const clock = createManualClock(Date.UTC(2026, 10, 25, 9, 0, 0) + 123)
  const limiter = createLimiter({ rates, algorithm, clock, store: memoryStore({ max: 64 }) })
  const out: (Decision | 'refunded')[] = []
  for (const op of ops) {
    clock.advance(op.gap)
    const key = `k${op.key}`
    if (op.kind === 'consume') out.push(limiter.consume(key, { weight: op.weight }))
    else if (op.kind === 'reserve')
      out.push(limiter.reserve(key, { weight: op.weight, maxDelay: op.maxDelay }))
    else if (op.kind === 'peek') out.push(limiter.peek(key, { weight: op.weight }))
    else {
      limiter.refund(key, op.weight)
      out.push('refunded')
    }
  }
  return out
}

describe('GCRA, token bucket and leaky bucket decide identically', () => {
  test('on random traces of weights (fractional too), gaps, reservations, refunds, several rates, bursts below and above the limit', () => {
    fc.assert(
      fc.property(
        fc.array(rateArb, { minLength: 1, maxLength: 3 }),
        fc.array(opArb, { minLength: 1, maxLength: 200 }),
        (raw, ops) => {
          const rates = raw
          const gcra = run('gcra', rates, ops)
          expect(run('token-bucket', rates, ops)).toEqual(gcra)
          expect(run('leaky-bucket', rates, ops)).toEqual(gcra)
        },
      ),
      { numRuns: 1500, endOnFailure: true },
    )
  })

  test('the traces are not trivial: they contain both allowed and rejected decisions', () => {
    const ops: Op[] = Array.from({ length: 400 }, (_, i) => ({
      kind: 'consume',
      key: i % 2,
      weight: 1 + (i % 3),
      gap: (i * 37) % 90,
    }))
    const decisions = run('gcra', [{ limit: 10, window: 1000, burst: 10 }], ops) as Decision[]
    expect(decisions.some((d) => d.allowed)).toBe(true)
    expect(decisions.some((d) => !d.allowed)).toBe(true)
  })
})
