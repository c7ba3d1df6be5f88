import { retryOnce, ServerProcess } from '../lib/child.ts'
import { median, minMax } from '../lib/common.ts'
import { type Context, missing, rotate, schedule } from '../lib/context.ts'
import { type Pinning, pinLoadGenerator, pinProcess } from '../lib/cpus.ts'
import { load } from '../lib/load.ts'
import { diffCounters, totalCalls } from '../lib/redis-server.ts'
import type { Framework, ServerSpec, ServerStats, Variant } from '../workers/server.ts'

type Store = 'memory' | 'redis'
type Keys = 'one' | 'many'

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
  /**
   * Which of its case's processes served the run: with one key, each bare slot of a round has a
   * bare process of its own (see {@link schedule}); every other case has one process (0). Absent
   * in results of earlier versions and for 100,000 keys.
   */
  readonly server?: number
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

interface Case {
  readonly framework: Framework
  readonly variant: Variant
  readonly store: Store
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
 * V8 flags of every measured server. Between its turns a server idles for tens of seconds while the
 * others take the load, and V8's memory reducer then shrinks its heap, which a server under steady
 * load never does: the next turn paid for regrowing it (Fastify + Tollgate, memory store, one key:
 * 15.1 instead of 12.2 µs of server CPU per request with all of the framework's servers up, in a
 * trial where one bare process served every bare turn and so hardly ever idled).
 */
export const SERVER_NODE_ARGS: readonly string[] = ['--no-memory-reducer']

/** What the one-key and 100,000-keys parts of the section share: its cases, CPUs and results so far. */
interface Session {
  readonly ctx: Context
  readonly pinning: Pinning
  readonly list: readonly Case[]
  readonly notes: string[]
  readonly runs: HttpRun[]
}

async function startServer(
  { ctx, pinning }: Session,
  c: Case,
  keys: Keys,
): Promise<ServerProcess<ServerStats>> {
  const redis = c.store === 'redis' ? ctx.redis : undefined
  const spec: ServerSpec = { ...c, keys, ...(redis ? { redisPort: redis.port } : {}) }
  const server = await retryOnce(
    () => ServerProcess.start<ServerStats>('server', spec, { nodeArgs: SERVER_NODE_ARGS, timeoutMs: 30_000 }),
    ctx.log,
  )
  if (pinning.pinned) {
    try {
      pinProcess(server.pid, pinning.server)
    } catch (error) {
      await server.stop()
      throw error
    }
  }
  return server
}

/**
 * One measurement of a running server: warm-up, then its req/s and CPU (and Redis's) over
 * `seconds` of load. Every run warms up, fresh server or not: a server that waited while the
 * others took the load has cold caches, and its first moments would count against it.
 */
async function measure(
  ctx: Context,
  server: ServerProcess<ServerStats>,
  c: Case,
  keys: Keys,
  round: number,
  seconds: number,
  at?: { readonly slot: number; readonly server: number },
): Promise<HttpRun> {
  const redis = c.store === 'redis' ? ctx.redis : undefined
  const { connections, warmupSeconds } = ctx.config.http
  await load({ port: server.port, connections, seconds: warmupSeconds, keys })
  const before = await server.stats()
  const redisBefore = redis ? await redis.counters() : undefined
  const result = await load({ port: server.port, connections, seconds, keys })
  const after = await server.stats()
  const redisDelta = redis && redisBefore ? diffCounters(redisBefore, await redis.counters()) : undefined
  return {
    round,
    ...(at === undefined ? {} : { slot: at.slot, server: at.server }),
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
    `http r${run.round + 1} ${run.keys} ${run.framework} ${run.variant} (${run.store})${run.variant === 'bare' && run.server !== undefined ? ` #${run.server}` : ''}: ${Math.round(run.rps)} req/s, p99 ${run.p99} ms, ${run.cpuPerRequest.toFixed(1)} µs CPU/req${run.non2xx + run.errors ? `, ${run.non2xx} non-2xx, ${run.errors} errors` : ''}`,
  )
}

function failed(ctx: Context, notes: string[], c: Case, keys: Keys, error: unknown): void {
  const message = `${c.framework} ${c.variant} (${c.store}, ${keys} key${keys === 'one' ? '' : 's'}) failed: ${(error as Error).message.split('\n')[0]}`
  ctx.log(message)
  if (!notes.includes(message)) notes.push(message)
}

/** One process of the one-key part: its case, and which of the case's processes it is. */
interface Member {
  readonly c: Case
  readonly server: number
}

/**
 * One key: every server of a framework is up at once; in each of many short rounds, the load goes
 * to each limiter in turn (order rotated per round) with bare before, between and after them, each
 * bare turn on a bare process of its own (see {@link schedule}). A shared VM's speed changes in
 * steps lasting seconds (bare Fastify on one AMD EPYC VM: 21–26k and 38–42k req/s); a limiter
 * compared with the bare runs seconds away from it sees the same step far more often than one
 * compared with its round's first and last runs, half a minute apart. Every `restartEvery`
 * rounds, all the framework's servers are started afresh: a process can run a few percent faster
 * or slower than another running the same code for its whole life (its heap's and code's
 * addresses, its hash seed), which no number of rounds against the same bare process would
 * average out. Each server then gets `startWarmupSeconds` of load before its first round: with
 * only the 0.75 s of warm-up every run gets, the first round after a start found the limiters
 * colder than bare, which then ran between every two of them (one complete run, Express: the
 * median ratio of every limiter and of the A/A control was 0.71 in the rounds right after a start
 * and 0.84 in the others; Koa 0.80 and 0.84).
 */
async function oneKey(session: Session): Promise<void> {
  const { ctx, list, notes, runs } = session
  const { rounds, seconds, restartEvery, startWarmupSeconds, connections } = ctx.config.http
  for (const framework of FRAMEWORKS) {
    const group = list.filter((c) => c.framework === framework)
    const bare = group.find((c) => c.variant === 'bare')!
    const limiters: Member[] = group.filter((c) => c !== bare).map((c) => ({ c, server: 0 }))
    const bares: Member[] = Array.from({ length: limiters.length + 1 }, (_, server) => ({ c: bare, server }))
    const servers = new Map<Member, ServerProcess<ServerStats>>()
    const stopAll = async () => {
      for (const server of servers.values()) await server.stop()
      servers.clear()
    }
    try {
      for (let round = 0; round < rounds; round++) {
        if (round % restartEvery === 0) {
          await stopAll()
          for (const member of [...bares, ...limiters]) {
            try {
              servers.set(member, await startServer(session, member.c, 'one'))
            } catch (error) {
              failed(ctx, notes, member.c, 'one', error)
            }
          }
          for (const [member, server] of servers) {
            try {
              await load({ port: server.port, connections, seconds: startWarmupSeconds, keys: 'one' })
            } catch (error) {
              failed(ctx, notes, member.c, 'one', error)
            }
          }
        }
        // Each bare slot is served by a bare process of its own, so every process, bare or not, runs
        // once per round and idles for the rest of it. With one bare process serving every bare
        // slot, bare ran every other turn and was always warm while each limiter idled for a round;
        // an A/A control (a second bare server, run as a limiter is) then made 0.92 of bare's req/s
        // on Express, 0.98 on Fastify and 0.94 on Koa, a bias every limiter's ratio carried.
        for (const [slot, member] of schedule(bares, limiters, round).entries()) {
          const server = servers.get(member)
          if (server === undefined) continue
          try {
            const run = await measure(ctx, server, member.c, 'one', round, seconds, {
              slot,
              server: member.server,
            })
            runs.push(run)
            logRun(ctx, run)
          } catch (error) {
            failed(ctx, notes, member.c, 'one', error)
          }
        }
      }
    } finally {
      await stopAll()
      if (ctx.redis) await ctx.redis.flush()
    }
  }
}

/**
 * 100,000 keys: a fresh server per case, so every key it sees is new to it (the insert path, and
 * eviction where a store is bounded); bare first and last in each round, limiters rotated.
 */
async function manyKeys(session: Session): Promise<void> {
  const { ctx, list, notes, runs } = session
  const { manyRounds, manySeconds } = ctx.config.http
  for (let round = 0; round < manyRounds; round++) {
    for (const framework of FRAMEWORKS) {
      const limiters = list.filter((c) => c.framework === framework && c.variant !== 'bare')
      const bare = list.find((c) => c.framework === framework && c.variant === 'bare')!
      for (const c of [bare, ...rotate(limiters, round), bare]) {
        try {
          const server = await startServer(session, c, 'many')
          try {
            const run = await measure(ctx, server, c, 'many', round, manySeconds)
            runs.push(run)
            logRun(ctx, run)
          } finally {
            await server.stop()
            if (c.store === 'redis' && ctx.redis) await ctx.redis.flush()
          }
        } catch (error) {
          failed(ctx, notes, c, 'many', error)
        }
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
    const session: Session = { ctx, pinning, list, notes, runs }
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
