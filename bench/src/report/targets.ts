import type { HttpRow } from '../sections/http.ts'
import type { Results } from './results.ts'

/** One line of issue 5's targets, judged on this run. `pass` is undefined when it could not be measured. */
export interface TargetLine {
  readonly area: string
  readonly target: string
  readonly measured: string
  readonly pass: boolean | undefined
}

const HTTP_MEMORY: Record<string, number> = { express: 0.97, fastify: 0.95, koa: 0.95 }
const HTTP_REDIS: Record<string, number> = { express: 0.93, fastify: 0.65, koa: 0.65 }

/** The req/s ratio target of a Tollgate HTTP row (one key), if the issue sets one. */
export function httpTarget(row: HttpRow): number | undefined {
  if (row.variant !== 'tollgate' || row.keys !== 'one') return undefined
  return (row.store === 'memory' ? HTTP_MEMORY : HTTP_REDIS)[row.framework]
}

const f2 = (n: number) => n.toFixed(2)
const signed = (n: number) => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(1)}`
const missingLine = (area: string, target: string, why: string): TargetLine => ({
  area,
  target,
  measured: why,
  pass: undefined,
})

export function judge(results: Results): TargetLine[] {
  const lines: TargetLine[] = []
  const http = results.http
  for (const store of ['memory', 'redis'] as const) {
    for (const framework of ['express', 'fastify', 'koa']) {
      const target = (store === 'memory' ? HTTP_MEMORY : HTTP_REDIS)[framework]!
      const area = `HTTP ${store} store`
      const text = `${framework} + Tollgate ≥ ${target} × bare req/s`
      const row = http?.rows.find(
        (r) => r.framework === framework && r.store === store && r.variant === 'tollgate' && r.keys === 'one',
      )
      if (!row) {
        lines.push(missingLine(area, text, http ? 'not measured (package not built yet)' : 'section not run'))
        continue
      }
      const peers = http!.rows
        .filter(
          (r) =>
            r.framework === framework &&
            r.store === store &&
            r.keys === 'one' &&
            r.variant !== 'tollgate' &&
            r.variant !== 'headers',
        )
        .map((r) => `${r.variant} ${f2(r.ratio)}`)
        .join(', ')
      const floor = http!.rows.find(
        (r) => r.framework === framework && r.keys === 'one' && r.variant === 'headers',
      )
      const floorText = floor
        ? `; a middleware that only sets the two headers: ${f2(floor.ratio)} (${f2(floor.ratioRange[0])}–${f2(floor.ratioRange[1])})`
        : ''
      lines.push({
        area,
        target: text,
        measured: `${f2(row.ratio)} (${f2(row.ratioRange[0])}–${f2(row.ratioRange[1])}); peers: ${peers}${floorText}`,
        pass: row.ratio >= target,
      })
    }
  }
  for (const framework of ['express', 'fastify', 'koa']) {
    const text = `${framework}: added server CPU per request ≤ 1 µs`
    const injected = results.inject?.rows.find((r) => r.framework === framework && r.variant === 'tollgate')
    const row = http?.rows.find(
      (r) =>
        r.framework === framework && r.store === 'memory' && r.variant === 'tollgate' && r.keys === 'one',
    )
    if (!injected && !row) {
      lines.push(missingLine('HTTP memory store', text, 'not measured'))
      continue
    }
    const parts: string[] = []
    if (injected) {
      const rows = results.inject!.rows.filter((r) => r.framework === framework)
      const of = (variant: string) => rows.find((r) => r.variant === variant)
      const peers = rows
        .filter((r) => !['tollgate', 'bare', 'noop', 'headers'].includes(r.variant))
        .map((r) => `${r.variant} ${signed(r.added)}`)
        .join(', ')
      const noop = of('noop')
      const headers = of('headers')
      parts.push(
        `${signed(injected.added)} µs in-process (rounds ${signed(injected.addedRange[0])} to ${signed(injected.addedRange[1])}; peers: ${peers}; an empty middleware ${noop ? signed(noop.added) : '?'}, one setting two constant headers ${headers ? signed(headers.added) : '?'})`,
      )
    }
    if (row)
      parts.push(
        `${signed(row.addedCpu)} µs over sockets (of ${row.cpuPerRequest.toFixed(0)} µs/request, ±noise)`,
      )
    lines.push({
      area: 'HTTP memory store',
      target: text,
      measured: parts.join('; '),
      pass: (injected ? injected.added : row!.addedCpu) <= 1,
    })
  }

  const core = results.core
  for (const keys of ['one', 'many'] as const) {
    const label = keys === 'one' ? 'one key' : '100,000 keys'
    const text = `Core: ≥ 3 × RateLimiterMemory.consume decisions/s, ${label}`
    const row = core?.rows.find((r) => r.lib === 'tollgate-gcra' && r.keys === keys)
    if (!row) {
      lines.push(missingLine('Core', text, 'not measured'))
      continue
    }
    const fixed = core!.rows.find((r) => r.lib === 'tollgate-fixed-window' && r.keys === keys)
    lines.push({
      area: 'Core',
      target: text,
      measured: `GCRA ${f2(row.vsFlexible)}× (${f2(row.vsFlexibleRange[0])}–${f2(row.vsFlexibleRange[1])})${fixed ? `; fixed window ${f2(fixed.vsFlexible)}×` : ''}`,
      pass: row.vsFlexible >= 3,
    })
  }

  const redis = results.redis
  const tg = redis?.results.filter((r) => r.lib === 'tollgate') ?? []
  if (!tg.length) {
    for (const text of [
      'Redis: exactly 1 round trip per decision',
      'Redis: ≥ 2 × RateLimiterRedis decisions/s at 50 in flight',
      'Redis: ≥ 50 % of the EVALSHA ceiling',
    ]) {
      lines.push(missingLine('Redis', text, 'not measured'))
    }
  } else {
    const trips = tg.map((r) => r.sentPerDecision)
    lines.push({
      area: 'Redis',
      target:
        'exactly 1 round trip per decision (Tollgate: at most 1; one turn of the event loop shares one)',
      measured: `${trips.map((t) => t.toFixed(3)).join(' / ')} commands sent per decision at ${tg.map((r) => r.inflight).join(' / ')} in flight`,
      pass: trips.every((t) => t <= 1.005),
    })
    const at50 = tg.find((r) => r.inflight === 50)
    const peer50 = redis!.results.find((r) => r.lib === 'rate-limiter-flexible' && r.inflight === 50)
    if (at50 && peer50) {
      const ratio = at50.redisDecisionsPerSec / peer50.redisDecisionsPerSec
      lines.push({
        area: 'Redis',
        target: '≥ 2 × RateLimiterRedis decisions/s at 50 in flight',
        measured: `${f2(ratio)}× (${Math.round(at50.redisDecisionsPerSec)} vs ${Math.round(peer50.redisDecisionsPerSec)} decisions/s)`,
        pass: ratio >= 2,
      })
    }
    const ceiling = redis!.ceilings.find((c) => c.clients === 50 && c.pipeline === 1)
    if (at50 && ceiling) {
      const share = at50.redisDecisionsPerSec / ceiling.rps
      lines.push({
        area: 'Redis',
        target: '≥ 50 % of the measured EVALSHA ceiling (redis-benchmark -c 50, no pipelining)',
        measured: `${(share * 100).toFixed(0)} % (${Math.round(at50.redisDecisionsPerSec)} of ${Math.round(ceiling.rps)}/s)`,
        pass: share >= 0.5,
      })
    }
  }

  const memory = results.memory
  const perKey = memory?.perKey.find((r) => r.lib === 'tollgate-gcra')
  lines.push(
    perKey
      ? {
          area: 'Memory',
          target: `≤ 150 bytes per single-rate key at ${perKey.keys.toLocaleString('en-US')} keys`,
          measured: `${perKey.bytesPerKey.toFixed(0)} B (peers: ${memory!.perKey
            .filter((r) => !r.lib.startsWith('tollgate'))
            .map((r) => `${r.lib} ${r.bytesPerKey.toFixed(0)} B`)
            .join(', ')})`,
          pass: perKey.bytesPerKey <= 150,
        }
      : missingLine('Memory', '≤ 150 bytes per single-rate key at 1M keys', 'not measured'),
  )
  const server = memory?.servers.find((s) => s.variant === 'tollgate')
  lines.push(
    server
      ? {
          area: 'Memory',
          target: `Express server tracking ${server.keys.toLocaleString('en-US')} keys within 20 MB of the bare server's RSS`,
          measured: `RSS ${signed(server.rssOverBareMB)} MB, heap + external ${signed(server.heldOverBareMB)} MB (peers' RSS: ${memory!.servers
            .filter((s) => s.variant !== 'tollgate' && s.variant !== 'bare')
            .map((s) => `${s.variant} ${signed(s.rssOverBareMB)} MB`)
            .join(', ')})`,
          pass: server.rssOverBareMB <= 20,
        }
      : missingLine(
          'Memory',
          'server with 100k keys within 20 MB of bare RSS',
          'not measured (Express adapter not built yet)',
        ),
  )
  const flood = memory?.flood
  if (flood) {
    const firstHalfPeak = Math.max(
      ...flood.samples.slice(0, Math.ceil(flood.samples.length / 2)).map((s) => s.rssAfterGcMB ?? s.rssMB),
    )
    const [early, late] = flood.heapAfterGcMB
    const flat = flood.rssGrowthMB <= 0.1 * firstHalfPeak && late - early <= 5
    lines.push({
      area: 'Memory',
      target: `flat RSS under a flood of ${flood.keys.toLocaleString('en-US')} distinct keys (max ${flood.max.toLocaleString('en-US')})`,
      measured: `RSS after GC, peak of 2nd half − peak of 1st half: ${flood.rssGrowthMB.toFixed(1)} MB; heap after GC ${early.toFixed(1)} → ${late.toFixed(1)} MB`,
      pass: flat,
    })
  } else {
    lines.push(missingLine('Memory', 'flat RSS under a 10M-key flood', 'not measured'))
  }

  const attack = results.attack
  const on = attack?.rows.find((r) => r.lib === 'tollgate' && r.localBlock)
  const off = attack?.rows.find((r) => r.lib === 'tollgate' && !r.localBlock)
  if (on && off) {
    const fewer = off.sentPerSec / Math.max(on.sentPerSec, 1e-9)
    lines.push({
      area: 'Under attack',
      target: 'deny cache: ≥ 10 × fewer Redis commands than without',
      measured: `${on.sentPerSec > 0 ? `${fewer.toFixed(0)}× fewer` : 'no Redis command at all'} with the deny cache: ${Math.round(on.sentPerSec)} vs ${Math.round(off.sentPerSec)} commands/s sent; ${Math.round(on.decisionsPerSec)} vs ${Math.round(off.decisionsPerSec)} decisions/s`,
      pass: fewer >= 10,
    })
  } else {
    lines.push(missingLine('Under attack', 'deny cache: ≥ 10 × fewer Redis commands', 'not measured'))
  }
  return lines
}
