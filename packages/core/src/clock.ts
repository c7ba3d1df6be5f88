/**
 * The time source of a limiter. `now()` returns milliseconds on a clock that
 * roughly tracks the Unix epoch (legacy `X-RateLimit-Reset` headers print it)
 * and never goes backwards. `setTimeout`/`clearTimeout` schedule the waits of
 * shaping (`acquire`), so a fake clock controls those too.
 */
export interface Clock {
  /** Current time in milliseconds; fractions are allowed (the limiter floors them). */
  now(): number
  /**
   * Calls `callback` after `ms` milliseconds of this clock's time; the handle is opaque to the
   * limiter, which only passes it back to `clearTimeout`.
   */
  setTimeout(callback: () => void, ms: number): unknown
  /**
   * Cancels a timer of `setTimeout` (an aborted or closed wait). Must ignore a handle that has
   * already fired: the limiter clears every timer once its wait ends, however it ended.
   */
  clearTimeout(handle: unknown): void
}

/*
 * `process.hrtime()` reads the clock `performance.now()` reads (libuv's monotonic uv_hrtime), for
 * half the machine instructions on Node 20: `performance.now()` first checks its receiver through
 * an error-wrapping helper. The offset, taken once, turns it into `performance.timeOrigin +
 * performance.now()` (to within a microsecond).
 */
const hrtime = process.hrtime
function hrMs(): number {
  // Indexed, not destructured: no iterator, and V8 can then drop the array once it inlines hrtime.
  const time = hrtime()
  return time[0]! * 1e3 + time[1]! / 1e6
}
const hrOffset = (() => {
  // The narrowest of a few bracketing pairs (the first calls run cold, and the thread may be
  // preempted between two reads): the offset is then within half that pair's span.
  let offset = 0
  let span = Number.POSITIVE_INFINITY
  for (let i = 0; i < 5; i++) {
    const before = hrMs()
    const now = performance.now()
    const after = hrMs()
    if (after - before < span) {
      span = after - before
      offset = performance.timeOrigin + now - (before + after) / 2
    }
  }
  return offset
})()

/**
 * The default clock: `performance.timeOrigin + performance.now()` (read through
 * `process.hrtime()`, the same clock), which is monotonic (a wall-clock step by NTP does not
 * refill or drain buckets) and starts at the epoch time of process start.
 */
export const systemClock: Clock = {
  now: () => hrMs() + hrOffset,
  // Not unref'd: a caller awaiting a shaping slot is pending work the process must finish.
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** A clock you move by hand: for tests and simulations. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing every timer that falls due, in order, each at its own due time. */
  advance(ms: number): void
  /** Moves time forward to `ms` (never backwards), firing due timers. */
  set(ms: number): void
  /** Number of timers not yet fired or cleared. */
  pending(): number
}

interface Timer {
  at: number
  seq: number
  callback: () => void
}

/**
 * Creates a {@link ManualClock} starting at `start` ms (default: 2026-01-01T00:00:00Z,
 * a realistic epoch magnitude so tests exercise real floating-point ranges).
 */
export function createManualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let current = start
  let seq = 0
  let timers: Timer[] = []
  const fire = (until: number): void => {
    for (;;) {
      let next: Timer | undefined
      for (const timer of timers) {
        if (
          timer.at <= until &&
          (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq))
        ) {
          next = timer
        }
      }
      if (!next) break
      timers = timers.filter((timer) => timer !== next)
      current = Math.max(current, next.at)
      next.callback()
    }
    current = Math.max(current, until)
  }
  return {
    now: () => current,
    setTimeout(callback, ms) {
      const timer: Timer = { at: current + Math.max(0, ms), seq: seq++, callback }
      timers.push(timer)
      return timer
    },
    clearTimeout(handle) {
      timers = timers.filter((timer) => timer !== handle)
    },
    advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`advance: ms must be >= 0, got ${ms}`)
      fire(current + ms)
    },
    set(ms) {
      fire(Math.max(current, ms))
    },
    pending: () => timers.length,
  }
}
