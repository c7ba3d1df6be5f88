/*
 * The HTTP apps of the overhead benchmark: a framework, bare or with one rate
 * limiter (limit never reached), built the same way for a listening server
 * (workers/server.ts), for in-process injection (workers/inject.ts) and for
 * running the limiter's middleware alone on a real request (workers/middleware.ts).
 */
import { createServer, IncomingMessage, type RequestListener, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import fastifyRateLimit from '@fastify/rate-limit'
import express from 'express'
import { type Store as ErlStore, rateLimit as expressRateLimit, MemoryStore } from 'express-rate-limit'
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type onRequestHookHandler,
} from 'fastify'
import { Redis } from 'ioredis'
import Koa from 'koa'
import koaRatelimit from 'koa-ratelimit'
import inject from 'light-my-request'
import { type RedisReply, RedisStore } from 'rate-limit-redis'
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible'
import { HIGH_LIMIT, KEY_HEADER, WINDOW_MS } from './common.ts'
import { floorGcra, floorRateLimitHeader } from './floor.ts'
import { importTollgate } from './packages.ts'
import type {
  AdapterOptions,
  ExpressModule,
  FastifyModule,
  KoaModule,
  RedisModule,
} from './tollgate-types.ts'

export type Framework = 'express' | 'fastify' | 'koa'
export type Variant =
  | 'bare'
  /**
   * A second bare server, measured as a limiter is: the HTTP section's A/A control, whose ratio
   * to bare shows how far the harness itself strays from 1.00.
   */
  | 'control'
  /** A pass-through middleware: what any limiter pays for being one. */
  | 'noop'
  /** A pass-through middleware that sets the two draft-8 headers Tollgate sends, as constants. */
  | 'headers'
  | 'tollgate'
  /** Tollgate's adapter exactly as `tollgate`, with `headers: false`: the limiter without its two headers. */
  | 'tollgate-no-headers'
  /**
   * Two Tollgate limiters on every request, as the README's first example stacks a global one and
   * one on a route (names `global` and `route`, both never reached): the headers list both.
   */
  | 'tollgate-stacked'
  /**
   * The least a limiter sending the standard headers does: {@link floorGcra} keyed by the socket's
   * address (no proxy handling), and Tollgate's two draft-8 headers with their values.
   */
  | 'floor'
  | 'express-rate-limit'
  | 'rate-limiter-flexible'
  | '@fastify/rate-limit'
  | 'koa-ratelimit'

export interface ServerSpec {
  readonly framework: Framework
  readonly variant: Variant
  readonly store: 'memory' | 'redis'
  /** `one`: every request is the same client (the default key, its IP); `many`: the key is the x-key header. */
  readonly keys: 'one' | 'many'
  readonly redisPort?: number
}

/**
 * Where the core keeps the decisions of stacked limiters on a Koa context or a Fastify request
 * (`collectDecisions`). A probe reusing one request clears it with the decision property, as a fresh
 * request would have neither.
 */
const STACK = Symbol.for('tollgate.decisions')

// The draft-8 headers Tollgate sends for limit 10^9 per hour, as constants.
const POLICY_HEADER = '"default";q=1000000000;w=3600'
const RATELIMIT_HEADER = '"default";r=999999999;t=1'
const headerKey = (req: IncomingMessage): string => String(req.headers[KEY_HEADER])
let redis: Redis | undefined
let redisPort: number | undefined
const redisClient = (): Redis => {
  if (redisPort === undefined) throw new Error('redis store without a redisPort')
  redis ??= new Redis({ host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: 1 })
  return redis
}

async function tollgateOptions(
  spec: ServerSpec,
  keyOf: (...args: never[]) => string | undefined,
): Promise<AdapterOptions> {
  const many = spec.keys === 'many'
  const store =
    spec.store === 'redis'
      ? (await importTollgate<RedisModule>('redis')).redisStore({ client: redisClient() })
      : undefined
  return {
    limit: HIGH_LIMIT,
    window: WINDOW_MS,
    ...(store ? { store } : {}),
    ...(many ? { key: keyOf } : {}),
    ...(spec.variant === 'tollgate-no-headers' ? { headers: false } : {}),
  }
}

