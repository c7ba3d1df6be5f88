import {
  type Algorithm,
  createLimiter,
  createManualClock,
  type Decision,
  type LimiterOptions,
  memoryStore,
} from '@tollgate/core'
import { redisStore } from '@tollgate/redis'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { random } from './helpers/random.ts'
import { startRedis, type TestRedis } from './helpers/redis-server.ts'

/*
 * One random trace of 10,000 operations per algorithm (random keys including
 * the keyless fallback bucket, weights, clock gaps, two rates plus a global
 * ceiling) through the memory store and through Redis must give identical
 * decisions. Redis is fed the trace's clock through the store's test-only
 * `clock: 'caller'` (the scripts use it instead of TIME), so the comparison is
 * exact, not at a tolerance. The deny cache is off: it answers with lower
 * bounds, which the deny-cache test checks on its own. The timeout is long: a
 * slow moment of the machine must not send a call to the insurance store.
 */

const OPS = 10_000
let server: TestRedis
let client: Redis

beforeAll(async () => {
  server = await startRedis()
  client = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true })
  client.on('error', () => {})
  await client.connect()
})

afterAll(async () => {
  client?.disconnect()
  await server?.stop()
})

const ALGORITHMS: readonly Algorithm[] = [
  'gcra',
  'token-bucket',
  'leaky-bucket',
  'fixed-window',
  'sliding-window',
]
const KEYS = ['alice', 'bob', 'carol', 'dave', 'k:{x}', undefined] as const

/**
 * The same policy on the memory store and on Redis (the scripts on the trace's clock, no deny
 * cache), sharing one manual clock; `prefix` keeps each test's Redis keys apart.
 */
function twins(options: LimiterOptions, prefix: string) {
  const clock = createManualClock()
  const mem = createLimiter({ ...options, clock, store: memoryStore() })
  const red = createLimiter({
    ...options,
    clock,
    store: redisStore({ client, prefix, clock: 'caller', denyCache: false, timeout: 10_000 }),
  })
  return { clock, mem, red }
}

function plain(decision: Decision) {
  return { ...decision, rates: decision.rates.map((rate) => ({ ...rate })) }
}

describe.each(ALGORITHMS)('%s', (algorithm) => {
  test(`${OPS} random operations decide as the memory store does`, async () => {
    const seed = Number(process.env.TOLLGATE_SEED ?? Math.floor(Math.random() * 2 ** 31))
    const rng = random(seed)
    const windowed = algorithm === 'fixed-window' || algorithm === 'sliding-window'
    const rates = [
      { limit: 7, window: 1_000, ...(windowed ? {} : { burst: 9 }) },
      { limit: 40, window: 30_000 },
    ]
    const global = { limit: 90, window: 10_000 }
    const { clock, mem, red } = twins(
      { rates, algorithm, global, name: 'diff' },
      `diff-${algorithm}-${seed}:`,
    )
    const shaping = algorithm !== 'sliding-window'
    let allowed = 0
    for (let i = 0; i < OPS; i++) {
      const roll = rng.next()
      const gap = roll < 0.3 ? 0 : roll < 0.95 ? rng.int(1, 250) : rng.int(1_000, 40_000)
      clock.advance(gap)
      const key = rng.pick(KEYS)
      const weight = rng.next() < 0.05 ? 10 : rng.int(1, 3)
      const op = rng.next()
      const where = `seed ${seed}, op ${i}, key ${String(key)}, weight ${weight}`
      if (op < 0.6 || (!shaping && op < 0.75)) {
        const a = mem.consume(key, { weight })
        const b = await red.consume(key, { weight })
        expect(plain(b), where).toEqual(plain(a))
        if (a.allowed) allowed++
      } else if (op < 0.75) {
        const maxDelay = rng.pick([0, 100, 1_000, 5_000])
        const a = mem.reserve(key, { weight, maxDelay })
        const b = await red.reserve(key, { weight, maxDelay })
        expect(plain(b), where).toEqual(plain(a))
      } else if (op < 0.88) {
        const a = mem.peek(key, { weight })
        const b = await red.peek(key, { weight })
        expect(plain(b), where).toEqual(plain(a))
      } else if (op < 0.97) {
        mem.refund(key, weight)
        await red.refund(key, weight)
      } else {
        mem.reset(key)
        await red.reset(key)
      }
    }
    // The trace must exercise both outcomes, or it proves little.
    expect(allowed).toBeGreaterThan(OPS / 20)
    await red.close()
    await mem.close()
  })
})

/** One request of a batched trace, made on both limiters in the same turn of the event loop. */
interface BatchedCall {
  readonly op: 'consume' | 'reserve' | 'peek' | 'refund'
  readonly key: (typeof KEYS)[number]
  readonly weight: number
  /** reserve only. */
  readonly maxDelay?: number
  /** ms the clock moves before this request. */
  readonly advance?: number
}

