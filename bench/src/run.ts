/*
 * `pnpm bench`: runs every benchmark section and writes bench/RESULTS.md and
 * bench/http-ratios.svg. `--smoke` uses tiny durations and writes to
 * bench/.tmp/smoke/ instead. `--only core,http,...` reruns some sections and
 * merges them into the last run's results (bench/results.json, committed with
 * RESULTS.md; smoke: bench/.tmp/smoke/results.json), and refuses to when those were measured
 * on another CPU, core count, Node.js or Redis; `--render` only rewrites the report from those
 * results. While a run goes on, the report of the sections done so far is kept in
 * bench/.tmp/progress/; the published files are written once, when the run ends, so a run stopped
 * half-way leaves them as they were. A complete run (every section, none failed, nothing merged)
 * also adds its verdicts to bench/history.json, which RESULTS.md shows beside its own.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem, type } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { type Config, FULL, SMOKE } from './lib/config.ts'
import type { Context } from './lib/context.ts'
import {
  type Availability,
  BENCH_DIR,
  checkCore,
  preparePackage,
  TOLLGATE_PACKAGES,
  type TollgatePackage,
  versionOf,
  workspaceRevision,
} from './lib/packages.ts'
import { RedisServer } from './lib/redis-server.ts'
import { historyEntry, readHistory, withRun, writeHistory } from './report/history.ts'
import { renderMarkdown } from './report/markdown.ts'
import { type Results, type Rig, rigMismatch, SECTIONS, type SectionName } from './report/results.ts'
import { ratioChart } from './report/svg.ts'
import { httpTarget } from './report/targets.ts'
import { attackSection } from './sections/attack.ts'
import { coreSection } from './sections/core.ts'
import { httpSection, summarise } from './sections/http.ts'
import { injectSection } from './sections/inject.ts'
import { memorySection } from './sections/memory.ts'
import { profileSection } from './sections/profile.ts'
import { redisSection } from './sections/redis.ts'

const PEERS = [
  'rate-limiter-flexible',
  'express-rate-limit',
  'rate-limit-redis',
  '@fastify/rate-limit',
  'koa-ratelimit',
  'express',
  'fastify',
  'koa',
  'ioredis',
  'autocannon',
  'mitata',
]

// `pnpm run bench -- --only core` hands the script the `--` too.
const argv = process.argv.slice(2)
const { values } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: {
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    render: { type: 'boolean', default: false },
    rounds: { type: 'string' },
  },
})
const base = values.smoke ? SMOKE : FULL
// `--rounds N`: fewer (or more) interleaved rounds for core and HTTP, e.g. for a quick look.
const rounds = values.rounds === undefined ? undefined : Number(values.rounds)
const config: Config =
  rounds === undefined ? base : { ...base, core: { ...base.core, rounds }, http: { ...base.http, rounds } }
const only = values.only?.split(',').map((s) => s.trim()) ?? [...SECTIONS]
for (const name of only) {
  if (!(SECTIONS as readonly string[]).includes(name))
    throw new Error(`unknown section ${name}; use ${SECTIONS.join(',')}`)
}
const outDir = values.smoke ? join(BENCH_DIR, '.tmp', 'smoke') : BENCH_DIR
// The full run's raw results sit next to RESULTS.md (committed), so that `--only` on a fresh clone
// merges into the published run instead of dropping the other sections.
const jsonFile = values.smoke ? join(outDir, 'results.json') : join(BENCH_DIR, 'results.json')
// The verdicts of every complete run, for the report's table of runs (see report/history.ts).
const historyFile = join(outDir, 'history.json')
const history = readHistory(historyFile)
mkdirSync(outDir, { recursive: true })
mkdirSync(join(BENCH_DIR, '.tmp'), { recursive: true })

/** Writes the report (RESULTS.md, the chart) into `dir` and the raw results into `json`. */
const writeReport = (results: Results, runs = history, dir = outDir, json = jsonFile) => {
  mkdirSync(dir, { recursive: true })
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`)
  const chart = 'http-ratios.svg'
  if (results.http) writeFileSync(join(dir, chart), ratioChart(results.http.rows, httpTarget))
  writeFileSync(join(dir, 'RESULTS.md'), renderMarkdown(results, config, chart, runs))
}

// `--render`: rewrite RESULTS.md and the chart from the last run's results, measuring nothing. The
// HTTP rows are summarised again from the raw runs, so a change to how they are summarised shows.
if (values.render) {
  const results = JSON.parse(readFileSync(jsonFile, 'utf8')) as Results
  if (results.http?.runs.length) results.http = { ...results.http, ...summarise(results.http.runs) }
  writeReport(results)
  process.exit(0)
}

const t0 = performance.now()
const log = (line: string) =>
  console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${line}`)

