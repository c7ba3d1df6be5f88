import {
  createManualClock,
  type Decision,
  type HttpBinding,
  HttpEngine,
  memoryStore,
  parseHttpOptions,
  rateLimitHeaders,
  type Store,
} from '@tollgate/core'
import { describe, expect, test } from 'vitest'

interface FakeRequest {
  key: string | undefined
  weight: number
  headers: Record<string, string>
  response: { statusCode: number; writableFinished: boolean; once(): void; removeListener(): void }
  decision?: Decision
  sent?: number
}

const binding: HttpBinding<FakeRequest, undefined> = {
  arity: 1,
  clientIp: () => '127.0.0.1',
  remoteAddress: () => '127.0.0.1',
  header: () => undefined,
  response: (r) => r.response,
  setHeader: (r, _b, name, value) => {
    r.headers[name] = value
  },
  record: (r, _b, decision) => {
    r.decision = decision
    return decision
  },
  send: (r, _b, status) => {
    r.sent = status
  },
  callHandler: () => undefined,
}

function fakeRequest(key: string | undefined, weight = 1): FakeRequest {
  return {
    key,
    weight,
    headers: {},
    response: { statusCode: 200, writableFinished: true, once() {}, removeListener() {} },
  }
}

describe("the engine's precomputed headers equal rateLimitHeaders() for every format", () => {
  const policies = {
    'one rate': { limit: 7, window: '1s' },
    'two rates, a quota unit, a sub-second window': {
      rates: [
        { limit: 3, window: 500, name: 'tiny' },
        { limit: 100, window: '1h', name: 'a"b\\c', quotaUnit: 'tokens' },
      ],
    },
    'fallback and global policies': {
      limit: 5,
      window: '1m',
      fallback: { limit: 2, window: '1m' },
      global: { limit: 8, window: '10s' },
    },
  }
  for (const [label, policy] of Object.entries(policies)) {
    for (const headers of ['draft-8', 'draft-7', 'draft-6', false] as const) {
      test(`${label}, ${headers}`, () => {
        const clock = createManualClock()
        const engine = new HttpEngine(
          'rateLimit',
          parseHttpOptions('rateLimit', {
            ...policy,
            clock,
            headers,
            legacyHeaders: true,
            key: (r: FakeRequest) => r.key,
            weight: (r: FakeRequest) => r.weight,
          }),
          binding,
        )
        let compared = 0
        for (let i = 0; i < 12; i++) {
          const request = fakeRequest(i % 3 === 0 ? undefined : `user${i % 2}`, i === 11 ? 1e9 : 1)
          engine.handle(request, undefined, () => undefined)
          const decision = request.decision!
          expect(decision).toBeDefined()
          expect(request.headers).toEqual(
            rateLimitHeaders(decision, { format: headers, legacy: true, now: clock.now() }),
          )
          compared++
          clock.advance(97)
        }
        expect(compared).toBe(12)
      })
    }
  }
})

test('the synchronous path returns what next() returns, without a promise', () => {
  const engine = new HttpEngine(
    'rateLimit',
    parseHttpOptions('rateLimit', { limit: 1, window: '1m' }),
    binding,
  )
  const token = Symbol('next')
  expect(engine.handle(fakeRequest('a'), undefined, () => token)).toBe(token)
  const limited = fakeRequest('a')
  expect(engine.handle(limited, undefined, () => token)).toBeUndefined()
  expect(limited.sent).toBe(429)
})

test('an async store makes the engine answer with a promise', async () => {
  const memory = memoryStore()
  const store: Store = {
    synchronous: false,
    consume: async (request) => memory.consume(request),
    peek: async (targets, weight, now) => memory.peek(targets, weight, now),
    refund: async (targets, weight, now) => memory.refund(targets, weight, now),
    reset: async (target, now) => memory.reset(target, now),
    close: () => {},
  }
  const engine = new HttpEngine(
    'rateLimit',
    parseHttpOptions('rateLimit', { limit: 1, window: '1m', store }),
    binding,
  )
  const result = engine.handle(fakeRequest('a'), undefined, () => 'next')
  expect(result).toBeInstanceOf(Promise)
  expect(await result).toBe('next')
})
