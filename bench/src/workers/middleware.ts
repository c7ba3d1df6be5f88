/*
 * The limiter's own code per request, without the framework's request cycle:
 * each variant's middleware (or hooks) run again and again on one real request
 * of its framework (Express's decorated req/res, Koa's context, Fastify's
 * request/reply, from one injected request), its decision property reset at
 * each run as on a fresh request. What an injected request costs besides
 * (parsing, routing, the response, light-my-request's garbage) is absent, so
 * tens of ns are resolvable where whole requests resolve a few µs at best.
 * Headers land in Node's real ServerResponse (its validation and storage count).
 * One process per framework holds every variant; batches are interleaved.
 */
import { type App, buildApp, type Framework, type Step, type Variant } from '../lib/apps.ts'
import { sendResult, workerSpec } from '../lib/child.ts'

export interface MiddlewareSpec {
  readonly framework: Framework
  readonly variants: readonly Variant[]
  /** Runs per batch. */
  readonly runs: number
  /** Batches per variant (interleaved), after one warm-up batch each. */
  readonly rounds: number
}

/** Per variant, wall-clock ns per run of each round (one busy thread: its CPU). */
export interface MiddlewareResult {
  readonly framework: Framework
  readonly variants: readonly { readonly variant: Variant; readonly perRound: readonly number[] }[]
}

const spec = workerSpec<MiddlewareSpec>()
const DONE = Promise.resolve()
let calls = 0
let wake: (() => void) | undefined
// The middleware's `next`: counts, and wakes a batch waiting on an asynchronous middleware.
const done = (): Promise<void> => {
  calls++
  const resume = wake
  if (resume) {
    wake = undefined
    resume()
  }
  return DONE
}

/** Runs `step` `n` times, each run finished (its `next` called) before the next; ns per run. */
async function batch(step: Step, n: number): Promise<number> {
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    const before = calls
    step(done)
    if (calls === before)
      await new Promise<void>((resolve) => {
        wake = resolve
      })
  }
  return Number(process.hrtime.bigint() - t0) / n
}

const perRound: number[][] = spec.variants.map(() => [])
const apps: App[] = []
// Per variant: one request to its app, whose probe runs one batch (round -1: the warm-up).
const requests: ((round: number) => Promise<void>)[] = []
for (const [v, variant] of spec.variants.entries()) {
  let round = -1
  const probe = async (step: Step) => {
    const ns = await batch(step, spec.runs)
    if (round >= 0) perRound[v]![round] = ns
  }
  const app = await buildApp({ framework: spec.framework, variant, store: 'memory', keys: 'one' }, probe)
  apps.push(app)
  const request = async (r: number) => {
    round = r
    const before = calls
    const status = await app.inject(undefined)
    if (status !== 200) throw new Error(`${spec.framework} ${variant}: status ${status}`)
    // Every run of the batch went through to `next` (none answered the request itself).
    if (calls - before !== spec.runs)
      throw new Error(
        `${spec.framework} ${variant}: next called ${calls - before} times in ${spec.runs} runs`,
      )
  }
  requests.push(request)
}
for (const request of requests) await request(-1)
for (let round = 0; round < spec.rounds; round++) {
  // Rotate the order so no variant always follows the same one.
  for (let k = 0; k < requests.length; k++) await requests[(k + round) % requests.length]!(round)
}
for (const app of apps) await app.close()
const result: MiddlewareResult = {
  framework: spec.framework,
  variants: spec.variants.map((variant, v) => ({ variant, perRound: perRound[v]! })),
}
sendResult(result)
