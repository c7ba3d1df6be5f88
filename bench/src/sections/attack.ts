import { type Context, missing } from '../lib/context.ts'
import type { RedisLib, RedisResult, RedisSpec } from '../workers/redis-decisions.ts'
import { runDecisions } from './redis.ts'

export interface AttackRow extends RedisResult {
  readonly localBlock: boolean
}

export interface AttackSection {
  readonly rows: readonly AttackRow[]
  readonly notes: readonly string[]
}

/**
 * One abusive key (limit 10 per minute) hammered at full speed through Redis:
 * Tollgate with its deny cache (default) and with `denyCache: false`, and
 * rate-limiter-flexible with and without `inMemoryBlockOnConsumed`.
 */
export async function attackSection(ctx: Context): Promise<AttackSection> {
  const redis = ctx.redis
  if (!redis) return { rows: [], notes: ['skipped: no redis-server on this machine'] }
  const notes: string[] = []
  const skip = missing(ctx, 'core', 'redis')
  if (skip) notes.push(`Tollgate rows ${skip}`)
  const { inflight, warmupMs, measureMs } = ctx.config.attack
  const cases: { lib: RedisLib; localBlock: boolean }[] = [
    ...(skip
      ? []
      : [
          { lib: 'tollgate' as const, localBlock: true },
          { lib: 'tollgate' as const, localBlock: false },
        ]),
    { lib: 'rate-limiter-flexible', localBlock: true },
    { lib: 'rate-limiter-flexible', localBlock: false },
  ]
  const rows: AttackRow[] = []
  for (const { lib, localBlock } of cases) {
    const spec: RedisSpec = {
      lib,
      port: redis.port,
      inflight,
      warmupMs,
      measureMs,
      scenario: 'attack',
      localBlock,
      ...(lib === 'tollgate' && !localBlock ? { storeOptions: { denyCache: false } } : {}),
    }
    const result = await runDecisions(ctx, redis, spec)
    rows.push({ ...result, localBlock })
    ctx.log(
      `attack ${lib} local block ${localBlock ? 'on' : 'off'}: ${Math.round(result.decisionsPerSec)} decisions/s, ${Math.round(result.sentPerSec)} commands/s sent`,
    )
  }
  return { rows, notes }
}
