import { createManualClock, type Logger, type ManualClock, memoryStore, type Store } from '@tollgate/core'

/** A manual clock that also reports each timer it is asked for (delay mode waits). */
export interface WatchedClock extends ManualClock {
  /** Resolves with the delay of the next timer scheduled. */
  nextTimer(): Promise<number>
}

export function watchedClock(): WatchedClock {
  const clock = createManualClock()
  const waiting: ((ms: number) => void)[] = []
  const setTimeout = clock.setTimeout.bind(clock)
  return Object.assign(clock, {
    setTimeout(callback: () => void, ms: number) {
      const handle = setTimeout(callback, ms)
      waiting.shift()?.(ms)
      return handle
    },
    nextTimer: () => new Promise<number>((resolve) => waiting.push(resolve)),
  })
}

/** A memory store that counts refunds and lets a test await them. */
export interface CountingStore extends Store {
  refunds: number
  /** Resolves once `n` refunds have happened in total. */
  refunded(n: number): Promise<void>
}

export function countingStore(): CountingStore {
  const store = memoryStore()
  const waiters: { n: number; resolve: () => void }[] = []
  const counting = store as unknown as CountingStore
  const refund = store.refund.bind(store)
  counting.refunds = 0
  counting.refund = (targets, weight, now) => {
    refund(targets, weight, now)
    counting.refunds++
    for (const waiter of [...waiters]) {
      if (counting.refunds >= waiter.n) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    }
  }
  counting.refunded = (n) =>
    counting.refunds >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))
  return counting
}

/** An asynchronous store whose backend is down: every call rejects. */
export function brokenStore(): Store {
  const down = () => Promise.reject(new Error('ECONNREFUSED'))
  return { synchronous: false, consume: down, peek: down, refund: down, reset: down, close: () => {} }
}

/** A logger that records what it is told. */
export function recordingLogger(): Logger & { errors: string[]; warnings: string[] } {
  const errors: string[] = []
  const warnings: string[] = []
  return {
    errors,
    warnings,
    warn: (message: string) => {
      warnings.push(message)
    },
    error: (message: string) => {
      errors.push(message)
    },
  }
}
