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

/**
 * One round's order: the reference run before, between and after the cases (rotated per round, so
 * that each goes first in turn), so that each case is measured against the reference runs just
 * before and just after it: a shared VM's speed changes in steps lasting seconds, which runs next
 * to a case see far more often than runs further away.
 */
export function schedule<T>(reference: T, cases: readonly T[], round: number): T[] {
  return [reference, ...rotate(cases, round).flatMap((c) => [c, reference])]
}
