import { createLimiter, createManualClock, memoryStore, parseDuration } from '@tollgate/core'
import { describe, expect, test } from 'vitest'

const EPOCH = Date.UTC(2026, 10, 25, 11, 0, 0)

function thrown(fn: () => unknown): { name: string; code: string; message: string } {
  try {
    fn()
  } catch (error) {
    return error as { name: string; code: string; message: string }
  }
  throw new Error('expected a throw')
}

describe('invalid options throw at construction, naming the option, the value and what is allowed', () => {
  test.each([
    [{ limit: 0, window: '1m' }, '"limit" must be a positive whole number, got 0'],
    [{ limit: 1.5, window: '1m' }, '"limit" must be a positive whole number, got 1.5'],
    [{ limit: 10, window: -5 }, '"window" must be a positive duration'],
    [{ limit: 10, window: 0 }, 'got 0'],
    [{ limit: 10, window: '5 parsecs' }, 'got "5 parsecs"'],
    [{ limit: 10, window: Number.NaN }, 'got NaN'],
    [{ limit: 10, window: '1m', burst: 0 }, '"burst" must be a positive whole number, got 0'],
    [{ limit: 10, window: '1m', burst: 0.5 }, '"burst" must be a positive whole number, got 0.5'],
    [
      { limit: 10, window: '1m', algorithm: 'leaky' },
      '"algorithm" must be one of gcra, token-bucket, leaky-bucket, fixed-window, sliding-window, got "leaky"',
    ],
    [{ limit: 10, window: '1m', windowMs: 1000 }, 'unknown option "windowMs"'],
    [{ limit: 10 }, 'needs "limit" and "window"'],
    [{ rates: [] }, '"rates" must be a non-empty array'],
    [
      { rates: [{ limit: 1, window: '1s' }], limit: 5, window: '1s' },
      'either "limit" and "window" or "rates"',
    ],
    [{ limit: 10, window: '1m', name: 'caf\u00e9' }, '"name" must be a non-empty string of printable ASCII'],
    [{ limit: 10, window: '1m', algorithm: 'fixed-window', burst: 20 }, '"burst" applies to the gcra'],
    [{ limit: 10, window: '1m', clock: {} }, '"clock" must be an object with now()'],
    [
      { limit: 10, window: '1m', fallback: { limit: 0, window: '1s' } },
      'fallback: "limit" must be a positive whole number',
    ],
    [{ limit: 10, window: '1m', global: { limt: 5, window: '1s' } }, 'unknown option "limt"'],
    [{ limit: Number.MAX_SAFE_INTEGER, window: '7d' }, 'too large to count exactly'],
    // A prime limit over a long window does not reduce: its scaled tolerance would leave the
    // store's clock no room (every decision would move its origin, O(keys)).
    [{ limit: 1_000_003, window: 1e9 }, 'too large to count exactly'],
  ])('%j', (options, message) => {
    const error = thrown(() => createLimiter(options as never))
    expect(error.message).toContain(message)
    expect(error.message.startsWith('createLimiter')).toBe(true)
    expect(error.code).toMatch(/^ERR_TOLLGATE_(INVALID|UNKNOWN)_OPTION$/)
    expect(['TollgateTypeError', 'TollgateRangeError']).toContain(error.name)
  })

  test('maxDelay: 0 in any form, and errors named after the method called', async () => {
    const limiter = createLimiter({ limit: 10, window: '1s', burst: 1, clock: createManualClock(1.7e12) })
    limiter.reserve('k')
    for (const zero of [0, '0', '0ms', '0 s']) {
      expect(limiter.reserve('k', { maxDelay: zero }).allowed).toBe(false)
    }
    expect(thrown(() => limiter.reserve('k', { maxDelay: -1 })).message).toMatch(/^reserve: "maxDelay"/)
    expect(thrown(() => limiter.wrap(() => 1, { maxDelay: '-1s' })).message).toMatch(/^wrap: "maxDelay"/)
    await expect(limiter.acquire('k', { maxDelay: 'soon' })).rejects.toThrow(/^acquire: "maxDelay"/)
  })

  test('a number out of range is a RangeError; a wrong type or value a TypeError', () => {
    expect(thrown(() => createLimiter({ limit: -1, window: '1m' }))).toBeInstanceOf(RangeError)
    expect(thrown(() => createLimiter({ limit: 1, window: 0 }))).toBeInstanceOf(RangeError)
    for (const bad of [
      'x',
      { limit: 1, window: '1m', algorithm: 5 },
      { limit: 1, window: '1m', algorithm: 'fast' },
      { limit: 1, window: '1m', store: 'redis' },
      { limit: 1, window: '1m', fallback: 5 },
      { limit: '1', window: '1m' },
    ]) {
      expect(thrown(() => createLimiter(bad as never))).toBeInstanceOf(TypeError)
    }
  })

  test.each([
    { limit: 10_000_000, window: '1d' },
    { limit: 2_000_000, window: '1m', burst: 20_000_000 },
    { limit: 999, window: '1d' },
    { limit: 7, window: '1s' },
    { limit: 1_000_003, window: '1h' },
  ])('realistic rates count exactly: %j', (rate) => {
    const limiter = createLimiter(rate)
    expect(limiter.consume('k').allowed).toBe(true)
  })

  test('memoryStore options', () => {
    expect(thrown(() => memoryStore({ max: 0 })).message).toBe(
      'memoryStore: "max" must be a positive whole number, got 0',
    )
    expect(thrown(() => memoryStore({ maxKeys: 5 } as never)).code).toBe('ERR_TOLLGATE_UNKNOWN_OPTION')
  })

  test('duration strings', () => {
    expect(parseDuration('1m')).toBe(60_000)
    expect(parseDuration('10 s')).toBe(10_000)
    expect(parseDuration('1.5h')).toBe(5_400_000)
    expect(parseDuration('2 days')).toBe(172_800_000)
    expect(parseDuration('250ms')).toBe(250)
    expect(parseDuration('100')).toBe(100)
    expect(parseDuration(1500)).toBe(1500)
    expect(() => parseDuration('0.5ms')).toThrow('whole number of milliseconds')
    expect(() => parseDuration('')).toThrow()
    expect(() => parseDuration(Number.POSITIVE_INFINITY)).toThrow()
  })
})

