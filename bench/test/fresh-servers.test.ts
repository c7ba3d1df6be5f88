import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'

const run = promisify(execFile)
const BENCH = fileURLToPath(new URL('..', import.meta.url))
const TOOL = ['--import', 'tsx', 'src/tools/fresh-servers.ts']

// A tool, not a test of speed: this only proves it starts, loads and stops its servers and
// prints its table, with tiny durations (about 5 s).
test('fresh-servers measures each variant in a fresh server per round and prints the table', async () => {
  const { stdout } = await run(
    process.execPath,
    [
      ...TOOL,
      '--framework',
      'koa',
      '--variants',
      'bare,headers',
      '--rounds',
      '2',
      '--warmup',
      '0.2',
      '--seconds',
      '0.3',
    ],
    { cwd: BENCH, timeout: 60_000 },
  )
  // Each variant once per round, in rotated order.
  const runs = stdout.split('\n').filter((line) => /^r\d+ /.test(line))
  expect(runs.map((line) => line.split(':')[0])).toEqual(['r1 bare', 'r1 headers', 'r2 headers', 'r2 bare'])
  for (const line of runs) expect(line).toMatch(/: \d+ req\/s, \d+\.\d µs CPU\/request$/)
  expect(stdout).toMatch(/^\| bare \| \d+\.\d \| \| \|$/m)
  expect(stdout).toMatch(
    /^\| headers \| \d+\.\d \| [+−]\d+\.\d \([+−]\d+\.\d to [+−]\d+\.\d\) \| \d\.\d{3} \(\d\.\d\d–\d\.\d\d\) \|$/m,
  )
})

test('fresh-servers names the option and the value it rejects', async () => {
  const fail = (args: string[]) =>
    run(process.execPath, [...TOOL, ...args], { cwd: BENCH, timeout: 30_000 }).then(
      () => '',
      (error: { stderr: string }) => error.stderr,
    )
  expect(await fail(['--framework', 'hapi'])).toContain(
    '--framework must be one of express, fastify, koa, got hapi',
  )
  expect(await fail(['--framework', 'koa', '--rounds', '0'])).toContain(
    '--rounds must be a positive number, got 0',
  )
  expect(await fail(['--framework', 'koa', '--rounds', '2.5'])).toContain(
    '--rounds must be a whole number, got 2.5',
  )
  expect(await fail(['--framework', 'koa', '--variants', 'bare'])).toContain(
    '--variants needs a reference and at least one more, got bare',
  )
})
