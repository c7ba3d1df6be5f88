import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { rateLimit as expressLimit } from '@tollgate/express'
import { rateLimit as fastifyLimit } from '@tollgate/fastify'
import { rateLimit as koaLimit } from '@tollgate/koa'
import { redisStore } from '@tollgate/redis'
import express5 from 'express'
import express4 from 'express4'
import fastify5, { type FastifyInstance } from 'fastify'
import fastify4 from 'fastify4'
import type { Redis } from 'ioredis'
import Koa3 from 'koa'
import Koa2 from 'koa2'
import { expect } from 'vitest'

/**
 * Options as the scenarios write them: every callback only reads `.headers`, which Express's
 * `req`, Koa's `ctx` and Fastify's `request` all have, so one scenario runs on every adapter.
 */
export type AnyOptions = Record<string, unknown>

export interface AppOptions {
  /** Trust X-Forwarded-For (Express 'trust proxy', Koa app.proxy, Fastify trustProxy). */
  readonly trustProxy?: boolean
}

export interface Started {
  readonly server: http.Server
  readonly url: string
  close(): Promise<void>
}

/** One framework major with the Tollgate adapter mounted on a small app. */
export interface Framework {
  readonly name: string
  /** Starts an app on 127.0.0.1 with the limiters stacked in order in front of every route. */
  start(limiters: readonly AnyOptions[], app?: AppOptions): Promise<Started>
}

/**
 * Routes of every app: `/` answers "ok", `/decision` the request's decision as JSON (or null),
 * `/fail` a 500, `/health` "ok".
 */
async function listen(server: http.Server): Promise<Started> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function expressFramework(name: string, create: typeof express5): Framework {
  return {
    name,
    async start(limiters, options = {}) {
      const app = create()
      if (options.trustProxy) app.set('trust proxy', true)
      for (const limiter of limiters) app.use(expressLimit(limiter as never))
      app.get('/', (_req, res) => {
        res.send('ok')
      })
      app.get('/health', (_req, res) => {
        res.send('ok')
      })
      app.get('/decision', (req, res) => {
        res.json(req.rateLimit ?? null)
      })
      app.get('/fail', (_req, res) => {
        res.status(500).send('boom')
      })
      return listen(http.createServer(app))
    },
  }
}

function koaFramework(name: string, Create: typeof Koa3): Framework {
  return {
    name,
    async start(limiters, options = {}) {
      const app = new Create()
      if (options.trustProxy) app.proxy = true
      for (const limiter of limiters) app.use(koaLimit(limiter as never))
      app.use((ctx) => {
        if (ctx.path === '/decision') ctx.body = JSON.stringify(ctx.state.rateLimit ?? null)
        else if (ctx.path === '/fail') {
          ctx.status = 500
          ctx.body = 'boom'
        } else ctx.body = 'ok'
      })
      return listen(http.createServer(app.callback()))
    },
  }
}

function fastifyFramework(name: string, create: typeof fastify5): Framework {
  return {
    name,
    async start(limiters, options = {}) {
      const app = create({ trustProxy: options.trustProxy === true }) as unknown as FastifyInstance
      // One limiter: the plugin's default for every route; several: a route-config list.
      const stacked = limiters.length > 1
      await app.register(fastifyLimit, (stacked ? {} : limiters[0]) as never)
      const config = stacked ? { rateLimit: limiters as never } : {}
      app.get('/', { config }, async () => 'ok')
      app.get('/health', { config }, async () => 'ok')
      app.get('/decision', { config }, async (request) => JSON.stringify(request.rateLimit ?? null))
      app.get('/fail', { config }, async (_request, reply) => reply.code(500).send('boom'))
      await app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = app.server.address() as AddressInfo
      return { server: app.server, url: `http://127.0.0.1:${port}`, close: () => app.close() }
    },
  }
}

/** The latest major of each framework and the one before. */
export const frameworks: readonly Framework[] = [
  expressFramework('express 5', express5),
  expressFramework('express 4', express4 as unknown as typeof express5),
  koaFramework('koa 3', Koa3),
  koaFramework('koa 2', Koa2 as unknown as typeof Koa3),
  fastifyFramework('fastify 5', fastify5),
  fastifyFramework('fastify 4', fastify4 as unknown as typeof fastify5),
]

/**
 * The same frameworks with every limiter on a Redis store (unless a scenario gives its own store):
 * the adapters run unchanged on an asynchronous store. Redis is the test's own redis-server
 * (started on first use, on a free loopback port); the scripts run on the limiter's clock
 * (`clock: 'caller'`) so scenarios keep their manual clocks. Each app gets a store of its own, as a
 * separate process would, and each test a key prefix of its own, so tests never see each other's
 * counters while two apps of one test share theirs.
 */
export function onRedis(base: Framework, redis: () => Promise<Redis>): Framework {
  return {
    name: `${base.name} + redis`,
    async start(limiters, app) {
      const client = await redis()
      const prefix = `conf:${expect.getState().currentTestName ?? 'test'}:`.replace(/[{}]/g, '_')
      const withStore = limiters.map((options) =>
        options.store === undefined
          ? { ...options, store: redisStore({ client, prefix, clock: 'caller', timeout: 10_000 }) }
          : options,
      )
      return base.start(withStore, app)
    },
  }
}
