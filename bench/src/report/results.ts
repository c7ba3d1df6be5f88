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
