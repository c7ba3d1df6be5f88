// Koa + @tollgate/koa: a global limit per client IP, a stricter login route, and a
// per-user limit keyed by a header.
import { rateLimit } from '@tollgate/koa'
import Koa from 'koa'

const app = new Koa()

// A tiny router, so the example needs nothing but Koa.
const route = (method, path, ...middleware) => {
  const chain = middleware.reduceRight(
    (next, fn) => (ctx) => fn(ctx, () => next(ctx)),
    () => Promise.resolve(),
  )
  return (ctx, next) => (ctx.method === method && ctx.path === path ? chain(ctx) : next())
}

// Every request: 100 per minute per client IP (IPv6 grouped to its /56).
app.use(rateLimit({ limit: 100, window: '1m' }))

// Login: 5 attempts per 15 minutes per IP; a successful login gives its unit back.
app.use(
  route(
    'POST',
    '/login',
    rateLimit({ name: 'login', limit: 5, window: '15m', skipSuccessfulRequests: true }),
    (ctx) => {
      const ok = ctx.get('authorization') === 'Bearer letmein'
      ctx.status = ok ? 200 : 401
      ctx.body = { ok }
    },
  ),
)

// Per user: 10 per minute per X-User-Id; anonymous callers share one bucket of 20 per minute.
const perUser = rateLimit({
  name: 'per-user',
  limit: 10,
  window: '1m',
  key: (ctx) => ctx.get('x-user-id'), // '' (no header) means keyless: the fallback bucket
  fallback: { limit: 20, window: '1m' },
})
app.use(
  route('GET', '/api/profile', perUser, (ctx) => {
    ctx.body = { user: ctx.get('x-user-id') || null, remaining: ctx.state.rateLimit?.remaining }
  }),
)

app.use((ctx) => {
  ctx.body = 'Hello from Tollgate + Koa\n'
})

const port = Number(process.env.PORT ?? 3000)
app.listen(port, '127.0.0.1', () => {
  console.log(`Koa example listening on http://localhost:${port}`)
})
