import { createManualClock } from '@tollgate/core'
import Koa from 'koa'
import request from 'supertest'
import { describe, expect, test } from 'vitest'
import { rateLimit } from '../src/index.ts'

describe('@tollgate/koa', () => {
  test('ctx.state.rateLimit holds the decision; downstream runs once', async () => {
    const app = new Koa()
    let calls = 0
    app.use(rateLimit({ limit: 2, window: '1m', clock: createManualClock() }))
    app.use((ctx) => {
      calls++
      ctx.body = { remaining: ctx.state.rateLimit?.remaining }
    })
    const server = app.callback()
    expect((await request(server).get('/')).body).toEqual({ remaining: 1 })
    await request(server).get('/')
    expect((await request(server).get('/')).status).toBe(429)
    expect(calls).toBe(2)
  })

  test('headers survive downstream middleware', async () => {
    const app = new Koa()
    app.use(rateLimit({ limit: 5, window: '1m', clock: createManualClock() }))
    app.use(async (ctx, next) => {
      await next()
      ctx.set('X-After', 'yes')
    })
    app.use((ctx) => {
      ctx.body = 'ok'
    })
    const res = await request(app.callback()).get('/')
    expect(res.headers.ratelimit).toBe('"default";r=4;t=12')
    expect(res.headers['x-after']).toBe('yes')
  })

  test('a custom handler receives (ctx, next, decision)', async () => {
    const app = new Koa()
    app.use(
      rateLimit({
        limit: 1,
        window: '1m',
        clock: createManualClock(),
        handler: (ctx, _next, decision) => {
          ctx.status = 418
          ctx.body = { reason: decision.reason }
        },
      }),
    )
    app.use((ctx) => {
      ctx.body = 'ok'
    })
    const server = app.callback()
    await request(server).get('/')
    const res = await request(server).get('/')
    expect(res.status).toBe(418)
    expect(res.body).toEqual({ reason: 'limited' })
    expect(res.headers['retry-after']).toBe('60')
  })

  test('errors thrown downstream still reach Koa', async () => {
    const app = new Koa()
    app.silent = true
    app.use(rateLimit({ limit: 5, window: '1m', clock: createManualClock(), key: async () => 'k' }))
    app.use(() => {
      throw Object.assign(new Error('teapot'), { status: 418, expose: true })
    })
    const res = await request(app.callback()).get('/')
    expect(res.status).toBe(418)
    expect(res.text).toBe('teapot')
  })

  test('app.proxy decides whether X-Forwarded-For is the client', async () => {
    const app = new Koa()
    app.proxy = true
    app.use(rateLimit({ limit: 5, window: '1m', clock: createManualClock() }))
    app.use((ctx) => {
      ctx.body = ctx.state.rateLimit?.key
    })
    expect((await request(app.callback()).get('/').set('X-Forwarded-For', '198.51.100.4')).text).toBe(
      '198.51.100.4',
    )
  })
})
