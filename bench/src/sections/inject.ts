import { retryOnce, runWorker } from '../lib/child.ts'
import { type Context, missing } from '../lib/context.ts'
import type { InjectResult, InjectSpec, InjectVariant } from '../workers/inject.ts'
import type { Framework, Variant } from '../workers/server.ts'
import { FRAMEWORKS, PEERS } from './http.ts'

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
 * interleaved batches in one process.
 */
export async function injectSection(ctx: Context): Promise<InjectSection> {
  const { rounds, warmup, requests } = ctx.config.inject
  const notes: string[] = []
  const rows: InjectRow[] = []
  for (const framework of FRAMEWORKS) {
    const skip = missing(ctx, 'core', framework)
    if (skip) notes.push(`${framework} + Tollgate ${skip}`)
    const variants: Variant[] = [
      'bare',
      'noop',
      'headers',
      ...(skip ? [] : (['tollgate', 'tollgate-no-headers'] as const)),
      ...PEERS[framework],
    ]
    const spec: InjectSpec = { framework, variants, warmup, requests, rounds }
    const result = await retryOnce(
      () => runWorker<InjectResult>('inject', spec, { timeoutMs: 600_000 }),
      ctx.log,
    )
    for (const v of result.variants) {
      rows.push({ framework, ...v })
      ctx.log(
        `inject ${framework} ${v.variant}: ${v.cpuPerRequest.toFixed(1)} µs CPU/request (${v.added >= 0 ? '+' : ''}${v.added.toFixed(1)})`,
      )
    }
  }
  return { rows, notes }
}
