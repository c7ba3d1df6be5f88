import { readFileSync } from 'node:fs'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: readonly number[]
}

export interface ProfileLine {
  readonly name: string
  readonly percent: number
}

export interface ProfileSummary {
  /** Functions by share of samples where they are on top of the stack. */
  readonly self: readonly ProfileLine[]
  /**
   * Share of samples owned by each group: walking up from the sampled frame, the
   * first frame of a group owns the sample (so the work a middleware's \`next()\`
   * does downstream belongs to the framework, not to the middleware).
   */
  readonly owners: readonly ProfileLine[]
  /** The functions that use the time of each owner's samples (self time). */
  readonly within: Readonly<Record<string, readonly ProfileLine[]>>
}

const where = (node: ProfileNode) => {
  const url = node.callFrame.url.replace(/^file:\/\//, '')
  const short = url.includes('/node_modules/')
    ? url.slice(url.lastIndexOf('/node_modules/') + 14)
    : url.replace(/^.*\/packages\//, '@tollgate/')
  return `${node.callFrame.functionName || '(anonymous)'} ${short}:${node.callFrame.lineNumber + 1}`
}

/** Sums self time per function and ownership per group of a .cpuprofile file. */
export function summariseProfile(
  file: string,
  owners: Readonly<Record<string, RegExp>>,
  top = 12,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[] }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const counts = new Map<number, number>()
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1)
  const idle = byId.size
    ? [...byId.values()].filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id)
    : []
  const busy = profile.samples.length - idle.reduce((sum, id) => sum + (counts.get(id) ?? 0), 0)
  const self = new Map<string, number>()
  const owned = new Map<string, number>()
  const within = new Map<string, Map<string, number>>()
  for (const [id, count] of counts) {
    const node = byId.get(id)!
    if (node.callFrame.functionName === '(idle)') continue
    self.set(where(node), (self.get(where(node)) ?? 0) + count)
    let owner = 'other (Node.js HTTP, GC, …)'
    search: for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const url = byId.get(cur)!.callFrame.url
      for (const [name, pattern] of Object.entries(owners)) {
        if (pattern.test(url)) {
          owner = name
          break search
        }
      }
    }
    owned.set(owner, (owned.get(owner) ?? 0) + count)
    const mine = within.get(owner) ?? new Map<string, number>()
    mine.set(where(node), (mine.get(where(node)) ?? 0) + count)
    within.set(owner, mine)
  }
  const percent = (n: number) => (100 * n) / Math.max(1, busy)
  return {
    self: [...self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, n]) => ({ name, percent: percent(n) })),
    owners: [...owned].sort((a, b) => b[1] - a[1]).map(([name, n]) => ({ name, percent: percent(n) })),
    within: Object.fromEntries(
      [...within].map(([owner, functions]) => [
        owner,
        [...functions]
          .sort((a, b) => b[1] - a[1])
          .slice(0, top)
          .map(([name, n]) => ({ name, percent: percent(n) })),
      ]),
    ),
  }
}
