import {
  type Decision,
  draft6Headers,
  draft7Headers,
  draft8Headers,
  legacyHeaders,
  type RateStatus,
  rateLimitHeaders,
  retryAfterHeader,
} from '@tollgate/core'
import { describe, expect, test } from 'vitest'

function rate(overrides: Partial<RateStatus> = {}): RateStatus {
  return {
    name: 'default',
    limit: 100,
    window: 60_000,
    quotaUnit: undefined,
    remaining: 50,
    resetMs: 30_000,
    global: false,
    ...overrides,
  }
}

function decision(rates: RateStatus[], overrides: Partial<Decision> = {}): Decision {
  const top = rates[0]!
  return {
    allowed: true,
    key: 'k',
    weight: 1,
    limit: top.limit,
    remaining: top.remaining,
    resetMs: top.resetMs,
    retryAfterMs: 0,
    delayMs: 0,
    rates,
    reason: 'ok',
    ...overrides,
  }
}

// DESIGN.md §6: limit 100, window 60 s, 50 remaining, 30 s to reset.
describe('DESIGN.md §6 test vectors', () => {
  const base = decision([rate()])

  test('draft-6', () => {
    expect(draft6Headers(base)).toEqual({
      'RateLimit-Policy': '100;w=60',
      'RateLimit-Limit': '100',
      'RateLimit-Remaining': '50',
      'RateLimit-Reset': '30',
    })
  })

  test('draft-7', () => {
    expect(draft7Headers(base)).toEqual({
      'RateLimit-Policy': '100;w=60',
      RateLimit: 'limit=100, remaining=50, reset=30',
    })
  })

  test('draft-8', () => {
    expect(draft8Headers(base)).toEqual({
      'RateLimit-Policy': '"default";q=100;w=60',
      RateLimit: '"default";r=50;t=30',
    })
  })

  test('two rates', () => {
    const two = decision([
      rate({ name: 'burst' }),
      rate({ name: 'daily', limit: 1000, window: 86_400_000, remaining: 900, resetMs: 3_600_000 }),
    ])
    expect(draft8Headers(two)['RateLimit-Policy']).toBe('"burst";q=100;w=60, "daily";q=1000;w=86400')
  })

  test('quota unit', () => {
    const bytes = decision([
      rate({ name: 'peruser', limit: 65535, window: 10_000, quotaUnit: 'content-bytes' }),
    ])
    expect(draft8Headers(bytes)['RateLimit-Policy']).toBe('"peruser";q=65535;qu="content-bytes";w=10')
  })

  test('429', () => {
    const limited = decision([rate({ remaining: 0 })], {
      allowed: false,
      remaining: 0,
      retryAfterMs: 30_000,
      reason: 'limited',
    })
    expect(rateLimitHeaders(limited)).toEqual({
      'RateLimit-Policy': '"default";q=100;w=60',
      RateLimit: '"default";r=0;t=30',
      'Retry-After': '30',
    })
  })

  test('29.4 s left', () => {
    expect(draft8Headers(decision([rate({ resetMs: 29_400 })])).RateLimit).toBe('"default";r=50;t=30')
  })

  test('name a"b', () => {
    expect(draft8Headers(decision([rate({ name: 'a"b' })])).RateLimit).toBe('"a\\"b";r=50;t=30')
  })

  test('never emit: decimals, uppercase keys, unescaped quotes', () => {
    const samples = [
      decision([rate({ resetMs: 29_500 })]),
      decision([rate({ resetMs: 1 })]),
      decision([rate({ name: 'a"b\\c' })]),
      decision([rate({ window: 1500 })]),
    ]
    // A Structured Field list of strings with lower-case integer or string parameters (RFC 9651);
    // the row's own bad examples fail it.
    const sfString = String.raw`"(?:[^"\\\x00-\x1f\x7f]|\\["\\])*"`
    const member = String.raw`${sfString}(?:;[a-z*][a-z0-9_.*-]*=(?:\d{1,15}|${sfString}))*`
    const list = new RegExp(`^${member}(?:, ${member})*$`)
    for (const bad of ['"default";r=50;t=29.5', '"default";R=2;t=30', '"a"b";r=50;t=30']) {
      expect(bad).not.toMatch(list)
    }
    for (const sample of samples) {
      const headers = rateLimitHeaders(sample)
      expect(headers.RateLimit).toMatch(list)
      expect(headers['RateLimit-Policy']).toMatch(list)
    }
    expect(draft8Headers(decision([rate({ name: 'a"b\\c' })])).RateLimit).toBe('"a\\"b\\\\c";r=50;t=30')
  })
})

describe('other header rules', () => {
  test('sub-second windows omit w rather than lie', () => {
    expect(draft8Headers(decision([rate({ window: 500 })]))['RateLimit-Policy']).toBe('"default";q=100')
    expect(draft7Headers(decision([rate({ window: 1500 })]))['RateLimit-Policy']).toBe('100')
  })

  test('draft-6 and draft-7 report the rate with the lowest remaining', () => {
    const two = decision([
      rate({ remaining: 50 }),
      rate({ name: 'day', limit: 1000, window: 86_400_000, remaining: 3, resetMs: 7_200_000 }),
    ])
    expect(draft7Headers(two).RateLimit).toBe('limit=1000, remaining=3, reset=7200')
    expect(draft6Headers(two)['RateLimit-Policy']).toBe('100;w=60, 1000;w=86400')
  })

  test('stacked limiters: every policy appears, Retry-After is the longest wait', () => {
    const a = decision([rate({ name: 'api' })])
    const b = decision([rate({ name: 'login', limit: 5, window: 900_000, remaining: 0, resetMs: 600_000 })], {
      allowed: false,
      retryAfterMs: 180_500,
      reason: 'limited',
    })
    const headers = rateLimitHeaders([a, b])
    expect(headers['RateLimit-Policy']).toBe('"api";q=100;w=60, "login";q=5;w=900')
    expect(headers.RateLimit).toBe('"api";r=50;t=30, "login";r=0;t=600')
    expect(headers['Retry-After']).toBe('181')
  })

  test('legacy headers use epoch seconds for the reset', () => {
    expect(legacyHeaders(decision([rate()]), 1_700_000_000_000)).toEqual({
      'X-RateLimit-Limit': '100',
      'X-RateLimit-Remaining': '50',
      'X-RateLimit-Reset': '1700000030',
    })
    expect(rateLimitHeaders(decision([rate()]), { format: false, legacy: true, now: 0 })).toEqual({
      'X-RateLimit-Limit': '100',
      'X-RateLimit-Remaining': '50',
      'X-RateLimit-Reset': '30',
    })
    // The function is pure: the legacy reset needs the caller's clock.
    expect(() => rateLimitHeaders(decision([rate()]), { legacy: true })).toThrow(
      /rateLimitHeaders: "now" must be epoch milliseconds/,
    )
  })

  test('no Retry-After when allowed or too heavy', () => {
    expect(retryAfterHeader(decision([rate()]))).toEqual({})
    const heavy = decision([rate()], {
      allowed: false,
      retryAfterMs: Number.POSITIVE_INFINITY,
      reason: 'too-heavy',
    })
    expect(retryAfterHeader(heavy)).toEqual({})
  })

  test('a sub-second wait still says Retry-After: 1', () => {
    const soon = decision([rate({ remaining: 0 })], { allowed: false, retryAfterMs: 120, reason: 'limited' })
    expect(retryAfterHeader(soon)).toEqual({ 'Retry-After': '1' })
  })
})
