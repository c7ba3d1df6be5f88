import type { CompiledRate } from '../policy.js'
import { floorDiv, type Kernel } from './kernel.js'

/*
 * Sliding window, approximated by two fixed windows: the estimate at time t is
 *   prev * (W - elapsed) / W + curr
 * where `curr` counts the current window, `prev` the one before and `elapsed`
 * is t minus the current window's start. The approximation assumes the previous
 * window's hits were spread evenly; a burst at the end of the previous window is
 * under-counted by at most `prev * elapsed / W`, and under sustained overload it
 * admits less than `limit` per window. Windows follow each other from the key's
 * first hit; once both counts are zero the key is fresh and the next hit starts
 * a new sequence. State: [start_0, prev_0, curr_0, ...]. Comparisons are made
 * multiplied through by W, so integer weights are counted exactly.
 */

/** Brings rate i's windows forward to `now`, in place. */
function roll(s: Float64Array, at: number, r: CompiledRate, now: number): void {
  const start = s[at]!
  if (s[at + 1] === 0 && s[at + 2] === 0) {
    // A key with nothing counted is a fresh key: its first hit anchors the windows.
    s[at] = now
    return
  }
  if (now < start + r.window) return
  const windows = Math.floor((now - start) / r.window)
  const curr = s[at + 2]!
  if (windows === 1 && curr > 0) {
    s[at] = start + r.window
    s[at + 1] = curr
  } else {
    // Nothing left to remember: start afresh at now.
    s[at] = now
    s[at + 1] = 0
  }
  s[at + 2] = 0
}

/** The earliest time >= now at which `w` fits, given the rolled state. */
function earliest(
  start: number,
  prev: number,
  curr: number,
  r: CompiledRate,
  now: number,
  w: number,
): number {
  const W = r.window
  if (curr + w <= r.limit) {
    if (prev === 0) return now
    // prev * (W - e) <= (limit - curr - w) * W  <=>  e >= W - (limit - curr - w) * W / prev
    const e = W - floorDiv((r.limit - curr - w) * W, prev)
    if (start + e <= now) return now
    if (e < W) return start + e
  }
  if (curr === 0) return start + W
  const e = W - floorDiv((r.limit - w) * W, curr)
  return e < W ? start + W + Math.max(e, 0) : start + 2 * W
}

/** The sliding-window kernel: a window start and two counts per rate. */
export const slidingWindow: Kernel = {
  stride: (n) => 3 * n,
  // resetMs is the end of the current window; the state is fresh only once the next one ends too
  ttlIsLongestReset: false,
  fresh(s, o, rates, now) {
    for (let i = 0; i < rates.length; i++) {
      s[o + 3 * i] = now
      s[o + 3 * i + 1] = 0
      s[o + 3 * i + 2] = 0
    }
  },
  delay(s, o, rates, now, w) {
    let delay = 0
    for (let i = 0; i < rates.length; i++) {
      const r = rates[i]!
      const at = o + 3 * i
      roll(s, at, r, now)
      delay = Math.max(delay, earliest(s[at]!, s[at + 1]!, s[at + 2]!, r, now, w) - now)
    }
    return delay
  },
  charge(s, o, rates, now, _at, w) {
    for (let i = 0; i < rates.length; i++) {
      const at = o + 3 * i
      roll(s, at, rates[i]!, now)
      s[at + 2] = s[at + 2]! + w
    }
  },
  refund(s, o, rates, now, w) {
    for (let i = 0; i < rates.length; i++) {
      const at = o + 3 * i
      roll(s, at, rates[i]!, now)
      s[at + 2] = Math.max(s[at + 2]! - w, 0)
    }
  },
  inspect(s, o, rates, now, out, offset) {
    for (let i = 0; i < rates.length; i++) {
      const r = rates[i]!
      const at = o + 3 * i
      const index = offset + 2 * i
      roll(s, at, r, now)
      const start = s[at]!
      const prev = s[at + 1]!
      const curr = s[at + 2]!
      if (prev === 0 && curr === 0) {
        out[index] = r.limit
        out[index + 1] = 0
        continue
      }
      const W = r.window
      out[index] = Math.max(floorDiv(r.limit * W - prev * (W - (now - start)) - curr * W, W), 0)
      out[index + 1] = start + W - now
    }
  },
  ttl(s, o, rates, now) {
    let ttl = 0
    for (let i = 0; i < rates.length; i++) {
      const r = rates[i]!
      const at = o + 3 * i
      roll(s, at, r, now)
      const start = s[at]!
      if (s[at + 2]! > 0) ttl = Math.max(ttl, start + 2 * r.window - now)
      else if (s[at + 1]! > 0) ttl = Math.max(ttl, start + r.window - now)
    }
    return ttl
  },
  rebase(s, o, rates, delta) {
    for (let i = 0; i < rates.length; i++) s[o + 3 * i] = s[o + 3 * i]! - delta
  },
}
