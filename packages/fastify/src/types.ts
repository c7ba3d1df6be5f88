import type { Decision, HttpLimitBehaviour, Limiter, PolicyOptions } from '@tollgate/core'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** Answers a rejected request yourself (`reply.code(...).send(...)`); the rate-limit headers are already set. */
export type RateLimitHandler = (request: FastifyRequest, reply: FastifyReply, decision: Decision) => unknown

/** The request lifecycle hook a limiter runs in. `'preHandler'` sees `request.body` and what auth hooks set. */
export type RateLimitHookName = 'onRequest' | 'preValidation' | 'preHandler'

/** Fastify-only options. */
export interface FastifyRateLimitExtras {
  /** The lifecycle hook the limiter runs in. @default 'onRequest' */
  readonly hook?: RateLimitHookName
}

type Behaviour = HttpLimitBehaviour<[request: FastifyRequest, reply: FastifyReply], RateLimitHandler> &
  FastifyRateLimitExtras

/** No policy of its own: a route's options then inherit the plugin's policy. */
interface NoPolicy {
  readonly limit?: never
  readonly window?: never
  readonly burst?: never
  readonly quotaUnit?: never
  readonly rates?: never
}

/** Options of one limiter: a policy (`limit` + `window` [+ `burst`], or `rates`) and the behaviour options. */
export type RateLimitOptions = PolicyOptions & Behaviour

/**
 * Options of the plugin: defaults for every route. With a policy, every route registered after
 * the plugin is limited by one shared limiter; without one, only routes that set `config.rateLimit`.
 */
export type RateLimitPluginOptions = (PolicyOptions | NoPolicy) & Behaviour

/**
 * A route's (or `fastify.rateLimit()`'s) options, merged over the plugin's. Giving a policy
 * replaces the plugin's policy (and `name`) for this limiter, with counters of its own. Options
 * that only change behaviour (`key`, `headers`, `message`, ...) run on the plugin's limiter and
 * share its counters; a `name`, `store`, `algorithm`, `fallback`, `global`, `clock` or `logger`
 * of their own make a separate limiter with the plugin's rates.
 */
export type RouteRateLimitOptions = (PolicyOptions | NoPolicy) & Behaviour

/**
 * `config.rateLimit` of a route: options of a limiter that replaces the plugin's default on this
 * route, a list of them (stacked; every policy appears in the headers), or `false` for none.
 */
export type RouteRateLimitConfig = RouteRateLimitOptions | readonly RouteRateLimitOptions[] | false

/** A limiter as a Fastify hook (`onRequest`, `preValidation`, `preHandler`), with the limiter it runs. */
export interface RateLimitHook {
  (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void
  readonly limiter: Limiter
  /** The hook the limiter was configured for. */
  readonly hook: RateLimitHookName
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The decision of the last `@tollgate/fastify` limiter that ran on this request; `null` before any. */
    rateLimit: Decision | null
  }
  interface FastifyContextConfig {
    /** This route's limiters: options (merged over the plugin's), a list of them, or `false` for none. */
    rateLimit?: RouteRateLimitConfig
  }
  interface FastifyInstance {
    /**
     * Builds a limiter hook from options merged over the plugin's, for routes and hooks the plugin's
     * default does not cover: `fastify.setNotFoundHandler({ preHandler: fastify.rateLimit() }, handler)`.
     * Stacks with the plugin's default when used in a route's own hooks.
     */
    rateLimit(options?: RouteRateLimitOptions): RateLimitHook
  }
}
