import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startRedis, type TestRedis } from './helpers/redis-server.ts'
import { startWorker, type Worker } from './helpers/workers.ts'

/*
 * Exactness across processes: four separate Node processes (one of them with
 * a clock 30 s ahead) share one Redis. Each fires 500 concurrent requests at
 * one key, all four at once; together they must admit exactly the limit.
 *
 * Windows admit exactly `limit` per window whatever the timing. GCRA and the
 * buckets refill continuously, so "exactly 100" holds only while the burst is
 * shorter than one emission interval: their scenarios use 100 per hour
 * (one unit per 36 s), so a slow machine cannot add a unit mid-burst.
 */

interface Answer {
  admitted: number
  admittedWeight: number
  rejectedWeights: number[]
  reasons: string[]
  maxResetMs: number
  ms: number
}

let server: TestRedis
let workers: Worker[] = []

beforeAll(async () => {
  server = await startRedis()
  workers = await Promise.all([0, 0, 0, 30_000].map((skew) => startWorker(server.port, skew)))
})

afterAll(async () => {
  for (const worker of workers) worker.stop()
  await server?.stop()
})

const SCENARIOS = [
  ['fixed-window', '1m'],
  ['sliding-window', '1m'],
  ['gcra', '1h'],
  ['token-bucket', '1h'],
  ['leaky-bucket', '1h'],
] as const

describe('4 processes x 500 concurrent requests, one key, limit 100', () => {
  test.each(SCENARIOS)('%s per %s: exactly 100 admitted in total', async (algorithm, window) => {
    const scenario = {
      name: `p-${algorithm}`,
      key: 'shared',
      algorithm,
      limit: 100,
      window,
      count: 500,
      weighted: false,
    }
    const answers = await Promise.all(workers.map((w) => w.run<Answer>(scenario)))
    expect(answers.reduce((sum, a) => sum + a.admitted, 0)).toBe(100)
    for (const answer of answers)
      expect(answer.reasons.every((r) => r === 'ok' || r === 'limited')).toBe(true)
  })

  test.each(SCENARIOS)(
    '%s per %s, weights 1-3: exactly 100 units admitted in total',
    async (algorithm, window) => {
      const scenario = {
        name: `w-${algorithm}`,
        key: 'shared',
        algorithm,
        limit: 100,
        window,
        count: 500,
        weighted: true,
      }
      const answers = await Promise.all(workers.map((w) => w.run<Answer>(scenario)))
      // Requests of weight 1 were rejected too, so the limit was used up to the last unit.
      expect(answers.some((a) => a.rejectedWeights.includes(1))).toBe(true)
      expect(answers.reduce((sum, a) => sum + a.admittedWeight, 0)).toBe(100)
    },
  )
})

describe('clock skew', () => {
  test('two processes whose clocks are 30 s apart enforce one limit exactly', async () => {
    const pair = [workers[0]!, workers[3]!]
    for (const [algorithm, window] of [
      ['fixed-window', '1m'],
      ['gcra', '1h'],
    ] as const) {
      const scenario = {
        name: `skew-${algorithm}`,
        key: 'skewed',
        algorithm,
        limit: 50,
        window,
        count: 60,
        weighted: false,
      }
      const answers = await Promise.all(pair.map((w) => w.run<Answer>(scenario)))
      expect(answers.reduce((sum, a) => sum + a.admitted, 0)).toBe(50)
      // Both report the window on Redis's clock: the skewed one does not see 30 s more or less of it.
      if (algorithm === 'fixed-window')
        for (const answer of answers) expect(answer.maxResetMs).toBeLessThanOrEqual(60_000)
    }
  })
})