/** The two limiters of `tollgate-stacked`: {@link tollgateOptions}, named. */
async function stackedOptions(
  spec: ServerSpec,
  keyOf: (...args: never[]) => string | undefined,
): Promise<[AdapterOptions, AdapterOptions]> {
  const options = await tollgateOptions(spec, keyOf)
  return [
    { ...options, name: 'global' },
    { ...options, name: 'route' },
  ]
}

function flexible(spec: ServerSpec): RateLimiterAbstract {
  const options = { points: HIGH_LIMIT, duration: WINDOW_MS / 1000 }
  return spec.store === 'redis'
    ? new RateLimiterRedis({ ...options, storeClient: redisClient() })
    : new RateLimiterMemory(options)
}

async function expressApp(spec: ServerSpec, probe?: Probe): Promise<RequestListener> {
  const app = express()
  const limiter = await expressLimiter(spec)
  if (probe) {
    const tollgate = spec.variant.startsWith('tollgate')
    app.use((req, res, next) => {
      const run: Step = (done) => {
        const [freshReq, freshRes] = likeExpress(req, res)
        // Express's next returns nothing (the adapter would wait on a returned promise).
        return limiter
          ? limiter(freshReq, freshRes, () => {
              // The probe measures the path of a server's requests: the adapter's decision
              // accessor, not a property added to each request (its fallback off Node's chain).
              if (tollgate && Object.hasOwn(freshReq, 'rateLimit'))
                throw new Error('express probe: Tollgate added req.rateLimit (its accessor is not in use)')
              void done()
            })
          : done()
      }
      probe(run).then(() => next(), next)
    })
  } else if (limiter) app.use(limiter)
  app.get('/', (_req, res) => {
    res.send('ok')
  })
  return app
}

/**
 * A new request and response as Express hands them to a middleware, modelled on the probing
 * request's: Node's own objects, given the app's prototypes (`Object.setPrototypeOf`, as
 * Express does to each request) and the properties Express and its router add before the first
 * middleware. V8 gives each such object a shape of its own, so every property access of a
 * middleware misses its inline caches, as it does in a server; on one reused request the caches
 * stay warm and hide that cost. Bare builds them too, so its figure, subtracted, takes them out.
 */
function likeExpress(req: express.Request, res: express.Response): [express.Request, express.Response] {
  const freshReq = new IncomingMessage(req.socket)
  freshReq.method = req.method
  freshReq.url = req.url
  freshReq.headers = req.headers
  const freshRes = new ServerResponse(freshReq)
  const r = freshReq as unknown as Record<string, unknown>
  const s = freshRes as unknown as Record<string, unknown>
  r.res = freshRes
  s.req = freshReq
  Object.setPrototypeOf(freshReq, Object.getPrototypeOf(req))
  Object.setPrototypeOf(freshRes, Object.getPrototypeOf(res))
  s.locals = Object.create(null)
  r.next = req.next
  r.baseUrl = req.baseUrl
  r.originalUrl = req.originalUrl
  r.params = req.params
  return [freshReq as unknown as express.Request, freshRes as unknown as express.Response]
}

