import type { CompiledRate } from './policy.js'
import type { StoreOutcome } from './store.js'
import type { Decision } from './types.js'

/**
 * The decision of a charge on a one-rate policy without a global ceiling (and not too heavy),
 * from the memory store's outcome: what the limiter's general `toDecision` builds, field for field
 * and in the same order, in one object literal, without its loop and its holey rates array.
 */
export function oneRateDecision(
  key: string | undefined,
  weight: number,
  rate: CompiledRate,
  outcome: StoreOutcome,
): Decision {
  const allowed = outcome.allowed
  const remaining = outcome.rates[0]!
  const resetMs = outcome.rates[1]!
  return {
    allowed,
    key,
    weight,
    limit: rate.limit,
    remaining,
    resetMs,
    retryAfterMs: allowed ? 0 : outcome.retryAfterMs,
    delayMs: allowed ? outcome.delayMs : 0,
    rates: [
      {
        name: rate.name,
        limit: rate.limit,
        window: rate.window,
        quotaUnit: rate.quotaUnit,
        remaining,
        resetMs,
        global: false,
      },
    ],
    reason: key === undefined ? 'fallback' : allowed ? 'ok' : 'limited',
  }
}
