import type { CompiledRate } from '../policy.js'
import { tatCharge, tatDelay, tatInspect, tatRefund } from './gcra.js'
import { ceilDiv, type Kernel } from './kernel.js'

/*
 * Token bucket: capacity `burst`, refilled at `limit / window`.
 * State: [t, tokens_0, tokens_1, ...], where t is the time of the last update
 * (ms) and tokens are counted in the rate's exact time units (a full bucket
 * holds `tau`; one unit of weight costs `T`). A reservation in the future
 * (shaping) leaves the bucket in debt: tokens may be negative.
 *
 * Tokens and GCRA's TAT describe the same quantity, `tau - tokens = TAT - t`;
 * translating lets both share one decision rule, so they decide identically.
 */

/** The rate's TAT now, derived from its token count. */
function tat(s: Float64Array, o: number, r: CompiledRate, i: number, now: number): number {
  const tokens = Math.min(s[o + 1 + i]! + (now - s[o]!) * r.u, r.tau)
  return now * r.u + (r.tau - tokens)
}

function tokensOf(tat: number, r: CompiledRate, now: number): number {
  return r.tau - (tat - now * r.u)
}

/** The token-bucket kernel: tokens per rate, deciding as GCRA does. */
export const tokenBucket: Kernel = {
  stride: (n) => n + 1,
  // inspect's resetMs is the time until the rate's state is fresh again, which is what ttl measures
  ttlIsLongestReset: true,
  fresh(s, o, rates, now) {
    s[o] = now
    for (let i = 0; i < rates.length; i++) s[o + 1 + i] = rates[i]!.tau
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
      s[o + 1 + i] = tokensOf(tatCharge(tat(s, o, r, i, now), r, at, w), r, now)
    }
    s[o] = now
  },
  refund(s, o, rates, now, w) {
    for (let i = 0; i < rates.length; i++) {
      const r = rates[i]!
      s[o + 1 + i] = tokensOf(tatRefund(tat(s, o, r, i, now), r, now, w), r, now)
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
