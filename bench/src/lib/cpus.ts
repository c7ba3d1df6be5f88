/*
 * CPU pinning for the HTTP section: the load generator (this process) on one CPU, the measured
 * server on another, with `taskset` (util-linux). Unpinned, the scheduler places the two busy
 * processes as it likes, and a placement can last a server's whole life: in A/A trials on a
 * 2-core AMD EPYC VM (two bare Express servers, 8 rounds of 1.5 s each, as the section ran them then),
 * the second server's median ratio to the first came out 0.83, 0.97, 0.98, 0.98 and 1.00
 * unpinned, and 0.996 to 1.026 pinned.
 */
import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'

/** The CPUs of the load generator and of the server, or why they are not pinned. */
export type Pinning =
  | { readonly pinned: true; readonly load: number; readonly server: number }
  | { readonly pinned: false; readonly why: string }

function taskset(args: readonly string[]): void {
  execFileSync('taskset', args, { stdio: 'ignore', timeout: 10_000 })
}

/** The CPUs this process may run on, as `taskset` prints them (`0-1`), or undefined without taskset. */
function currentList(): string | undefined {
  try {
    const out = execFileSync('taskset', ['-c', '-p', String(process.pid)], {
      encoding: 'utf8',
      timeout: 10_000,
    })
    return /:\s*(\S+)\s*$/.exec(out)?.[1]
  } catch {
    return undefined
  }
}

/**
 * The two lowest CPUs this process may use (0 and 1 on the 2-core rig), as `taskset` lists them
 * now (`list`), or why there are not two to pin to.
 */
function twoCpus():
  | { readonly ok: true; readonly list: string; readonly load: number; readonly server: number }
  | { readonly ok: false; readonly why: string } {
  if (process.platform !== 'linux') return { ok: false, why: 'not Linux' }
  if (availableParallelism() < 2) return { ok: false, why: 'fewer than 2 CPUs' }
  const list = currentList()
  if (list === undefined) return { ok: false, why: 'no taskset' }
  const cpus = expand(list)
  if (cpus.length < 2) return { ok: false, why: `this process may use CPU ${list} only` }
  return { ok: true, list, load: cpus[0]!, server: cpus[1]! }
}

/**
 * Pins every thread of this process to one CPU and returns the CPU left for servers, with a
 * function that restores this process's CPUs. Not pinned with fewer than 2 CPUs or without
 * `taskset`: the run says so in its notes.
 */
export function pinLoadGenerator(): { pinning: Pinning; restore: () => void } {
  const none = (why: string) => ({ pinning: { pinned: false, why } as const, restore: () => {} })
  const cpus = twoCpus()
  if (!cpus.ok) return none(cpus.why)
  const { list: before, load, server } = cpus
  try {
    taskset(['-a', '-p', '-c', String(load), String(process.pid)])
  } catch (error) {
    return none(`taskset failed: ${(error as Error).message.split('\n')[0]}`)
  }
  return {
    pinning: { pinned: true, load, server },
    restore: () => taskset(['-a', '-p', '-c', before, String(process.pid)]),
  }
}

/**
 * The CPU every process of a section is pinned to (the second this process may use, as the HTTP
 * section's servers are), or why none is. On a 2-core AMD EPYC VM one CPU ran a memory-bound
 * process at about half the speed of the other for an hour or more, and which one was slow
 * changed over the day: six `tollgate-gcra` processes on 100,000 keys each made 3.4–4.4 million
 * decisions/s pinned to CPU 0 and 7.0–8.2 million pinned to CPU 1 (`RateLimiterMemory`: 1.2–1.7
 * and 2.6–3.2 million), an hour after the opposite split. An unpinned process mostly stays on the
 * CPU it starts on, so each process drew a speed for its whole life, which no bracketing of runs
 * could take out of a ratio.
 */
export function measuredCpu():
  | { readonly pinned: true; readonly cpu: number }
  | { readonly pinned: false; readonly why: string } {
  const cpus = twoCpus()
  return cpus.ok ? { pinned: true, cpu: cpus.server } : { pinned: false, why: cpus.why }
}

/** Pins every thread of process `pid` to `cpu`. */
export function pinProcess(pid: number, cpu: number): void {
  taskset(['-a', '-p', '-c', String(cpu), String(pid)])
}

/** `0-1,4` → [0, 1, 4]. */
export function expand(list: string): number[] {
  const cpus: number[] = []
  for (const part of list.split(',')) {
    const [from, to = from] = part.split('-').map(Number) as [number, number?]
    for (let cpu = from; cpu <= (to as number); cpu++) cpus.push(cpu)
  }
  return cpus
}
