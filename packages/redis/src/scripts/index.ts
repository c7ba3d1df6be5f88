import { type Algorithm, backlogInspect, type CompiledRate } from '@tollgate/core'
import { BUCKET_SCRIPT, BUCKET_SHA } from './bucket.js'
import { FIXED_WINDOW_SCRIPT, FIXED_WINDOW_SHA } from './fixed-window.js'
import { SLIDING_WINDOW_SCRIPT, SLIDING_WINDOW_SHA } from './sliding-window.js'

/** A Lua script, its SHA1, how it passes a rate's parameters and how it reports a rate's state. */
export interface Script {
  readonly name: string
  readonly source: string
  readonly sha: string
  readonly params: (rate: CompiledRate) => readonly number[]
  /** Numbers per rate in the script's reply. */
  readonly replyWords: number
  /**
   * Appends remaining and reset ms for each rate of `set` (rate count, then each rate's parameters)
   * from the reply's doubles at byte `at`.
   */
  readonly readRates: (reply: Buffer, at: number, set: readonly number[], out: number[]) => void
}

/** Scripts that report remaining and reset themselves. */
function readPairs(reply: Buffer, at: number, set: readonly number[], out: number[]): void {
  for (let i = 0; i < 2 * set[0]!; i++) out.push(reply.readDoubleLE(at + 8 * i))
}

const bucket: Script = {
  name: 'bucket',
  source: BUCKET_SCRIPT,
  sha: BUCKET_SHA,
  params: (r) => [r.u, r.T, r.tau],
  replyWords: 1,
  // Each rate's backlog, in scaled units; remaining and reset computed by core, as its buckets do.
  readRates(reply, at, set, out) {
    for (let i = 0; i < set[0]!; i++) {
      const backlog = reply.readDoubleLE(at + 8 * i)
      backlogInspect(backlog, set[1 + 3 * i]!, set[2 + 3 * i]!, set[3 + 3 * i]!, out, out.length)
    }
  },
}
const fixedWindow: Script = {
  name: 'fixed-window',
  source: FIXED_WINDOW_SCRIPT,
  sha: FIXED_WINDOW_SHA,
  params: (r) => [r.window, r.limit],
  replyWords: 2,
  readRates: readPairs,
}
const slidingWindow: Script = {
  name: 'sliding-window',
  source: SLIDING_WINDOW_SCRIPT,
  sha: SLIDING_WINDOW_SHA,
  params: (r) => [r.window, r.limit],
  replyWords: 2,
  readRates: readPairs,
}

/** Every script the store runs. */
export const SCRIPTS: readonly Script[] = [bucket, fixedWindow, slidingWindow]

/** The script that runs `algorithm`. */
export function scriptFor(algorithm: Algorithm): Script {
  switch (algorithm) {
    case 'gcra':
    case 'token-bucket':
    case 'leaky-bucket':
      return bucket
    case 'fixed-window':
      return fixedWindow
    case 'sliding-window':
      return slidingWindow
  }
}
