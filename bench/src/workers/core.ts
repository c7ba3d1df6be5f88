/*
 * Core decisions/s without HTTP: one limiter configuration per process.
 * Spec: { lib, keys: 'one' | 'many', minCpuMs, warmupMs }.
 */
import { MemoryStore } from 'express-rate-limit'
import { LRUCache } from 'lru-cache'
import { measure } from 'mitata'
import { RateLimiterMemory } from 'rate-limiter-flexible'
import { sendResult, workerSpec } from '../lib/child.ts'
import { deadline, HIGH_LIMIT, KEY_COUNT, makeKeys, WINDOW_MS } from '../lib/common.ts'
import { floorGcra } from '../lib/floor.ts'
import { importTollgate } from '../lib/packages.ts'
import type { CoreModule } from '../lib/tollgate-types.ts'

export type CoreLib =
  | 'tollgate-gcra'
  | 'tollgate-fixed-window'
  | 'rate-limiter-flexible'
  | 'express-rate-limit'
  /** Reference, not a limiter: only `cache.get(key)` on an lru-cache prefilled with the key set. */
  | 'lru-cache-get'
  /**
   * Reference: the least a GCRA limiter keyed in lru-cache can do per decision (one clock read,
   * one get, one number of state, and a decision object of Tollgate's shape), with no validation,
   * no expiry, no eviction handling and no shaping.
   */
  | 'floor-gcra'

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

type Decide = (key: string) => unknown

async function decider(lib: CoreLib, keys: readonly string[]): Promise<Decide> {
  switch (lib) {
    case 'tollgate-gcra':
    case 'tollgate-fixed-window': {
      const { createLimiter } = await importTollgate<CoreModule>('core')
      const algorithm = lib === 'tollgate-gcra' ? 'gcra' : 'fixed-window'
      const limiter = createLimiter({ limit: HIGH_LIMIT, window: WINDOW_MS, algorithm })
      return (key) => limiter.consume(key)
    }
    case 'rate-limiter-flexible': {
      const limiter = new RateLimiterMemory({ points: HIGH_LIMIT, duration: WINDOW_MS / 1000 })
      return (key) => limiter.consume(key)
    }
    case 'express-rate-limit': {
      const store = new MemoryStore()
      store.init({ windowMs: WINDOW_MS } as Parameters<MemoryStore['init']>[0])
      return (key) => store.increment(key)
    }
    case 'lru-cache-get': {
      // As Tollgate's memoryStore builds its cache (key → slot number, max 100,000, a dispose
      // callback, no lru-cache TTL): the floor of any store that keeps per-key state in lru-cache.
      const cache = new LRUCache<string, number>({ max: 100_000, dispose: () => {} })
      for (const [slot, key] of keys.entries()) cache.set(key, slot)
      return (key) => cache.get(key)
    }
    case 'floor-gcra':
      return floorGcra()
  }
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
