import { retryOnce, runWorker } from '../lib/child.ts'
import { HIGH_LIMIT, median, minMax, WINDOW_MS } from '../lib/common.ts'
import { type Context, missing, rotate } from '../lib/context.ts'
import { importTollgate } from '../lib/packages.ts'
import type { RedisServer } from '../lib/redis-server.ts'
import type { RedisLib, RedisResult, RedisSpec } from '../workers/redis-decisions.ts'

export interface Ceiling {
  readonly clients: number
  readonly pipeline: number
  readonly rps: number
}

export interface ScriptCost {
  readonly name: string
  readonly callsPerSec: number
  readonly redisMicrosPerCall: number
}

/** Tollgate's decisions/s by Redis over RateLimiterRedis's, per round, at one number in flight. */
export interface RedisRatio {
  readonly inflight: number
  /** Median over rounds of (Tollgate / RateLimiterRedis in the same round). */
  readonly median: number
  readonly range: [number, number]
  readonly rounds: number
}

export interface RedisSection {
  readonly version: string | undefined
  readonly ceilings: readonly Ceiling[]
  /** Redis's own cost per call of each library's script (pipelined calls on one connection). */
  readonly scripts: readonly ScriptCost[]
  /**
   * Per library and number in flight, the round with the median decisions/s by Redis (a whole
   * run, so that its CPU and command figures belong together).
   */
  readonly results: readonly RedisResult[]
  /** Every run, with its round (absent from runs made before the section had rounds). */
  readonly raw?: readonly (RedisResult & { round: number })[]
  readonly ratios?: readonly RedisRatio[]
  readonly notes: readonly string[]
}

/** Decisions/s through one local Redis at 1, 50 and 500 in flight, next to redis-benchmark's ceiling. */
export async function redisSection(ctx: Context): Promise<RedisSection> {
  const notes: string[] = []
  const redis = ctx.redis
  if (!redis)
    return {
      version: undefined,
      ceilings: [],
      scripts: [],
      results: [],
      notes: ['skipped: no redis-server on this machine'],
    }
  const { rounds, inflight, warmupMs, measureMs, ceilingRequests } = ctx.config.redis
  const skip = missing(ctx, 'core', 'redis')
  if (skip) notes.push(`Tollgate rows ${skip}`)
  const libs: RedisLib[] = skip ? ['rate-limiter-flexible'] : ['tollgate', 'rate-limiter-flexible']
  const ceilings: Ceiling[] = []
  for (const n of inflight) {
    ceilings.push({ clients: n, pipeline: 1, rps: await redis.evalshaCeiling(n, 1, ceilingRequests) })
    ctx.log(`redis ceiling EVALSHA -c ${n}: ${Math.round(ceilings.at(-1)!.rps)} req/s`)
  }
  // The libraries take turns at each number in flight, first one then the other (rotated per round
  // and number): a shared VM's speed changes in steps lasting seconds, which one run of each would
  // put wholly on one side of the ratio.
  const raw: (RedisResult & { round: number })[] = []
  for (let round = 0; round < rounds; round++) {
    for (const [i, n] of inflight.entries()) {
      for (const lib of rotate(libs, round + i)) {
        const spec: RedisSpec = {
          lib,
          port: redis.port,
          inflight: n,
          warmupMs,
          measureMs,
          scenario: 'allowed',
        }
        const result = await retryOnce(
          () =>
            runWorker<RedisResult>('redis-decisions', spec, {
              timeoutMs: 60_000 + 2 * measureMs,
            }),
          ctx.log,
        )
        raw.push({ ...result, round })
        await redis.flush()
        ctx.log(
          `redis r${round + 1} ${lib} ${n} in flight: ${Math.round(result.decisionsPerSec)} decisions/s`,
        )
      }
    }
  }
  const results: RedisResult[] = []
  const ratios: RedisRatio[] = []
  for (const n of inflight) {
    for (const lib of libs) {
      const runs = raw
        .filter((r) => r.lib === lib && r.inflight === n)
        .sort((a, b) => a.redisDecisionsPerSec - b.redisDecisionsPerSec)
      const { round: _, ...middle } = runs[(runs.length - 1) >> 1]!
      results.push(middle)
    }
    const perRound: number[] = []
    for (let round = 0; round < rounds; round++) {
      const at = (lib: RedisLib) => raw.find((r) => r.lib === lib && r.inflight === n && r.round === round)
      const tollgate = at('tollgate')
      const flexible = at('rate-limiter-flexible')
      if (tollgate && flexible) perRound.push(tollgate.redisDecisionsPerSec / flexible.redisDecisionsPerSec)
    }
    if (perRound.length)
      ratios.push({ inflight: n, median: median(perRound), range: minMax(perRound), rounds: perRound.length })
  }
  for (const pipeline of [16, 64]) {
    ceilings.push({
      clients: 50,
      pipeline,
      rps: await redis.evalshaCeiling(50, pipeline, ceilingRequests * 4),
    })
    ctx.log(`redis ceiling EVALSHA -c 50 -P ${pipeline}: ${Math.round(ceilings.at(-1)!.rps)} req/s`)
  }
  const scripts = await scriptCosts(ctx, redis, skip === undefined)
  return { version: redis.version, ceilings, scripts, results, raw, ratios, notes }
}

