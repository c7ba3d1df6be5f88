import type { CompiledRate } from '../policy.js'
import { ceilDiv, floorDiv, type Kernel } from './kernel.js'

/*
 * GCRA (generic cell rate algorithm). State: the theoretical arrival time
 * (TAT) of each rate, in the rate's exact time units (see CompiledRate); a
 * fresh key's TAT is -Infinity. A request of weight w fits at time t iff
 * max(TAT, t) + w*T - t <= tau. The per-rate helpers below are shared with the
 * bucket algorithms, which keep a different state but translate it to a TAT.
 */

/** Milliseconds from `now` until weight `w` conforms, given the rate's TAT. */
export function tatDelay(tat: number, r: CompiledRate, now: number, w: number): number {
  const nowU = now * r.u
  return ceilDiv(Math.max(tat, nowU) + w * r.T - r.tau - nowU, r.u)
}

/** The TAT after charging `w` at `at`. */
export function tatCharge(tat: number, r: CompiledRate, at: number, w: number): number {
  return Math.max(tat, at * r.u) + w * r.T
}

/** The TAT after giving `w` back, never earlier than `now` (a fresh key). */
export function tatRefund(tat: number, r: CompiledRate, now: number, w: number): number {
  return Math.max(tat - w * r.T, now * r.u)
}

/** Writes remaining and resetMs for a rate whose TAT is `tat`. */
export function tatInspect(tat: number, r: CompiledRate, now: number, out: number[], at: number): void {
  backlogInspect(Math.max(tat - now * r.u, 0), r.u, r.T, r.tau, out, at)
}

/**
 * Writes remaining and resetMs at `out[at]`, `out[at + 1]` for a bucket rate (parameters `u`, `T`,
 * `tau` of its {@link CompiledRate}) whose backlog, `TAT − now` in the rate's scaled units, is
 * `backlog` (≥ 0). Stores that keep backlogs elsewhere (the Redis store) report rates with it.
 */
export function backlogInspect(
  backlog: number,
  u: number,
  T: number,
  tau: number,
  out: number[],
  at: number,
): void {
  out[at] = Math.max(floorDiv(tau - backlog, T), 0)
  out[at + 1] = ceilDiv(backlog, u)
}

/** The GCRA kernel: one TAT per rate (see the comment at the top of this file). */
export const gcra: Kernel = {
  stride: (n) => n,
  // inspect's resetMs is the time until the rate's state is fresh again, which is what ttl measures
  ttlIsLongestReset: true,
  fresh(s, o, rates) {
    for (let i = 0; i < rates.length; i++) s[o + i] = Number.NEGATIVE_INFINITY
  },
  delay(s, o, rates, now, w) {
    let delay = 0
    for (let i = 0; i < rates.length; i++) delay = Math.max(delay, tatDelay(s[o + i]!, rates[i]!, now, w))
    return delay
  },
  charge(s, o, rates, _now, at, w) {
    for (let i = 0; i < rates.length; i++) s[o + i] = tatCharge(s[o + i]!, rates[i]!, at, w)
  },
  refund(s, o, rates, now, w) {
    for (let i = 0; i < rates.length; i++) s[o + i] = tatRefund(s[o + i]!, rates[i]!, now, w)
  },
  inspect(s, o, rates, now, out, offset) {
    for (let i = 0; i < rates.length; i++) tatInspect(s[o + i]!, rates[i]!, now, out, offset + 2 * i)
  },
  ttl(s, o, rates, now) {
    let ttl = 0
    for (let i = 0; i < rates.length; i++) {
      const r = rates[i]!
      ttl = Math.max(ttl, ceilDiv(s[o + i]! - now * r.u, r.u))
    }
    return ttl
  },
  rebase(s, o, rates, delta) {
    for (let i = 0; i < rates.length; i++) s[o + i] = s[o + i]! - delta * rates[i]!.u
  },
}
