import { expect, test } from 'vitest'
import { bracket, bracketRatio, type CoreRun } from '../src/sections/core.ts'

test('a round puts the reference before, between and after the others, rotated per round', () => {
  expect(bracket('R', ['a', 'b', 'c'], 0)).toEqual(['R', 'a', 'R', 'b', 'R', 'c', 'R'])
  expect(bracket('R', ['a', 'b', 'c'], 1)).toEqual(['R', 'b', 'R', 'c', 'R', 'a', 'R'])
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
