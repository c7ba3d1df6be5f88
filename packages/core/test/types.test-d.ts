import { createLimiter, type Decision, type Limiter, memoryStore, type Store } from '@tollgate/core'
import { describe, expectTypeOf, test } from 'vitest'

describe('createLimiter types', () => {
  test('a memory-store limiter is synchronous', () => {
    const limiter = createLimiter({ limit: 10, window: '1m' })
    expectTypeOf(limiter).toEqualTypeOf<Limiter<true>>()
    expectTypeOf(limiter.consume('k')).toEqualTypeOf<Decision>()
    expectTypeOf(
      createLimiter({ limit: 1, window: 1000, store: memoryStore() }).peek('k'),
    ).toEqualTypeOf<Decision>()
  })

  test('a limiter on an asynchronous store answers with promises', () => {
    const store = {} as Store
    const limiter = createLimiter({ limit: 10, window: '1m', store })
    expectTypeOf(limiter.consume('k')).toEqualTypeOf<Promise<Decision>>()
    expectTypeOf(limiter.refund('k', 1)).toEqualTypeOf<Promise<void>>()
  })

  test('acquire and wrap are always asynchronous', () => {
    const limiter = createLimiter({ limit: 10, window: '1m' })
    expectTypeOf(limiter.acquire('k')).toEqualTypeOf<Promise<Decision>>()
    const wrapped = limiter.wrap((prompt: string, tokens: number) => ({ prompt, tokens }), {
      weight: (_prompt, tokens) => tokens,
    })
    expectTypeOf(wrapped).toEqualTypeOf<
      (prompt: string, tokens: number) => Promise<{ prompt: string; tokens: number }>
    >()
  })

  test('a policy is limit + window or rates, never both', () => {
    // @ts-expect-error rates and limit together
    createLimiter({ limit: 10, window: '1m', rates: [{ limit: 1, window: '1s' }] })
    // @ts-expect-error window missing
    createLimiter({ limit: 10 })
    // @ts-expect-error unknown algorithm
    createLimiter({ limit: 10, window: '1m', algorithm: 'leaky' })
  })
})
