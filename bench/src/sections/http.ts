import { retryOnce, ServerProcess } from '../lib/child.ts'
import { median, minMax } from '../lib/common.ts'
import { type Context, missing, rotate, schedule } from '../lib/context.ts'
import { type Pinning, pinLoadGenerator, pinProcess } from '../lib/cpus.ts'
import { load } from '../lib/load.ts'
import { diffCounters, type RedisServer, totalCalls } from '../lib/redis-server.ts'
import type { Framework, ServerSpec, ServerStats, Variant } from '../workers/server.ts'

export type Store = 'memory' | 'redis'
export type Keys = 'one' | 'many'

export const PEERS: Readonly<Record<Framework, readonly Variant[]>> = {
  express: ['express-rate-limit', 'rate-limiter-flexible'],
  fastify: ['@fastify/rate-limit'],
  koa: ['koa-ratelimit'],
}
export const FRAMEWORKS: readonly Framework[] = ['express', 'fastify', 'koa']

/** One measured case of one round. */
export interface HttpRun {
  readonly round: number
  /**
   * Position in its round's sequence (one key: bare, limiter, bare, limiter, …, bare), so that a
   * limiter is compared with the bare runs just before and after it. Absent in results of earlier
   * versions and for 100,000 keys, whose limiters are compared with their round's bare runs.
   */
  readonly slot?: number
  readonly framework: Framework
  readonly variant: Variant
  /** `memory` for bare servers (they have no store). */
  readonly store: Store
  readonly keys: Keys
  readonly rps: number
  readonly p99: number
  readonly requests: number
  readonly non2xx: number
  readonly errors: number
  /** Server CPU (user + system) per request, µs. */
  readonly cpuPerRequest: number
  /** Redis CPU per request, µs (Redis cases). */
  readonly redisCpuPerRequest: number | undefined
  /** Commands Redis executed per request, scripts' inner calls included (Redis cases). */
  readonly redisCallsPerRequest: number | undefined
}

/** A limiter case summarised over the rounds, against the bare server of each round. */
export interface HttpRow {
  readonly framework: Framework
  readonly variant: Variant
  readonly store: Store
  readonly keys: Keys
  readonly rps: number
  readonly ratio: number
  readonly ratioRange: [number, number]
  /**
   * Median over rounds of this case's ratio ÷ the A/A control's ratio in the same round: this
   * case's req/s against a second bare server measured as the limiters are, which removes what
   * error of the harness the control shows. Absent without control runs.
   */
  readonly vsControl?: number
  readonly vsControlRange?: [number, number]
  readonly p99: number
  readonly bareP99: number
  readonly cpuPerRequest: number
  /** Median over rounds of (this CPU/request − bare CPU/request of the round), µs. */
  readonly addedCpu: number
  readonly redisCpuPerRequest: number | undefined
  readonly redisCallsPerRequest: number | undefined
  readonly rejected: number
}

export interface HttpSection {
  readonly rows: readonly HttpRow[]
  readonly bare: readonly {
    framework: Framework
    keys: Keys
    rps: number
    p99: number
    cpuPerRequest: number
  }[]
  readonly runs: readonly HttpRun[]
  readonly notes: readonly string[]
  /** Where the load generator and the servers ran (absent in results of earlier versions). */
  readonly pinning?: Pinning
}

function cases(ctx: Context, notes: string[]): Case[] {
  const list: Case[] = []
  for (const framework of FRAMEWORKS) {
    list.push({ framework, variant: 'bare', store: 'memory' })
    // A/A: a second bare server, run as a limiter is. How far its ratio strays from 1.00 is the
    // harness's own error, against which the limiters' ratios are read.
    list.push({ framework, variant: 'control', store: 'memory' })
    // The floor of any limiter that sends standard headers: a middleware that only sets them.
    list.push({ framework, variant: 'headers', store: 'memory' })
    // The floor of any limiter that sends them: the least a GCRA limiter keyed in lru-cache does.
    list.push({ framework, variant: 'floor', store: 'memory' })
    for (const store of ['memory', 'redis'] as const) {
      if (store === 'redis' && !ctx.redis) continue
      const needs =
        store === 'redis' ? (['core', 'redis', framework] as const) : (['core', framework] as const)
      const skip = missing(ctx, ...needs)
      if (skip) notes.push(`${framework} + Tollgate (${store} store) ${skip}`)
      else {
        list.push({ framework, variant: 'tollgate', store })
        // Tollgate without its two headers: splits its overhead into the headers' and the limiter's.
        if (store === 'memory') {
          list.push({ framework, variant: 'tollgate-no-headers', store })
          // The README's first example: a global limiter and a route limiter on every request.
          list.push({ framework, variant: 'tollgate-stacked', store })
        }
      }
      for (const variant of PEERS[framework]) list.push({ framework, variant, store })
    }
  }
  return list
}

