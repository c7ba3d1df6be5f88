import { describe, expect, test } from 'vitest'
import {
  type HistoryEntry,
  type HistoryTarget,
  historyEntry,
  historyMarkdown,
  withRun,
} from '../src/report/history.ts'
import { type Results, type Rig, rigMismatch, sectionRevisions } from '../src/report/results.ts'
import { judge, targetStatus } from '../src/report/targets.ts'
import { type HttpRow, type HttpRun, summarise } from '../src/sections/http.ts'

const run = (variant: HttpRun['variant'], round: number, slot: number | undefined, rps: number): HttpRun => ({
  round,
  ...(slot === undefined ? {} : { slot }),
  framework: 'fastify',
  variant,
  store: 'memory',
  keys: 'one',
  rps,
  p99: 1,
  requests: rps,
  non2xx: 0,
  errors: 0,
  cpuPerRequest: 1e6 / rps,
  redisCpuPerRequest: undefined,
  redisCallsPerRequest: undefined,
})

describe('HTTP ratios', () => {
  test('a limiter is compared with the bare runs just before and after it', () => {
    // The VM doubles its speed between the two limiters: each still measures 0.9 of its neighbours.
    const { rows } = summarise([
      run('bare', 0, 0, 20_000),
      run('tollgate', 0, 1, 18_000),
      run('bare', 0, 2, 20_000),
      run('@fastify/rate-limit', 0, 3, 36_000),
      run('bare', 0, 4, 40_000),
    ])
    expect(rows.find((r) => r.variant === 'tollgate')?.ratio).toBeCloseTo(0.9)
    expect(rows.find((r) => r.variant === '@fastify/rate-limit')?.ratio).toBeCloseTo(0.9 * (40 / 30))
    // Added CPU against the same neighbours: 1e6/18,000 − 1e6/20,000 µs.
    expect(rows.find((r) => r.variant === 'tollgate')?.addedCpu).toBeCloseTo(1e6 / 18_000 - 1e6 / 20_000)
  })

  test('the A/A control is a row of its own, not one of the bare runs it is compared with', () => {
    const { rows, bare } = summarise([
      run('bare', 0, 0, 20_000),
      run('control', 0, 1, 19_000),
      run('bare', 0, 2, 20_000),
    ])
    expect(rows.find((r) => r.variant === 'control')?.ratio).toBeCloseTo(0.95)
    expect(rows.find((r) => r.variant === 'control')?.vsControl).toBeUndefined()
    expect(bare.find((b) => b.framework === 'fastify')?.rps).toBe(20_000)
  })

  test('a limiter is also compared with the A/A control of its round', () => {
    const { rows } = summarise([
      run('bare', 0, 0, 20_000),
      run('control', 0, 1, 16_000),
      run('bare', 0, 2, 20_000),
      run('tollgate', 0, 3, 15_000),
      run('bare', 0, 4, 20_000),
      run('bare', 1, 0, 30_000),
      run('tollgate', 1, 1, 27_000),
      run('bare', 1, 2, 30_000),
      run('control', 1, 3, 30_000),
      run('bare', 1, 4, 30_000),
    ])
    const tollgate = rows.find((r) => r.variant === 'tollgate')!
    // Round 0: 0.75 ÷ 0.8; round 1: 0.9 ÷ 1.
    expect(tollgate.vsControl).toBeCloseTo((0.75 / 0.8 + 0.9) / 2)
    expect(tollgate.vsControlRange?.[0]).toBeCloseTo(0.9)
    expect(tollgate.vsControlRange?.[1]).toBeCloseTo(0.9375)
  })

  test('runs without slots (earlier results) are compared with their round’s bare runs', () => {
    const { rows } = summarise([
      run('bare', 0, undefined, 20_000),
      run('tollgate', 0, undefined, 18_000),
      run('bare', 0, undefined, 40_000),
    ])
    expect(rows.find((r) => r.variant === 'tollgate')?.ratio).toBeCloseTo(18 / 30)
  })
})

