/*
 * The limiter's own cost per request, without sockets: requests injected
 * in-process (light-my-request for Express and Koa, fastify.inject). One
 * process per framework holds every variant and runs them in interleaved
 * batches, so the machine's drift hits all variants alike. The kernel's share
 * of a real request (most of it on a small VM, and noisy) is absent, so a few
 * µs per request are resolvable. The orchestrator runs the rounds in several
 * processes: light-my-request keeps about 10 KB per injected request (with any
 * framework, even a bare handler), and one process for every round would fill
 * its heap and pay ever longer GCs.
 */
import { type App, buildApp, type Framework, type Variant } from '../lib/apps.ts'
import { sendResult, workerSpec } from '../lib/child.ts'

export interface InjectSpec {
  readonly framework: Framework
  readonly variants: readonly Variant[]
  readonly warmup: number
  /** Requests per batch. */
  readonly requests: number
  /** Batches per variant (interleaved). */
  readonly rounds: number
}

/** What one worker process measured: per variant, CPU µs per request of each of its rounds. */
export interface InjectResult {
  readonly framework: Framework
  readonly variants: readonly {
    readonly variant: Variant
    readonly perRound: readonly number[]
    readonly statuses: Record<string, number>
  }[]
}

const spec = workerSpec<InjectSpec>()
const apps: App[] = []
for (const variant of spec.variants) {
  apps.push(await buildApp({ framework: spec.framework, variant, store: 'memory', keys: 'one' }))
}
const statuses = spec.variants.map(() => ({}) as Record<string, number>)
const batch = async (v: number, n: number) => {
  const app = apps[v]!
  for (let i = 0; i < n; i++) {
    const status = await app.inject(undefined)
    statuses[v]![status] = (statuses[v]![status] ?? 0) + 1
  }
}
for (let v = 0; v < apps.length; v++) await batch(v, spec.warmup)
const perRound: number[][] = spec.variants.map(() => [])
for (let round = 0; round < spec.rounds; round++) {
  // Rotate the order so no variant always follows the same one.
  for (let k = 0; k < apps.length; k++) {
    const v = (k + round) % apps.length
    const cpu0 = process.cpuUsage()
    await batch(v, spec.requests)
    const cpu = process.cpuUsage(cpu0)
    perRound[v]![round] = (cpu.user + cpu.system) / spec.requests
  }
}
for (const app of apps) await app.close()
const result: InjectResult = {
  framework: spec.framework,
  variants: spec.variants.map((variant, v) => ({
    variant,
    perRound: perRound[v]!,
    statuses: statuses[v]!,
  })),
}
sendResult(result)