const available = {} as Record<TollgatePackage, Availability>
const packages: Record<string, string> = {}
for (const name of TOLLGATE_PACKAGES) {
  available[name] = await preparePackage(name, log)
  const state = available[name]
  packages[`@tollgate/${name}`] = state.ok ? 'built dist' : state.why
  if (!state.ok) log(`@tollgate/${name}: ${state.why}`)
}
if (available.core.ok) {
  const warning = await checkCore()
  if (warning) {
    log(warning)
    packages['@tollgate/core'] = `built dist — ${warning}`
  }
}

let redis: RedisServer | undefined
try {
  redis = await RedisServer.start()
  log(`redis-server ${redis.version} on 127.0.0.1:${redis.port}`)
} catch (error) {
  log(`no Redis: ${(error as Error).message}; Redis cases are skipped`)
}

const previous: Partial<Results> =
  values.only && existsSync(jsonFile) ? (JSON.parse(readFileSync(jsonFile, 'utf8')) as Results) : {}
const startedAt = new Date().toISOString()
const revision = await workspaceRevision()
const rig: Rig = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGB: Math.round(totalmem() / 1024 ** 3),
  os: `${type()} ${release()}`,
  node: process.version,
  redis: redis?.version,
  loadAverage: loadavg(),
  revision,
}
const mismatch = previous.rig && rigMismatch(previous.rig, rig)
if (mismatch) {
  await redis?.stop()
  throw new Error(`${jsonFile}: ${mismatch}`)
}
const results: Results = {
  ...previous,
  mode: config.mode,
  startedAt: previous.startedAt ?? startedAt,
  seconds: previous.seconds ?? 0,
  // A merged run keeps the rig of the run it merges into (its load average at start); each
  // section's own revision is in its timing.
  rig: previous.rig ?? rig,
  versions: Object.fromEntries(PEERS.map((name) => [name, versionOf(name)])),
  packages,
  timings: { ...previous.timings },
}

const ctx: Context = { config, redis, available, log }
const run: Record<SectionName, () => Promise<void>> = {
  core: async () => {
    results.core = await coreSection(ctx)
  },
  inject: async () => {
    results.inject = await injectSection(ctx)
  },
  http: async () => {
    results.http = await httpSection(ctx)
  },
  redis: async () => {
    results.redis = await redisSection(ctx)
  },
  memory: async () => {
    results.memory = await memorySection(ctx)
  },
  attack: async () => {
    results.attack = await attackSection(ctx)
  },
  profile: async () => {
    results.profile = await profileSection(ctx)
  },
}

// After each section, the report so far (a look while the run goes on, or what an interrupted run
// got through); the published files only at the end.
const progressDir = values.smoke ? join(outDir, 'progress') : join(BENCH_DIR, '.tmp', 'progress')
const writeProgress = () => writeReport(results, history, progressDir, join(progressDir, 'results.json'))

let failed = false
try {
  for (const name of SECTIONS) {
    if (!only.includes(name)) continue
    const started = performance.now()
    const at = new Date().toISOString()
    log(`— ${name} —`)
    try {
      await run[name]()
    } catch (error) {
      failed = true
      log(`section ${name} failed: ${(error as Error).stack ?? error}`)
    }
    results.timings[name] = { startedAt: at, seconds: (performance.now() - started) / 1000, revision }
    results.seconds = Object.values(results.timings).reduce((sum, t) => sum + t.seconds, 0)
    writeProgress()
    log(`${name} done; the report so far is in ${join(progressDir, 'RESULTS.md')}`)
  }
} finally {
  await redis?.stop()
}
// A complete run (every section, none failed, nothing merged) joins the runs the report compares.
if (!values.only && !failed) {
  const runs = withRun(history, historyEntry(results))
  writeHistory(historyFile, runs)
  writeReport(results, runs)
} else writeReport(results)
log(`wrote ${join(outDir, 'RESULTS.md')} in ${((performance.now() - t0) / 60_000).toFixed(1)} min`)
if (failed) process.exitCode = 1
