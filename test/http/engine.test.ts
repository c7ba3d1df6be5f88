import {
  collectDecisions,
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

describe('collectDecisions: the decisions of the limiters stacked on one request', () => {
  const limiter = new HttpEngine(
    'rateLimit',
    parseHttpOptions('rateLimit', { limit: 9, window: '1m' }),
    binding,
  ).limiter
  const decide = (key: string) => limiter.consume(key) as Decision
  // How the adapters keep them: Koa and Fastify on the request under a symbol, Express in a WeakMap.
  const modes = {
    'on the request': undefined,
    'in a WeakMap': () => new WeakMap<object, readonly Decision[]>(),
  }

  for (const [mode, lists] of Object.entries(modes)) {
    test(`${mode}: one limiter alone, then a list that grows`, () => {
      const store = lists?.()
      const request = {}
      const [a, b, c] = [decide('a'), decide('b'), decide('c')]
      expect(collectDecisions(request, undefined, a, store)).toBe(a)
      expect(collectDecisions(request, a, b, store)).toEqual([a, b])
      expect(collectDecisions(request, b, c, store)).toEqual([a, b, c])
    })

    test(`${mode}: a property cleared or replaced in between starts a new list`, () => {
      const store = lists?.()
      const request = {}
      const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map(decide) as Decision[]
      collectDecisions(request, undefined, a!, store)
      collectDecisions(request, a, b!, store)
      // Cleared: c is the first decision again, and d follows c alone.
      expect(collectDecisions(request, undefined, c!, store)).toBe(c)
      expect(collectDecisions(request, c, d!, store)).toEqual([c, d])
      // Replaced by another decision of ours (not the last one kept): that one starts the list.
      expect(collectDecisions(request, a, e!, store)).toEqual([a, e])
    })

    test(`${mode}: a foreign value is left out and the list kept`, () => {
      const store = lists?.()
      const request = {}
      const [a, b, c] = [decide('a'), decide('b'), decide('c')]
      const foreign = { limit: 5, used: 1, remaining: 4 }
      expect(collectDecisions(request, foreign, a, store)).toBe(a)
      collectDecisions(request, a, b, store)
      expect(collectDecisions(request, foreign, c, store)).toEqual([a, b, c])
    })
  }
})
