/*
 * The scripts whose cost per call the benchmarks measure (the Redis section's table and
 * tools/redis-instructions.ts): Tollgate's bucket script with the argument its store sends,
 * rate-limiter-flexible's script, and two references.
 */
import { HIGH_LIMIT, WINDOW_MS } from './common.ts'
import { importTollgate } from './packages.ts'

/** One script and how a call of it is made: its keys and arguments for the call's first key name. */
export interface ScriptCall {
  readonly name: string
  readonly source: string
  /** Keys per call (Tollgate's batches name several). */
  readonly keys: number
  readonly args: readonly (string | Buffer)[]
}

/** A GCRA decision in as little Lua as it takes (one GET, one SET PX): the floor a script could reach. */
export const MINIMAL_GCRA = `
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
export const FLEXIBLE = `redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX')
local consumed = redis.call('incrby', KEYS[1], ARGV[1])
local ttl = redis.call('pttl', KEYS[1])
if ttl == -1 then
  redis.call('expire', KEYS[1], ARGV[2])
  ttl = 1000 * ARGV[2]
end
return {consumed, ttl}`

export const FLEXIBLE_CALL: ScriptCall = {
  name: 'rate-limiter-flexible (incrTtlLuaScript)',
  source: FLEXIBLE,
  keys: 1,
  args: [String(1), String(WINDOW_MS / 1000)],
}

export const MINIMAL_CALL: ScriptCall = {
  name: 'minimal GCRA (GET + SET PX, reference)',
  source: MINIMAL_GCRA,
  keys: 1,
  args: [String(WINDOW_MS / HIGH_LIMIT), String(WINDOW_MS)],
}

export const EMPTY_CALL: ScriptCall = {
  name: "`return 1` (a call's own cost, reference)",
  source: 'return 1',
  keys: 1,
  args: [],
}

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

/**
 * A call of Tollgate's bucket script as redisStore sends it for `requests` GCRA consumes made in
 * one turn (limit 10⁹ per hour), each on a key of its own or all on one key. The one argument is
 * packed doubles (see packages/redis/src/scripts/prelude.ts): no deadline, no padding, a simple
 * call, one rate set (rate count, u, T, tau), the number of requests, then per request: op
 * consume, Redis's clock, weight 1, maxDelay 0, minDelay 0, one key: rate set 1, its key index.
 */
export async function tollgateCall(requests: number, sameKey: boolean): Promise<ScriptCall> {
  const { compilePolicy } = await importTollgate<CoreForScripts>('core')
  const { SCRIPTS } = await importTollgate<{ SCRIPTS: readonly { name: string; source: string }[] }>('redis')
  const bucket = SCRIPTS.find((script) => script.name === 'bucket')
  if (!bucket) throw new Error('@tollgate/redis has no bucket script')
  const rate = compilePolicy('bench', { limit: HIGH_LIMIT, window: WINDOW_MS }, 'gcra', undefined).rates[0]!
  if (new Uint8Array(new Float64Array([1]).buffer)[7] !== 0x3f)
    throw new Error('the bench packs doubles for little-endian hosts only')
  const numbers = [Number.NaN, 0, 1, 1, 1, rate.u, rate.T, rate.tau, requests]
  for (let i = 1; i <= requests; i++) numbers.push(0, Number.NaN, 1, 0, 0, 1, 1, sameKey ? 1 : i)
  const what =
    requests === 1 ? 'one request' : `${requests} requests on ${sameKey ? 'one key' : `${requests} keys`}`
  return {
    name: `Tollgate GCRA (bucket script, ${what} per call)`,
    source: bucket.source,
    keys: sameKey ? 1 : requests,
    args: [Buffer.from(Float64Array.from(numbers).buffer)],
  }
}
