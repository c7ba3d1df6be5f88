/*
 * Machine instructions per run of a middleware alone on a real request of its framework, counted
 * by valgrind's cachegrind: the "middleware alone" figure of the inject section, whose nanoseconds
 * swing by microseconds between runs on Express on a shared VM. Not part of `pnpm bench`; run it
 * by hand:
 *
 *   node --import tsx src/tools/middleware-instructions.ts [--framework express|fastify|koa] [variant ...]
 *
 * Variants as in the HTTP section (default: bare, headers, floor, tollgate, tollgate-no-headers,
 * and the framework's peers). Each runs twice under cachegrind in a fresh `node --single-threaded`,
 * each time after the same warm-up batch, then RUNS or 2 × RUNS runs of the middleware on one
 * injected request (as the inject section runs them: on Express each run gets a new request and
 * response with Express's prototypes, which `bare` builds too): the difference over RUNS is one
 * run. The table gives each variant's count and its count over `bare`'s, the middleware's own.
 * `bare` shows the noise: on Koa, whose bare run only calls `next`, it came out at −700 to −760
 * per run (the two processes' garbage collection and compilation differ by that much over 200,000
 * runs); on Express, whose runs allocate a request and a response each, expect a few thousand.
 * Koa takes about 1.5 minutes per variant, Express about 3.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { buildApp, type Framework, type Step, type Variant } from '../lib/apps.ts'

const RUNS = 200_000
const WARMUP = 20_000
const BASE: readonly Variant[] = ['bare', 'headers', 'floor', 'tollgate', 'tollgate-no-headers']
const PEERS: Readonly<Record<Framework, readonly Variant[]>> = {
  express: ['express-rate-limit', 'rate-limiter-flexible'],
  fastify: ['@fastify/rate-limit'],
  koa: ['koa-ratelimit'],
}

/** The child: one app with a probe; a warm-up batch, then `runs` runs, each finished before the next. */
async function child(framework: Framework, variant: Variant, runs: number): Promise<void> {
  let calls = 0
  let wake: (() => void) | undefined
  const settled = Promise.resolve()
  // The middleware's `next`: counts, and wakes a run waiting on an asynchronous middleware.
  const done = (): Promise<void> => {
    calls++
    const resume = wake
    if (resume) {
      wake = undefined
      resume()
    }
    return settled
  }
  const batch = async (step: Step, n: number) => {
    for (let i = 0; i < n; i++) {
      const before = calls
      step(done)
      if (calls === before)
        await new Promise<void>((resolve) => {
          wake = resolve
        })
    }
  }
  let size = WARMUP
  const app = await buildApp({ framework, variant, store: 'memory', keys: 'one' }, (step) =>
    batch(step, size),
  )
  for (const n of [WARMUP, runs]) {
    size = n
    const status = await app.inject(undefined)
    if (status !== 200) throw new Error(`${framework} ${variant}: status ${status}`)
  }
  await app.close()
}

function count(framework: Framework, variant: Variant, runs: number): Promise<number> {
  const args = [
    '--tool=cachegrind',
    '--cache-sim=no',
    // V8 writes and rewrites machine code: valgrind must notice code changed anywhere.
    '--smc-check=all',
    '--cachegrind-out-file=/dev/null',
    process.execPath,
    '--single-threaded',
    '--import',
    'tsx',
    fileURLToPath(import.meta.url),
    '--child',
    framework,
    variant,
    String(runs),
  ]
  return new Promise((resolve, reject) => {
    execFile('valgrind', args, { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 }, (error, _out, err) => {
      if (error) {
        reject(new Error(`valgrind ${framework} ${variant}: ${error.message}\n${err.slice(-2000)}`))
        return
      }
      const match = /I\s+refs:\s+([\d,]+)/.exec(err)
      if (!match) reject(new Error(`valgrind ${framework} ${variant}: no count\n${err.slice(-2000)}`))
      else resolve(Number(match[1]!.replaceAll(',', '')))
    })
  })
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--child') {
    await child(argv[1] as Framework, argv[2] as Variant, Number(argv[3]))
    return
  }
  let framework: Framework = 'express'
  const variants: Variant[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--framework') {
      const value = argv[++i]
      if (value !== 'express' && value !== 'fastify' && value !== 'koa')
        throw new Error(`--framework: express, fastify or koa, got ${value}`)
      framework = value
    } else variants.push(arg as Variant)
  }
  const chosen = variants.length > 0 ? variants : [...BASE, ...PEERS[framework]]
  if (!chosen.includes('bare')) chosen.unshift('bare')
  const perRun = new Map<Variant, number>()
  for (const variant of chosen) {
    const [once, twice] = await Promise.all([
      count(framework, variant, RUNS),
      count(framework, variant, 2 * RUNS),
    ])
    perRun.set(variant, (twice - once) / RUNS)
  }
  const bare = perRun.get('bare')!
  console.log(`| ${framework} variant | Instructions/run | Over bare |`)
  console.log('|---|---|---|')
  for (const [variant, n] of perRun) {
    const own = variant === 'bare' ? '' : Math.round(n - bare).toLocaleString('en-US')
    console.log(`| ${variant} | ${Math.round(n).toLocaleString('en-US')} | ${own} |`)
  }
}

await main(process.argv.slice(2))
