import { expect, test } from 'vitest'
import { expand } from '../src/lib/cpus.ts'

test('a CPU list as taskset prints it expands to its CPUs', () => {
  expect(expand('0-1')).toEqual([0, 1])
  expect(expand('3')).toEqual([3])
  expect(expand('0,2-4,7')).toEqual([0, 2, 3, 4, 7])
})
