/*
 * Machine instructions and first-level data-cache misses per core decision, counted by valgrind's
 * cachegrind: a measure that does not drift on a shared VM, where the timed core section's ratios
 * swing by a third between runs. Not part of `pnpm bench` (valgrind is not on every machine, and
 * one library takes about a minute and a half); run it by hand:
 *
 *   node --import tsx src/tools/instructions.ts [--keys one|many] [--by-function [--top N]]
 *     [--node-flag --a-v8-flag ...] [lib ...]
 *
 * Each library runs twice under cachegrind in a fresh `node --single-threaded` (no concurrent
 * compiler or GC threads, so the code that runs is the same from one run to the next), each time
 * after the same warm-up (every key decided three times) and then `RUNS` or `2 × RUNS` decisions:
 * the difference of the two counts over `RUNS` is the cost of one decision, start-up and warm-up
 * cancelled. Instructions are not time (a cache miss costs many), which is why misses are counted
 * too; the counts of one library vary by about 3 % from one pair of runs to the next when nothing
 * else runs. Run one instance of this tool at a time on an idle machine (its two counts take one
 * CPU each): V8's heuristics (when to collect garbage, for one) follow wall-clock time, which
 * valgrind slows unevenly under load, and with eight valgrind processes on the two CPUs one file
 * of Tollgate counted 1,398 and 1,754 instructions per decision.
 *
 * With `--by-function [--top N]`, each pair of runs is made under callgrind instead, with node's
 * `--perf-basic-prof`, and the tool prints where a decision's instructions go: per function, the
 * same difference of the two runs over `RUNS` (the N largest, 25 by default; no cache misses).
 * V8's compiled JavaScript is named from the perf map node writes (lib/jit-profile.ts), so a row
 * is a function as V8 compiled it, with what it inlined: `*decideGcra core/dist/index.js:…` holds
 * the parts of lru-cache's `get` that V8 inlined into it. JavaScript loaded through tsx (the bench's
 * own files) is named as V8 names tsx's output, which can be a neighbouring function's name.
 *
 * `--node-flag` (repeatable) passes a flag to the measured node, in either mode: to see what a V8
 * heuristic costs, say (`--node-flag --min-inlining-frequency=0`).
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { KEY_COUNT, makeKeys } from '../lib/common.ts'
import { type CoreLib, decider } from '../lib/deciders.ts'
import { parsePerfMap, perDecision, selfInstructions } from '../lib/jit-profile.ts'

const run = promisify(execFile)

const RUNS = 300_000
const LIBS: readonly CoreLib[] = [
  'tollgate-gcra',
  'floor-gcra',
  'rate-limiter-flexible',
  'express-rate-limit',
]

/** Every library `decider` knows (the default list leaves out the ones the README does not quote). */
const KNOWN: readonly CoreLib[] = [...LIBS, 'tollgate-fixed-window', 'lru-cache-get']

type Keys = 'one' | 'many'

/** The child: the warm-up, then `runs` decisions, awaiting a library's promise as the core worker does. */
async function child(lib: CoreLib, keysMode: Keys, runs: number): Promise<void> {
  const keys = keysMode === 'one' ? ['hot-key'] : makeKeys(KEY_COUNT)
  const decide = await decider(lib, keys)
  // Inline, not in an async helper: awaiting anything but a library's own promise would add a
  // microtask turn (hundreds of instructions) to every decision.
  const total = 3 * KEY_COUNT + runs
  for (let n = 0, i = 0; n < total; n++) {
    const result = decide(keys[i]!)
    i = i + 1 === keys.length ? 0 : i + 1
    if (result instanceof Promise) await result
  }
}

interface Count {
  readonly instructions: number
  readonly d1Misses: number
}

/**
 * Runs the child (`runs` decisions of `lib`) in a fresh `node --single-threaded` under valgrind with
 * `tool` (valgrind's own options) and `nodeFlags`; resolves with valgrind's summary (stderr).
 */
async function underValgrind(
  tool: readonly string[],
  nodeFlags: readonly string[],
  lib: CoreLib,
  keys: Keys,
  runs: number,
): Promise<string> {
  const args = [
    ...tool,
    // V8 writes and rewrites machine code: valgrind must notice code changed anywhere.
    '--smc-check=all',
    process.execPath,
    '--single-threaded',
    ...nodeFlags,
    '--import',
    'tsx',
    fileURLToPath(import.meta.url),
    '--child',
    lib,
    keys,
    String(runs),
  ]
  try {
    const { stderr } = await run('valgrind', args, { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 })
    return stderr
  } catch (error) {
    const err = String((error as { stderr?: unknown }).stderr ?? '')
    throw new Error(`valgrind ${lib} ${keys} ${runs}: ${(error as Error).message}\n${err.slice(-2000)}`)
  }
}

