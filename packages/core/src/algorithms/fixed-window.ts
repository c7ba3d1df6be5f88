import type { Kernel } from './kernel.js'

/*
 * Fixed window: a counter per rate; a window opens at the first hit after the
 * previous one ended (as express-rate-limit does), lasts `window` ms, and
 * admits `limit` units. State: [start_0, count_0, start_1, count_1, ...]; a
 * fresh key's start is -Infinity (its window ended long ago).
 *
 * Shaping reserves in a later window: a full window sends the request to the
 * window that opens as it ends, so `start` may lie in the future.
 */

/** The earliest time >= now at which `w` fits in a rate's window sequence. */
function earliest(
  start: number,
  count: number,
  window: number,
  limit: number,
  now: number,
  w: number,
): number {
  if (now >= start + window) return now
  const fits = count + w <= limit
  if (start > now) return fits ? start : start + window
  return fits ? now : start + window
}

/** The fixed-window kernel: a window start and a count per rate. */
export const fixedWindow: Kernel = {
  stride: (n) => 2 * n,
  // inspect's resetMs is the time until the rate's state is fresh again, which is what ttl measures
  ttlIsLongestReset: true,
  fresh(s, o, rates) {
    for (let i = 0; i < rates.length; i++) {
      s[o + 2 * i] = Number.NEGATIVE_INFINITY
      s[o + 2 * i + 1] = 0
    }
  },
  delay(s, o, rates, now, w) {
    let delay = 0
    for (let i = 0; i < rates.length; i++) {
      const r = rates[i]!
      delay = Math.max(delay, earliest(s[o + 2 * i]!, s[o + 2 * i + 1]!, r.window, r.limit, now, w) - now)
    }
    return delay
  },
  charge(s, o, rates, _now, at, w) {
    for (let i = 0; i < rates.length; i++) {
      if (at >= s[o + 2 * i]! + rates[i]!.window) {
        s[o + 2 * i] = at
        s[o + 2 * i + 1] = w
      } else {
        s[o + 2 * i + 1] = s[o + 2 * i + 1]! + w
      }
    }
  },
  refund(s, o, rates, now, w) {
    for (let i = 0; i < rates.length; i++) {
      if (now < s[o + 2 * i]! + rates[i]!.window) s[o + 2 * i + 1] = Math.max(s[o + 2 * i + 1]! - w, 0)
    }
  },
  inspect(s, o, rates, now, out, offset) {
    for (let i = 0; i < rates.length; i++) {
      const r = rates[i]!
      const start = s[o + 2 * i]!
      const at = offset + 2 * i
      if (now >= start + r.window) {
        out[at] = r.limit
        out[at + 1] = 0
      } else {
        out[at] = start > now ? 0 : Math.max(Math.floor(r.limit - s[o + 2 * i + 1]!), 0)
        out[at + 1] = start + r.window - now
      }
    }
  },
  ttl(s, o, rates, now) {
    let ttl = 0
    for (let i = 0; i < rates.length; i++) ttl = Math.max(ttl, s[o + 2 * i]! + rates[i]!.window - now)
    return ttl
  },
  rebase(s, o, rates, delta) {
    for (let i = 0; i < rates.length; i++) s[o + 2 * i] = s[o + 2 * i]! - delta
  },
}
