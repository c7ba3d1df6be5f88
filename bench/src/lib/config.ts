/** Durations and sizes of one benchmark run: the full run for RESULTS.md, or a smoke run. */
export interface Config {
  readonly mode: 'full' | 'smoke'
  readonly core: { readonly rounds: number; readonly minCpuMs: number; readonly warmupMs: number }
  readonly http: {
    /** Interleaved rounds of the one-key cases (a fresh server per case and round). */
    readonly rounds: number
    readonly connections: number
    /** Seconds of load measured per one-key case and round. */
    readonly seconds: number
    /** Seconds of load each fresh one-key server gets before it is measured. */
    readonly warmupSeconds: number
    /** Rounds of the 100,000-keys cases (a fresh server per case and round). */
    readonly manyRounds: number
    /** Seconds of load measured per 100,000-keys case. */
    readonly manySeconds: number
    /** Seconds of load each fresh 100,000-keys server gets before it is measured. */
    readonly manyWarmupSeconds: number
  }
  readonly redis: {
    /**
     * Interleaved rounds: each runs every library at each number in flight (order rotated), so
     * that each round's ratio compares runs seconds apart.
     */
    readonly rounds: number
    readonly inflight: readonly number[]
    readonly warmupMs: number
    readonly measureMs: number
    /** redis-benchmark requests per ceiling measurement. */
    readonly ceilingRequests: number
  }
  readonly memory: {
    readonly keys: number
    readonly floodKeys: number
    readonly floodMax: number
    readonly floodTimeLimitMs: number
    readonly serverKeys: number
  }
  readonly attack: { readonly inflight: number; readonly warmupMs: number; readonly measureMs: number }
  /**
   * In-process injection: warm-up requests per variant, then `rounds` interleaved batches of
   * `requests`; then the middleware alone: `ownRounds` interleaved batches of `ownRuns` runs.
   */
  readonly inject: {
    readonly rounds: number
    readonly warmup: number
    readonly requests: number
    readonly ownRuns: number
    readonly ownRounds: number
  }
}

export const FULL: Config = {
  mode: 'full',
  core: { rounds: 5, minCpuMs: 700, warmupMs: 500 },
  http: {
    rounds: 5,
    connections: 50,
    seconds: 4,
    warmupSeconds: 2,
    manyRounds: 3,
    manySeconds: 3,
    manyWarmupSeconds: 0.75,
  },
  redis: { rounds: 3, inflight: [1, 50, 500], warmupMs: 1000, measureMs: 4000, ceilingRequests: 200_000 },
  memory: {
    keys: 1_000_000,
    floodKeys: 10_000_000,
    floodMax: 100_000,
    floodTimeLimitMs: 90_000,
    serverKeys: 100_000,
  },
  attack: { inflight: 50, warmupMs: 500, measureMs: 4000 },
  inject: { rounds: 30, warmup: 2000, requests: 2000, ownRuns: 20_000, ownRounds: 15 },
}

export const SMOKE: Config = {
  mode: 'smoke',
  core: { rounds: 1, minCpuMs: 30, warmupMs: 20 },
  http: {
    rounds: 1,
    connections: 50,
    seconds: 0.3,
    warmupSeconds: 0.1,
    manyRounds: 1,
    manySeconds: 0.3,
    manyWarmupSeconds: 0.1,
  },
  redis: { rounds: 1, inflight: [1, 50, 500], warmupMs: 50, measureMs: 200, ceilingRequests: 5_000 },
  memory: { keys: 20_000, floodKeys: 200_000, floodMax: 10_000, floodTimeLimitMs: 10_000, serverKeys: 2_000 },
  attack: { inflight: 50, warmupMs: 50, measureMs: 200 },
  inject: { rounds: 2, warmup: 100, requests: 100, ownRuns: 200, ownRounds: 2 },
}
