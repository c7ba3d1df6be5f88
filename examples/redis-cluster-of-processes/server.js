// One Express app server. Start several (any ports, any machines): they share one limit through Redis.
//   PORT=3001 REDIS_URL=redis://127.0.0.1:6379 node server.js
import { rateLimit } from '@tollgate/express'
import { redisStore } from '@tollgate/redis'
import express from 'express'
import { Redis } from 'ioredis'

const port = Number(process.env.PORT ?? 3000)
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
// ioredis reports connection errors as events; the store already logs an outage once.
redis.on('error', () => {})

const app = express()

// Readiness, outside the limit.
app.get('/health', (_req, res) => {
  res.status(redis.status === 'ready' ? 200 : 503).send(redis.status)
})

// 10 requests per minute per client IP, across every process that uses this Redis and this name.
const limit = rateLimit({ limit: 10, window: '1m', name: 'api', store: redisStore({ client: redis }) })
app.use(limit)

app.get('/', (req, res) => {
  const { allowed, remaining, reason } = req.rateLimit
  res.json({ served_by: port, allowed, remaining, reason })
})

const server = app.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`))

const stop = () => {
  server.close()
  limit.limiter.close().finally(() => redis.disconnect())
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
