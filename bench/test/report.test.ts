import { describe, expect, test } from 'vitest'
import { type Results, type Rig, rigMismatch, sectionRevisions } from '../src/report/results.ts'
import { judge } from '../src/report/targets.ts'
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
    expect(bare.find((b) => b.framework === 'fastify')?.rps).toBe(20_000)
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
  const expressMemory = (floorRatio: number) => {
    const results = {
      http: {
        rows: [
          row('tollgate', 0.89, 11),
          row('headers', 0.98, 1.8),
          row('floor', floorRatio, 2),
          row('tollgate-no-headers', 0.94, 5.6),
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
  })

  test("a floor that meets the target leaves Tollgate's work over it as the gap", () => {
    const line = expressMemory(0.98)
    expect(line.pass).toBe(false)
    expect(line.why).toContain("reaches 0.98 ≥ 0.97: Tollgate's work over the floor is the gap")
    expect(line.why).toContain("Plan: bring Tollgate's middleware to the floor's cost")
    expect(line.why).not.toContain('no such limiter')
  })
})
