/*
 * The core benchmark's limiters and references, as functions of a key: shared by the timed worker
 * (workers/core.ts) and the instruction count (tools/instructions.ts).
 */
import { MemoryStore } from 'express-rate-limit'
import { LRUCache } from 'lru-cache'
import { RateLimiterMemory } from 'rate-limiter-flexible'
import { HIGH_LIMIT, WINDOW_MS } from './common.ts'
import { floorGcra } from './floor.ts'
import { importTollgate } from './packages.ts'
import type { CoreModule } from './tollgate-types.ts'

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

/** One decision on `key`; a promise for the libraries that answer with one. */
export type Decide = (key: string) => unknown

export async function decider(lib: CoreLib, keys: readonly string[]): Promise<Decide> {
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
