/*
 * Decisions/s through Redis with N decisions in flight, one library per process.
 * Also used for the "under attack" case (one key over its limit, deny cache on/off).
 * Redis commands and CPU are read from INFO on a separate connection.
 */
import { Redis } from 'ioredis'
import { type RateLimiterAbstract, RateLimiterRedis } from 'rate-limiter-flexible'
import { sendResult, workerSpec } from '../lib/child.ts'
import { deadline, HIGH_LIMIT, KEY_COUNT, makeKeys, WINDOW_MS } from '../lib/common.ts'
import { startProfile, stopProfile } from '../lib/cpu-profile.ts'
import { importTollgate } from '../lib/packages.ts'
import { diffCounters, type RedisCounters, readCounters } from '../lib/redis-server.ts'
import type { CoreModule, RedisModule } from '../lib/tollgate-types.ts'

export type RedisLib = 'tollgate' | 'rate-limiter-flexible'

export interface RedisSpec {
  readonly lib: RedisLib
  readonly port: number
  readonly inflight: number
  readonly warmupMs: number
  readonly measureMs: number
  /** `attack`: one key, limit 10 per minute, hammered far over its limit. */
  readonly scenario: 'allowed' | 'attack'
  /** Attack only: Tollgate's deny cache / rate-limiter-flexible's inMemoryBlockOnConsumed. */
  readonly localBlock?: boolean
  /** Writes a CPU profile of the measured period to this file. */
  readonly profileFile?: string
  /** Extra redisStore options (e.g. how the deny cache is switched off). */
  readonly storeOptions?: Record<string, unknown>
}

export interface RedisResult {
  readonly lib: RedisLib
  readonly inflight: number
  readonly decisions: number
  readonly allowed: number
  readonly seconds: number
  readonly decisionsPerSec: number
  /** Decisions Redis made (not the store's local insurance or failure policy after a timeout). */
  readonly redisDecisionsPerSec: number
  /** Commands Redis executed (scripts' inner calls included), from INFO commandstats. */
  readonly redis: RedisCounters
  readonly commandsPerDecision: number
  readonly commandsPerSec: number
  /** Commands the client sent (what crosses the network). */
  readonly sentPerDecision: number
  readonly sentPerSec: number
  readonly redisCpuMicrosPerDecision: number
  readonly clientCpuMicrosPerDecision: number
  readonly reasons: Record<string, number>
}

const spec = workerSpec<RedisSpec>()
const client = new Redis({ host: '127.0.0.1', port: spec.port, maxRetriesPerRequest: 1 })
const admin = new Redis({ host: '127.0.0.1', port: spec.port, maxRetriesPerRequest: 1 })
// Every command this client sends (pipelined ones included): round trips, unless pipelined.
let sent = 0
const send = client.sendCommand.bind(client)
client.sendCommand = ((...args: Parameters<typeof send>) => {
  sent++
  return send(...args)
}) as typeof client.sendCommand
const attack = spec.scenario === 'attack'
const limit = attack ? 10 : HIGH_LIMIT
const windowMs = attack ? 60_000 : WINDOW_MS

/** How many decisions gave each reason (Tollgate: `ok`, `limited`, `insurance`, ...). */
const reasons: Record<string, number> = {}
const tally = (reason: string): void => {
  reasons[reason] = (reasons[reason] ?? 0) + 1
}

async function decider(): Promise<(key: string) => Promise<boolean>> {
  if (spec.lib === 'tollgate') {
    const { createLimiter } = await importTollgate<CoreModule>('core')
    const { redisStore } = await importTollgate<RedisModule>('redis')
    const store = redisStore({ client, ...spec.storeOptions })
    const limiter = createLimiter({ limit, window: windowMs, store })
    return async (key) => {
      const decision = await limiter.consume(key)
      tally(decision.reason)
      return decision.allowed
    }
  }
  const limiter: RateLimiterAbstract = new RateLimiterRedis({
    storeClient: client,
    points: limit,
    duration: windowMs / 1000,
    ...(attack && spec.localBlock ? { inMemoryBlockOnConsumed: limit } : {}),
  })
  return (key) =>
    limiter.consume(key).then(
      () => {
        tally('ok')
        return true
      },
      (rejection: unknown) => {
        if (rejection instanceof Error) throw rejection
        tally('limited')
        return false
      },
    )
}

await Promise.all([client.ping(), admin.ping()])
const decide = await decider()
const keys = attack ? ['abuser'] : makeKeys(KEY_COUNT, 'rk')

async function drive(ms: number): Promise<{ decisions: number; allowed: number }> {
  let next = 0
  let decisions = 0
  let allowed = 0
  const running = deadline(ms)
  const loop = async () => {
    while (running()) {
      const key = keys[next]!
      next = next + 1 === keys.length ? 0 : next + 1
      if (await decide(key)) allowed++
      // A decision made without I/O (deny cache, local block, failure policy) resolves in a microtask:
      // yield to the event loop now and then, or the loop would starve the socket it waits on.
      if (++decisions % 64 === 0) await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }
  await Promise.all(Array.from({ length: spec.inflight }, loop))
  return { decisions, allowed }
}

await drive(spec.warmupMs)
for (const reason of Object.keys(reasons)) delete reasons[reason]
const before = await readCounters(admin)
if (spec.profileFile) await startProfile()
const sent0 = sent
const cpu0 = process.cpuUsage()
const t0 = performance.now()
const { decisions, allowed } = await drive(spec.measureMs)
const seconds = (performance.now() - t0) / 1000
const cpu = process.cpuUsage(cpu0)
const sentCount = sent - sent0
if (spec.profileFile) await stopProfile(spec.profileFile)
const redis = diffCounters(before, await readCounters(admin))
const commands = Object.values(redis.calls).reduce((a, b) => a + b, 0)
const result: RedisResult = {
  lib: spec.lib,
  inflight: spec.inflight,
  decisions,
  allowed,
  seconds,
  decisionsPerSec: decisions / seconds,
  redisDecisionsPerSec:
    (decisions - (reasons.insurance ?? 0) - (reasons['store-unavailable'] ?? 0)) / seconds,
  redis,
  commandsPerDecision: commands / decisions,
  commandsPerSec: commands / seconds,
  sentPerDecision: sentCount / decisions,
  sentPerSec: sentCount / seconds,
  redisCpuMicrosPerDecision: (redis.cpuSeconds * 1e6) / decisions,
  clientCpuMicrosPerDecision: (cpu.user + cpu.system) / decisions,
  reasons,
}
client.disconnect()
admin.disconnect()
sendResult(result)