/**
 * Replays groups of requests made together (each group one turn: one EVALSHA or a few) on both
 * twins until 4,000 requests were decided; every decision must match the memory store's, in call
 * order, and the trace must exercise both outcomes.
 */
async function decideInGroups(
  { clock, mem, red }: ReturnType<typeof twins>,
  rng: ReturnType<typeof random>,
  seed: number,
  group: () => readonly BatchedCall[],
): Promise<void> {
  let decided = 0
  let allowed = 0
  for (let g = 0; decided < 4_000; g++) {
    clock.advance(rng.next() < 0.9 ? rng.int(1, 300) : rng.int(1_000, 10_000))
    const calls = group()
    const expected: Decision[] = []
    const pending: Promise<Decision>[] = []
    const refunds: Promise<void>[] = []
    for (const { op, key, weight, maxDelay, advance } of calls) {
      if (advance) clock.advance(advance)
      if (op === 'refund') {
        mem.refund(key, weight)
        refunds.push(red.refund(key, weight))
      } else if (op === 'reserve') {
        expected.push(mem.reserve(key, { weight, maxDelay: maxDelay! }))
        pending.push(red.reserve(key, { weight, maxDelay: maxDelay! }))
      } else {
        expected.push(mem[op](key, { weight }))
        pending.push(red[op](key, { weight }))
      }
    }
    const actual = await Promise.all(pending)
    await Promise.all(refunds)
    expect(actual.map(plain), `seed ${seed}, group ${g}`).toEqual(expected.map(plain))
    decided += calls.length
    allowed += expected.filter((d) => d.allowed).length
  }
  expect(allowed).toBeGreaterThan(200)
  expect(allowed).toBeLessThan(decided - 200)
  await red.close()
  await mem.close()
}

// Up to 150 requests in one turn of the event loop: several batches, some split in two calls.
const GROUP_SIZES = [1, 2, 5, 16, 40, 150]

describe.each(ALGORITHMS)('%s, batched', (algorithm) => {
  test('requests made together (one EVALSHA for many, peeks and refunds among them) decide as the memory store does in call order', async () => {
    const seed = Number(process.env.TOLLGATE_SEED ?? Math.floor(Math.random() * 2 ** 31))
    const rng = random(seed)
    const windowed = algorithm === 'fixed-window' || algorithm === 'sliding-window'
    const rates = [{ limit: 20, window: 1_000, ...(windowed ? {} : { burst: 25 }) }]
    const global = { limit: 150, window: 5_000 }
    const pair = twins({ rates, algorithm, global, name: 'batch' }, `batch-${algorithm}-${seed}:`)
    const shaping = algorithm !== 'sliding-window'
    await decideInGroups(pair, rng, seed, () => {
      // In half of the groups the clock moves between the calls of one turn: a key's state kept in
      // the script is then carried to each request's own clock.
      const drift = rng.next() < 0.5 ? 50 : 0
      return Array.from({ length: rng.pick(GROUP_SIZES) }, (): BatchedCall => {
        const key = rng.pick(KEYS)
        const weight = rng.int(1, 3)
        const advance = drift > 0 ? rng.int(0, drift) : 0
        const roll = rng.next()
        if (roll < 0.1) return { op: 'peek', key, weight, advance }
        if (roll < 0.2) return { op: 'refund', key, weight, advance }
        if (shaping && roll < 0.4)
          return { op: 'reserve', key, weight, maxDelay: rng.pick([0, 200, 2_000]), advance }
        return { op: 'consume', key, weight, advance }
      })
    })
  })
})

// One key, one rate, only consumes and reserves, one clock per turn: the bucket script's simple path.
describe.each(['gcra', 'token-bucket', 'leaky-bucket'] as const)('%s, batched, simple calls', (algorithm) => {
  test('one-rate requests without a global ceiling, made together, decide as the memory store does', async () => {
    const seed = Number(process.env.TOLLGATE_SEED ?? Math.floor(Math.random() * 2 ** 31))
    const rng = random(seed)
    const pair = twins(
      // 30 per second: 33⅓ ms per unit, so time and units scale by different factors (u = 3).
      { rates: [{ limit: 30, window: 1_000, burst: 25 }], algorithm, name: 'simple' },
      `simple-${algorithm}-${seed}:`,
    )
    await decideInGroups(pair, rng, seed, () =>
      Array.from({ length: rng.pick(GROUP_SIZES) }, (): BatchedCall => {
        const key = rng.pick(KEYS)
        // Now and then the heaviest request that fits (the burst): its reserved slot may lie past the backlog.
        const weight = rng.next() < 0.05 ? 25 : rng.int(1, 3)
        if (rng.next() < 0.25) return { op: 'reserve', key, weight, maxDelay: rng.pick([0, 200, 2_000]) }
        return { op: 'consume', key, weight }
      }),
    )
  })
})
