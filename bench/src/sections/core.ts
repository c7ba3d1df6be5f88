import { retryOnce, runWorker } from '../lib/child.ts'
import { median, minMax } from '../lib/common.ts'
import { type Context, missing, rotate } from '../lib/context.ts'
import type { CoreLib, CoreResult, CoreSpec } from '../workers/core.ts'

export interface CoreRow {
  readonly lib: CoreLib
  readonly keys: 'one' | 'many'
  readonly opsPerSec: number
  readonly range: [number, number]
  /** Median over rounds of (this lib / RateLimiterMemory in the same round). */
  readonly vsFlexible: number
  readonly vsFlexibleRange: [number, number]
}

export interface CoreSection {
  readonly rows: readonly CoreRow[]
  readonly raw: readonly (CoreResult & { round: number })[]
  readonly notes: readonly string[]
}

const LIBS: readonly CoreLib[] = [
  'tollgate-gcra',
  'tollgate-fixed-window',
  'rate-limiter-flexible',
  'express-rate-limit',
  // The floor of a store keeping per-key state in lru-cache: only the cache.get of a decision.
  'lru-cache-get',
  // The least a GCRA limiter on lru-cache can do: clock, get, one number, a decision object.
  'floor-gcra',
]

export async function coreSection(ctx: Context): Promise<CoreSection> {
  const { rounds, minCpuMs, warmupMs } = ctx.config.core
  const notes: string[] = []
  const skip = missing(ctx, 'core')
  if (skip) notes.push(`Tollgate rows ${skip}`)
  const libs = LIBS.filter((lib) => !(skip && lib.startsWith('tollgate')))
  const raw: (CoreResult & { round: number })[] = []
  for (let round = 0; round < rounds; round++) {
    for (const keys of ['one', 'many'] as const) {
      for (const lib of rotate(libs, round)) {
        const spec: CoreSpec = { lib, keys, minCpuMs, warmupMs }
        const result = await retryOnce(
          () => runWorker<CoreResult>('core', spec, { timeoutMs: 120_000 }),
          ctx.log,
        )
        ctx.log(
          `core r${round + 1} ${keys} ${lib}: ${Math.round(result.opsPerSec).toLocaleString('en-US')} decisions/s`,
        )
        raw.push({ ...result, round })
      }
    }
  }
  const rows: CoreRow[] = []
  for (const keys of ['one', 'many'] as const) {
    for (const lib of libs) {
      const mine = raw.filter((r) => r.lib === lib && r.keys === keys)
      const ratios = mine.map((r) => {
        const peer = raw.find(
          (p) => p.lib === 'rate-limiter-flexible' && p.keys === keys && p.round === r.round,
        )
        return peer ? r.opsPerSec / peer.opsPerSec : Number.NaN
      })
      const ops = mine.map((r) => r.opsPerSec)
      rows.push({
        lib,
        keys,
        opsPerSec: median(ops),
        range: minMax(ops),
        vsFlexible: median(ratios),
        vsFlexibleRange: minMax(ratios),
      })
    }
  }
  return { rows, raw, notes }
}
