import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

export const BENCH_DIR = fileURLToPath(new URL('../..', import.meta.url))
export const ROOT = join(BENCH_DIR, '..')

/** The Tollgate packages the benchmarks use, in build order (core first). */
export const TOLLGATE_PACKAGES = ['core', 'redis', 'express', 'koa', 'fastify'] as const
export type TollgatePackage = (typeof TOLLGATE_PACKAGES)[number]

export type Availability = { readonly ok: true } | { readonly ok: false; readonly why: string }

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

function distEntry(name: TollgatePackage): string {
  return join(ROOT, 'packages', name, 'dist', 'index.js')
}

/**
 * Whether a Tollgate package can be benchmarked: its sources exist (the other
 * parts of the project are built in parallel) and its dist is built from them.
 * A missing or stale dist is built with the package's own tsup config.
 */
export async function preparePackage(
  name: TollgatePackage,
  log: (line: string) => void,
): Promise<Availability> {
  const dir = join(ROOT, 'packages', name)
  if (!existsSync(join(dir, 'src', 'index.ts'))) return { ok: false, why: 'skipped: package not built yet' }
  const entry = distEntry(name)
  const fresh = existsSync(entry) && statSync(entry).mtimeMs >= newestMtime(join(dir, 'src'))
  if (fresh) return { ok: true }
  log(`building @tollgate/${name} (dist missing or older than src)`)
  try {
    await run(join(ROOT, 'node_modules', '.bin', 'tsup'), [], { cwd: dir, timeout: 180_000 })
  } catch (error) {
    const detail = String((error as { stderr?: string }).stderr ?? error)
      .split('\n')
      .filter((line) => /error/i.test(line))
      .slice(0, 3)
      .join(' ')
    return { ok: false, why: `skipped: @tollgate/${name} does not build yet (${detail.slice(0, 200)})` }
  }
  return existsSync(entry)
    ? { ok: true }
    : { ok: false, why: `skipped: @tollgate/${name} build wrote no dist` }
}

/** Imports a Tollgate package's built ESM dist (what users run), not its sources. */
export async function importTollgate<T>(name: TollgatePackage): Promise<T> {
  return (await import(pathToFileURL(distEntry(name)).href)) as T
}

/** Whether a Tollgate package's dist is present (checked by workers). */
export function hasDist(name: TollgatePackage): boolean {
  return existsSync(distEntry(name))
}

/** The version of an installed dependency of the bench package, or of a workspace package. */
export function versionOf(pkg: string): string {
  const candidates = [
    join(BENCH_DIR, 'node_modules', pkg, 'package.json'),
    join(ROOT, 'node_modules', pkg, 'package.json'),
  ]
  for (const file of candidates) {
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
  }
  return 'not installed'
}

/** The version and git revision of the workspace (read-only). */
export async function workspaceRevision(): Promise<string> {
  try {
    const { stdout } = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT })
    const { stdout: status } = await run('git', ['status', '--porcelain', '--', 'packages'], { cwd: ROOT })
    return `${stdout.trim()}${status.trim() ? ' + uncommitted changes in packages/' : ''}`
  } catch {
    return 'unknown'
  }
}

export const packageDir = (name: TollgatePackage): string => dirname(dirname(distEntry(name)))

/**
 * Guards against benchmarking a half-edited core: a limit of 3 must admit
 * exactly 3 of 5 requests. Returns a warning, or undefined when sound.
 */
export async function checkCore(): Promise<string | undefined> {
  const { createLimiter } = await importTollgate<{
    createLimiter(options: { limit: number; window: string }): { consume(key: string): { allowed: boolean } }
  }>('core')
  const limiter = createLimiter({ limit: 3, window: '1m' })
  const admitted = Array.from({ length: 5 }, () => limiter.consume('sanity').allowed).filter(Boolean).length
  return admitted === 3 ? undefined : `WARNING: the built core admitted ${admitted} of 5 requests at limit 3`
}
