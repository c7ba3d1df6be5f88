/*
 * Server CPU per request with a fresh server process for every run, for a few chosen variants of
 * one framework over many rounds: a closer look than the HTTP section's few rounds of every case.
 * Not part of `pnpm bench`; run it by hand:
 *
 *   node --import tsx src/tools/fresh-servers.ts --framework koa [--variants bare,floor,tollgate]
 *     [--rounds 12] [--warmup 3] [--seconds 6]
 *
 * In each round every variant (order rotated per round) gets a server process of its own, pinned
 * to one CPU with the load generator (autocannon, this process) on the other, `--warmup` seconds of
 * load and then `--seconds` measured; then the process is stopped (the HTTP section's `freshRun`).
 * A server's CPU per request is `process.cpuUsage()` over the measured requests. Each variant's
 * figure is then compared with the first variant's in the same round (the reference: bare by
 * default), and the table gives the median and min–max of those differences and ratios over rounds.
 *
 * Why fresh processes: on a 2-core AMD EPYC VM a server process draws a speed for its whole life.
 * In about one Koa server process in five with a limiter in it (the floor's 7 of 35, Tollgate's 5
 * of 20; none of 35 bare, empty-middleware or constant-header ones), V8 handled the object literal
 * in Node's `process.nextTick` in its runtime instead of an inline cache, which `perf` showed as
 * `Runtime_DefineKeyedOwnPropertyInLiteral` and `JSObject::MigrateToMap` under `endReadable`,
 * `onwrite` and `resume`: about 3 µs more per request, a seventh of a Koa request. With a process
 * per round, the median over rounds is that of the usual draw.
 *
 * The ratio column is the reference's CPU per request over the variant's, per round: what the
 * variant's req/s would be as a share of the reference's on a server that is CPU-bound, as these
 * are (the server's CPU is busy throughout a run). Load goes to 127.0.0.1 only, and the tool stops
 * by itself: each run is bounded by `load`, each server by its start timeout.
 */
import { parseArgs } from 'node:util'
import type { Framework, Variant } from '../lib/apps.ts'
import { median, minMax, signed } from '../lib/common.ts'
import { FULL } from '../lib/config.ts'
import { rotate } from '../lib/context.ts'
import { pinLoadGenerator } from '../lib/cpus.ts'
import { FRAMEWORKS, freshRun } from '../sections/http.ts'

/** autocannon connections, as the HTTP section's full run uses. */
const CONNECTIONS = FULL.http.connections

const { values } = parseArgs({
  options: {
    framework: { type: 'string' },
    variants: { type: 'string', default: 'bare,floor,tollgate,tollgate-no-headers' },
    rounds: { type: 'string', default: '12' },
    warmup: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '6' },
  },
})

function positive(name: string, text: string): number {
  const n = Number(text)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${text}`)
  return n
}

const framework = values.framework as Framework
if (!FRAMEWORKS.includes(framework))
  throw new Error(`--framework must be one of ${FRAMEWORKS.join(', ')}, got ${values.framework}`)
const variants = values.variants.split(',').map((v) => v.trim()) as Variant[]
if (variants.length < 2)
  throw new Error(`--variants needs a reference and at least one more, got ${values.variants}`)
const rounds = positive('rounds', values.rounds)
if (!Number.isInteger(rounds)) throw new Error(`--rounds must be a whole number, got ${values.rounds}`)
const warmup = positive('warmup', values.warmup)
const seconds = positive('seconds', values.seconds)

const { pinning, restore } = pinLoadGenerator()
if (!pinning.pinned) console.log(`not pinned: ${pinning.why}`)
const perRun = warmup + seconds + 1.5
console.log(
  `${framework}: ${variants.join(', ')}; ${rounds} rounds, about ${Math.ceil((rounds * variants.length * perRun) / 60)} min`,
)

/** One fresh server: its CPU µs per measured request and its req/s. */
async function run(variant: Variant): Promise<{ cpu: number; rps: number }> {
  const result = await freshRun(
    { redis: undefined, pinning, log: (line) => console.log(line) },
    { framework, variant, store: 'memory' },
    'one',
    { connections: CONNECTIONS, warmupSeconds: warmup, seconds },
  )
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${variant}: ${result.non2xx} non-2xx responses and ${result.errors} errors`)
  return { cpu: result.cpuPerRequest, rps: result.rps }
}

const cpu = new Map<Variant, number[]>(variants.map((v) => [v, []]))
try {
  for (let round = 0; round < rounds; round++) {
    for (const variant of rotate(variants, round)) {
      const result = await run(variant)
      cpu.get(variant)![round] = result.cpu
      console.log(
        `r${round + 1} ${variant}: ${Math.round(result.rps)} req/s, ${result.cpu.toFixed(1)} µs CPU/request`,
      )
    }
  }
} finally {
  restore()
}

const reference = variants[0]!
const ref = cpu.get(reference)!
console.log(
  `\n| ${framework} | CPU µs/request | − ${reference}, per round | ${reference} ÷ variant, per round |`,
)
console.log('|---|---|---|---|')
console.log(`| ${reference} | ${median(ref).toFixed(1)} | | |`)
for (const variant of variants.slice(1)) {
  const own = cpu.get(variant)!
  const added = own.map((c, round) => c - ref[round]!)
  const ratios = own.map((c, round) => ref[round]! / c)
  const [lo, hi] = minMax(added)
  const [rlo, rhi] = minMax(ratios)
  console.log(
    `| ${variant} | ${median(own).toFixed(1)} | ${signed(median(added))} (${signed(lo)} to ${signed(hi)}) | ${median(ratios).toFixed(3)} (${rlo.toFixed(2)}–${rhi.toFixed(2)}) |`,
  )
}