/** One cachegrind run of the child: its instructions and first-level data-cache misses. */
async function count(lib: CoreLib, keys: Keys, runs: number, flags: readonly string[]): Promise<Count> {
  const tool = ['--tool=cachegrind', '--cache-sim=yes', '--cachegrind-out-file=/dev/null']
  const summary = await underValgrind(tool, flags, lib, keys, runs)
  const number = (label: RegExp): number => {
    const match = label.exec(summary)
    if (!match) throw new Error(`valgrind ${lib}: no ${label} in its summary\n${summary.slice(-2000)}`)
    return Number(match[1]!.replaceAll(',', ''))
  }
  return { instructions: number(/I\s+refs:\s+([\d,]+)/), d1Misses: number(/D1\s+misses:\s+([\d,]+)/) }
}

/**
 * One callgrind run of the child with node's perf map on: instructions per function, JIT code
 * named from the map (read, then deleted with callgrind's file).
 */
async function profile(
  lib: CoreLib,
  keys: Keys,
  runs: number,
  flags: readonly string[],
): Promise<Map<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-callgrind-'))
  let mapFile: string | undefined
  try {
    // valgrind runs node in its own process and puts that pid (%p) in the file's name: node names
    // its perf map by the same pid.
    const tool = ['--tool=callgrind', `--callgrind-out-file=${join(dir, 'callgrind.%p')}`]
    await underValgrind(tool, ['--perf-basic-prof', ...flags], lib, keys, runs)
    const [file] = readdirSync(dir)
    const pid = /^callgrind\.(\d+)$/.exec(file ?? '')?.[1]
    if (pid === undefined) throw new Error(`callgrind ${lib}: no profile in ${dir}`)
    mapFile = `/tmp/perf-${pid}.map`
    const entries = parsePerfMap(readFileSync(mapFile, 'utf8'))
    const { stdout } = await run('callgrind_annotate', ['--threshold=100', '--auto=no', join(dir, file!)], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
    })
    return selfInstructions(stdout, entries)
  } finally {
    rmSync(dir, { recursive: true, force: true })
    if (mapFile !== undefined) rmSync(mapFile, { force: true })
  }
}

/** `--by-function`: per library, its instructions per decision by function, the `top` largest. */
async function byFunction(
  libs: readonly CoreLib[],
  keys: Keys,
  top: number,
  flags: readonly string[],
): Promise<void> {
  for (const lib of libs) {
    const [once, twice] = await Promise.all([
      profile(lib, keys, RUNS, flags),
      profile(lib, keys, 2 * RUNS, flags),
    ])
    const costs = perDecision(once, twice, RUNS)
    const total = costs.reduce((sum, c) => sum + c.perDecision, 0)
    console.log(
      `\n${lib}, ${keys} key${keys === 'one' ? '' : 's'}: ${Math.round(total)} instructions per decision\n`,
    )
    console.log(`| Instructions/decision | Function |`)
    console.log(`|---|---|`)
    for (const c of costs.slice(0, top)) console.log(`| ${c.perDecision.toFixed(1)} | \`${c.name}\` |`)
  }
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--child') {
    await child(argv[1] as CoreLib, argv[2] as Keys, Number(argv[3]))
    return
  }
  let keys: Keys = 'many'
  let functions = false
  let top = 25
  const flags: string[] = []
  const libs: CoreLib[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--keys') {
      const value = argv[++i]
      if (value !== 'one' && value !== 'many') throw new Error(`--keys: 'one' or 'many', got ${value}`)
      keys = value
    } else if (arg === '--by-function') functions = true
    else if (arg === '--node-flag') {
      const value = argv[++i]
      if (!value?.startsWith('--'))
        throw new Error(`--node-flag: a node or V8 flag such as --min-inlining-frequency=0, got ${value}`)
      flags.push(value)
    } else if (arg === '--top') {
      const value = Number(argv[++i])
      if (!Number.isSafeInteger(value) || value < 1)
        throw new Error(`--top: a positive whole number, got ${argv[i]}`)
      top = value
    } else libs.push(arg as CoreLib)
  }
  const unknown = libs.filter((lib) => !KNOWN.includes(lib))
  if (unknown.length > 0) throw new Error(`unknown libraries: ${unknown.join(', ')}`)
  if (functions) {
    await byFunction(libs.length > 0 ? libs : LIBS, keys, top, flags)
    return
  }
  console.log(`| Library | Keys | Instructions/decision | D1 misses/decision |`)
  console.log(`|---|---|---|---|`)
  for (const lib of libs.length > 0 ? libs : LIBS) {
    const [once, twice] = await Promise.all([
      count(lib, keys, RUNS, flags),
      count(lib, keys, 2 * RUNS, flags),
    ])
    const instructions = (twice.instructions - once.instructions) / RUNS
    const misses = (twice.d1Misses - once.d1Misses) / RUNS
    console.log(`| ${lib} | ${keys} | ${Math.round(instructions)} | ${misses.toFixed(2)} |`)
  }
}

await main(process.argv.slice(2))
