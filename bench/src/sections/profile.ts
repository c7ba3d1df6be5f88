import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { retryOnce, runWorker, ServerProcess } from '../lib/child.ts'
import { type Context, missing } from '../lib/context.ts'
import { load } from '../lib/load.ts'
import { type ProfileSummary, summariseProfile } from '../lib/profile.ts'
import type { RedisLib, RedisResult, RedisSpec } from '../workers/redis-decisions.ts'
import type { ServerSpec, ServerStats } from '../workers/server.ts'

export interface ProfileCase {
  readonly title: string
  readonly summary: ProfileSummary
}

export interface ProfileSection {
  readonly cases: readonly ProfileCase[]
  readonly notes: readonly string[]
}

// Ordered: the first group found walking up from a sampled frame owns the sample.
const OWNERS = {
  'Tollgate (its code and what it calls, e.g. lru-cache, setHeader)':
    /\/packages\/(core|express|koa|fastify|redis)\/dist\//,
  'Express (router, req/res helpers)': /\/node_modules\/(express|router|send|finalhandler|body-parser)\//,
  'rate-limiter-flexible': /\/node_modules\/rate-limiter-flexible\//,
  ioredis: /\/node_modules\/(ioredis|redis-parser|@ioredis)\//,
  'the benchmark driver': /\/bench\/src\//,
}

/** CPU profiles (`node --cpu-prof`) of the Tollgate cases, to say where the time goes. */
export async function profileSection(ctx: Context): Promise<ProfileSection> {
  const notes: string[] = []
  const cases: ProfileCase[] = []
  const seconds = Math.max(1, ctx.config.http.seconds / 2)
  const skip = missing(ctx, 'core', 'express')
  if (skip) notes.push(`Express + Tollgate profile ${skip}`)
  else {
    for (const variant of ['bare', 'tollgate'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'tollgate-prof-'))
      const spec: ServerSpec = { framework: 'express', variant, store: 'memory', keys: 'one' }
      const server = await retryOnce(
        () =>
          ServerProcess.start<ServerStats>('server', spec, {
            nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
            timeoutMs: 30_000,
          }),
        ctx.log,
      )
      await load({ port: server.port, connections: 50, seconds: 1, keys: 'one' })
      const file = join(dir, 'server.cpuprofile')
      await server.profile('start')
      await load({ port: server.port, connections: 50, seconds, keys: 'one' })
      await server.profile('stop', file)
      await server.stop()
      cases.push({
        title: `Express ${variant === 'bare' ? 'bare' : '+ Tollgate (memory store)'}, one key, ${seconds} s of autocannon -c 50`,
        summary: summariseProfile(file, OWNERS),
      })
      rmSync(dir, { recursive: true, force: true })
    }
  }
  if (!ctx.redis) notes.push('Redis client profiles skipped: no redis-server')
  const redisSkip = missing(ctx, 'core', 'redis')
  if (redisSkip) notes.push(`Tollgate redisStore profile ${redisSkip}`)
  const libs: RedisLib[] = redisSkip ? ['rate-limiter-flexible'] : ['tollgate', 'rate-limiter-flexible']
  for (const lib of ctx.redis ? libs : []) {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-prof-'))
    const file = join(dir, 'client.cpuprofile')
    const spec: RedisSpec = {
      lib,
      port: ctx.redis!.port,
      inflight: 50,
      warmupMs: ctx.config.redis.warmupMs,
      measureMs: ctx.config.redis.measureMs,
      scenario: 'allowed',
      profileFile: file,
    }
    await retryOnce(() => runWorker<RedisResult>('redis-decisions', spec, { timeoutMs: 120_000 }), ctx.log)
    await ctx.redis!.flush()
    cases.push({
      title: `${lib === 'tollgate' ? 'Tollgate redisStore' : 'RateLimiterRedis'} client process, 50 decisions in flight`,
      summary: summariseProfile(file, OWNERS),
    })
    rmSync(dir, { recursive: true, force: true })
  }
  for (const c of cases)
    ctx.log(
      `profile ${c.title}: ${c.summary.owners.map((g) => `${g.name} ${g.percent.toFixed(1)} %`).join(', ')}`,
    )
  return { cases, notes }
}
