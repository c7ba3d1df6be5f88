import { retryOnce, runWorker, ServerProcess } from '../lib/child.ts'
import { sleep } from '../lib/common.ts'
import { type Context, missing } from '../lib/context.ts'
import { load } from '../lib/load.ts'
import type { FloodResult, FloodSpec } from '../workers/flood.ts'
import type { MemoryLib, MemoryResult, MemorySpec } from '../workers/memory.ts'
import type { ServerSpec, ServerStats, Variant } from '../workers/server.ts'

export interface ServerMemoryRow {
  readonly variant: Variant
  readonly keys: number
  readonly rssMB: number
  readonly heapMB: number
  readonly externalMB: number
  /** RSS minus the bare server's, MB. */
  readonly rssOverBareMB: number
  /** (heap + external) minus the bare server's, MB: what the process holds, without V8's and malloc's spare pages. */
  readonly heldOverBareMB: number
  readonly non2xx: number
}

export interface MemorySection {
  readonly perKey: readonly MemoryResult[]
  readonly flood: FloodResult | undefined
  readonly servers: readonly ServerMemoryRow[]
  readonly notes: readonly string[]
}

const LIBS: readonly MemoryLib[] = [
  'tollgate-gcra',
  'tollgate-fixed-window',
  'rate-limiter-flexible',
  'express-rate-limit',
]
const MB = 1024 * 1024

export async function memorySection(ctx: Context): Promise<MemorySection> {
  const notes: string[] = []
  const { keys, floodKeys, floodMax, floodTimeLimitMs, serverKeys } = ctx.config.memory
  const coreSkip = missing(ctx, 'core')
  if (coreSkip) notes.push(`Tollgate rows ${coreSkip}`)

  const perKey: MemoryResult[] = []
  for (const lib of LIBS.filter((lib) => !(coreSkip && lib.startsWith('tollgate')))) {
    const spec: MemorySpec = { lib, keys }
    const result = await retryOnce(
      () =>
        runWorker<MemoryResult>('memory', spec, {
          nodeArgs: ['--expose-gc'],
          timeoutMs: 180_000,
        }),
      ctx.log,
    )
    perKey.push(result)
    ctx.log(
      `memory ${lib}: ${result.bytesPerKey.toFixed(0)} bytes/key at ${keys.toLocaleString('en-US')} keys`,
    )
  }

  let flood: FloodResult | undefined
  if (!coreSkip) {
    const spec: FloodSpec = { keys: floodKeys, max: floodMax, samples: 20, timeLimitMs: floodTimeLimitMs }
    flood = await retryOnce(
      () =>
        runWorker<FloodResult>('flood', spec, {
          nodeArgs: ['--expose-gc'],
          timeoutMs: floodTimeLimitMs + 60_000,
        }),
      ctx.log,
    )
    ctx.log(
      `flood: ${flood.keys.toLocaleString('en-US')} keys, RSS growth ${flood.rssGrowthMB.toFixed(1)} MB`,
    )
    if (flood.keys < floodKeys) notes.push(`key flood stopped by its time limit after ${flood.keys} keys`)
  }

  const variants: Variant[] = ['bare', 'express-rate-limit', 'rate-limiter-flexible']
  const tgSkip = missing(ctx, 'core', 'express')
  if (tgSkip) notes.push(`Express + Tollgate server memory ${tgSkip}`)
  else variants.splice(1, 0, 'tollgate')
  const measured: Omit<ServerMemoryRow, 'rssOverBareMB' | 'heldOverBareMB'>[] = []
  for (const variant of variants) {
    const spec: ServerSpec = { framework: 'express', variant, store: 'memory', keys: 'many' }
    const server = await retryOnce(
      () =>
        ServerProcess.start<ServerStats>('server', spec, { nodeArgs: ['--expose-gc'], timeoutMs: 30_000 }),
      ctx.log,
    )
    try {
      const warm = await load({
        port: server.port,
        connections: 50,
        seconds: 0,
        amount: Math.min(10_000, serverKeys),
        keys: 'many',
      })
      const run = await load({
        port: server.port,
        connections: 50,
        seconds: 0,
        amount: serverKeys,
        keys: 'many',
      })
      // Give V8 a moment to hand freed pages back after full GCs (its memory reducer runs when idle).
      await server.stats(true)
      await sleep(1000)
      await server.stats(true)
      await sleep(1000)
      const stats = await server.stats(true)
      measured.push({
        variant,
        keys: serverKeys,
        rssMB: stats.rss / MB,
        heapMB: stats.heapUsed / MB,
        externalMB: stats.external / MB,
        non2xx: warm.non2xx + run.non2xx,
      })
      ctx.log(
        `server memory express ${variant}: RSS ${(stats.rss / MB).toFixed(1)} MB after ${serverKeys} keys`,
      )
    } finally {
      await server.stop()
    }
  }
  const bare = measured.find((m) => m.variant === 'bare')
  const servers = measured.map((m) => ({
    ...m,
    rssOverBareMB: m.rssMB - (bare?.rssMB ?? Number.NaN),
    heldOverBareMB: m.heapMB + m.externalMB - (bare ? bare.heapMB + bare.externalMB : Number.NaN),
  }))
  return { perKey, flood, servers, notes }
}
