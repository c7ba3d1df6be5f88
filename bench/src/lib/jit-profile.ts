/*
 * Machine instructions per function of a node process, from valgrind's callgrind, with V8's
 * compiled JavaScript named. callgrind names code it finds in a binary's symbol table (V8's
 * builtins, libuv, the garbage collector) but only knows JIT code by its address; a node started
 * with `--perf-basic-prof` writes `/tmp/perf-<pid>.map`, one line per code object V8 creates
 * (`<start> <size> <name>`, hexadecimal), which names those addresses. Used by
 * tools/instructions.ts `--by-function`.
 */

/** One line of a perf map: the code object at `[start, start + size)`. */
export interface PerfMapEntry {
  readonly start: number
  readonly size: number
  readonly name: string
}

/** The entries of a perf map file's text, in file order (the order V8 created the code in). */
export function parsePerfMap(text: string): PerfMapEntry[] {
  const entries: PerfMapEntry[] = []
  for (const line of text.split('\n')) {
    const match = /^([0-9a-fA-F]+) ([0-9a-fA-F]+) (.+)$/.exec(line)
    if (match)
      entries.push({
        start: Number.parseInt(match[1]!, 16),
        size: Number.parseInt(match[2]!, 16),
        name: match[3]!,
      })
  }
  return entries
}

/**
 * The name of the code at `address`: the last entry that covers it. V8 gives the addresses of code
 * it has thrown away (a function optimized again, bytecode flushed) to new code, and the map only
 * grows, so earlier entries for the same addresses name code that no longer runs there.
 */
export function nameAt(entries: readonly PerfMapEntry[], address: number): string | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!
    if (address >= entry.start && address < entry.start + entry.size) return entry.name
  }
  return undefined
}

/** What callgrind's code address stands for when no map entry covers it. */
export const UNNAMED = '(JIT code without a perf map entry)'

/**
 * A function's short name: a perf map name `JS:*decideGcra file:///…/packages/core/dist/index.js:1436:13`
 * becomes `*decideGcra core/dist/index.js:1436` (V8's tier marks stay: `*` optimized by TurboFan,
 * `^` compiled by Sparkplug, `~` interpreted), a package under node_modules keeps its name and
 * path, and a C++ symbol loses its parameter list.
 */
export function shortName(name: string): string {
  const js = /^JS:(\S*) (?:file:\/\/)?(.*?)(?::(\d+))?(?::\d+)?$/.exec(name)
  if (js) {
    const [, fn, url = '', line] = js
    const pkg = url.lastIndexOf('/node_modules/')
    const where =
      pkg >= 0
        ? url.slice(pkg + '/node_modules/'.length)
        : url.includes('/packages/')
          ? url.slice(url.lastIndexOf('/packages/') + '/packages/'.length)
          : url.includes('/bench/')
            ? url.slice(url.lastIndexOf('/bench/') + 1)
            : url
    return `${fn || '(anonymous)'} ${where}${line === undefined ? '' : `:${line}`}`
  }
  // Only C++ names (`ns::fn(args)`): a perf map's `RegExp:` names hold parentheses of their own.
  return name.includes('::') ? withoutParameters(name) : name
}

/**
 * A C++ name without its final parameter list (and `const`): the parentheses that close the name,
 * not the first ones, which may be part of it (`v8::internal::(anonymous namespace)::Visit(…)`).
 */
function withoutParameters(name: string): string {
  const end = name.endsWith(' const') ? name.length - ' const'.length : name.length
  if (name[end - 1] !== ')') return name
  let depth = 0
  for (let i = end - 1; i > 0; i--) {
    if (name[i] === ')') depth++
    else if (name[i] === '(' && --depth === 0) return name.slice(0, i)
  }
  return name
}

/**
 * Instructions spent in each function itself (not in what it calls), from the output of
 * `callgrind_annotate --threshold=100 --auto=no <file>` (without auto-annotation, whose source
 * lines would read like functions). Each line of its function table reads
 * `<count> (<percent>)  <file>:<function> [<object>]`; a JIT address (`???:0x…`) is named from
 * `entries`, and functions that come out with the same short name are added up (a recursion
 * cycle's `'2`, a function compiled more than once).
 */
export function selfInstructions(annotate: string, entries: readonly PerfMapEntry[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const line of annotate.split('\n')) {
    const match = /^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.+)$/.exec(line)
    if (!match || match[2]!.startsWith('PROGRAM TOTALS')) continue
    const instructions = Number(match[1]!.replaceAll(',', ''))
    // `<file>:<function> [<object>]`: the file has no colon (`???` or a path), the function may.
    const described = match[2]!.replace(/ \[[^\]]*\]$/, '')
    let fn = described.slice(described.indexOf(':') + 1).replace(/'\d+$/, '')
    const address = /^0x([0-9a-fA-F]+)$/.exec(fn)
    if (address) {
      const named = nameAt(entries, Number.parseInt(address[1]!, 16))
      fn = named === undefined ? UNNAMED : named
    }
    const name = fn === UNNAMED ? fn : shortName(fn)
    counts.set(name, (counts.get(name) ?? 0) + instructions)
  }
  return counts
}

/** One function's instructions per decision: what the longer run spent over the shorter one, over the extra decisions. */
export interface FunctionCost {
  readonly name: string
  readonly perDecision: number
}

/**
 * Per function, `(longer − shorter) / decisions`, largest first by size (a function can come out
 * below zero: the garbage collector, say, ran more in the shorter run by chance).
 */
export function perDecision(
  shorter: ReadonlyMap<string, number>,
  longer: ReadonlyMap<string, number>,
  decisions: number,
): FunctionCost[] {
  const names = new Set([...shorter.keys(), ...longer.keys()])
  return [...names]
    .map((name) => ({ name, perDecision: ((longer.get(name) ?? 0) - (shorter.get(name) ?? 0)) / decisions }))
    .sort((a, b) => Math.abs(b.perDecision) - Math.abs(a.perDecision) || a.name.localeCompare(b.name))
}
