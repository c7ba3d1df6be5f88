/*
 * Decisions per second through redisStore against a local redis-server this
 * script starts itself (a free loopback port; never the machine's own Redis).
 *
 *   npx --yes pnpm@10 --filter @tollgate/redis run bench [seconds] [concurrency]
 *
 * One Node process keeps `concurrency` decisions in flight on one connection
 * over 10,000 keys, for each algorithm, and prints decisions/s, latency
 * percentiles, decisions per EVALSHA (requests made in one turn of the event
 * loop share one call) and the script's own time inside Redis per decision
 * (INFO commandstats). The deny cache is off, so every decision goes to Redis.
 */

import { type Algorithm, createLimiter } from '@tollgate/core'
import { Redis } from 'ioredis'
import { redisStore } from '../src/index.ts'
import { startRedis } from '../test/helpers/redis-server.ts'

const seconds = Number(process.argv[2] ?? 3)
const concurrency = Number(process.argv[3] ?? 64)
const algorithms: Algorithm[] = ['gcra', 'token-bucket', 'fixed-window', 'sliding-window']

const server = await startRedis()
const client = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true })
await client.connect()
const version = /redis_version:(\S+)/.exec(await client.info('server'))?.[1]
console.log(
  `redis-server ${version}, node ${process.version}, ${seconds} s per run, ${concurrency} in flight`,
)

try {
  for (const algorithm of algorithms) {
    for (const global of [false, true]) {
      const limiter = createLimiter({
        limit: 1_000,
        window: '1s',
        algorithm,
        name: `bench-${algorithm}-${global}`,
        ...(global ? { global: { limit: 1_000_000, window: '1s' } } : {}),
        store: redisStore({ client, denyCache: false, timeout: 5_000 }),
      })
      await limiter.consume('warm-up')
      await client.config('RESETSTAT')
      const latencies: number[] = []
      const end = performance.now() + seconds * 1_000
      let n = 0
      const worker = async () => {
        while (performance.now() < end) {
          const start = performance.now()
          await limiter.consume(`user-${n++ % 10_000}`)
          latencies.push(performance.now() - start)
        }
      }
      const start = performance.now()
      await Promise.all(Array.from({ length: concurrency }, worker))
      const elapsed = (performance.now() - start) / 1_000
      latencies.sort((a, b) => a - b)
      const at = (q: number) => latencies[Math.floor(q * (latencies.length - 1))]!.toFixed(2)
      // Redis's own CPU time per script call: what a Redis core could serve if clients were not the limit.
      const stats = await client.info('commandstats')
      // Requests made in one turn of the event loop share one EVALSHA: report calls and time per decision.
      const evalsha = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(stats)
      const calls = Number(evalsha?.[1])
      const usec = Number(evalsha?.[2]) / latencies.length
      const label = `${algorithm}${global ? ' + global ceiling' : ''}`.padEnd(32)
      const rate = Math.round(latencies.length / elapsed).toLocaleString('en-US')
      console.log(
        `${label} ${rate.padStart(8)} decisions/s   p50 ${at(0.5)} ms   p99 ${at(0.99)} ms   ${(latencies.length / calls).toFixed(1)} decisions per EVALSHA   script ${usec.toFixed(1)} µs/decision in Redis`,
      )
      await limiter.close()
    }
  }
} finally {
  client.disconnect()
  await server.stop()
}