describe('bad request-time input gets a clear error and never corrupts other keys', () => {
  const badWeights = [Number.NaN, -1, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '3', null]
  const badKeys = ['', 42, {}, null, 'x'.repeat(1025), Symbol('k')]

  test.each(badWeights)('weight %s', (weight) => {
    const limiter = createLimiter({ limit: 5, window: '1m', clock: createManualClock(EPOCH) })
    limiter.consume('victim', { weight: 2 })
    const error = thrown(() => limiter.consume('victim', { weight: weight as number }))
    expect(error.code).toBe('ERR_TOLLGATE_INVALID_WEIGHT')
    expect(error.message).toContain('"weight" must be a positive finite number')
    expect(thrown(() => limiter.reserve('victim', { weight: weight as number })).code).toBe(
      'ERR_TOLLGATE_INVALID_WEIGHT',
    )
    expect(thrown(() => limiter.refund('victim', weight as number)).code).toBe('ERR_TOLLGATE_INVALID_WEIGHT')
    expect(limiter.peek('victim').remaining).toBe(3)
    expect(limiter.peek('other').remaining).toBe(5)
  })

  test.each(badKeys.map((key) => [key]))('key %s', (key) => {
    const limiter = createLimiter({ limit: 5, window: '1m', clock: createManualClock(EPOCH) })
    limiter.consume('victim', { weight: 2 })
    const error = thrown(() => limiter.consume(key as string))
    expect(error.code).toBe('ERR_TOLLGATE_INVALID_KEY')
    expect(error.name).toBe('TollgateTypeError')
    expect(limiter.peek('victim').remaining).toBe(3)
    expect(limiter.peek(undefined).remaining).toBe(5)
  })
})
