import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
// The tests' guard: a redis-server started here dies with this process, however it ends.
import { killWithThisProcess } from '../../../packages/redis/test/helpers/redis-server.ts'
import type { ScriptCall } from './redis-scripts.ts'

const run = promisify(execFile)

/** A free TCP port on 127.0.0.1 (the OS picks one, then it is released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

/** Whether something accepts connections on the port and answers PING. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.setTimeout(500)
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (data) => {
      socket.destroy()
      resolve(data.toString().startsWith('+PONG'))
    })
    socket.on('error', () => resolve(false))
    socket.on('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

/** Counters read from `INFO`: commands per type and Redis CPU seconds. */
export interface RedisCounters {
  readonly calls: Record<string, number>
  /** used_cpu_user + used_cpu_sys, seconds. */
  readonly cpuSeconds: number
}

/** The difference of two counter readings, without the INFO calls themselves. */
export function diffCounters(before: RedisCounters, after: RedisCounters): RedisCounters {
  const calls: Record<string, number> = {}
  for (const [name, count] of Object.entries(after.calls)) {
    if (name === 'info') continue
    const delta = count - (before.calls[name] ?? 0)
    if (delta > 0) calls[name] = delta
  }
  return { calls, cpuSeconds: after.cpuSeconds - before.cpuSeconds }
}

export function totalCalls(counters: RedisCounters): number {
  return Object.values(counters.calls).reduce((a, b) => a + b, 0)
}

/** Reads command counts and CPU from a Redis connection. */
export async function readCounters(client: Redis): Promise<RedisCounters> {
  const stats = await client.info('commandstats')
  const cpu = await client.info('cpu')
  const calls: Record<string, number> = {}
  for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]!] = Number(match[2])
  const user = Number(/used_cpu_user:([\d.]+)/.exec(cpu)?.[1] ?? 0)
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(cpu)?.[1] ?? 0)
  return { calls, cpuSeconds: user + sys }
}

/** A redis-server's arguments: loopback only, no persistence, its files in `dir`. */
export function redisServerArgs(port: number, dir: string): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]
}

/** A redis-server of our own on a free loopback port: never the machine's shared 6379. */
export class RedisServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
    readonly version: string,
    readonly admin: Redis,
  ) {}

  static async start(): Promise<RedisServer> {
    const port = await freePort()
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-redis-'))
    const child = spawn('redis-server', redisServerArgs(port, dir), { stdio: 'ignore' })
    killWithThisProcess(child)
    const deadline = Date.now() + 10_000
    while (!(await answers(port))) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL')
        throw new Error(`redis-server did not start on port ${port}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const admin = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 })
    const info = await admin.info('server')
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
    return new RedisServer(child, dir, port, version, admin)
  }

  counters(): Promise<RedisCounters> {
    return readCounters(this.admin)
  }

  async flush(): Promise<void> {
    await this.admin.flushall()
  }

  /**
   * The ceiling of this Redis for one trivial script, measured by redis-benchmark:
   * requests/s of `EVALSHA <return 1> 0` with `clients` connections and `pipeline` depth.
   */
  async evalshaCeiling(clients: number, pipeline: number, requests: number): Promise<number> {
    const sha = (await this.admin.script('LOAD', 'return 1')) as string
    const args = ['-h', '127.0.0.1', '-p', String(this.port), '-c', String(clients), '-n', String(requests)]
    args.push('-P', String(pipeline), '--csv', 'EVALSHA', sha, '0')
    const { stdout } = await run('redis-benchmark', args, { timeout: 120_000 })
    const line = stdout
      .trim()
      .split('\n')
      .find((l) => l.startsWith('"EVALSHA'))
    const rps = Number(line?.split(',')[1]?.replaceAll('"', ''))
    if (!Number.isFinite(rps)) throw new Error(`could not parse redis-benchmark output: ${stdout}`)
    return rps
  }

  /**
   * What one script call costs Redis: `count` calls as {@link driveCalls} sends them (keys drawn
   * from 100,000, so most calls find a key of their own). Arguments may be binary (Tollgate's packed
   * doubles), which redis-benchmark cannot send. Every call must succeed: a script that errors out
   * costs Redis next to nothing and would pass for a fast one. Returns calls/s and Redis CPU µs per
   * call (INFO cpu delta).
   */
  async scriptCost(
    call: ScriptCall,
    requests: number,
  ): Promise<{ callsPerSec: number; redisMicrosPerCall: number }> {
    const sha = (await this.admin.script('LOAD', call.source)) as string
    const client = new Redis({ host: '127.0.0.1', port: this.port, maxRetriesPerRequest: 1 })
    try {
      // Warm-up (script cache, keys), then the measured calls.
      await driveCalls(client, sha, call, Math.ceil(requests / 10))
      const before = await this.counters()
      const start = performance.now()
      await driveCalls(client, sha, call, requests)
      const seconds = (performance.now() - start) / 1000
      const after = await this.counters()
      return {
        callsPerSec: requests / seconds,
        redisMicrosPerCall: ((after.cpuSeconds - before.cpuSeconds) * 1e6) / requests,
      }
    } finally {
      client.disconnect()
      await this.flush()
    }
  }

  async stop(): Promise<void> {
    this.admin.disconnect()
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL')
        resolve()
      }, 3000)
      this.child.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      this.child.kill('SIGTERM')
    })
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/**
 * Sends `count` calls of a loaded script over one connection, 64 at a time on each of 4 loops
 * (ioredis pipelines each group). A call's keys are consecutive names from a random one of 100,000.
 */
export async function driveCalls(client: Redis, sha: string, call: ScriptCall, count: number): Promise<void> {
  let sent = 0
  const loop = async () => {
    while (sent < count) {
      const calls: Promise<unknown>[] = []
      for (let i = 0; i < 64 && sent < count; i++, sent++) {
        const first = Math.floor(Math.random() * 100_000)
        const keys = Array.from({ length: call.keys }, (_, k) => `bench:${(first + k) % 100_000}`)
        calls.push(client.callBuffer('EVALSHA', sha, call.keys, ...keys, ...call.args))
      }
      await Promise.all(calls)
    }
  }
  await Promise.all([loop(), loop(), loop(), loop()])
}
