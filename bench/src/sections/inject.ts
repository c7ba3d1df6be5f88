import { retryOnce, runWorker } from '../lib/child.ts'
import { median, minMax } from '../lib/common.ts'
import { type Context, missing } from '../lib/context.ts'
import type { InjectResult, InjectSpec } from '../workers/inject.ts'
import type { MiddlewareResult, MiddlewareSpec } from '../workers/middleware.ts'
import type { Framework, Variant } from '../workers/server.ts'
import { FRAMEWORKS, PEERS } from './http.ts'

// Rounds per worker process: light-my-request's retained ~10 KB per request stays under ~1 GB.
const ROUNDS_PER_PROCESS = 5

export interface InjectVariant {
  readonly variant: Variant
  /** Median over batches of CPU µs per request. */
  readonly cpuPerRequest: number
  /** Median over batches of (this − bare in the same round), µs. */
  readonly added: number
  readonly addedRange: [number, number]
  readonly statuses: Record<string, number>
  /**
   * The middleware alone, run again and again on one real request of the framework (see
   * workers/middleware.ts): median over batches of ns per run, minus the bare step's of the same
   * round. `undefined` when not measured (results of earlier runs).
   */
  readonly ownNs?: number
  readonly ownRange?: [number, number]
}

export interface InjectRow extends InjectVariant {
  readonly framework: Framework
}

export interface InjectSection {
  readonly rows: readonly InjectRow[]
  readonly notes: readonly string[]
}

/**
 * Added CPU per request without sockets, per framework: bare, a pass-through
 * middleware, one that sets Tollgate's two headers, Tollgate with and without
 * its headers (`headers: false`), and the peers (memory store, one key), in
 * interleaved batches in one process; then each variant's middleware alone on a
 * real request, which resolves its own code to tens of ns.
 */
export async function injectSection(ctx: Context): Promise<InjectSection> {
  const { rounds, warmup, requests, ownRuns, ownRounds } = ctx.config.inject
  const notes: string[] = []
  const rows: InjectRow[] = []
  for (const framework of FRAMEWORKS) {
    const skip = missing(ctx, 'core', framework)
    if (skip) notes.push(`${framework} + Tollgate ${skip}`)
    const variants: Variant[] = [
      'bare',
      'noop',
      'headers',
      'floor',
      ...(skip ? [] : (['tollgate', 'tollgate-no-headers', 'tollgate-stacked'] as const)),
      ...PEERS[framework],
    ]
    // Rounds in chunks, each in a fresh process (see workers/inject.ts); rounds stay interleaved.
    const perRound = variants.map(() => [] as number[])
    const statuses = variants.map(() => ({}) as Record<string, number>)
    for (let done = 0; done < rounds; done += ROUNDS_PER_PROCESS) {
      const spec: InjectSpec = {
        framework,
        variants,
        warmup,
        requests,
        rounds: Math.min(ROUNDS_PER_PROCESS, rounds - done),
      }
      const result = await retryOnce(
        () => runWorker<InjectResult>('inject', spec, { timeoutMs: 600_000 }),
        ctx.log,
      )
      result.variants.forEach((v, i) => {
        perRound[i]!.push(...v.perRound)
        for (const [status, n] of Object.entries(v.statuses))
          statuses[i]![status] = (statuses[i]![status] ?? 0) + n
      })
    }
    const own: MiddlewareSpec = { framework, variants, runs: ownRuns, rounds: ownRounds }
    const alone = await retryOnce(
      () => runWorker<MiddlewareResult>('middleware', own, { timeoutMs: 300_000 }),
      ctx.log,
    )
    const bare = perRound[variants.indexOf('bare')]!
    const bareAlone = alone.variants[variants.indexOf('bare')]!.perRound
    variants.forEach((variant, i) => {
      const added = perRound[i]!.map((cpu, round) => cpu - bare[round]!)
      const ownAdded = alone.variants[i]!.perRound.map((ns, round) => ns - bareAlone[round]!)
      const v: InjectVariant = {
        variant,
        cpuPerRequest: median(perRound[i]!),
        added: median(added),
        addedRange: minMax(added),
        statuses: statuses[i]!,
        ownNs: median(ownAdded),
        ownRange: minMax(ownAdded),
      }
      rows.push({ framework, ...v })
      ctx.log(
        `inject ${framework} ${v.variant}: ${v.cpuPerRequest.toFixed(1)} µs CPU/request (${v.added >= 0 ? '+' : ''}${v.added.toFixed(1)}); the middleware alone ${v.ownNs!.toFixed(0)} ns`,
      )
    })
  }
  return { rows, notes }
}
