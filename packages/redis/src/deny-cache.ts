import type { StoreOutcome } from '@tollgate/core'
import { LRUCache } from 'lru-cache'

interface Entry {
  /** The request's Redis keys: an entry answers only the same combination of targets. */
  readonly keys: string
  /** Time (the store's local clock, ms) before which a request of weight 1 cannot be allowed. */
  readonly until: number
  /** When the entry was made. */
  readonly at: number
  readonly rates: readonly number[]
  readonly blockedBy: number
}

/**
 * Remembers keys Redis reported blocked. A request of weight 1 rejected with
 * `delayForOne = D` at time t cannot pass before t + D (its delay only grows
 * with other charges and only falls by the time that passes), and a heavier
 * request waits at least as long: until then any request of weight >= 1 is
 * rejected locally. A refund or reset made through this store forgets the key;
 * one made by another process is not seen, so such a key may be rejected
 * locally for at most the remaining time of the entry.
 *
 * Entries are keyed by the request's first Redis key (the client's key), so a
 * refund or reset can find them; the LRU bound keeps memory flat under a flood.
 * Times are on the store's local clock, taken before the Redis call (so an
 * entry never outlives the real block).
 */
export class DenyCache {
  private readonly entries: LRUCache<string, Entry>

  constructor(max: number) {
    this.entries = new LRUCache({ max })
  }

  /** A local rejection, or `undefined` when Redis must decide. */
  check(own: string, keys: string, weight: number, maxDelay: number, now: number): StoreOutcome | undefined {
    // Nobody blocked (the common case): no lookup, whose new key string would be hashed first.
    if (this.entries.size === 0 || weight < 1 || maxDelay === Number.POSITIVE_INFINITY) return undefined
    const entry = this.entries.get(own)
    if (entry === undefined || entry.keys !== keys) return undefined
    const wait = entry.until - now
    if (wait <= 0) {
      this.entries.delete(own)
      return undefined
    }
    if (wait <= maxDelay) return undefined
    const elapsed = now - entry.at
    const rates = entry.rates.map((value, i) =>
      i % 2 === 1 && elapsed > 0 ? Math.max(0, value - elapsed) : value,
    )
    return { allowed: false, delayMs: 0, retryAfterMs: wait - maxDelay, rates, blockedBy: entry.blockedBy }
  }

  remember(own: string, keys: string, delayForOne: number, outcome: StoreOutcome, now: number): void {
    if (delayForOne <= 0) return
    this.entries.set(own, {
      keys,
      until: now + delayForOne,
      at: now,
      rates: outcome.rates,
      blockedBy: outcome.blockedBy,
    })
  }

  forget(own: string): void {
    this.entries.delete(own)
  }

  clear(): void {
    this.entries.clear()
  }
}
