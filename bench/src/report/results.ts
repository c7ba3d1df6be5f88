import type { AttackSection } from '../sections/attack.ts'
import type { CoreSection } from '../sections/core.ts'
import type { HttpSection } from '../sections/http.ts'
import type { InjectSection } from '../sections/inject.ts'
import type { MemorySection } from '../sections/memory.ts'
import type { ProfileSection } from '../sections/profile.ts'
import type { RedisSection } from '../sections/redis.ts'

export const SECTIONS = ['core', 'inject', 'http', 'redis', 'memory', 'attack', 'profile'] as const
export type SectionName = (typeof SECTIONS)[number]

export interface Rig {
  readonly cpu: string
  readonly cores: number
  readonly memoryGB: number
  readonly os: string
  readonly node: string
  readonly redis: string | undefined
  readonly loadAverage: readonly number[]
  readonly revision: string
}

export interface SectionTiming {
  readonly startedAt: string
  readonly seconds: number
  /** The workspace revision the section ran at (absent in results of earlier versions: `rig.revision`). */
  readonly revision?: string
}

/**
 * Why a `--only` run on this rig must not merge into results measured on `previous`: another CPU,
 * core count, Node.js or Redis makes its numbers incomparable with the other sections'.
 * `undefined` when they match.
 */
export function rigMismatch(previous: Rig, current: Rig): string | undefined {
  const fields = ['cpu', 'cores', 'node', 'redis'] as const
  const differing = fields.filter((field) => previous[field] !== current[field])
  if (differing.length === 0) return undefined
  return `measured on another rig (${differing.map((f) => `${f}: ${String(previous[f])}, here ${String(current[f])}`).join('; ')}); merging sections measured here would mix rigs in one report: run every section (without --only)`
}

/** The revision each section ran at, as `revision (sections)` groups; one revision alone when all share it. */
export function sectionRevisions(results: Pick<Results, 'rig' | 'timings'>): string {
  const groups = new Map<string, string[]>()
  for (const [name, timing] of Object.entries(results.timings)) {
    const revision = timing.revision ?? results.rig.revision
    groups.set(revision, [...(groups.get(revision) ?? []), name])
  }
  if (groups.size <= 1) return results.rig.revision
  return [...groups].map(([revision, names]) => `${revision} (${names.join(', ')})`).join('; ')
}

/** Everything one run measured; written as JSON to bench/.tmp and rendered to RESULTS.md. */
export interface Results {
  mode: 'full' | 'smoke'
  startedAt: string
  seconds: number
  rig: Rig
  versions: Record<string, string>
  packages: Record<string, string>
  timings: Partial<Record<SectionName, SectionTiming>>
  core?: CoreSection
  http?: HttpSection
  inject?: InjectSection
  redis?: RedisSection
  memory?: MemorySection
  attack?: AttackSection
  profile?: ProfileSection
}