describe('merging a --only run', () => {
  const rig: Rig = {
    cpu: 'AMD EPYC',
    cores: 2,
    memoryGB: 21,
    os: 'Linux',
    node: 'v20.20.2',
    redis: '7.0.15',
    loadAverage: [0, 0, 0],
    revision: 'aaaaaaa',
  }

  test('is refused on another CPU, core count, Node.js or Redis, naming what differs', () => {
    expect(rigMismatch(rig, { ...rig, loadAverage: [1, 1, 1], revision: 'bbbbbbb', memoryGB: 20 })).toBe(
      undefined,
    )
    expect(rigMismatch(rig, { ...rig, cpu: 'Intel Xeon' })).toMatch(/cpu: AMD EPYC, here Intel Xeon/)
    expect(rigMismatch(rig, { ...rig, cores: 4 })).toMatch(/cores: 2, here 4/)
    expect(rigMismatch(rig, { ...rig, node: 'v22.0.0' })).toMatch(/node: v20\.20\.2, here v22\.0\.0/)
    expect(rigMismatch(rig, { ...rig, redis: undefined })).toMatch(/redis: 7\.0\.15, here undefined/)
  })

  test('the report names the revision of each section', () => {
    const timing = (revision?: string) => ({ startedAt: '', seconds: 1, ...(revision ? { revision } : {}) })
    expect(sectionRevisions({ rig, timings: { core: timing(), http: timing('aaaaaaa') } })).toBe('aaaaaaa')
    expect(
      sectionRevisions({ rig, timings: { core: timing(), redis: timing(), http: timing('bbbbbbb') } }),
    ).toBe('aaaaaaa (core, redis); bbbbbbb (http)')
  })
})

describe('an HTTP memory-store target against the floor', () => {
  const row = (variant: HttpRow['variant'], ratio: number, addedCpu: number): HttpRow => ({
    framework: 'express',
    variant,
    store: 'memory',
    keys: 'one',
    rps: ratio * 10_000,
    ratio,
    ratioRange: [ratio, ratio],
    p99: 1,
    bareP99: 1,
    cpuPerRequest: 90 + addedCpu,
    addedCpu,
    redisCpuPerRequest: undefined,
    redisCallsPerRequest: undefined,
    rejected: 0,
  })
  const expressMemory = (
    floorRatio: number,
    control?: { ratio: number; tollgate: number; floor?: number },
  ) => {
    const overControl = (ratio: number | undefined) =>
      control && ratio !== undefined ? { vsControl: ratio, vsControlRange: [ratio, ratio] } : {}
    const results = {
      http: {
        rows: [
          { ...row('tollgate', 0.89, 11), ...overControl(control?.tollgate) },
          { ...row('headers', 0.98, 1.8), ...overControl(1.05) },
          { ...row('floor', floorRatio, 2), ...overControl(control?.floor) },
          row('tollgate-no-headers', 0.94, 5.6),
          ...(control ? [row('control', control.ratio, 3)] : []),
        ],
        bare: [{ framework: 'express', keys: 'one', rps: 10_000, p99: 1, cpuPerRequest: 90 }],
        runs: [],
        notes: [],
      },
    } as unknown as Results
    return judge(results).find((line) => line.target === 'express + Tollgate ≥ 0.97 × bare req/s')!
  }

  test('a floor under the target makes it out of reach for any limiter sending the headers', () => {
    const line = expressMemory(0.93)
    expect(line.pass).toBe(false)
    expect(line.measured).toContain('the floor (a minimal limiter sending the headers): 0.93')
    expect(line.why).toMatch(/the floor .* gives 0\.93 < 0\.97: no such limiter reaches 0\.97 on express/)
    expect(line.outOfReach).toBe(true)
    expect(targetStatus(line)).toBe('out-of-reach')
    expect(line.headline).toBe('0.89')
  })

  test("a floor that meets the target leaves Tollgate's work over it as the gap", () => {
    const line = expressMemory(0.98)
    expect(line.pass).toBe(false)
    expect(line.why).toContain("reaches 0.98 ≥ 0.97: Tollgate's work over the floor is the gap")
    expect(line.why).toContain("Plan: bring Tollgate's middleware to the floor's cost")
    expect(line.why).not.toContain('no such limiter')
    expect(targetStatus(line)).toBe('open')
  })

  test('a control under the target judges Tollgate against the control', () => {
    const met = expressMemory(0.98, { ratio: 0.9, tollgate: 0.99 })
    expect(met.pass).toBe(true)
    expect(met.measured).toContain('met against the A/A control')
    expect(targetStatus(met)).toBe('met')
    expect(met.headline).toBe('0.89 (÷ control 0.99)')
    const missed = expressMemory(0.98, { ratio: 0.9, tollgate: 0.95 })
    expect(missed.pass).toBe(false)
    expect(missed.why).toMatch(/^the A\/A control .* gives 0\.90 < 0\.97: .* Tollgate gives 0\.95 < 0\.97; /)
    // The references are judged on the same basis: against the control the floor gives 0.99.
    const floorMeets = expressMemory(0.93, { ratio: 0.9, tollgate: 0.95, floor: 0.99 })
    expect(floorMeets.why).toContain("reaches 0.99 ≥ 0.97: Tollgate's work over the floor is the gap")
    expect(floorMeets.why).not.toContain('no such limiter')
    expect(targetStatus(floorMeets)).toBe('open')
  })

  test('a control that meets the target leaves the judgement on the ratio to bare', () => {
    const line = expressMemory(0.98, { ratio: 0.99, tollgate: 0.99 })
    expect(line.pass).toBe(false)
    expect(line.measured).not.toContain('met against')
  })
})

