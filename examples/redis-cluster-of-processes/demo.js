// Starts a private redis-server and two app servers (server.js) on two ports, sends 30 requests
// alternating between them, and prints who answered what: 10 are allowed in total, not 10 each.
//   npx --yes pnpm@10 --filter @tollgate/core --filter @tollgate/express --filter @tollgate/redis run build
//   node examples/redis-cluster-of-processes/demo.js
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

async function waitFor(what, check) {
  const deadline = Date.now() + 15_000
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

const redisPort = await freePort()
const children = [
  spawn('redis-server', [
    '--port',
    String(redisPort),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]),
]
try {
  const ports = [await freePort(), await freePort()]
  for (const port of ports) {
    children.push(
      spawn(process.execPath, ['server.js'], {
        cwd: here,
        env: { ...process.env, PORT: String(port), REDIS_URL: `redis://127.0.0.1:${redisPort}` },
        stdio: 'inherit',
      }),
    )
  }
  for (const port of ports) {
    await waitFor(`server on ${port}`, () =>
      fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status === 200),
    )
  }
  const tally = new Map(ports.map((port) => [port, { allowed: 0, rejected: 0 }]))
  for (let i = 0; i < 30; i++) {
    const port = ports[i % 2]
    const response = await fetch(`http://127.0.0.1:${port}/`)
    tally.get(port)[response.ok ? 'allowed' : 'rejected']++
    const line = `#${String(i + 1).padStart(2)} -> :${port} ${response.status}`
    if (i < 12 || i === 29) console.log(`${line.padEnd(18)} RateLimit: ${response.headers.get('ratelimit')}`)
  }
  let total = 0
  for (const [port, { allowed, rejected }] of tally) {
    console.log(`:${port} allowed ${allowed}, rejected ${rejected}`)
    total += allowed
  }
  console.log(`allowed in total: ${total} (limit 10 per minute, shared by both processes)`)
} finally {
  for (const child of children) child.kill('SIGTERM')
}