async function expressLimiter(spec: ServerSpec): Promise<express.RequestHandler | undefined> {
  const many = spec.keys === 'many'
  switch (spec.variant) {
    case 'bare':
    case 'control':
      return undefined
    case 'noop':
      return (_req, _res, next) => next()
    case 'headers':
      return (_req, res, next) => {
        res.setHeader('RateLimit-Policy', POLICY_HEADER)
        res.setHeader('RateLimit', RATELIMIT_HEADER)
        next()
      }
    case 'floor': {
      const decide = floorGcra()
      return (req, res, next) => {
        const decision = decide(many ? headerKey(req) : (req.socket.remoteAddress ?? ''))
        res.setHeader('RateLimit-Policy', POLICY_HEADER)
        res.setHeader('RateLimit', floorRateLimitHeader(decision))
        if (decision.allowed) next()
        else res.status(429).send('Too Many Requests')
      }
    }
    case 'tollgate':
    case 'tollgate-no-headers': {
      const { rateLimit } = await importTollgate<ExpressModule>('express')
      return rateLimit(await tollgateOptions(spec, headerKey as never)) as express.RequestHandler
    }
    case 'tollgate-stacked': {
      const { rateLimit } = await importTollgate<ExpressModule>('express')
      const [global, route] = (await stackedOptions(spec, headerKey as never)).map(
        (options) => rateLimit(options) as express.RequestHandler,
      ) as [express.RequestHandler, express.RequestHandler]
      return (req, res, next) => global(req, res, () => route(req, res, next))
    }
    case 'express-rate-limit': {
      const store: ErlStore =
        spec.store === 'redis'
          ? new RedisStore({
              sendCommand: (command: string, ...args: string[]) =>
                redisClient().call(command, ...args) as Promise<RedisReply>,
            })
          : new MemoryStore()
      return expressRateLimit({
        windowMs: WINDOW_MS,
        limit: HIGH_LIMIT,
        store,
        ...(many ? { keyGenerator: (req) => headerKey(req) } : {}),
      })
    }
    case 'rate-limiter-flexible': {
      // The middleware rate-limiter-flexible's docs show for Express.
      const limiter = flexible(spec)
      return (req, res, next) => {
        limiter
          .consume(many ? headerKey(req) : (req.ip ?? ''))
          .then(() => next())
          .catch(() => res.status(429).send('Too Many Requests'))
      }
    }
    default:
      throw new Error(`no ${spec.variant} for express`)
  }
}

async function fastifyApp(spec: ServerSpec, probe?: Probe): Promise<FastifyInstance> {
  const many = spec.keys === 'many'
  const stacked = spec.variant === 'tollgate-stacked'
  const app = Fastify({ logger: false })
  // For a probe, the limiter's hooks: the helpers' own, and those a plugin adds to the route.
  let hooks: onRequestHookHandler[] = []
  // A route config for the limiters that take theirs from it (`tollgate-stacked`).
  let routeConfig: Record<string, unknown> = {}
  const addHook = (hook: onRequestHookHandler) => {
    if (probe) hooks.push(hook)
    else app.addHook('onRequest', hook)
  }
  switch (spec.variant) {
    case 'bare':
    case 'control':
      break
    case 'noop':
      addHook((_request, _reply, done) => done())
      break
    case 'headers':
      addHook((_request, reply, done) => {
        reply.header('RateLimit-Policy', POLICY_HEADER)
        reply.header('RateLimit', RATELIMIT_HEADER)
        done()
      })
      break
    case 'floor': {
      const decide = floorGcra()
      addHook((request, reply, done) => {
        const decision = decide(
          many ? String(request.headers[KEY_HEADER]) : (request.socket.remoteAddress ?? ''),
        )
        reply.header('RateLimit-Policy', POLICY_HEADER)
        reply.header('RateLimit', floorRateLimitHeader(decision))
        if (decision.allowed) done()
        else reply.code(429).send('Too Many Requests')
      })
      break
    }
    case 'tollgate':
    case 'tollgate-no-headers': {
      const mod = await importTollgate<FastifyModule>('fastify')
      const plugin = (mod.rateLimit ?? mod.default) as Parameters<typeof app.register>[0]
      const keyOf = (request: { headers: IncomingMessage['headers'] }) => String(request.headers[KEY_HEADER])
      await app.register(plugin, (await tollgateOptions(spec, keyOf as never)) as never)
      break
    }
    case 'tollgate-stacked': {
      // As the Fastify adapter stacks limiters: the plugin, and a list in the route's config.
      const mod = await importTollgate<FastifyModule>('fastify')
      const plugin = (mod.rateLimit ?? mod.default) as Parameters<typeof app.register>[0]
      const keyOf = (request: { headers: IncomingMessage['headers'] }) => String(request.headers[KEY_HEADER])
      await app.register(plugin, {} as never)
      routeConfig = { rateLimit: await stackedOptions(spec, keyOf as never) }
      break
    }
    case '@fastify/rate-limit':
      await app.register(fastifyRateLimit, {
        max: HIGH_LIMIT,
        timeWindow: WINDOW_MS,
        ...(spec.store === 'redis' ? { redis: redisClient() } : {}),
        ...(many ? { keyGenerator: (request) => String(request.headers[KEY_HEADER]) } : {}),
      })
      break
    default:
      throw new Error(`no ${spec.variant} for fastify`)
  }
  if (probe) {
    app.addHook('onRoute', (route) => {
      if (route.method !== 'GET' || route.onRequest === undefined) return
      hooks = hooks.concat(route.onRequest)
    })
    // Instance hooks run before a route's own: the probe runs the limiter's before Fastify does.
    app.addHook('onRequest', (request, reply, done) => {
      const chain = new HookChain(app, hooks, request, reply)
      // A fresh request's state: the adapter keeps its decision here (decorated as null).
      const reset = request as { rateLimit?: unknown; [STACK]?: unknown }
      const run: Step = (next) => {
        reset.rateLimit = null
        if (stacked) reset[STACK] = undefined
        chain.run(next)
      }
      probe(run).then(() => {
        // The route runs its hooks next, as on any request: on a fresh state too.
        reset.rateLimit = null
        if (stacked) reset[STACK] = undefined
        done()
      }, done)
    })
  }
  app.get('/', { config: routeConfig }, async () => 'ok')
  await app.ready()
  return app
}

