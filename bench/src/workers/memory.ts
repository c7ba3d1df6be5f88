/*
 * Memory per tracked key: heap (and off-heap buffers) after tracking N keys,
 * minus before, divided by N. Run with --expose-gc, one store per process.
 */
import { MemoryStore } from 'express-rate-limit'
import { RateLimiterMemory } from 'rate-limiter-flexible'
import { sendResult, workerSpec } from '../lib/child.ts'
import { HIGH_LIMIT, WINDOW_MS } from '../lib/common.ts'
import { importTollgate } from '../lib/packages.ts'
import type { CoreModule } from '../lib/tollgate-types.ts'

export type MemoryLib =
  | 'tollgate-gcra'
  | 'tollgate-fixed-window'
  | 'rate-limiter-flexible'
  | 'express-rate-limit'

export interface MemorySpec {
  readonly lib: MemoryLib
  readonly keys: number
}

export interface MemoryResult {
  readonly lib: MemoryLib
  readonly keys: number
  readonly tracked: number | undefined
  readonly heapBytesPerKey: number
  readonly externalBytesPerKey: number
  readonly bytesPerKey: number
  readonly rssBytesPerKey: number
}

const spec = workerSpec<MemorySpec>()
const gc = globalThis.gc
if (!gc) throw new Error('run with --expose-gc')

function measure(): { heap: number; external: number; rss: number } {
  gc!()
  gc!()
  const m = process.memoryUsage()
  return { heap: m.heapUsed, external: m.external, rss: m.rss }
}

// Before the store exists: its fixed costs (an LRU's preallocated slots) belong to the keys it holds.
const before = measure()
let tracked: () => number | undefined = () => undefined
let decide: (key: string) => unknown
switch (spec.lib) {
  case 'tollgate-gcra':
  case 'tollgate-fixed-window': {
    const { createLimiter, memoryStore } = await importTollgate<CoreModule>('core')
    const store = memoryStore({ max: spec.keys })
    const algorithm = spec.lib === 'tollgate-gcra' ? 'gcra' : 'fixed-window'
    const limiter = createLimiter({ limit: HIGH_LIMIT, window: WINDOW_MS, algorithm, store })
    tracked = () => store.size()
    decide = (key) => limiter.consume(key)
    break
  }
  case 'rate-limiter-flexible': {
    const limiter = new RateLimiterMemory({ points: HIGH_LIMIT, duration: WINDOW_MS / 1000 })
    decide = (key) => limiter.consume(key)
    break
  }
  case 'express-rate-limit': {
    const store = new MemoryStore()
    store.init({ windowMs: WINDOW_MS } as Parameters<MemoryStore['init']>[0])
    decide = (key) => store.increment(key)
    break
  }
}
for (let i = 0; i < spec.keys; i++) {
  const result = decide(`user:${i}`)
  if (result instanceof Promise) await result
}
const after = measure()
const result: MemoryResult = {
  lib: spec.lib,
  keys: spec.keys,
  tracked: tracked(),
  heapBytesPerKey: (after.heap - before.heap) / spec.keys,
  externalBytesPerKey: (after.external - before.external) / spec.keys,
  bytesPerKey: (after.heap + after.external - before.heap - before.external) / spec.keys,
  rssBytesPerKey: (after.rss - before.rss) / spec.keys,
}
sendResult(result)
