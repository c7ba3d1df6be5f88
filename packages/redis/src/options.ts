import type { Duration, Logger } from '@tollgate/core'
import type { Cluster, Redis } from 'ioredis'

/**
 * The commands the store uses, on an ioredis `Redis` or `Cluster` client: `evalsha` and `eval`
 * (through the `evalshaBuffer` and `evalBuffer` variants ioredis defines for every command,
 * untyped: the scripts answer in binary), `del`, and `time` once, for the offset of Redis's clock
 * before the first script call.
 * `status` lets the store skip a disconnected client instead of queueing a
 * command in ioredis's offline queue; `isCluster` selects the Cluster protocol.
 */
export type RedisClient =
  | Pick<Redis, 'evalsha' | 'eval' | 'del' | 'time' | 'status' | 'isCluster'>
  | Pick<Cluster, 'evalsha' | 'eval' | 'del' | 'time' | 'status' | 'isCluster'>

/**
 * What the store does while Redis cannot answer (an error, a timeout, a
 * disconnected client):
 * - `'insurance'`: decide from a local memory store with the same rates
 *   (`reason: 'insurance'`); the limits hold per process.
 * - `'open'`: allow every request (`reason: 'store-unavailable'`).
 * - `'closed'`: reject every request (`reason: 'store-unavailable'`, retry after 1 s).
 */
export type FailurePolicy = 'insurance' | 'open' | 'closed'

/** Options of `redisStore`. */
export interface RedisStoreOptions {
  /** An ioredis `Redis` or `Cluster` client. The store never closes it: that stays the caller's job. */
  readonly client: RedisClient
  /**
   * Prepended to every key the store writes. Must not contain `{` or `}` (they would
   * take over the Cluster hash tag).
   * @default 'tollgate:'
   */
  readonly prefix?: string
  /**
   * Longest wait for Redis to answer one call (ms, or a string such as `'250ms'`);
   * past it the request is decided by `failure`. ioredis's own queueing never
   * makes a request wait longer.
   * @default 100
   */
  readonly timeout?: Duration
  /** What to do while Redis cannot answer. @default 'insurance' */
  readonly failure?: FailurePolicy
  /**
   * The local deny cache: a key Redis reported blocked until time X is rejected
   * locally, without a round trip, until X. `max` bounds the keys remembered
   * (least recently used first out); `false` turns the cache off.
   * @default { max: 10_000 }
   */
  readonly denyCache?: false | { readonly max?: number }
  /**
   * Keys the insurance store tracks per policy while Redis is unreachable
   * (`failure: 'insurance'`), as `memoryStore({ max })`.
   * @default 100_000
   */
  readonly insuranceMax?: number
  /** Where outages (once per outage) and recoveries are reported. @default console */
  readonly logger?: Logger
  /**
   * The clock the scripts decide with. `'redis'`: Redis `TIME`, so app servers
   * whose clocks disagree still share one limit. `'caller'`: the limiter's clock,
   * for deterministic tests and simulations only (keys then live an extra hour,
   * because Redis expires them on its own clock; the scripts ignore state past
   * its freshness, so decisions are unaffected).
   * @default 'redis'
   */
  readonly clock?: 'redis' | 'caller'
}
