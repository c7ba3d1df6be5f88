export { backlogInspect } from './algorithms/gcra.js'
export type { Kernel } from './algorithms/index.js'
export { kernelFor } from './algorithms/index.js'
export type { Clock, ManualClock } from './clock.js'
export { createManualClock, systemClock } from './clock.js'
export type { Duration } from './duration.js'
export { parseDuration } from './duration.js'
export type { TollgateErrorCode } from './errors.js'
export {
  invalidOption,
  rejectUnknownOptions,
  TollgateError,
  TollgateRangeError,
  TollgateTypeError,
} from './errors.js'
export type { HeaderFormat, HeaderOptions, Headers } from './headers.js'
export {
  draft6Headers,
  draft7Headers,
  draft8Headers,
  legacyHeaders,
  rateLimitHeaders,
  retryAfterHeader,
  sfString,
  toSeconds,
} from './headers.js'
export type { HttpBinding, HttpResponseLike } from './http/engine.js'
export { collectDecisions, HttpEngine } from './http/engine.js'
export { ipKey } from './http/ip-key.js'
export type {
  HttpConfig,
  HttpFailurePolicy,
  HttpLimitBehaviour,
  HttpLimitMode,
  HttpPolicyFields,
  HttpRateLimitOptions,
} from './http/options.js'
export {
  HTTP_OPTIONS,
  hasLimiterOptions,
  hasPolicy,
  mergeHttpOptions,
  parseHttpOptions,
} from './http/options.js'
export type { HttpBody, HttpMessage } from './http/respond.js'
export { failureBody, limitedBody, limitedMessage, messageBody, prefersJson } from './http/respond.js'
export type { Limiter, RateInfo, Result, WrapOptions } from './limiter.js'
export { checkKey, checkWeight, createLimiter, RateLimitError } from './limiter.js'
export type { MemoryStoreOptions } from './memory-store.js'
export { MemoryStore, memoryStore } from './memory-store.js'
export type { CompiledPolicy, CompiledRate } from './policy.js'
export { ALGORITHMS, compilePolicy } from './policy.js'
export type {
  Store,
  StoreFallbackReason,
  StoreOutcome,
  StoreRequest,
  StoreTarget,
  SyncStore,
} from './store.js'
export type {
  AcquireOptions,
  Algorithm,
  ConsumeOptions,
  Decision,
  DecisionReason,
  LimiterOptions,
  Logger,
  MaybePromise,
  PolicyOptions,
  RateOptions,
  RateStatus,
} from './types.js'