/**
 * V8 flags of every measured server. `--no-memory-reducer`: a server that idled between its turns
 * had its heap shrunk by V8's memory reducer, and its next turn paid for regrowing it (Fastify +
 * Tollgate, memory store, one key: 15.1 instead of 12.2 µs of server CPU per request, when every
 * server of a framework stayed up for several rounds). Each server now serves one run and never
 * idles under measurement, but a server under steady load never shrinks its heap either, so the
 * flag is kept: it holds the servers to the steady state they are meant to measure.
 */
export const SERVER_NODE_ARGS: readonly string[] = ['--no-memory-reducer']

/** Where servers run and which Redis the Redis cases use. */
export interface Rig {
  readonly redis: RedisServer | undefined
  readonly pinning: Pinning
  readonly log: (line: string) => void
}

/** How long a fresh server is loaded, and with how many connections. */
export interface Timing {
  readonly connections: number
  readonly warmupSeconds: number
  readonly seconds: number
}

/** What one run of one server measured (an {@link HttpRun} without its place in the section). */
export type Measured = Omit<HttpRun, 'round' | 'slot'>

/** One measured case: a framework, a variant (bare, a reference or a limiter) and its store. */
export interface Case {
  readonly framework: Framework
  readonly variant: Variant
  readonly store: Store
}

/**
 * One run on a fresh server: starts it (pinned to the servers' CPU when the rig pins), gives it
 * `warmupSeconds` of load, then measures its req/s, p99 and CPU (and Redis's) over `seconds` of
 * load, and stops it, flushing Redis after a Redis case so the next starts from an empty one. A
 * server process draws a speed for its whole life: in about one Koa server process in five with a
 * limiter in it, V8 ran the object literal in Node's `process.nextTick` in its runtime rather than
 * an inline cache, about 3 µs more per request, a seventh of a Koa request (FRESH-SERVERS.md). A
 * process per run makes that draw one run's, which the median over rounds passes over, instead of
 * every run of a long-lived server's.
 */
export async function freshRun(rig: Rig, c: Case, keys: Keys, timing: Timing): Promise<Measured> {
  const redis = c.store === 'redis' ? rig.redis : undefined
  const spec: ServerSpec = { ...c, keys, ...(redis ? { redisPort: redis.port } : {}) }
  const server = await retryOnce(
    () => ServerProcess.start<ServerStats>('server', spec, { nodeArgs: SERVER_NODE_ARGS, timeoutMs: 30_000 }),
    rig.log,
  )
  try {
    if (rig.pinning.pinned) pinProcess(server.pid, rig.pinning.server)
    const { connections, warmupSeconds, seconds } = timing
    await load({ port: server.port, connections, seconds: warmupSeconds, keys })
    const before = await server.stats()
    const redisBefore = redis ? await redis.counters() : undefined
    const result = await load({ port: server.port, connections, seconds, keys })
    const after = await server.stats()
    const redisDelta = redis && redisBefore ? diffCounters(redisBefore, await redis.counters()) : undefined
    return {
      framework: c.framework,
      variant: c.variant,
      store: c.store,
      keys,
      rps: result.rps,
      p99: result.p99,
      requests: result.requests,
      non2xx: result.non2xx,
      errors: result.errors,
      cpuPerRequest: (after.cpuMicros - before.cpuMicros) / result.requests,
      redisCpuPerRequest: redisDelta ? (redisDelta.cpuSeconds * 1e6) / result.requests : undefined,
      redisCallsPerRequest: redisDelta ? totalCalls(redisDelta) / result.requests : undefined,
    }
  } finally {
    await server.stop()
    if (redis) await redis.flush()
  }
}

