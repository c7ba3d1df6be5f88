/*
 * One HTTP server for the overhead benchmark (see lib/apps.ts) on 127.0.0.1.
 * It reports `{ type: 'ready', port }`, then answers `{ type: 'stats', gc }`
 * with its CPU time and memory so the orchestrator computes CPU per request.
 */
import { buildApp, type ServerSpec } from '../lib/apps.ts'
import { workerSpec } from '../lib/child.ts'
import { startProfile, stopProfile } from '../lib/cpu-profile.ts'

export type { Framework, ServerSpec, Variant } from '../lib/apps.ts'

export interface ServerStats {
  /** process.cpuUsage() user + system, µs. */
  readonly cpuMicros: number
  readonly rss: number
  readonly heapUsed: number
  readonly external: number
}

const spec = workerSpec<ServerSpec>()

function stats(): ServerStats {
  const cpu = process.cpuUsage()
  const memory = process.memoryUsage()
  return {
    cpuMicros: cpu.user + cpu.system,
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    external: memory.external,
  }
}

try {
  const app = await buildApp(spec)
  const port = await app.listen()
  process.on('message', (message: { type: string; gc?: boolean; file?: string }) => {
    if (message.type === 'profile-start') {
      startProfile().then(() => process.send?.({ type: 'profile', data: 'started' }))
      return
    }
    if (message.type === 'profile-stop') {
      stopProfile(message.file!).then(() => process.send?.({ type: 'profile', data: 'stopped' }))
      return
    }
    if (message.type !== 'stats') return
    if (message.gc && globalThis.gc) {
      globalThis.gc()
      globalThis.gc()
    }
    process.send?.({ type: 'stats', data: stats() })
  })
  process.on('SIGTERM', () => process.exit(0))
  process.on('disconnect', () => process.exit(0))
  process.send?.({ type: 'ready', port })
} catch (error) {
  process.send?.({ type: 'error', error: String((error as Error).stack ?? error) })
  process.exitCode = 1
}
