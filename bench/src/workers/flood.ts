/*
 * Key flood: N distinct keys, as fast as possible, against a Tollgate memory
 * store bounded to `max` keys. Samples RSS and heap along the way, as a server
 * would see them (the sawtooth of garbage collection) and after a full GC (what
 * the store and the process really keep). Bounded by count and time.
 */
import { sendResult, workerSpec } from '../lib/child.ts'
import { importTollgate } from '../lib/packages.ts'
import type { CoreModule } from '../lib/tollgate-types.ts'

export interface FloodSpec {
  readonly keys: number
  readonly max: number
  readonly samples: number
  readonly timeLimitMs: number
}

export interface FloodSample {
  readonly keys: number
  readonly rssMB: number
  readonly heapMB: number
  /** RSS right after two full GCs, taken after the other readings. */
  readonly rssAfterGcMB: number
  readonly tracked: number
}

export interface FloodResult {
  readonly keys: number
  readonly max: number
  readonly seconds: number
  readonly decisionsPerSec: number
  readonly samples: readonly FloodSample[]
  /** Peak RSS after GC over the second half of the flood minus the peak over the first half (after the store filled). */
  readonly rssGrowthMB: number
  /** Heap after a full GC once the first tenth of the keys went through, and at the end. */
  readonly heapAfterGcMB: readonly [number, number]
}

const spec = workerSpec<FloodSpec>()
const gc = globalThis.gc
if (!gc) throw new Error('run with --expose-gc')
const heapAfterGc = (): number => {
  gc()
  gc()
  return process.memoryUsage().heapUsed / (1024 * 1024)
}
const { createLimiter, memoryStore } = await importTollgate<CoreModule>('core')
const store = memoryStore({ max: spec.max })
const limiter = createLimiter({ limit: 10, window: '1m', store })
const MB = 1024 * 1024
const every = Math.max(1, Math.floor(spec.keys / spec.samples))
const samples: FloodSample[] = []
const sample = (keys: number) => {
  const m = process.memoryUsage()
  gc()
  gc()
  const rssAfterGcMB = process.memoryUsage().rss / MB
  samples.push({ keys, rssMB: m.rss / MB, heapMB: m.heapUsed / MB, rssAfterGcMB, tracked: store.size() })
}
sample(0)
const t0 = performance.now()
const end = t0 + spec.timeLimitMs
let done = 0
let heapEarly = Number.NaN
for (let i = 0; i < spec.keys; i++) {
  limiter.consume(`flood:${i}`)
  done = i + 1
  if (done === Math.floor(spec.keys / 10)) heapEarly = heapAfterGc()
  if (done % every === 0) {
    sample(done)
    if (performance.now() > end) break
  }
}
const seconds = (performance.now() - t0) / 1000
const full = samples.findIndex((s) => s.tracked >= spec.max)
const filled = samples.slice(full >= 0 ? full : samples.length)
const half = Math.ceil(filled.length / 2)
const peak = (list: readonly FloodSample[]) => Math.max(...list.map((s) => s.rssAfterGcMB))
const result: FloodResult = {
  keys: done,
  max: spec.max,
  seconds,
  decisionsPerSec: done / seconds,
  samples,
  rssGrowthMB: peak(filled.slice(half)) - peak(filled.slice(0, half)),
  heapAfterGcMB: [heapEarly, heapAfterGc()],
}
sendResult(result)
