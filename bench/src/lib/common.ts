/** A limit no benchmark reaches: the limiter runs its full allowed path every time. */
export const HIGH_LIMIT = 1_000_000_000
export const WINDOW_MS = 3_600_000
/** The "many keys" variants cycle through this many distinct keys. */
export const KEY_COUNT = 100_000
export const KEY_HEADER = 'x-key'

/** `k0 ... k99999`: the keys of the many-keys variants. */
export function makeKeys(count = KEY_COUNT, prefix = 'k'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`)
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function minMax(values: readonly number[]): [number, number] {
  return [Math.min(...values), Math.max(...values)]
}

/** `n` to one decimal with its sign, `+1.5` or `−0.3` (a minus sign, not a hyphen). */
export const signed = (n: number): string => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(1)}`

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** `performance.now()` deadline loop guard: every benchmark loop stops by itself. */
export function deadline(ms: number): () => boolean {
  const end = performance.now() + ms
  return () => performance.now() < end
}
