import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'

const run = promisify(execFile)
const OWNER = fileURLToPath(new URL('./fixtures/redis-owner.ts', import.meta.url))
const PACKAGE = fileURLToPath(new URL('..', import.meta.url))

async function answers(port: number): Promise<boolean> {
  try {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PING'], {
      timeout: 2_000,
    })
    return stdout.trim() === 'PONG'
  } catch {
    return false
  }
}

// Regression: a killed test worker left its redis-servers running (one blocked in Lua spun at
// 100 % CPU for an hour). The helper's servers now die with the process that started them.
test('a redis-server started by the test helper dies with its owner, even on SIGKILL', async () => {
  const owner = spawn(process.execPath, ['--import', 'tsx', OWNER], {
    cwd: PACKAGE,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: owner.stdout! }).once('line', resolve)
      owner.once('exit', (code) => reject(new Error(`owner exited with ${code}`)))
    })
    const port = Number(line)
    expect(await answers(port)).toBe(true)
    // A connection of ours closes when the server's process is gone: no polling.
    const socket = connect(port, '127.0.0.1')
    await once(socket, 'connect')
    const closed = once(socket, 'close')
    socket.on('error', () => {})
    owner.kill('SIGKILL')
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the server outlived its owner by 10 s')), 10_000)
    })
    await Promise.race([closed, deadline]).finally(() => clearTimeout(timer))
    expect(await answers(port)).toBe(false)
  } finally {
    owner.kill('SIGKILL')
  }
})
