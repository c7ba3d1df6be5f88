import { type Algorithm, createLimiter, createManualClock, type Decision, memoryStore } from '@tollgate/core'
import { redisStore } from '@tollgate/redis'
import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { rulesTag } from './helpers/keys.ts'
import { random } from './helpers/random.ts'
import { startCluster, type TestCluster } from './helpers/redis-server.ts'

/*
 * The store on a 3-master Redis Cluster. A key's rates share one slot (hash
 * tag); the global ceiling lives in its own slot, so a request with a ceiling
 * takes two calls: the key first, then the ceiling no earlier than the key's
 * slot, and a rejection by the ceiling refunds the key (compensation).
 */

let cluster: TestCluster
let client: Cluster

beforeAll(async () => {
  cluster = await startCluster()
  client = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }], { lazyConnect: true })
  client.on('error', () => {})
  await client.connect()
}, 60_000)

afterAll(async () => {
  client?.disconnect()
  await cluster?.stop()
})

function plain(decision: Decision) {
  return { ...decision, rates: decision.rates.map((rate) => ({ ...rate })) }
}

async function slotOwner(slot: number): Promise<{ id: string; port: number }> {
  const nodes = await cluster.cli(cluster.ports[0]!, 'CLUSTER', 'NODES')
  for (const line of nodes.split('\n')) {
    const [id, address, , , , , , , ...ranges] = line.split(' ')
    const port = Number(address!.split(':')[1]!.split('@')[0])
    for (const range of ranges) {
      const [from, to = from] = range.split('-').map(Number)
      if (slot >= from! && slot <= to!) return { id: id!, port }
    }
  }
  throw new Error(`no owner for slot ${slot}`)
}

