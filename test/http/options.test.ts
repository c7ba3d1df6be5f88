import { createManualClock, HTTP_OPTIONS, mergeHttpOptions, parseHttpOptions } from '@tollgate/core'
import { describe, expect, test } from 'vitest'

const policy = { limit: 10, window: '1m' }

describe('parseHttpOptions', () => {
  test('defaults', () => {
    const config = parseHttpOptions('rateLimit', { ...policy, clock: createManualClock() })
    expect(config).toMatchObject({
      delay: false,
      maxDelay: 30_000,
      statusCode: 429,
      headers: 'draft-8',
      legacyHeaders: false,
      failure: 'closed',
      skipFailedRequests: false,
      skipSuccessfulRequests: false,
      ipv6Subnet: 56,
      logger: console,
    })
    expect(config.limiter.rates).toEqual([
      { name: 'default', limit: 10, window: 60_000, burst: 10, quotaUnit: undefined },
    ])
  })

  test.each([
    [{ mode: 'queue' }, `rateLimit: "mode" must be one of 'reject', 'delay', got "queue"`],
    [{ maxDelay: -1 }, 'rateLimit: "maxDelay" must be a duration of 0 or more'],
    [{ maxDelay: true }, 'rateLimit: "maxDelay" must be a duration'],
    [
      { statusCode: 200 },
      'rateLimit: "statusCode" must be an HTTP error status (an integer from 400 to 599), got 200',
    ],
    [
      { message: 42 },
      'rateLimit: "message" must be a string, an object (sent as JSON) or a function returning one, got 42',
    ],
    [{ handler: 'x' }, 'rateLimit: "handler" must be a function, got "x"'],
    [
      { headers: 'draft-9' },
      `rateLimit: "headers" must be one of 'draft-8', 'draft-7', 'draft-6', false, got "draft-9"`,
    ],
    [{ legacyHeaders: 'yes' }, 'rateLimit: "legacyHeaders" must be true or false, got "yes"'],
    [{ failure: 'insurance' }, `rateLimit: "failure" must be one of 'open', 'closed', got "insurance"`],
    [{ skipFailedRequests: 1 }, 'rateLimit: "skipFailedRequests" must be true or false, got 1'],
    [{ skipSuccessfulRequests: null }, 'rateLimit: "skipSuccessfulRequests" must be true or false, got null'],
    [{ onLimited: {} }, 'rateLimit: "onLimited" must be a function, got {}'],
    [{ ipv6Subnet: 0 }, 'rateLimit: "ipv6Subnet" must be a prefix length from 1 to 128, or false, got 0'],
    [
      { ipv6Subnet: true },
      'rateLimit: "ipv6Subnet" must be a prefix length from 1 to 128, or false, got true',
    ],
    [
      { logger: {} },
      'rateLimit: "logger" must be an object with warn() and error(), such as console, got {}',
    ],
    [{ key: 'ip' }, 'rateLimit: "key" must be a function, got "ip"'],
    [{ weight: 2 }, 'rateLimit: "weight" must be a function, got 2'],
    [{ skip: true }, 'rateLimit: "skip" must be a function, got true'],
    [{ algorithm: 'leaky' }, 'rateLimit: "algorithm" must be one of'],
    [{ name: 'é' }, 'rateLimit: "name" must be a non-empty string of printable ASCII characters'],
    [
      { mode: 'delay', algorithm: 'sliding-window' },
      `rateLimit: "mode" must be 'reject' with algorithm 'sliding-window'`,
    ],
  ])('%o is refused: %s', (options, message) => {
    expect(() => parseHttpOptions('rateLimit', { ...policy, ...options })).toThrow(message)
  })

  test('errors carry stable codes', () => {
    expect(() => parseHttpOptions('rateLimit', { ...policy, max: 5 })).toThrow(
      expect.objectContaining({ code: 'ERR_TOLLGATE_UNKNOWN_OPTION', name: 'TollgateTypeError' }),
    )
    expect(() => parseHttpOptions('rateLimit', { ...policy, statusCode: 200 })).toThrow(
      expect.objectContaining({ code: 'ERR_TOLLGATE_INVALID_OPTION', name: 'TollgateRangeError' }),
    )
    expect(() => parseHttpOptions('rateLimit', null)).toThrow(
      expect.objectContaining({ name: 'TollgateTypeError' }),
    )
  })

  test('policy errors name the adapter, not the core', () => {
    expect(() => parseHttpOptions('rateLimit', { limit: 1 })).toThrow(
      /^rateLimit: a policy needs "limit" and "window"/,
    )
  })

  test('maxDelay takes durations, 0 and Infinity', () => {
    expect(parseHttpOptions('rateLimit', { ...policy, maxDelay: '2s' }).maxDelay).toBe(2000)
    expect(parseHttpOptions('rateLimit', { ...policy, maxDelay: 0 }).maxDelay).toBe(0)
    expect(parseHttpOptions('rateLimit', { ...policy, maxDelay: Number.POSITIVE_INFINITY }).maxDelay).toBe(
      Number.POSITIVE_INFINITY,
    )
  })

  test('an adapter can add option names of its own', () => {
    expect(() => parseHttpOptions('rateLimit', { ...policy, hook: 'preHandler' }, ['hook'])).not.toThrow()
    expect(() => parseHttpOptions('rateLimit', { ...policy, hook: 'preHandler' })).toThrow(
      /unknown option "hook"/,
    )
  })

  test('every documented option name is known', () => {
    expect([...HTTP_OPTIONS].sort()).toEqual(
      [
        ...[
          'limit',
          'window',
          'burst',
          'quotaUnit',
          'rates',
          'algorithm',
          'store',
          'name',
          'fallback',
          'global',
        ],
        ...[
          'clock',
          'logger',
          'key',
          'weight',
          'skip',
          'mode',
          'maxDelay',
          'statusCode',
          'message',
          'handler',
        ],
        ...[
          'headers',
          'legacyHeaders',
          'failure',
          'skipFailedRequests',
          'skipSuccessfulRequests',
          'onLimited',
        ],
        'ipv6Subnet',
      ].sort(),
    )
  })
})

describe('mergeHttpOptions', () => {
  test('route options without a policy inherit the defaults', () => {
    expect(
      mergeHttpOptions<Record<string, unknown>>(
        { ...policy, name: 'api', headers: 'draft-7' },
        { failure: 'open' },
      ),
    ).toEqual({
      ...policy,
      name: 'api',
      headers: 'draft-7',
      failure: 'open',
    })
  })

  test("a route's own policy drops the defaults' policy and name", () => {
    expect(
      mergeHttpOptions<Record<string, unknown>>(
        { limit: 1, window: 1000, burst: 5, name: 'api', headers: 'draft-6' },
        { rates: [{ limit: 2, window: 1000 }] },
      ),
    ).toEqual({ headers: 'draft-6', rates: [{ limit: 2, window: 1000 }] })
  })
})
