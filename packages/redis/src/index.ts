export type { FailurePolicy, RedisClient, RedisStoreOptions } from './options.js'
export { RedisStore, redisStore } from './redis-store.js'
export type { Script } from './scripts/index.js'
export { SCRIPTS } from './scripts/index.js'
