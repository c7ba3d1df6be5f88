import { parseDictionary, parseList } from 'structured-headers'
import { expect } from 'vitest'

export interface Member {
  readonly name: unknown
  readonly params: Record<string, unknown>
}

/**
 * Parses a draft-8 `RateLimit` / `RateLimit-Policy` field as a Structured Field list, and
 * checks what DESIGN.md §6 says must never be emitted: decimals, uppercase keys, unescaped quotes
 * (an invalid field fails to parse).
 */
export function parseMembers(field: string | undefined): Member[] {
  expect(field).toBeTypeOf('string')
  return parseList(field!).map(([item, params]) => {
    const record = Object.fromEntries(params as Map<string, unknown>)
    for (const [key, value] of Object.entries(record)) {
      expect(key).toMatch(/^[a-z][a-z0-9_\-.*]*$/)
      if (typeof value === 'number')
        expect(Number.isInteger(value), `${key}=${value} is not an integer`).toBe(true)
    }
    return { name: item, params: record }
  })
}

/** Parses a draft-7 `RateLimit` field (`limit=100, remaining=50, reset=30`) as a dictionary. */
export function parseDraft7(field: string | undefined): Record<string, unknown> {
  expect(field).toBeTypeOf('string')
  const dictionary = parseDictionary(field!)
  return Object.fromEntries([...dictionary].map(([key, [value]]) => [key, value]))
}