/** Rows of the HTTP table: each limiter against the bare runs next to it (see `HttpRun.slot`). */
export function summarise(runs: readonly HttpRun[]): Pick<HttpSection, 'rows' | 'bare'> {
  const rows: HttpRow[] = []
  const bare: HttpSection['bare'][number][] = []
  const optionalMedian = (values: (number | undefined)[]) =>
    values.every((v) => v !== undefined) && values.length ? median(values as number[]) : undefined
  for (const keys of ['one', 'many'] as const) {
    for (const framework of FRAMEWORKS) {
      const bareRuns = runs.filter(
        (r) => r.framework === framework && r.keys === keys && r.variant === 'bare',
      )
      if (!bareRuns.length) continue
      const controlOf = new Map(
        runs
          .filter((r) => r.framework === framework && r.keys === keys && r.variant === 'control')
          .map((r) => [r.round, r]),
      )
      // A limiter is compared with the mean of the bare runs next to it in time: with one key, the
      // one just before and the one just after it (a VM's speed changes within seconds); otherwise
      // (100,000 keys, or results without slots) its round's bare runs, first and last.
      const bareOf = (run: HttpRun) => {
        const round = bareRuns.filter((r) => r.round === run.round)
        const slot = run.slot
        const adjacent =
          slot === undefined ? [] : round.filter((r) => r.slot === slot - 1 || r.slot === slot + 1)
        const pair = adjacent.length ? adjacent : round
        if (!pair.length) return undefined
        return {
          rps: pair.reduce((sum, r) => sum + r.rps, 0) / pair.length,
          cpuPerRequest: pair.reduce((sum, r) => sum + r.cpuPerRequest, 0) / pair.length,
        }
      }
      bare.push({
        framework,
        keys,
        rps: median(bareRuns.map((r) => r.rps)),
        p99: median(bareRuns.map((r) => r.p99)),
        cpuPerRequest: median(bareRuns.map((r) => r.cpuPerRequest)),
      })
      for (const store of ['memory', 'redis'] as const) {
        for (const variant of [
          'tollgate',
          'tollgate-no-headers',
          'tollgate-stacked',
          'headers',
          'floor',
          'control',
          ...PEERS[framework],
        ] as const) {
          const mine = runs.filter(
            (r) => r.framework === framework && r.keys === keys && r.variant === variant && r.store === store,
          )
          if (!mine.length) continue
          const ratioOf = (r: HttpRun) => r.rps / (bareOf(r)?.rps ?? Number.NaN)
          const ratios = mine.map(ratioOf)
          // This case's ratio over the control's in the same round, for rounds that have both.
          const overControl =
            variant === 'control'
              ? []
              : mine.flatMap((r) => {
                  const control = controlOf.get(r.round)
                  return control === undefined ? [] : [ratioOf(r) / ratioOf(control)]
                })
          rows.push({
            framework,
            variant,
            store,
            keys,
            rps: median(mine.map((r) => r.rps)),
            ratio: median(ratios),
            ratioRange: minMax(ratios),
            ...(overControl.length
              ? { vsControl: median(overControl), vsControlRange: minMax(overControl) }
              : {}),
            p99: median(mine.map((r) => r.p99)),
            bareP99: median(bareRuns.map((r) => r.p99)),
            cpuPerRequest: median(mine.map((r) => r.cpuPerRequest)),
            addedCpu: median(mine.map((r) => r.cpuPerRequest - (bareOf(r)?.cpuPerRequest ?? Number.NaN))),
            redisCpuPerRequest: optionalMedian(mine.map((r) => r.redisCpuPerRequest)),
            redisCallsPerRequest: optionalMedian(mine.map((r) => r.redisCallsPerRequest)),
            rejected: mine.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
          })
        }
      }
    }
  }
  return { rows, bare }
}

function logRun(ctx: Context, run: HttpRun): void {
  ctx.log(
    `http r${run.round + 1} ${run.keys} ${run.framework} ${run.variant} (${run.store}): ${Math.round(run.rps)} req/s, p99 ${run.p99} ms, ${run.cpuPerRequest.toFixed(1)} µs CPU/req${run.non2xx + run.errors ? `, ${run.non2xx} non-2xx, ${run.errors} errors` : ''}`,
  )
}

function failed(ctx: Context, notes: string[], c: Case, keys: Keys, error: unknown): void {
  const message = `${c.framework} ${c.variant} (${c.store}, ${keys} key${keys === 'one' ? '' : 's'}) failed: ${(error as Error).message.split('\n')[0]}`
  ctx.log(message)
  if (!notes.includes(message)) notes.push(message)
}

