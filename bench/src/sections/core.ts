import { retryOnce, runWorker } from '../lib/child.ts'
import { median, minMax } from '../lib/common.ts'
import { type Context, missing, schedule } from '../lib/context.ts'
import { measuredCpu } from '../lib/cpus.ts'
import type { CoreLib, CoreResult, CoreSpec } from '../workers/core.ts'

export interface CoreRow {
  readonly lib: CoreLib
  readonly keys: 'one' | 'many'
  readonly opsPerSec: number
  readonly range: [number, number]
  /**
   * Median over rounds of this lib's decisions/s over the mean of the RateLimiterMemory runs just
   * before and just after it in the same round (1 for RateLimiterMemory itself).
   */
  readonly vsFlexible: number
  readonly vsFlexibleRange: [number, number]
}

/** One worker's result, with where it ran: its round and its place in the round's sequence. */
export type CoreRun = CoreResult & { readonly round: number; readonly slot: number }

export interface CoreSection {
  readonly rows: readonly CoreRow[]
  readonly raw: readonly CoreRun[]
  readonly notes: readonly string[]
  /** The CPU every worker was pinned to (absent when unpinned, and in results of earlier versions). */
  readonly cpu?: number
}

/** The reference every ratio of the section is taken against. */
const REFERENCE: CoreLib = 'rate-limiter-flexible'

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

/**
 * A round's order of runs: the reference before, between and after the others (rotated per round so
 * that each goes first in turn), as the HTTP section runs bare around each limiter.
 */
export function coreOrder(others: readonly CoreLib[], round: number): CoreLib[] {
  return schedule(REFERENCE, others, round)
}

/**
 * Each run's ratio to the reference: its decisions/s over the mean of the reference runs in the
 * slots just before and just after it in the same round and key set (1 for a reference run; NaN
 * when a neighbour is missing).
 */
export function bracketRatio(run: CoreRun, raw: readonly CoreRun[]): number {
  if (run.lib === REFERENCE) return 1
  const neighbour = (slot: number) =>
    raw.find((r) => r.lib === REFERENCE && r.keys === run.keys && r.round === run.round && r.slot === slot)
  const before = neighbour(run.slot - 1)
  const after = neighbour(run.slot + 1)
  if (!before || !after) return Number.NaN
  return run.opsPerSec / ((before.opsPerSec + after.opsPerSec) / 2)
}

export async function coreSection(ctx: Context): Promise<CoreSection> {
  const { rounds, minCpuMs, warmupMs } = ctx.config.core
  const notes: string[] = []
  const skip = missing(ctx, 'core')
  if (skip) notes.push(`Tollgate rows ${skip}`)
  const libs = LIBS.filter((lib) => !(skip && lib.startsWith('tollgate')))
  const others = libs.filter((lib) => lib !== REFERENCE)
  // Every worker on the same CPU (see measuredCpu): a ratio then compares libraries, not CPUs.
  const where = measuredCpu()
  if (!where.pinned) notes.push(`workers not pinned to a CPU: ${where.why}`)
  const cpu = where.pinned ? where.cpu : undefined
  const raw: CoreRun[] = []
  for (let round = 0; round < rounds; round++) {
    for (const keys of ['one', 'many'] as const) {
      for (const [slot, lib] of coreOrder(others, round).entries()) {
        const spec: CoreSpec = { lib, keys, minCpuMs, warmupMs }
        const result = await retryOnce(
          () =>
            runWorker<CoreResult>('core', spec, {
              timeoutMs: 120_000,
              ...(cpu === undefined ? {} : { cpu }),
            }),
          ctx.log,
        )
        ctx.log(
          `core r${round + 1} ${keys} ${lib}: ${Math.round(result.opsPerSec).toLocaleString('en-US')} decisions/s`,
        )
        raw.push({ ...result, round, slot })
      }
    }
  }
  const rows: CoreRow[] = []
  for (const keys of ['one', 'many'] as const) {
    for (const lib of libs) {
      const mine = raw.filter((r) => r.lib === lib && r.keys === keys)
      const ratios = mine.map((r) => bracketRatio(r, raw))
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
  return { rows, raw, notes, ...(cpu === undefined ? {} : { cpu }) }
}
