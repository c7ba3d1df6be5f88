import type { Store } from './store.js'

/** A reservation (`reserve`, `acquire`, delay mode) whose slot has not come yet. */
export interface Reservation {
  /** Store time (ms) at which the slot comes. */
  readonly at: number
  /** Units to refund once it may be given back. */
  readonly weight: number
  /** Given back by its holder; its units wait until no later reservation of the counter still waits. */
  cancelled: boolean
}

// The map is swept of reservations whose slot has come when it grows past twice its size after the
// last sweep (and at least this): amortised O(1) per reservation, bounded by the waiting ones.
const MIN_SWEEP = 1024

/**
 * The reservations still waiting for their slot, per counter (namespace and key) of one store.
 *
 * Giving a reservation back by refunding its units is exact only when it is the last one of its
 * counter: the counter's state (a GCRA TAT, a bucket level) is the sum of every reservation, and a
 * refund of one in the middle lowers it below the slots of the later waiters, so the next newcomer
 * would get the same slot as one of them (two requests at once where the policy admits one).
 * So a cancelled reservation is refunded only once every reservation after it has been cancelled
 * too (the tail of the schedule shrinks); until then its slot goes unused.
 */
export class Reservations {
  private readonly byCounter = new Map<string, Reservation[]>()
  private sweepAbove = MIN_SWEEP

  /** Records a reservation of `weight` units whose slot comes at `at`. */
  add(counter: string, at: number, weight: number, now: number): Reservation {
    const reservation: Reservation = { at, weight, cancelled: false }
    const list = this.byCounter.get(counter)
    if (list === undefined) {
      this.byCounter.set(counter, [reservation])
      if (this.byCounter.size > this.sweepAbove) this.sweep(now)
    } else {
      prune(list, now)
      list.push(reservation)
    }
    return reservation
  }

  /**
   * Cancels a reservation and returns the units to refund now: its own and those of the
   * cancelled reservations just before it, when it ends the schedule; 0 when a later
   * reservation still waits, or when its slot has already come (it is in use).
   */
  cancel(counter: string, reservation: Reservation, now: number): number {
    if (reservation.cancelled || reservation.at <= now) return 0
    reservation.cancelled = true
    const list = this.byCounter.get(counter)
    if (list === undefined) return 0
    prune(list, now)
    let units = 0
    while (list.length > 0 && list[list.length - 1]!.cancelled) units += list.pop()!.weight
    if (list.length === 0) this.byCounter.delete(counter)
    return units
  }

  private sweep(now: number): void {
    for (const [counter, list] of this.byCounter) {
      prune(list, now)
      if (list.length === 0) this.byCounter.delete(counter)
    }
    this.sweepAbove = Math.max(MIN_SWEEP, 2 * this.byCounter.size)
  }
}

/** Drops the reservations whose slot has come (they are in use and can no longer be given back). */
function prune(list: Reservation[], now: number): void {
  let used = 0
  while (used < list.length && list[used]!.at <= now) used++
  if (used > 0) list.splice(0, used)
}

const registry = new WeakMap<Store, Reservations>()

/** The waiting reservations of every limiter on `store` in this process. */
export function reservationsOf(store: Store): Reservations {
  let reservations = registry.get(store)
  if (reservations === undefined) {
    reservations = new Reservations()
    registry.set(store, reservations)
  }
  return reservations
}
