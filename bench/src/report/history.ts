/*
 * The verdicts of every complete run, kept next to RESULTS.md (bench/history.json) so that the
 * report can show how each target fared run after run. On a shared 2-core VM a ratio within a few
 * hundredths of its target can pass in one complete run and miss in the next with the same code:
 * one run's verdict alone does not tell a target that is met from one that is met on lucky days.
 * RESULTS.md still judges on the latest run; this table shows the runs before it beside it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import type { Results } from './results.ts'
import { judge, type TargetStatus, targetStatus } from './targets.ts'

/** One target's verdict in one complete run. */
export interface HistoryTarget {
  readonly area: string
  readonly target: string
  /** The measured figure (`TargetLine.headline`). */
  readonly headline: string
  readonly status: TargetStatus
}

/** One complete run of every section (no `--only` merge), as the table of runs shows it. */
export interface HistoryEntry {
  readonly startedAt: string
  /** The workspace revision every section ran at. */
  readonly revision: string
  readonly minutes: number
  readonly targets: readonly HistoryTarget[]
}

/** The entry of a complete run: its targets as `judge` sees them. */
export function historyEntry(results: Results): HistoryEntry {
  return {
    startedAt: results.startedAt,
    revision: results.rig.revision,
    minutes: Math.round(results.seconds / 6) / 10,
    targets: judge(results).map((line) => ({
      area: line.area,
      target: line.target,
      headline: line.headline,
      status: targetStatus(line),
    })),
  }
}

/** The runs recorded in `file`, oldest first; none when there is no file yet. */
export function readHistory(file: string): HistoryEntry[] {
  if (!existsSync(file)) return []
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown
  if (!Array.isArray(parsed)) throw new Error(`${file}: expected an array of runs`)
  return parsed as HistoryEntry[]
}

/**
 * `history` with `entry` added in order of start, replacing a run recorded with the same start
 * (its results rendered again): recording a run twice keeps one entry.
 */
export function withRun(history: readonly HistoryEntry[], entry: HistoryEntry): HistoryEntry[] {
  return [...history.filter((run) => run.startedAt !== entry.startedAt), entry].sort((a, b) =>
    a.startedAt.localeCompare(b.startedAt),
  )
}

export function writeHistory(file: string, history: readonly HistoryEntry[]): void {
  writeFileSync(file, `${JSON.stringify(history, null, 2)}\n`)
}

const SYMBOL: Readonly<Record<TargetStatus, string>> = {
  met: '✓',
  'out-of-reach': '○',
  open: '✗',
  unmeasured: '–',
}

/**
 * The table of the last `max` complete runs, newest first: one row per target of the newest run,
 * each cell the run's verdict and figure, and how many of the runs met the target. Empty when
 * fewer than two runs are recorded (the targets table already says everything about one).
 */
export function historyMarkdown(history: readonly HistoryEntry[], max = 6): string {
  if (history.length < 2) return ''
  const runs = history.slice(-max).reverse()
  const newest = runs[0]!
  const cell = (run: HistoryEntry, area: string, target: string) => {
    const found = run.targets.find((t) => t.area === area && t.target === target)
    return found === undefined ? '' : `${SYMBOL[found.status]} ${found.headline}`
  }
  const head = [
    'Area',
    'Target',
    ...runs.map((run) => `${run.revision.split(' ')[0]}, ${run.startedAt.slice(5, 16).replace('T', ' ')}`),
    'Met',
  ]
  const rows = newest.targets.map(({ area, target }) => {
    const seen = runs.flatMap((run) => run.targets.filter((t) => t.area === area && t.target === target))
    const met = seen.filter((t) => t.status === 'met').length
    return [area, target, ...runs.map((run) => cell(run, area, target)), `${met} of ${seen.length}`]
  })
  const counts = runs.map((run) => {
    const of = (status: TargetStatus) => run.targets.filter((t) => t.status === status).length
    return `${of('met')} ✓, ${of('out-of-reach')} ○, ${of('open')} ✗`
  })
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    `| | **All targets** | ${counts.join(' | ')} | |`,
  ].join('\n')
}
