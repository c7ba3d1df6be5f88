/*
 * Core decisions/s without HTTP: one limiter configuration per process.
 * Spec: { lib, keys: 'one' | 'many', minCpuMs, warmupMs }.
 */
import { measure } from 'mitata'
import { sendResult, workerSpec } from '../lib/child.ts'
import { deadline, KEY_COUNT, makeKeys } from '../lib/common.ts'
import { type CoreLib, decider } from '../lib/deciders.ts'

export type { CoreLib } from '../lib/deciders.ts'

export interface CoreSpec {
  readonly lib: CoreLib
  readonly keys: 'one' | 'many'
  readonly minCpuMs: number
  readonly warmupMs: number
}

export interface CoreResult {
  readonly lib: CoreLib
  readonly keys: 'one' | 'many'
  readonly opsPerSec: number
  readonly avgNs: number
  readonly p50Ns: number
  readonly p99Ns: number
}

const spec = workerSpec<CoreSpec>()
const keys = spec.keys === 'one' ? ['hot-key'] : makeKeys(KEY_COUNT)
const decide = await decider(spec.lib, keys)
let i = 0
const next = (): string => {
  const key = keys[i]!
  i = i + 1 === keys.length ? 0 : i + 1
  return key
}

// Warm-up: JIT, and every key of the set tracked once, so the measurement sees steady state.
const warm = deadline(spec.warmupMs)
for (let n = 0; n < keys.length || warm(); n++) {
  const result = decide(next())
  if (result instanceof Promise) await result
  if (n > 50_000_000) break
}

const stats = await measure(() => decide(next()), { min_cpu_time: spec.minCpuMs * 1e6 })
const result: CoreResult = {
  lib: spec.lib,
  keys: spec.keys,
  opsPerSec: 1e9 / stats.avg,
  avgNs: stats.avg,
  p50Ns: stats.p50,
  p99Ns: stats.p99,
}
sendResult(result)
