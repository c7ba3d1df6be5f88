import { systemClock } from '@tollgate/core'
import { describe, expect, test } from 'vitest'

describe('systemClock', () => {
  test('reads performance.timeOrigin + performance.now(), through process.hrtime', () => {
    for (let i = 0; i < 100; i++) {
      const before = performance.timeOrigin + performance.now()
      const now = systemClock.now()
      const after = performance.timeOrigin + performance.now()
      // The offset between the two readings of one clock is taken once, to within a few microseconds.
      expect(now).toBeGreaterThanOrEqual(before - 0.1)
      expect(now).toBeLessThanOrEqual(after + 0.1)
    }
  })

  test('never goes backwards', () => {
    let last = systemClock.now()
    for (let i = 0; i < 10_000; i++) {
      const now = systemClock.now()
      expect(now).toBeGreaterThanOrEqual(last)
      last = now
    }
  })
})
