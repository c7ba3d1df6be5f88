import { expect, test } from 'vitest'
import { schedule } from '../src/lib/context.ts'

const bares = ['b0', 'b1', 'b2', 'b3']
const limiters = ['L0', 'L1', 'L2']

test('a round puts a bare process before, between and after the limiters', () => {
  expect(schedule(bares, limiters, 0)).toEqual(['b0', 'L0', 'b1', 'L1', 'b2', 'L2', 'b3'])
  expect(schedule(bares, limiters, 1)).toEqual(['b1', 'L1', 'b2', 'L2', 'b3', 'L0', 'b0'])
})

test('every process runs exactly once per round, bare or not, so each idles as long as the others', () => {
  for (let round = 0; round < 7; round++) {
    const order = schedule(bares, limiters, round)
    expect([...order].sort()).toEqual([...bares, ...limiters].sort())
    expect(order.filter((_, slot) => slot % 2 === 0).every((p) => p.startsWith('b'))).toBe(true)
  }
})

test('rotation puts each limiter and each bare process first in turn', () => {
  const firstLimiter = new Set<string>()
  const firstBare = new Set<string>()
  for (let round = 0; round < 12; round++) {
    const order = schedule(bares, limiters, round)
    firstLimiter.add(order[1]!)
    firstBare.add(order[0]!)
  }
  expect([...firstLimiter].sort()).toEqual(limiters)
  expect([...firstBare].sort()).toEqual(bares)
})

test('a bare process count that does not fit the limiters is refused', () => {
  expect(() => schedule(bares.slice(1), limiters, 0)).toThrow(/3 limiters need 4 bare processes, not 3/)
})
