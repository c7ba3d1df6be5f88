import type { Config } from './config.ts'
import type { Availability, TollgatePackage } from './packages.ts'
import type { RedisServer } from './redis-server.ts'

/** What every section gets: the run's sizes, the Redis of this run, and which Tollgate parts exist. */
export interface Context {
  readonly config: Config
  readonly redis: RedisServer | undefined
  readonly available: Readonly<Record<TollgatePackage, Availability>>
  readonly log: (line: string) => void
}

/** Why a Tollgate part cannot run, or undefined when every package it needs is built. */
export function missing(ctx: Context, ...needs: TollgatePackage[]): string | undefined {
  for (const name of needs) {
    const state = ctx.available[name]
    if (!state.ok) return `@tollgate/${name}: ${state.why}`
  }
  return undefined
}

/** Rotates a list by `round` so no case always runs first (or last) in a round. */
export function rotate<T>(list: readonly T[], round: number): T[] {
  const k = round % Math.max(1, list.length)
  return [...list.slice(k), ...list.slice(0, k)]
}
