// Express + @tollgate/express: a global limit per client IP, a stricter login route,
// and a per-user limit keyed by a header. Run `pnpm run example` from the repository root.
import { rateLimit } from '@tollgate/express'
import express from 'express'

const app = express()

// Every request: 100 per minute per client IP (IPv6 grouped to its /56).
app.use(rateLimit({ limit: 100, window: '1m' }))

// Login: 5 attempts per 15 minutes per IP; failed attempts only (a successful login gives its unit back).
const loginLimit = rateLimit({ name: 'login', limit: 5, window: '15m', skipSuccessfulRequests: true })
app.post('/login', loginLimit, (req, res) => {
  if (req.get('authorization') === 'Bearer letmein') res.json({ ok: true })
  else res.status(401).json({ ok: false })
})

// Per user: 10 per minute per X-User-Id; anonymous callers share one bucket of 20 per minute.
const perUser = rateLimit({
  name: 'per-user',
  limit: 10,
  window: '1m',
  key: (req) => req.get('x-user-id'),
  fallback: { limit: 20, window: '1m' },
})
app.get('/api/profile', perUser, (req, res) => {
  res.json({ user: req.get('x-user-id') ?? null, remaining: req.rateLimit?.remaining })
})

app.get('/', (_req, res) => {
  res.send('Hello from Tollgate + Express\n')
})

const port = Number(process.env.PORT ?? 3000)
app.listen(port, '127.0.0.1', () => {
  console.log(`Express example listening on http://localhost:${port}`)
})
