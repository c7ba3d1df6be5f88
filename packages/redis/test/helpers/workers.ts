import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const WORKER = fileURLToPath(new URL('../fixtures/burst-worker.ts', import.meta.url))
const PACKAGE = fileURLToPath(new URL('../..', import.meta.url))

/** A worker process running `fixtures/burst-worker.ts` on the TypeScript sources. */
export interface Worker {
  /** Sends a scenario; resolves with the worker's JSON answer. */
  run<T>(scenario: object): Promise<T>
  stop(): void
}

export async function startWorker(port: number, skew = 0, timeoutMs = 30_000): Promise<Worker> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=@tollgate/source', '--import', 'tsx', WORKER, String(port), String(skew)],
    { cwd: PACKAGE, stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const lines = createInterface({ input: child.stdout! })
  const waiting: ((line: string) => void)[] = []
  lines.on('line', (line) => waiting.shift()?.(line))
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const exited = (code: number | null) => reject(new Error(`worker exited with ${code}`))
      const timer = setTimeout(() => {
        child.removeListener('exit', exited)
        reject(new Error('worker did not answer in time'))
      }, timeoutMs)
      child.once('exit', exited)
      waiting.push((line) => {
        clearTimeout(timer)
        child.removeListener('exit', exited)
        resolve(line)
      })
    })
  const ready = await next()
  if (ready !== 'ready') throw new Error(`worker said ${ready}`)
  return {
    async run<T>(scenario: object) {
      const answer = next()
      child.stdin!.write(`${JSON.stringify(scenario)}\n`)
      return JSON.parse(await answer) as T
    },
    stop: () => {
      child.kill('SIGKILL')
    },
  }
}
