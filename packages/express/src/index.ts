export type { Decision, DecisionReason, Limiter, Store } from '@tollgate/core'
export {
  createManualClock,
  ipKey,
  memoryStore,
  TollgateError,
  TollgateRangeError,
  TollgateTypeError,
} from '@tollgate/core'
export { rateLimit } from './rate-limit.js'
export type { RateLimitHandler, RateLimitMiddleware, RateLimitOptions } from './types.js'
