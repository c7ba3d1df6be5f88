import { createLimiter, type Limiter, type Store } from '@tollgate/core'
import { type RedisClient, type RedisStore, redisStore } from '@tollgate/redis'
import type { Cluster, Redis } from 'ioredis'
import { expectTypeOf, test } from 'vitest'

declare const redis: Redis
declare const cluster: Cluster

test('takes an ioredis Redis or Cluster client', () => {
  expectTypeOf<Redis>().toExtend<RedisClient>()
  expectTypeOf<Cluster>().toExtend<RedisClient>()
  expectTypeOf(redisStore({ client: cluster })).toEqualTypeOf<RedisStore>()
  expectTypeOf<RedisStore>().toExtend<Store>()
})

test('a limiter on it answers with promises', () => {
  const limiter = createLimiter({ limit: 10, window: '1m', store: redisStore({ client: redis }) })
  expectTypeOf(limiter).toEqualTypeOf<Limiter<false>>()
})

test('options are checked by the compiler too', () => {
  // @ts-expect-error: not a failure policy
  redisStore({ client: redis, failure: 'maybe' })
  // @ts-expect-error: a client is required
  redisStore({ prefix: 'x:' })
  redisStore({ client: redis, timeout: '250ms', denyCache: false, clock: 'redis' })
})