/** A GCRA decision in as little Lua as it takes (one GET, one SET PX): the floor a script could reach. */
const MINIMAL_GCRA = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local T = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new = tat + T
if new - now > tau then return {0, new - tau - now} end
redis.call('SET', KEYS[1], new, 'PX', math.ceil(new - now))
return {1, math.floor((tau - (new - now)) / T)}
`

// rate-limiter-flexible's RateLimiterRedis script (lib/RateLimiterRedis.js, incrTtlLuaScript).
const FLEXIBLE = `redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX')
local consumed = redis.call('incrby', KEYS[1], ARGV[1])
local ttl = redis.call('pttl', KEYS[1])
if ttl == -1 then
  redis.call('expire', KEYS[1], ARGV[2])
  ttl = 1000 * ARGV[2]
end
return {consumed, ttl}`

interface CoreForScripts {
  compilePolicy(
    where: string,
    options: { limit: number; window: number },
    algorithm: 'gcra',
    namespace: undefined,
  ): {
    rates: readonly { u: number; T: number; tau: number }[]
  }
}

async function scriptCosts(ctx: Context, redis: RedisServer, withTollgate: boolean): Promise<ScriptCost[]> {
  const requests = ctx.config.redis.ceilingRequests * 2
  const costs: ScriptCost[] = []
  const measure = async (
    name: string,
    source: string,
    prefix: string,
    args: (key: string) => readonly (string | Buffer)[],
  ) => {
    const cost = await redis.scriptCost(source, prefix, args, requests)
    costs.push({ name, ...cost })
    ctx.log(
      `redis script ${name}: ${Math.round(cost.callsPerSec)} calls/s, ${cost.redisMicrosPerCall.toFixed(1)} µs Redis CPU/call`,
    )
  }
  if (withTollgate) {
    const { compilePolicy } = await importTollgate<CoreForScripts>('core')
    const { SCRIPTS } = await importTollgate<{ SCRIPTS: readonly { name: string; source: string }[] }>(
      'redis',
    )
    const bucket = SCRIPTS.find((script) => script.name === 'bucket')
    const rate = compilePolicy('bench', { limit: HIGH_LIMIT, window: WINDOW_MS }, 'gcra', undefined).rates[0]!
    // The one argument redisStore sends for one request alone (see packages/redis/src/scripts/prelude.ts),
    // packed doubles: no deadline, no padding, a simple call, one rate set (rate count, u, T, tau), one request (op
    // consume, Redis's clock, weight 1, maxDelay 0, minDelay 0, one key: rate set 1, key 1).
    if (new Uint8Array(new Float64Array([1]).buffer)[7] !== 0x3f)
      throw new Error('the bench packs doubles for little-endian hosts only')
    const blob = Buffer.from(
      Float64Array.from([
        Number.NaN,
        0,
        1,
        1,
        1,
        rate.u,
        rate.T,
        rate.tau,
        1,
        0,
        Number.NaN,
        1,
        0,
        0,
        1,
        1,
        1,
      ]).buffer,
    )
    if (bucket)
      await measure('Tollgate GCRA (bucket script, one request per call)', bucket.source, 'tg:', () => [blob])
  }
  const flexible = [String(1), String(WINDOW_MS / 1000)]
  await measure('rate-limiter-flexible (incrTtlLuaScript)', FLEXIBLE, 'rlflx:', () => flexible)
  const minimal = [String(WINDOW_MS / HIGH_LIMIT), String(WINDOW_MS)]
  await measure('minimal GCRA (GET + SET PX, reference)', MINIMAL_GCRA, 'min:', () => minimal)
  await measure("`return 1` (a call's own cost, reference)", 'return 1', 'nil:', () => [])
  return costs
}
