import type { Limiter, LimiterOptions, Store } from '@tollgate/core'

/*
 * The shapes of the Tollgate packages that the benchmarks load from their built
 * dist by path (they are developed in parallel and may not exist yet), narrowed
 * to what the benchmarks call. DESIGN.md §2 and §5 fix these entry points.
 */

export interface CoreModule {
  createLimiter(options: LimiterOptions): Limiter
  memoryStore(options?: { max?: number }): Store & { size(): number }
}

export interface AdapterOptions {
  readonly limit: number
  readonly window: number | string
  readonly store?: Store
  readonly key?: (...args: never[]) => string | undefined
  /** `false`: no rate-limit headers (DESIGN.md: draft-8 headers by default). */
  readonly headers?: false
  /** The policy's name in the headers (`default` when absent). */
  readonly name?: string
}

export interface ExpressModule {
  rateLimit(options: AdapterOptions): (req: unknown, res: unknown, next: (error?: unknown) => void) => void
}

export interface KoaModule {
  rateLimit(options: AdapterOptions): (ctx: never, next: () => Promise<unknown>) => Promise<unknown>
}

export interface FastifyModule {
  readonly rateLimit?: unknown
  readonly default?: unknown
}

export interface RedisModule {
  redisStore(options: Record<string, unknown>): Store
}
