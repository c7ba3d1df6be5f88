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
export type {
  FastifyRateLimitExtras,
  RateLimitHandler,
  RateLimitHook,
  RateLimitHookName,
  RateLimitOptions,
  RateLimitPluginOptions,
  RouteRateLimitConfig,
  RouteRateLimitOptions,
} from './types.js'
