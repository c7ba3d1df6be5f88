import { execFile, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'
import type { Results } from '../src/report/results.ts'

const run = promisify(execFile)

/** Whether this machine can pin a process to one of several CPUs (Linux, 2+ CPUs, taskset). */
function canPin(): boolean {
  if (process.platform !== 'linux' || availableParallelism() < 2) return false
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
const BENCH = fileURLToPath(new URL('..', import.meta.url))

// Benchmarks are not tests: this only proves the harness runs end to end with tiny sizes
// (the HTTP-over-sockets section takes minutes even in smoke mode: `pnpm bench:smoke`).
test('a smoke run measures every library and renders RESULTS.md', async () => {
  // `--only` merges into the previous smoke run's results: start from none.
  rmSync(join(BENCH, '.tmp', 'smoke', 'results.json'), { force: true })
  await run(process.execPath, ['--import', 'tsx', 'src/run.ts', '--smoke', '--only', 'core,inject,attack'], {
    cwd: BENCH,
    timeout: 110_000,
  })
  const results = JSON.parse(readFileSync(join(BENCH, '.tmp', 'smoke', 'results.json'), 'utf8')) as Results
  expect(results.core?.rows.map((row) => row.lib)).toEqual(
    expect.arrayContaining([
      'tollgate-gcra',
      'tollgate-fixed-window',
      'rate-limiter-flexible',
      'express-rate-limit',
      'lru-cache-get',
      'floor-gcra',
    ]),
  )
  for (const row of results.core!.rows) expect(row.opsPerSec).toBeGreaterThan(0)
  // Every core worker ran pinned to one CPU wherever taskset can pin it to one of two or more.
  if (canPin()) expect(results.core?.cpu).toBeTypeOf('number')
  const injected = results.inject!.rows
  expect(injected.filter((row) => row.variant === 'tollgate').map((row) => row.framework)).toEqual([
    'express',
    'fastify',
    'koa',
  ])
  expect(injected.filter((row) => row.variant === 'tollgate-no-headers').map((row) => row.framework)).toEqual(
    ['express', 'fastify', 'koa'],
  )
  expect(injected.filter((row) => row.variant === 'tollgate-stacked').map((row) => row.framework)).toEqual([
    'express',
    'fastify',
    'koa',
  ])
  // The floor (a minimal limiter sending the headers) answers as the limiters do.
  expect(injected.filter((row) => row.variant === 'floor').map((row) => row.framework)).toEqual([
    'express',
    'fastify',
    'koa',
  ])
  for (const row of injected) expect(Object.keys(row.statuses)).toEqual(['200'])
  // Every middleware also ran alone on a real request (the probe itself fails when a run does not
  // reach next). Its figure is not asserted: with smoke sizes, Express's fresh requests vary by
  // tens of µs and a difference of two medians can come out either sign.
  for (const row of injected) expect(Number.isFinite(row.ownNs)).toBe(true)
  const markdown = readFileSync(join(BENCH, '.tmp', 'smoke', 'RESULTS.md'), 'utf8')
  expect(markdown).toContain('## Targets (issue 5)')
  expect(markdown).toContain('| Why / plan |')
  expect(markdown).toContain('_Tollgate, `headers: false`_')
  expect(markdown).toMatch(/\| tollgate-gcra \| one hot key \| [\d,]+ \|/)
})

test('a run stopped half-way leaves the published report as it was, and its progress apart', async () => {
  const smoke = join(BENCH, '.tmp', 'smoke')
  mkdirSync(smoke, { recursive: true })
  writeFileSync(join(smoke, 'RESULTS.md'), 'the published report\n')
  rmSync(join(smoke, 'progress'), { recursive: true, force: true })
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/run.ts', '--smoke', '--only', 'core,inject'],
    {
      cwd: BENCH,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  let output = ''
  // Stopped as soon as the first section is done, before the second can finish.
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_, signal) => resolve(signal)),
  )
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
    if (output.includes('core done')) child.kill('SIGKILL')
  })
  expect(await exited).toBe('SIGKILL')
  expect(readFileSync(join(smoke, 'RESULTS.md'), 'utf8')).toBe('the published report\n')
  const progress = readFileSync(join(smoke, 'progress', 'RESULTS.md'), 'utf8')
  expect(progress).toMatch(/\| tollgate-gcra \| one hot key \| [\d,]+ \|/)
}, 110_000)
