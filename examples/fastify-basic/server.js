// Fastify + @tollgate/fastify: a global limit per client IP, a stricter login route, and a
// per-user limit keyed by a header.
import { rateLimit } from '@tollgate/fastify'
import Fastify from 'fastify'

const fastify = Fastify()

// Every route: 100 per minute per client IP (IPv6 grouped to its /56). Register before the routes.
await fastify.register(rateLimit, { limit: 100, window: '1m' })

// Login: its own limiter replaces the default on this route (Fastify route config), 5 per 15 minutes;
// a successful login gives its unit back.
fastify.post(
  '/login',
  { config: { rateLimit: { name: 'login', limit: 5, window: '15m', skipSuccessfulRequests: true } } },
  async (request, reply) => {
    const ok = request.headers.authorization === 'Bearer letmein'
    return reply.code(ok ? 200 : 401).send({ ok })
  },
)

// Per user, stacked on the default: 10 per minute per X-User-Id; anonymous callers share 20 per minute.
const perUser = fastify.rateLimit({
  name: 'per-user',
  limit: 10,
  window: '1m',
  key: (request) => request.headers['x-user-id'],
  fallback: { limit: 20, window: '1m' },
})
fastify.get('/api/profile', { onRequest: perUser }, async (request) => ({
  user: request.headers['x-user-id'] ?? null,
  remaining: request.rateLimit?.remaining,
}))

fastify.get('/health', { config: { rateLimit: false } }, async () => 'ok\n')
fastify.get('/', async () => 'Hello from Tollgate + Fastify\n')

const port = Number(process.env.PORT ?? 3000)
const url = await fastify.listen({ port, host: '127.0.0.1' })
console.log(`Fastify example listening on ${url}`)
