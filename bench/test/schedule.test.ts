import { expect, test } from 'vitest'
import { schedule } from '../src/lib/context.ts'

const limiters = ['L0', 'L1', 'L2']

test('a round puts the reference before, between and after the cases', () => {
  expect(schedule('bare', limiters, 0)).toEqual(['bare', 'L0', 'bare', 'L1', 'bare', 'L2', 'bare'])
  expect(schedule('bare', limiters, 1)).toEqual(['bare', 'L1', 'bare', 'L2', 'bare', 'L0', 'bare'])
})

test('every case runs exactly once per round, each between two reference runs', () => {
  for (let round = 0; round < 7; round++) {
    const order = schedule('bare', limiters, round)
    expect(order).toHaveLength(2 * limiters.length + 1)
    expect(order.filter((_, slot) => slot % 2 === 1).sort()).toEqual(limiters)
    expect(order.filter((_, slot) => slot % 2 === 0).every((p) => p === 'bare')).toBe(true)
  }
})

test('rotation puts each case first in turn', () => {
  const first = new Set<string>()
  for (let round = 0; round < limiters.length; round++) first.add(schedule('bare', limiters, round)[1]!)
  expect([...first].sort()).toEqual(limiters)
})

test('no cases: the reference runs once', () => {
  expect(schedule('bare', [], 3)).toEqual(['bare'])
})