/**
 * Runs onRequest hooks in order as Fastify does (each with a callback, or awaited when it returns a
 * promise), then `next`. One per request, reused at each step: tsx gives every named closure a
 * `name` property at creation, which would cost more than the hooks under test.
 */
class HookChain {
  private i = 0
  private next: () => unknown = () => undefined

  constructor(
    private readonly app: FastifyInstance,
    private readonly hooks: readonly onRequestHookHandler[],
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
  ) {}

  run(next: () => unknown): void {
    this.i = 0
    this.next = next
    this.step()
  }

  private readonly step = (error?: Error): void => {
    if (error) throw error
    if (this.i === this.hooks.length) {
      this.next()
      return
    }
    const hook = this.hooks[this.i++]!
    const result = hook.call(this.app, this.request, this.reply, this.step) as unknown
    if (typeof (result as Promise<unknown> | undefined)?.then === 'function')
      (result as Promise<unknown>).then(() => this.step(), this.step)
  }
}

async function koaApp(spec: ServerSpec, probe?: Probe): Promise<RequestListener> {
  const app = new Koa()
  const stacked = spec.variant === 'tollgate-stacked'
  const limiter = await koaLimiter(spec)
  if (probe) {
    app.use(async (ctx, next) => {
      await probe((done) => {
        // A fresh request's state: the adapter keeps its decision here.
        ctx.state.rateLimit = undefined
        if (stacked) (ctx as { [STACK]?: unknown })[STACK] = undefined
        return limiter ? limiter(ctx, done as Koa.Next) : done()
      })
      return next()
    })
  } else if (limiter) app.use(limiter)
  app.use((ctx) => {
    ctx.body = 'ok'
  })
  return app.callback()
}

