import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

/*
 * Real redis-server processes for the tests, on free loopback ports, never the
 * machine's own Redis. Each helper polls the server until it answers, with a
 * deadline, and stops what it started.
 */

const run = promisify(execFile)
const HOST = '127.0.0.1'

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, HOST, () => server.close(() => resolve(true)))
  })
}

/** A free loopback port whose `+ 10000` (the Cluster bus port) is free too. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000)
    if (port === 6379) continue
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) return port
  }
  throw new Error('no free port found')
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', HOST, '-p', String(port), ...args], { timeout: 10_000 })
  return stdout.trim()
}

async function until(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** One redis-server the test owns: it can be killed, frozen and restarted on the same port. */
export interface TestRedis {
  readonly port: number
  /** redis-cli against this server. */
  cli(...args: string[]): Promise<string>
  /** SIGKILL, as a crash. */
  kill(): Promise<void>
  /** SIGSTOP / SIGCONT: a server that accepts connections but never answers. */
  freeze(): void
  thaw(): void
  /** Starts it again on the same port (empty: persistence is off). */
  restart(): Promise<void>
  stop(): Promise<void>
}

/**
 * Kills `child` when this process dies, however it dies (a killed test worker runs no
 * `afterAll`, an interrupted benchmark no cleanup): a shell blocks reading a pipe from us, and
 * the pipe's end is its signal. The benchmarks' redis-server uses it too.
 */
export function killWithThisProcess(child: ChildProcess): void {
  if (child.pid === undefined) return
  const guard = spawn('sh', ['-c', 'read _ ; kill -9 "$0" 2>/dev/null', String(child.pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  })
  guard.unref()
  ;(guard.stdin as { unref?: () => void } | null)?.unref?.()
  // Once the server is gone its pid may be reused: the guard must not outlive it.
  child.once('exit', () => guard.kill('SIGKILL'))
}

function spawnServer(port: number, dir: string, extra: string[] = []): ChildProcess {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, ...extra],
    { stdio: 'ignore' },
  )
  child.unref()
  killWithThisProcess(child)
  return child
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  // Waiting for the exit must keep the event loop alive (the child is unref'd).
  child.ref()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Starts a standalone redis-server on a free loopback port (another port if that one was taken meanwhile). */
export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-redis-'))
  let port = 0
  let child: ChildProcess | undefined
  for (let attempt = 0; attempt < 3 && !child; attempt++) {
    port = await freePort()
    const started = spawnServer(port, dir)
    const ping = () => cli(port, 'PING').then((out) => out === 'PONG')
    await until(`redis-server on ${port}`, async () => started.exitCode !== null || (await ping()))
    if (started.exitCode === null) child = started
  }
  if (!child) throw new Error('redis-server did not start')
  let server: ChildProcess = child
  const ping = () => cli(port, 'PING').then((out) => out === 'PONG')
  return {
    port,
    cli: (...args) => cli(port, ...args),
    async kill() {
      server.kill('SIGKILL')
      await exited(server)
    },
    freeze: () => server.kill('SIGSTOP'),
    thaw: () => server.kill('SIGCONT'),
    async restart() {
      server = spawnServer(port, dir)
      await until(`redis-server on ${port} after restart`, ping)
    },
    async stop() {
      server.kill('SIGCONT')
      server.kill('SIGKILL')
      await exited(server)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A 3-master Redis Cluster on free loopback ports. */
export interface TestCluster {
  readonly ports: readonly number[]
  cli(port: number, ...args: string[]): Promise<string>
  /** SIGSTOP / SIGCONT one node: connected, never answering (under the 2 s node timeout, no failover). */
  freeze(port: number): void
  thaw(port: number): void
  stop(): Promise<void>
}

export async function startCluster(): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cluster-'))
  const ports: number[] = []
  while (ports.length < 3) {
    const port = await freePort()
    if (!ports.includes(port) && !ports.includes(port + 10_000) && !ports.includes(port - 10_000))
      ports.push(port)
  }
  const children = ports.map((port) =>
    spawnServer(port, dir, [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--cluster-node-timeout',
      '2000',
    ]),
  )
  const stop = async () => {
    for (const child of children) child.kill('SIGKILL')
    await Promise.all(children.map(exited))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (const port of ports)
      await until(`cluster node ${port}`, () => cli(port, 'PING').then((o) => o === 'PONG'))
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-yes'], {
      timeout: 30_000,
    })
    for (const port of ports) {
      await until(`cluster state ok on ${port}`, () =>
        cli(port, 'CLUSTER', 'INFO').then((info) => info.includes('cluster_state:ok')),
      )
    }
  } catch (error) {
    await stop()
    throw error
  }
  const node = (port: number) => children[ports.indexOf(port)]!
  return {
    ports,
    cli,
    freeze: (port) => node(port).kill('SIGSTOP'),
    thaw: (port) => node(port).kill('SIGCONT'),
    stop: async () => {
      for (const child of children) child.kill('SIGCONT')
      await stop()
    },
  }
}
