import { retryOnce, runWorker } from '../lib/child.ts'
import { median, minMax } from '../lib/common.ts'
import { type Context, missing, rotate } from '../lib/context.ts'
import { EMPTY_CALL, FLEXIBLE_CALL, MINIMAL_CALL, tollgateCall } from '../lib/redis-scripts.ts'
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

/** One redis-decisions worker (tried twice), then a flush: each run starts on an empty Redis. */
export async function runDecisions(ctx: Context, redis: RedisServer, spec: RedisSpec): Promise<RedisResult> {
  const result = await retryOnce(
    () => runWorker<RedisResult>('redis-decisions', spec, { timeoutMs: 60_000 + 2 * spec.measureMs }),
    ctx.log,
  )
  await redis.flush()
  return result
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
        const result = await runDecisions(ctx, redis, spec)
        raw.push({ ...result, round })
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

async function scriptCosts(ctx: Context, redis: RedisServer, withTollgate: boolean): Promise<ScriptCost[]> {
  const requests = ctx.config.redis.ceilingRequests * 2
  const costs: ScriptCost[] = []
  const calls = [FLEXIBLE_CALL, MINIMAL_CALL, EMPTY_CALL]
  if (withTollgate) calls.unshift(await tollgateCall(1, false))
  for (const call of calls) {
    const cost = await redis.scriptCost(call, requests)
    costs.push({ name: call.name, ...cost })
    ctx.log(
      `redis script ${call.name}: ${Math.round(cost.callsPerSec)} calls/s, ${cost.redisMicrosPerCall.toFixed(1)} µs Redis CPU/call`,
    )
  }
  return costs
}
