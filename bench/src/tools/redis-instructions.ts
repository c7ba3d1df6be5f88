/*
 * Machine instructions Redis runs per script call, counted by valgrind's cachegrind on a
 * redis-server of our own: a measure that does not drift on a shared VM, where the Redis section's
 * CPU figures swing by a third between runs. It counts what Redis does in user space (parsing the
 * call, the script, the commands it runs, the reply), not the kernel's socket work. Not part of
 * `pnpm bench` (valgrind is not on every machine); run it by hand:
 *
 *   node --import tsx src/tools/redis-instructions.ts [--requests N] [--same-key] [script ...]
 *
 * Scripts: tollgate (the bucket script, as redisStore sends N GCRA consumes made in one turn, each
 * on a key of its own or with --same-key all on one), rate-limiter-flexible, minimal (GET + SET
 * PX), return-1 (a call's own cost). Each runs in two fresh redis-servers under cachegrind, each
 * after the same warm-up, then C or 3 × C calls sent as the Redis section sends them: the
 * difference of the two counts over 2 × C is the cost of one call, start-up and warm-up cancelled.
 * Counts of one-request calls vary by about 1 % from one pair of runs to the next; batches on many
 * keys by a few percent (keys are drawn at random, and how many a call finds expired, to be written
 * anew with SET rather than SETRANGE, depends on how fast valgrind let the run go).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { killWithThisProcess } from '../../../packages/redis/test/helpers/redis-server.ts'
import {
  EMPTY_CALL,
  FLEXIBLE_CALL,
  MINIMAL_CALL,
  type ScriptCall,
  tollgateCall,
} from '../lib/redis-scripts.ts'
import { driveCalls, freePort, redisServerArgs } from '../lib/redis-server.ts'

const SCRIPTS = ['tollgate', 'rate-limiter-flexible', 'minimal', 'return-1'] as const
type ScriptName = (typeof SCRIPTS)[number]

/** Calls of the shorter run: fewer for bigger batches, so each run takes about as long. */
const CALLS = 2_000

async function callOf(name: ScriptName, requests: number, sameKey: boolean): Promise<ScriptCall> {
  switch (name) {
    case 'tollgate':
      return tollgateCall(requests, sameKey)
    case 'rate-limiter-flexible':
      return FLEXIBLE_CALL
    case 'minimal':
      return MINIMAL_CALL
    case 'return-1':
      return EMPTY_CALL
  }
}

/** Resolves with valgrind's stderr once the server under it has exited. */
function exited(child: ChildProcess): Promise<string> {
  let err = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString()
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', () => resolve(err))
  })
}

/** Instructions of one redis-server under cachegrind that ran a warm-up and then `calls` calls. */
async function count(call: ScriptCall, calls: number): Promise<number> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-valgrind-'))
  const child = spawn(
    'valgrind',
    [
      '--tool=cachegrind',
      '--cache-sim=no',
      '--cachegrind-out-file=/dev/null',
      'redis-server',
      ...redisServerArgs(port, dir),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  killWithThisProcess(child)
  const done = exited(child)
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => 100 })
  client.on('error', () => {})
  try {
    // Under valgrind the server takes seconds to start; ioredis retries until it answers.
    const deadline = Date.now() + 60_000
    while ((await client.ping().catch(() => '')) !== 'PONG') {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error('redis-server under valgrind did not start')
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    const sha = (await client.script('LOAD', call.source)) as string
    await driveCalls(client, sha, call, CALLS / 2)
    await driveCalls(client, sha, call, calls)
    await client.call('SHUTDOWN', 'NOSAVE').catch(() => {})
  } finally {
    client.disconnect()
  }
  const err = await done
  rmSync(dir, { recursive: true, force: true })
  const match = /I\s+refs:\s+([\d,]+)/.exec(err)
  if (!match) throw new Error(`valgrind: no instruction count in its summary\n${err.slice(-2000)}`)
  return Number(match[1]!.replaceAll(',', ''))
}

async function main(argv: readonly string[]): Promise<void> {
  let requests = 1
  let sameKey = false
  const names: ScriptName[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--requests') {
      requests = Number(argv[++i])
      if (!Number.isInteger(requests) || requests < 1 || requests > 64)
        throw new Error(`--requests: a whole number from 1 to 64 (the store's largest batch), got ${argv[i]}`)
    } else if (arg === '--same-key') sameKey = true
    else if ((SCRIPTS as readonly string[]).includes(arg)) names.push(arg as ScriptName)
    else throw new Error(`unknown script ${arg}: one of ${SCRIPTS.join(', ')}`)
  }
  const calls = Math.max(100, Math.round(CALLS / requests))
  console.log('| Script | Instructions/call | Requests/call | Instructions/request |')
  console.log('|---|---|---|---|')
  for (const name of names.length > 0 ? names : SCRIPTS) {
    const call = await callOf(name, requests, sameKey)
    const [once, thrice] = await Promise.all([count(call, calls), count(call, 3 * calls)])
    const perCall = (thrice - once) / (2 * calls)
    const perRequest = name === 'tollgate' ? requests : 1
    console.log(
      `| ${call.name} | ${Math.round(perCall).toLocaleString('en-US')} | ${perRequest} | ${Math.round(perCall / perRequest).toLocaleString('en-US')} |`,
    )
  }
}

await main(process.argv.slice(2))
