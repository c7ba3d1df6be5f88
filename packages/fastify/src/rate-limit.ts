import {
  collectDecisions,
  type HttpBinding,
  HttpEngine,
  hasLimiterOptions,
  hasPolicy,
  invalidOption,
  type Limiter,
  mergeHttpOptions,
  parseHttpOptions,
} from '@tollgate/core'
import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  RouteOptions,
} from 'fastify'
import fp from 'fastify-plugin'
import type {
  RateLimitHandler,
  RateLimitHook,
  RateLimitHookName,
  RateLimitPluginOptions,
  RouteRateLimitOptions,
} from './types.js'

const WHERE = 'rateLimit'
const HOOKS: readonly RateLimitHookName[] = ['onRequest', 'preValidation', 'preHandler']
// Options Fastify's register() itself reads; they reach the plugin too.
const REGISTER_OPTIONS = new Set(['prefix', 'logLevel', 'logSerializers'])
// Validates behaviour options that come without a policy (the plugin's defaults for per-route limiters).
const PROBE_POLICY = { limit: 1, window: 1000 }

/**
 * The engine's header names as Fastify keeps them. `reply.header` lower-cases every name (and
 * sends it so): given a name that has capitals, it builds a new string per call and looks it up
 * in V8's string table to use it as a key; a lower-case literal is returned as is.
 */
const LOWER_CASE: Readonly<Record<string, string>> = {
  'RateLimit-Policy': 'ratelimit-policy',
  RateLimit: 'ratelimit',
  'RateLimit-Limit': 'ratelimit-limit',
  'RateLimit-Remaining': 'ratelimit-remaining',
  'RateLimit-Reset': 'ratelimit-reset',
  'X-RateLimit-Limit': 'x-ratelimit-limit',
  'X-RateLimit-Remaining': 'x-ratelimit-remaining',
  'X-RateLimit-Reset': 'x-ratelimit-reset',
  'Retry-After': 'retry-after',
}

const binding: HttpBinding<FastifyRequest, FastifyReply> = {
  arity: 2,
  clientIp: (request) => request.ip,
  remoteAddress: (request) => request.raw.socket?.remoteAddress,
  header: (request, _reply, name) => {
    const value = request.headers[name]
    return Array.isArray(value) ? value.join(', ') : value
  },
  response: (_request, reply) => reply.raw,
  setHeader: (_request, reply, name, value) => {
    reply.header(LOWER_CASE[name] ?? name, value)
  },
  record: (request, _reply, decision) => {
    const previous = request.rateLimit
    request.rateLimit = decision
    return collectDecisions(request, previous, decision)
  },
  send: (_request, reply, status, body) => {
    reply.code(status).header('content-type', body.contentType).send(body.body)
  },
  callHandler: (handler, request, reply, _next, decision) =>
    (handler as RateLimitHandler)(request, reply, decision),
}

function createHook(options: RouteRateLimitOptions, limiter?: Limiter): RateLimitHook {
  const { hook = 'onRequest', ...rest } = options as RouteRateLimitOptions & Record<string, unknown>
  if (!HOOKS.includes(hook))
    invalidOption(WHERE, 'hook', `one of ${HOOKS.map((h) => `'${h}'`).join(', ')}`, hook, 'type')
  const engine = new HttpEngine(WHERE, parseHttpOptions(WHERE, rest, ['hook'], limiter), binding)
  // A callback hook: no promise unless a step is async (Fastify awaits a returned thenable).
  const run = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
    const result = engine.handle(request, reply, done)
    if (typeof (result as Promise<unknown> | undefined)?.then === 'function') {
      ;(result as Promise<unknown>).then(undefined, done)
    }
  }
  return Object.assign(run, { limiter: engine.limiter, hook })
}

function withoutRegisterOptions(options: RateLimitPluginOptions | undefined): RateLimitPluginOptions {
  const own: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(options ?? {}))
    if (!REGISTER_OPTIONS.has(name)) own[name] = value
  return own as RateLimitPluginOptions
}

/**
 * Puts the route's limiters before the route's own hooks of the same kind, in their order: like
 * `app.use(rateLimit())` in Express and Koa, the limit applies before route code runs, and a
 * route's own `fastify.rateLimit()` hooks stack after the plugin's limiter.
 */
function addHooks(route: RouteOptions, limiters: readonly RateLimitHook[]): void {
  for (const name of HOOKS) {
    const mine = limiters.filter((limiter) => limiter.hook === name)
    if (mine.length === 0) continue
    const existing = route[name] as unknown
    const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]
    ;(route as unknown as Record<string, unknown>)[name] = [...mine, ...list]
  }
}

const plugin: FastifyPluginCallback<RateLimitPluginOptions> = (fastify: FastifyInstance, options, done) => {
  const defaults = withoutRegisterOptions(options)
  let shared: RateLimitHook | undefined
  try {
    if (hasPolicy(defaults)) shared = createHook(defaults as RouteRateLimitOptions)
    else {
      const probe = { ...defaults, store: undefined, ...PROBE_POLICY } as unknown as RouteRateLimitOptions
      void createHook(probe).limiter.close()
    }
  } catch (error) {
    done(error as Error)
    return
  }
  // Options that only change behaviour (key, headers, ...) run on the plugin's limiter and share
  // its counters, whatever the store; a policy, name, store (...) of their own make a limiter of their own.
  const build = (route: RouteRateLimitOptions | undefined) =>
    createHook(
      mergeHttpOptions(defaults, (route ?? {}) as RateLimitPluginOptions) as RouteRateLimitOptions,
      shared && !hasLimiterOptions(route) ? shared.limiter : undefined,
    )

  if (!fastify.hasRequestDecorator('rateLimit')) fastify.decorateRequest('rateLimit', null)
  // Typed through the module augmentation in types.ts; a cast keeps other augmentations of the name out of the way.
  if (!fastify.hasDecorator('rateLimit'))
    (fastify.decorate as (name: string, value: unknown) => void)('rateLimit', build)

  // Fastify adds a HEAD route for every GET with the same config: both share one set of limiters.
  const perConfig = new WeakMap<object, RateLimitHook[]>()
  fastify.addHook('onRoute', (route) => {
    const config = route.config?.rateLimit
    if (config === false) return
    if (config === undefined || config === null) {
      if (shared) addHooks(route, [shared])
      return
    }
    let hooks = perConfig.get(config)
    if (!hooks) {
      hooks = (Array.isArray(config) ? config : [config]).map((entry: RouteRateLimitOptions) => build(entry))
      perConfig.set(config, hooks)
    }
    addHooks(route, hooks)
  })
  done()
}

/**
 * The Fastify plugin (fastify-plugin, Fastify 4 and 5).
 *
 * ```ts
 * await fastify.register(rateLimit, { limit: 100, window: '1m' })
 * fastify.get('/login', { config: { rateLimit: { limit: 5, window: '15m' } } }, handler)
 * fastify.get('/health', { config: { rateLimit: false } }, handler)
 * ```
 *
 * Register it (and `await` the registration) before the routes it should cover. The decision is
 * on `request.rateLimit`.
 */
export const rateLimit = fp(plugin, { fastify: '4.x || 5.x', name: '@tollgate/fastify' })
