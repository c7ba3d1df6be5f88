import type { Algorithm } from '../types.js'
import { fixedWindow } from './fixed-window.js'
import { gcra } from './gcra.js'
import type { Kernel } from './kernel.js'
import { leakyBucket } from './leaky-bucket.js'
import { slidingWindow } from './sliding-window.js'
import { tokenBucket } from './token-bucket.js'

export type { Kernel } from './kernel.js'

const KERNELS: Record<Algorithm, Kernel> = {
  gcra,
  'token-bucket': tokenBucket,
  'leaky-bucket': leakyBucket,
  'fixed-window': fixedWindow,
  'sliding-window': slidingWindow,
}

/**
 * The kernel that runs `algorithm`.
 * @internal Exported for the memory store and this repository's tests, which check kernels directly.
 */
export function kernelFor(algorithm: Algorithm): Kernel {
  return KERNELS[algorithm]
}
