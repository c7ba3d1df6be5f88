import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { pinProcess } from './cpus.ts'

/** A worker script of this package, run with the same TypeScript loader as the orchestrator. */
export function workerPath(name: string): string {
  return fileURLToPath(new URL(`../workers/${name}.ts`, import.meta.url))
}

export interface ChildOptions {
  /** Extra node flags, e.g. `--expose-gc`. */
  readonly nodeArgs?: readonly string[]
  /** The child is killed and the promise rejects after this many ms. */
  readonly timeoutMs: number
  /**
   * Pins every thread of the child to this CPU (`taskset`) as soon as it is started: before it
   * has loaded its script, long before it measures anything.
   */
  readonly cpu?: number
}

function spawnWorker(name: string, spec: unknown, nodeArgs: readonly string[] = []): ChildProcess {
  return fork(workerPath(name), [JSON.stringify(spec)], {
    execArgv: ['--import', 'tsx', ...nodeArgs],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}

/**
 * Runs a worker in a fresh process and resolves with the one `{ type: 'result' }`
 * message it sends. Every worker is bounded: it is killed at `timeoutMs`.
 */
export function runWorker<T>(name: string, spec: unknown, options: ChildOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = spawnWorker(name, spec, options.nodeArgs)
    if (options.cpu !== undefined) {
      try {
        pinProcess(child.pid!, options.cpu)
      } catch (error) {
        child.kill('SIGKILL')
        reject(error)
        return
      }
    }
    let result: { value: T } | undefined
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`worker ${name} timed out after ${options.timeoutMs} ms`))
    }, options.timeoutMs)
    child.on('message', (message: { type: string; data: T }) => {
      if (message.type === 'result') result = { value: message.data }
    })
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (result) resolve(result.value)
      else reject(new Error(`worker ${name} exited (${code ?? signal}) without a result`))
    })
  })
}

/**
 * Runs `attempt` and once more after a pause if it fails: the packages are rebuilt
 * by other work on this machine now and then, and a dist can vanish for a moment.
 */
export async function retryOnce<T>(attempt: () => Promise<T>, log: (line: string) => void): Promise<T> {
  try {
    return await attempt()
  } catch (error) {
    log(`retrying after: ${(error as Error).message.split('\n')[0]}`)
    await new Promise((resolve) => setTimeout(resolve, 3000))
    return await attempt()
  }
}

/** A long-lived worker (an HTTP server) that answers requests over IPC. */
export class ServerProcess<Stats> {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /** The server's process id. */
  get pid(): number {
    return this.child.pid!
  }

  static start<S>(name: string, spec: unknown, options: ChildOptions): Promise<ServerProcess<S>> {
    return new Promise((resolve, reject) => {
      const child = spawnWorker(name, spec, options.nodeArgs)
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`server ${JSON.stringify(spec)} did not start within ${options.timeoutMs} ms`))
      }, options.timeoutMs)
      const onMessage = (message: { type: string; port?: number; error?: string }) => {
        if (message.type === 'ready' && message.port !== undefined) {
          clearTimeout(timer)
          child.off('message', onMessage)
          resolve(new ServerProcess<S>(child, message.port))
        } else if (message.type === 'error') {
          clearTimeout(timer)
          child.kill('SIGKILL')
          reject(new Error(message.error))
        }
      }
      child.on('message', onMessage)
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`server ${JSON.stringify(spec)} exited (${code}) before it was ready`))
      })
    })
  }

  /** Asks the server for its counters (optionally after a full GC). */
  stats(gc = false): Promise<Stats> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server stats timed out')), 10_000)
      const onMessage = (message: { type: string; data: Stats }) => {
        if (message.type !== 'stats') return
        clearTimeout(timer)
        this.child.off('message', onMessage)
        resolve(message.data)
      }
      this.child.on('message', onMessage)
      this.child.send({ type: 'stats', gc })
    })
  }

  /** Starts the server's CPU profiler, or stops it and writes the profile to `file`. */
  profile(action: 'start' | 'stop', file?: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server profile timed out')), 30_000)
      const onMessage = (message: { type: string }) => {
        if (message.type !== 'profile') return
        clearTimeout(timer)
        this.child.off('message', onMessage)
        resolve()
      }
      this.child.on('message', onMessage)
      this.child.send({ type: `profile-${action}`, file })
    })
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve()
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000)
      this.child.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      this.child.kill('SIGTERM')
    })
  }
}

/** Sends a worker's result to the orchestrator and lets the process end. */
export function sendResult(data: unknown): void {
  if (!process.send) {
    console.log(JSON.stringify(data, null, 2))
    return
  }
  process.send({ type: 'result', data }, () => process.disconnect())
}

/** The spec a worker was started with. */
export function workerSpec<T>(): T {
  const raw = process.argv[2]
  if (!raw) throw new Error('worker started without a spec argument')
  return JSON.parse(raw) as T
}
