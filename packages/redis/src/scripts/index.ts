import type { Algorithm, CompiledRate } from '@tollgate/core'
import { BUCKET_SCRIPT, BUCKET_SHA } from './bucket.js'
import { FIXED_WINDOW_SCRIPT, FIXED_WINDOW_SHA } from './fixed-window.js'
import { SLIDING_WINDOW_SCRIPT, SLIDING_WINDOW_SHA } from './sliding-window.js'

/** A Lua script, its SHA1, and how it passes a rate's parameters. */
export interface Script {
  readonly name: string
  readonly source: string
  readonly sha: string
  readonly params: (rate: CompiledRate) => readonly number[]
}

const bucket: Script = {
  name: 'bucket',
  source: BUCKET_SCRIPT,
  sha: BUCKET_SHA,
  params: (r) => [r.u, r.T, r.tau],
}
const fixedWindow: Script = {
  name: 'fixed-window',
  source: FIXED_WINDOW_SCRIPT,
  sha: FIXED_WINDOW_SHA,
  params: (r) => [r.window, r.limit],
}
const slidingWindow: Script = {
  name: 'sliding-window',
  source: SLIDING_WINDOW_SCRIPT,
  sha: SLIDING_WINDOW_SHA,
  params: (r) => [r.window, r.limit],
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
