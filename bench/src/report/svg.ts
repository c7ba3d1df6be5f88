import type { HttpRow } from '../sections/http.ts'

const esc = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')

const COLORS: Record<string, string> = {
  tollgate: '#2563eb',
  'tollgate-no-headers': '#93c5fd',
  'tollgate-stacked': '#1e3a8a',
  headers: '#d1d5db',
  floor: '#fbbf24',
  control: '#e5e7eb',
  'express-rate-limit': '#9ca3af',
  'rate-limiter-flexible': '#6b7280',
  '@fastify/rate-limit': '#9ca3af',
  'koa-ratelimit': '#9ca3af',
}

const LABELS: Record<string, string> = {
  tollgate: 'Tollgate',
  'tollgate-no-headers': 'Tollgate, headers: false',
  'tollgate-stacked': 'Tollgate, two stacked limiters',
  headers: 'only the two headers (no limiter)',
  floor: 'floor: a minimal limiter with the headers',
  control: 'bare again (A/A control)',
}

const TITLE = 'HTTP req/s relative to the bare server (1.00 = no overhead), one key, autocannon -c 50'

/**
 * A horizontal bar chart of req/s as a ratio to the bare server (one key),
 * one group per framework and store, the min–max over rounds as a whisker,
 * and the target for Tollgate as a tick.
 */
export function ratioChart(rows: readonly HttpRow[], targets: (row: HttpRow) => number | undefined): string {
  const shown = rows.filter((r) => r.keys === 'one')
  const barH = 18
  const gap = 4
  const groupGap = 22
  const left = 300
  const width = 820
  const plotW = width - left - 40
  const x = (ratio: number) => left + Math.max(0, Math.min(1.1, ratio)) * (plotW / 1.1)
  const parts: string[] = []
  let y = 50
  const groups = new Map<string, HttpRow[]>()
  for (const row of shown) {
    const name = `${row.framework} · ${row.store} store`
    groups.set(name, [...(groups.get(name) ?? []), row])
  }
  for (const [name, list] of groups) {
    parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${esc(name)}</text>`)
    y += 20
    for (const row of list) {
      const color = COLORS[row.variant] ?? '#9ca3af'
      const [lo, hi] = row.ratioRange
      const label = LABELS[row.variant] ?? row.variant
      parts.push(`<text x="${left - 8}" y="${y + 13}" text-anchor="end">${esc(label)}</text>`)
      parts.push(
        `<rect x="${left}" y="${y}" width="${(x(row.ratio) - left).toFixed(1)}" height="${barH}" fill="${color}"/>`,
      )
      parts.push(
        `<line x1="${x(lo).toFixed(1)}" x2="${x(hi).toFixed(1)}" y1="${y + barH / 2}" y2="${y + barH / 2}" stroke="#111" stroke-width="1.5"/>`,
      )
      parts.push(`<text x="${(x(row.ratio) + 6).toFixed(1)}" y="${y + 13}">${row.ratio.toFixed(2)}</text>`)
      const target = targets(row)
      if (target !== undefined) {
        parts.push(
          `<line x1="${x(target).toFixed(1)}" x2="${x(target).toFixed(1)}" y1="${y - 2}" y2="${y + barH + 2}" stroke="#dc2626" stroke-width="2"/>`,
        )
      }
      y += barH + gap
    }
    y += groupGap
  }
  const height = y + 30
  const axis: string[] = []
  for (let t = 0; t <= 1.0001; t += 0.25) {
    axis.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="40" y2="${height - 30}" stroke="#e5e7eb"/>`,
      `<text x="${x(t)}" y="${height - 14}" text-anchor="middle">${t.toFixed(2)}</text>`,
    )
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12" role="img">`,
    `<title>${TITLE}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${TITLE}</text>`,
    `<text x="10" y="38" fill="#555">bar: median of the rounds · whisker: min–max · red tick: Tollgate's target</text>`,
    ...axis,
    ...parts,
    '</svg>',
    '',
  ].join('\n')
}