describe('Redis Cluster', () => {
  test('a limit of N admits exactly N for keys spread over every node', async () => {
    const limiter = createLimiter({
      limit: 5,
      window: '1m',
      name: 'spread',
      store: redisStore({ client, timeout: 10_000 }),
    })
    const keys = Array.from({ length: 12 }, (_, i) => `user-${i}`)
    const slots = new Set<number>()
    for (const key of keys) {
      slots.add(
        (
          await slotOwner(
            Number(await cluster.cli(cluster.ports[0]!, 'CLUSTER', 'KEYSLOT', `tollgate:spread:{${key}}`)),
          )
        ).port,
      )
      const decisions = await Promise.all(Array.from({ length: 8 }, () => limiter.consume(key)))
      expect(decisions.filter((d) => d.allowed)).toHaveLength(5)
    }
    expect(slots.size).toBe(3)
  })

  test('the global ceiling in another slot: exact under concurrency, and a rejection by it does not charge the key', async () => {
    // A long timeout: 600 calls at once on a loaded machine must all be decided by Redis, not by insurance.
    const store = redisStore({ client, denyCache: false, timeout: 10_000 })
    const limiter = createLimiter({
      limit: 20,
      window: '1h',
      name: 'ceil',
      global: { limit: 100, window: '1h' },
      store,
    })
    const decisions = await Promise.all(Array.from({ length: 300 }, (_, i) => limiter.consume(`k${i % 30}`)))
    expect(decisions.filter((d) => d.allowed)).toHaveLength(100)
    expect(decisions.filter((d) => d.reason === 'global-limited')).toHaveLength(200)
    expect(decisions.filter((d) => d.reason === 'ok')).toHaveLength(100)
    // Every key's charges are exactly its admitted requests: the global rejections were refunded.
    for (let k = 0; k < 30; k++) {
      const admitted = decisions.filter((d, i) => i % 30 === k && d.allowed).length
      expect((await limiter.peek(`k${k}`)).rates[0]!.remaining).toBe(20 - admitted)
    }
  })

  // A fixed window runs without the ceiling here: on a Cluster a request the ceiling rejects may
  // have opened the key's window (README, "Caveat: the global ceiling"), which the memory store
  // does not do; the ceiling's exactness is the test above.
  test.each([
    ['gcra', true],
    ['token-bucket', true],
    ['leaky-bucket', true],
    ['sliding-window', true],
    ['fixed-window', false],
  ] as [Algorithm, boolean][])(
    '%s: 2,000 random operations (global ceiling: %s) decide as the memory store does',
    async (algorithm, withGlobal) => {
      const seed = Number(process.env.TOLLGATE_SEED ?? Math.floor(Math.random() * 2 ** 31))
      const rng = random(seed)
      const rates = [
        { limit: 7, window: 1_000 },
        { limit: 40, window: 30_000 },
      ]
      const global = withGlobal ? { limit: 60, window: 10_000 } : undefined
      const memClock = createManualClock()
      const redisClock = createManualClock()
      const mem = createLimiter({
        rates,
        algorithm,
        ...(global ? { global } : {}),
        clock: memClock,
        store: memoryStore(),
        name: 'cd',
      })
      const red = createLimiter({
        rates,
        algorithm,
        ...(global ? { global } : {}),
        clock: redisClock,
        name: 'cd',
        store: redisStore({
          client,
          prefix: `cd-${algorithm}-${seed}:`,
          clock: 'caller',
          denyCache: false,
          timeout: 10_000,
        }),
      })
      const keys = ['a', 'b', 'c', 'd', undefined]
      for (let i = 0; i < 2_000; i++) {
        const gap = rng.next() < 0.3 ? 0 : rng.int(1, 250)
        memClock.advance(gap)
        redisClock.advance(gap)
        const key = rng.pick(keys)
        const weight = rng.int(1, 3)
        const op = rng.next()
        const where = `seed ${seed}, op ${i}`
        if (op < 0.7)
          expect(plain(await red.consume(key, { weight })), where).toEqual(
            plain(mem.consume(key, { weight })),
          )
        else if (op < 0.85)
          expect(plain(await red.peek(key, { weight })), where).toEqual(plain(mem.peek(key, { weight })))
        else if (op < 0.97) {
          mem.refund(key, weight)
          await red.refund(key, weight)
        } else {
          mem.reset(key)
          await red.reset(key)
        }
      }
    },
  )

  test('a hung master: its requests are decided by the failure policy within the timeout, late commands never charge, then Redis again', async () => {
    const errors: string[] = []
    const logger = { error: (m: string) => errors.push(m), warn: () => {} }
    const limiter = createLimiter({
      limit: 10,
      window: '1h',
      name: 'hung',
      store: redisStore({ client, timeout: 100, logger }),
    })
    expect((await limiter.consume('warm')).reason).toBe('ok')
    const key = 'stuck'
    const master = await slotOwner(Number(await cluster.cli(cluster.ports[0]!, 'CLUSTER', 'KEYSLOT', key)))
    cluster.freeze(master.port)
    try {
      const start = performance.now()
      const decision = await limiter.consume(key)
      // The timeout, and slack for a loaded machine; far below the 2 s in which the cluster would fail over.
      expect(performance.now() - start).toBeLessThan(600)
      expect(decision).toMatchObject({ allowed: true, reason: 'insurance' })
    } finally {
      cluster.thaw(master.port)
    }
    const deadline = performance.now() + 10_000
    while ((await limiter.consume('after')).reason !== 'ok') {
      if (performance.now() > deadline) throw new Error('no decision from Redis after the thaw')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(errors.length).toBeGreaterThanOrEqual(1)
    // The command sent while the master hung ran after its deadline: nothing was charged.
    const tag = rulesTag('gcra|10/3600000/10')
    expect(await cluster.cli(master.port, 'EXISTS', `tollgate:hung@${tag}:{${key}}`)).toBe('0')
    expect((await limiter.peek(key)).remaining).toBe(10)
  })

  test('a key whose slot moves to another node mid-test (MOVED) keeps its state', async () => {
    const limiter = createLimiter({
      limit: 10,
      window: '1h',
      name: 'mv',
      store: redisStore({ client, timeout: 10_000 }),
    })
    const key = `tollgate:mv@${rulesTag('gcra|10/3600000/10')}:{mover}`
    for (let i = 0; i < 3; i++) await limiter.consume('mover')
    const slot = Number(await cluster.cli(cluster.ports[0]!, 'CLUSTER', 'KEYSLOT', key))
    const source = await slotOwner(slot)
    const targetPort = cluster.ports.find((port) => port !== source.port)!
    const targetId = await cluster.cli(targetPort, 'CLUSTER', 'MYID')
    await cluster.cli(targetPort, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', source.id)
    await cluster.cli(source.port, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', targetId)
    await cluster.cli(source.port, 'MIGRATE', '127.0.0.1', String(targetPort), key, '0', '5000')
    for (const port of cluster.ports)
      await cluster.cli(port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId)
    await cluster.cli(source.port, 'CONFIG', 'RESETSTAT')

    const after = await limiter.consume('mover')
    expect(after).toMatchObject({ allowed: true, reason: 'ok', remaining: 6 })
    expect(await cluster.cli(targetPort, 'EXISTS', key)).toBe('1')
    expect(await cluster.cli(source.port, 'INFO', 'errorstats')).toMatch(/errorstat_MOVED:count=1/)
  })
})