async function koaLimiter(spec: ServerSpec): Promise<Koa.Middleware | undefined> {
  const many = spec.keys === 'many'
  switch (spec.variant) {
    case 'bare':
    case 'control':
      return undefined
    case 'noop':
      return (_ctx, next) => next()
    case 'headers':
      return (ctx, next) => {
        // As cheaply as Koa allows (ctx.set builds arrays per call): Node's setHeader.
        ctx.res.setHeader('RateLimit-Policy', POLICY_HEADER)
        ctx.res.setHeader('RateLimit', RATELIMIT_HEADER)
        return next()
      }
    case 'floor': {
      const decide = floorGcra()
      return (ctx, next) => {
        const decision = decide(many ? ctx.get(KEY_HEADER) : (ctx.req.socket.remoteAddress ?? ''))
        ctx.res.setHeader('RateLimit-Policy', POLICY_HEADER)
        ctx.res.setHeader('RateLimit', floorRateLimitHeader(decision))
        if (decision.allowed) return next()
        ctx.status = 429
        ctx.body = 'Too Many Requests'
      }
    }
    case 'tollgate':
    case 'tollgate-no-headers': {
      const { rateLimit } = await importTollgate<KoaModule>('koa')
      const keyOf = (ctx: Koa.Context) => ctx.get(KEY_HEADER)
      return rateLimit(await tollgateOptions(spec, keyOf as never)) as Koa.Middleware
    }
    case 'tollgate-stacked': {
      const { rateLimit } = await importTollgate<KoaModule>('koa')
      const keyOf = (ctx: Koa.Context) => ctx.get(KEY_HEADER)
      const [global, route] = (await stackedOptions(spec, keyOf as never)).map(
        (options) => rateLimit(options) as Koa.Middleware,
      ) as [Koa.Middleware, Koa.Middleware]
      return (ctx, next) => global(ctx, () => route(ctx, next))
    }
    case 'koa-ratelimit':
      return koaRatelimit({
        driver: spec.store,
        // @types/koa-ratelimit pins its own ioredis types; the client is the same ioredis 5.
        db: spec.store === 'redis' ? (redisClient() as never) : new Map(),
        duration: WINDOW_MS,
        max: HIGH_LIMIT,
        ...(many ? { id: (ctx: Koa.Context) => ctx.get(KEY_HEADER) } : {}),
      })
    default:
      throw new Error(`no ${spec.variant} for koa`)
  }
}

/**
 * One run of the limiter's middleware (or hooks) on the probing request, with `done` as its `next`;
 * `done` returns a settled promise, as Koa's `next` does.
 */
export type Step = (done: () => Promise<void>) => unknown

/**
 * Runs the limiter alone on a real request of the framework: an app built with a probe hands the
 * probe, on each request, a {@link Step} on that request's objects, before it goes on (a limiter's
 * decision property is reset at each step, as on a fresh request). The probe resolves when done.
 */
export type Probe = (run: Step) => Promise<void>

/** A built app: injectable in-process, or listening on 127.0.0.1. */
export interface App {
  /** One request without a socket (light-my-request / fastify.inject); resolves with the status. */
  inject(headers: Record<string, string> | undefined): Promise<number>
  /** Listens on a free port of 127.0.0.1. */
  listen(): Promise<number>
  close(): Promise<void>
}

export async function buildApp(spec: ServerSpec, probe?: Probe): Promise<App> {
  redisPort = spec.redisPort
  // Every limiter starts with a connected client (a store may treat a connecting one as down).
  if (spec.store === 'redis' && spec.variant !== 'bare') await redisClient().ping()
  const done = async () => {
    redis?.disconnect()
  }
  if (spec.framework === 'fastify') {
    const app = await fastifyApp(spec, probe)
    return {
      inject: async (headers) => (await app.inject({ url: '/', ...(headers ? { headers } : {}) })).statusCode,
      listen: async () => {
        await app.listen({ port: 0, host: '127.0.0.1' })
        return (app.server.address() as AddressInfo).port
      },
      close: async () => {
        await app.close()
        await done()
      },
    }
  }
  const listener = spec.framework === 'express' ? await expressApp(spec, probe) : await koaApp(spec, probe)
  const server = createServer(listener)
  // Handed an Express app itself, light-my-request re-parents Express's shared request and response
  // prototypes onto its own classes, for the whole process: they no longer reach Node's
  // IncomingMessage and ServerResponse, as they do in a server (Tollgate's adapter, for one, keeps
  // its decision accessor off such a chain). Behind a plain function, requests stay Express's own.
  const dispatch: RequestListener = (req, res) => listener(req, res)
  return {
    inject: async (headers) =>
      (await inject(dispatch, { url: '/', ...(headers ? { headers } : {}) })).statusCode,
    listen: () =>
      new Promise((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
      ),
    close: async () => {
      server.close()
      await done()
    },
  }
}