/** What the one-key and 100,000-keys parts share: where they run, their cases and results so far. */
interface Session {
  readonly ctx: Context
  readonly rig: Rig
  readonly list: readonly Case[]
  readonly notes: string[]
  readonly runs: HttpRun[]
}

/** Runs `c` on a fresh server and records the run, or notes its failure. */
async function record(
  { ctx, rig, notes, runs }: Session,
  c: Case,
  keys: Keys,
  timing: Timing,
  at: Pick<HttpRun, 'round' | 'slot'>,
): Promise<void> {
  try {
    const run: HttpRun = { ...at, ...(await freshRun(rig, c, keys, timing)) }
    runs.push(run)
    logRun(ctx, run)
  } catch (error) {
    failed(ctx, notes, c, keys, error)
  }
}

/** A framework's bare case and its other cases (limiters and references), in the list's order. */
function casesOf(list: readonly Case[], framework: Framework): { bare: Case; limiters: Case[] } {
  const group = list.filter((c) => c.framework === framework)
  const bare = group.find((c) => c.variant === 'bare')
  if (bare === undefined) throw new Error(`http: no bare case for ${framework}`)
  return { bare, limiters: group.filter((c) => c !== bare) }
}

/**
 * One key: in each round, for each framework, every limiter in turn (order rotated per round) with
 * bare before, between and after them (see {@link schedule}): bare, limiter, bare, limiter, …,
 * bare; every run on a fresh server ({@link freshRun}). A shared VM's speed changes in steps
 * lasting seconds (bare Fastify on one AMD EPYC VM: 21–26k and 38–42k req/s); a limiter compared
 * with the bare runs seconds away from it sees the same step far more often than one compared with
 * its round's first and last runs, minutes apart. The frameworks take turns within a round, so
 * that a slow stretch of the VM lands on one round of each rather than on every round of one.
 */
async function oneKey(session: Session): Promise<void> {
  const { rounds, connections, warmupSeconds, seconds } = session.ctx.config.http
  const timing: Timing = { connections, warmupSeconds, seconds }
  for (let round = 0; round < rounds; round++) {
    for (const framework of FRAMEWORKS) {
      const { bare, limiters } = casesOf(session.list, framework)
      for (const [slot, c] of schedule(bare, limiters, round).entries()) {
        await record(session, c, 'one', timing, { round, slot })
      }
    }
  }
}

/**
 * 100,000 keys: a fresh server per case, so every key it sees is new to it (the insert path, and
 * eviction where a store is bounded); bare first and last in each round, limiters rotated.
 */
async function manyKeys(session: Session): Promise<void> {
  const { manyRounds, manySeconds, manyWarmupSeconds, connections } = session.ctx.config.http
  const timing: Timing = { connections, warmupSeconds: manyWarmupSeconds, seconds: manySeconds }
  for (let round = 0; round < manyRounds; round++) {
    for (const framework of FRAMEWORKS) {
      const { bare, limiters } = casesOf(session.list, framework)
      for (const c of [bare, ...rotate(limiters, round), bare]) {
        await record(session, c, 'many', timing, { round })
      }
    }
  }
}

/** HTTP overhead of every limiter against the bare framework, one key and 100,000 keys. */
export async function httpSection(ctx: Context): Promise<HttpSection> {
  const notes: string[] = []
  const list = cases(ctx, notes)
  if (!ctx.redis) notes.push('Redis-store cases skipped: no redis-server')
  const runs: HttpRun[] = []
  const { pinning, restore } = pinLoadGenerator()
  if (!pinning.pinned) notes.push(`load generator and servers not pinned to CPUs: ${pinning.why}`)
  try {
    const session: Session = { ctx, rig: { redis: ctx.redis, pinning, log: ctx.log }, list, notes, runs }
    await oneKey(session)
    await manyKeys(session)
  } finally {
    try {
      restore()
    } catch (error) {
      // The results stand; only the sections after this one run on fewer CPUs.
      const message = `could not give the orchestrator its CPUs back: ${(error as Error).message.split('\n')[0]}`
      ctx.log(message)
      notes.push(message)
    }
  }
  return { ...summarise(runs), runs, notes, pinning }
}
