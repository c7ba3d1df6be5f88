import { expect, test } from 'vitest'
import { bracketRatio, type CoreRun, coreOrder } from '../src/sections/core.ts'

test('a round puts the reference before, between and after the others, rotated per round', () => {
  const R = 'rate-limiter-flexible'
  const others = ['tollgate-gcra', 'floor-gcra', 'express-rate-limit'] as const
  expect(coreOrder(others, 0)).toEqual([R, 'tollgate-gcra', R, 'floor-gcra', R, 'express-rate-limit', R])
  expect(coreOrder(others, 1)).toEqual([R, 'floor-gcra', R, 'express-rate-limit', R, 'tollgate-gcra', R])
})

const run = (lib: CoreRun['lib'], slot: number, opsPerSec: number, round = 0): CoreRun => ({
  lib,
  keys: 'many',
  opsPerSec,
  avgNs: 1e9 / opsPerSec,
  p50Ns: 0,
  p99Ns: 0,
  round,
  slot,
})

test("a library's ratio is taken against the mean of the reference runs around it in its round", () => {
  const raw = [
    run('rate-limiter-flexible', 0, 100),
    run('tollgate-gcra', 1, 450),
    run('rate-limiter-flexible', 2, 200),
    run('floor-gcra', 3, 600),
    run('rate-limiter-flexible', 4, 100),
    // Another round's reference in the same slot must not count.
    run('rate-limiter-flexible', 2, 1, 1),
  ]
  expect(bracketRatio(raw[1]!, raw)).toBe(3)
  expect(bracketRatio(raw[3]!, raw)).toBe(4)
  expect(bracketRatio(raw[0]!, raw)).toBe(1)
  expect(bracketRatio(run('tollgate-gcra', 5, 10), raw)).toBeNaN()
})