describe('complete runs', () => {
  const target = (name: string, status: HistoryTarget['status'], headline: string): HistoryTarget => ({
    area: 'Core',
    target: name,
    headline,
    status,
  })
  /** A core row whose median run and every round made `opsPerSec` and `vsFlexible`. */
  const coreRow = (lib: string, keys: 'one' | 'many', opsPerSec: number, vsFlexible: number) => ({
    lib,
    keys,
    opsPerSec,
    range: [opsPerSec, opsPerSec],
    vsFlexible,
    vsFlexibleRange: [vsFlexible, vsFlexible],
  })
  /**
   * Results of a run (`run`: its other fields) with a core section alone: Tollgate and the floor at
   * 100,000 keys as [decisions/s, × RateLimiterMemory], RateLimiterMemory at 10⁶/s, and `more` rows.
   */
  const coreOnly = (
    tollgate: [number, number],
    floor: [number, number],
    more: ReturnType<typeof coreRow>[] = [],
    run: object = {},
  ) =>
    ({
      ...run,
      core: {
        rows: [
          ...more,
          coreRow('tollgate-gcra', 'many', ...tollgate),
          coreRow('floor-gcra', 'many', ...floor),
          coreRow('rate-limiter-flexible', 'many', 1e6, 1),
        ],
        raw: [],
        notes: [],
      },
    }) as unknown as Results
  const entry = (startedAt: string, revision: string, targets: HistoryTarget[]): HistoryEntry => ({
    startedAt,
    revision,
    minutes: 54,
    targets,
  })

  test("a run's entry holds each target's headline and verdict", () => {
    const results = coreOnly([2e6, 1.9], [2e6, 2.5], [coreRow('tollgate-gcra', 'one', 9e6, 3.2)], {
      startedAt: '2026-12-07T06:56:38.968Z',
      seconds: 3252,
      rig: { revision: 'bd8d123' },
      timings: {},
    })
    const { revision, minutes, targets } = historyEntry(results)
    expect({ revision, minutes }).toEqual({ revision: 'bd8d123', minutes: 54.2 })
    const core = targets.filter((t) => t.area === 'Core')
    expect(core.map((t) => [t.headline, t.status])).toEqual([
      ['3.20×', 'met'],
      // The floor misses 3× too: shown out of reach.
      ['1.90×', 'out-of-reach'],
    ])
    expect(targets.find((t) => t.area === 'Under attack')?.status).toBe('unmeasured')
  })

  test('core times per decision come from the ratios, not from medians of different rounds', () => {
    // Tollgate's median run came from a fast round, the floor's from a slow one: their decisions/s
    // tie, while in the same rounds the floor made 1.5 times Tollgate's.
    const line = judge(coreOnly([4e6, 2], [4e6, 3])).find((l) => l.target.endsWith('100,000 keys'))!
    expect(line.why).toContain(
      "at RateLimiterMemory's median 1000.0 ns per decision, 3× allows 333.3 ns; Tollgate takes 500.0 (2.00×)",
    )
    expect(line.why).toContain("Tollgate's own work over that floor: 166.7 ns")
    expect(targetStatus(line)).toBe('open')
  })

  test('a run recorded again replaces its entry; runs stay in order of start', () => {
    const a = entry('2026-12-07T04:27:00.000Z', 'c07f01f', [])
    const b = entry('2026-12-07T06:56:00.000Z', 'bd8d123', [])
    const b2 = { ...b, minutes: 55 }
    expect(withRun(withRun([b], a), b2)).toEqual([a, b2])
  })

  test('the table shows the newest run first, each verdict, and how many runs met each target', () => {
    const history = [
      entry('2026-12-07T04:27:00.000Z', 'c07f01f', [
        target('one key', 'met', '5.1×'),
        target('many', 'open', '2.1×'),
      ]),
      entry('2026-12-07T06:56:00.000Z', 'bd8d123', [
        target('one key', 'met', '5.3×'),
        target('many', 'out-of-reach', '1.9×'),
      ]),
    ]
    const table = historyMarkdown(history).split('\n')
    expect(table[0]).toBe('| Area | Target | bd8d123, 12-07 06:56 | c07f01f, 12-07 04:27 | Met |')
    expect(table[2]).toBe('| Core | one key | ✓ 5.3× | ✓ 5.1× | 2 of 2 |')
    expect(table[3]).toBe('| Core | many | ○ 1.9× | ✗ 2.1× | 0 of 2 |')
    expect(table[4]).toBe('| | **All targets** | 1 ✓, 1 ○, 0 ✗ | 1 ✓, 0 ○, 1 ✗ | |')
    // One run alone: the targets table says it all.
    expect(historyMarkdown(history.slice(1))).toBe('')
  })
})
