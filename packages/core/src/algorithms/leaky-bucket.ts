import type { CompiledRate } from '../policy.js'
import { tatCharge, tatDelay, tatInspect, tatRefund } from './gcra.js'
import { ceilDiv, type Kernel } from './kernel.js'

/*
 * Leaky bucket as a meter: each request pours its weight in, the level drains
 * at `limit / window`, and a request that would overflow `burst` does not
 * conform. State: [t, level_0, level_1, ...], levels in the rate's exact time
 * units (one unit of weight is `T`, a full bucket is `tau`). A reservation in
 * the future (shaping) may leave the level above `tau` until it drains.
 *
 * The level is GCRA's backlog, `level = TAT - t`: the two share one decision
 * rule and therefore decide identically.
 */

/** The rate's TAT now, derived from its level. */
function tat(s: Float64Array, o: number, r: CompiledRate, i: number, now: number): number {
  return now * r.u + Math.max(s[o + 1 + i]! - (now - s[o]!) * r.u, 0)
}

/** The leaky-bucket kernel: a level per rate, deciding as GCRA does. */
export const leakyBucket: Kernel = {
  stride: (n) => n + 1,
  // inspect's resetMs is the time until the rate's state is fresh again, which is what ttl measures
  ttlIsLongestReset: true,
  fresh(s, o, rates, now) {
    s[o] = now
    for (let i = 0; i < rates.length; i++) s[o + 1 + i] = 0
  },
  delay(s, o, rates, now, w) {
    let delay = 0
    for (let i = 0; i < rates.length; i++)
      delay = Math.max(delay, tatDelay(tat(s, o, rates[i]!, i, now), rates[i]!, now, w))
    return delay
  },
  charge(s, o, rates, now, at, w) {
    for (let i = 0; i < rates.length; i++) {
      const r = rates[i]!
      s[o + 1 + i] = tatCharge(tat(s, o, r, i, now), r, at, w) - now * r.u
    }
    s[o] = now
  },
  refund(s, o, rates, now, w) {
    for (let i = 0; i < rates.length; i++) {
      const r = rates[i]!
      s[o + 1 + i] = tatRefund(tat(s, o, r, i, now), r, now, w) - now * r.u
    }
    s[o] = now
  },
  inspect(s, o, rates, now, out, offset) {
    for (let i = 0; i < rates.length; i++)
      tatInspect(tat(s, o, rates[i]!, i, now), rates[i]!, now, out, offset + 2 * i)
  },
  ttl(s, o, rates, now) {
    let ttl = 0
    for (let i = 0; i < rates.length; i++) {
      const r = rates[i]!
      ttl = Math.max(ttl, ceilDiv(tat(s, o, r, i, now) - now * r.u, r.u))
    }
    return ttl
  },
  rebase(s, o, _rates, delta) {
    s[o] = s[o]! - delta
  },
}
