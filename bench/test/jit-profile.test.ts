import { describe, expect, test } from 'vitest'
import {
  nameAt,
  parsePerfMap,
  perDecision,
  selfInstructions,
  shortName,
  UNNAMED,
} from '../src/lib/jit-profile.ts'

// Lines as node 20's --perf-basic-prof writes them; consume, compiled last, took some of decideGcra's addresses.
const MAP = [
  'd0eb840 1194 JS:*decideGcra file:///work/main/packages/core/dist/index.js:1436:13',
  'd0eca40 3e8 JS:*#L file:///work/main/node_modules/.pnpm/lru-cache@11.5.3/node_modules/lru-cache/dist/esm/node/index.min.js:1:17277',
  'd0eb800 200 JS:^consume file:///work/main/packages/core/dist/index.js:2167:3',
  '',
].join('\n')

// callgrind_annotate --threshold=100 output, trimmed to its function table.
const annotate = (decide: string, builtin: string, unnamed: string) => `
--------------------------------------------------------------------------------
Ir                    file:function
--------------------------------------------------------------------------------
${decide} ( 6.44%)  ???:0x000000000d0eb840 [???]
${builtin} ( 1.71%)  ???:Builtins_FindOrderedHashMapEntry [/usr/bin/node]
    600,000 ( 0.01%)  ???:Builtins_FindOrderedHashMapEntry'2 [/usr/bin/node]
${unnamed} ( 0.10%)  ???:0x00002bd6caeeb068 [???]
    300,000 ( 0.01%)  /home/iojs/build/ws/out/../deps/uv/src/unix/linux.c:uv__hrtime [/usr/bin/node]
    120,000 ( 0.00%)  ???:node::process::BindingData::FastNumber(v8::Local<v8::Value>) [/usr/bin/node]
4,105,948,098 (100.0%)  PROGRAM TOTALS
`

describe('perf map', () => {
  test('parses start, size and name in hexadecimal, skipping blank lines', () => {
    const entries = parsePerfMap(MAP)
    expect(entries).toHaveLength(3)
    expect(entries[1]).toEqual({
      start: 0xd0eca40,
      size: 0x3e8,
      name: 'JS:*#L file:///work/main/node_modules/.pnpm/lru-cache@11.5.3/node_modules/lru-cache/dist/esm/node/index.min.js:1:17277',
    })
  })

  test('an address takes the name of the last entry covering it: V8 reuses discarded code addresses', () => {
    const entries = parsePerfMap(MAP)
    expect(nameAt(entries, 0xd0eb840)).toContain('consume')
    expect(nameAt(entries, 0xd0eba10)).toContain('decideGcra')
    expect(nameAt(entries, 0xd0eca40 + 0x3e7)).toContain('#L')
    expect(nameAt(entries, 0xd0eca40 + 0x3e8)).toBeUndefined()
  })
})

describe('short names', () => {
  test('JavaScript keeps its tier mark, package path and line', () => {
    expect(shortName('JS:*decideGcra file:///work/main/packages/core/dist/index.js:1436:13')).toBe(
      '*decideGcra core/dist/index.js:1436',
    )
    expect(
      shortName(
        'JS:*#L file:///work/main/node_modules/.pnpm/lru-cache@11.5.3/node_modules/lru-cache/dist/esm/node/index.min.js:1:17277',
      ),
    ).toBe('*#L lru-cache/dist/esm/node/index.min.js:1')
    expect(shortName('JS:* file:///work/main/bench/src/lib/floor.ts:1:587')).toBe(
      '* bench/src/lib/floor.ts:1',
    )
    expect(shortName('JS:~parseSource node:internal/deps/cjs-module-lexer/lexer:85:22')).toBe(
      '~parseSource node:internal/deps/cjs-module-lexer/lexer:85',
    )
  })

  test('a C++ symbol loses its parameter list; other names stay whole', () => {
    expect(shortName('node::process::BindingData::FastNumber(v8::Local<v8::Value>)')).toBe(
      'node::process::BindingData::FastNumber',
    )
    expect(
      shortName(
        'v8::internal::(anonymous namespace)::IterateObjectCache(v8::internal::Isolate*, std::vector<v8::internal::Object, std::allocator<v8::internal::Object> >*, v8::internal::Root, v8::internal::RootVisitor*)',
      ),
    ).toBe('v8::internal::(anonymous namespace)::IterateObjectCache')
    expect(shortName('v8::internal::Heap::Size(int) const')).toBe('v8::internal::Heap::Size')
    expect(shortName('Builtins_StringEqual')).toBe('Builtins_StringEqual')
    expect(shortName('RegExp:\\bproxyaddr\\(this\\b')).toBe('RegExp:\\bproxyaddr\\(this\\b')
  })
})

describe('instructions per function', () => {
  const entries = parsePerfMap(MAP)

  test('names JIT addresses from the map, adds up recursion cycles and drops the totals line', () => {
    const counts = selfInstructions(annotate('264,348,451', '70,000,000', '4,000,000'), entries)
    // 0xd0eb840 is consume's now (the later map entry).
    expect(counts.get('^consume core/dist/index.js:2167')).toBe(264_348_451)
    expect(counts.get('Builtins_FindOrderedHashMapEntry')).toBe(70_600_000)
    expect(counts.get(UNNAMED)).toBe(4_000_000)
    expect(counts.get('uv__hrtime')).toBe(300_000)
    expect(counts.get('node::process::BindingData::FastNumber')).toBe(120_000)
    expect([...counts.keys()].some((name) => name.includes('TOTALS'))).toBe(false)
  })

  test('per decision: the longer run over the shorter, largest first by size, below zero kept', () => {
    const shorter = new Map([
      ['a', 1_000],
      ['gc', 900],
      ['only-short', 50],
    ])
    const longer = new Map([
      ['a', 31_000],
      ['gc', 300],
      ['b', 6_000],
    ])
    expect(perDecision(shorter, longer, 100)).toEqual([
      { name: 'a', perDecision: 300 },
      { name: 'b', perDecision: 60 },
      { name: 'gc', perDecision: -6 },
      { name: 'only-short', perDecision: -0.5 },
    ])
  })
})
