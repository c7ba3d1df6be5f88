/**
 * The default key of the HTTP adapters: the client address, with IPv6 grouped
 * to a prefix (a /56 by default) so one host cannot rotate through the 2^64
 * addresses of its own /64, and IPv4-mapped IPv6 (`::ffff:1.2.3.4`) turned back
 * into IPv4 so a dual-stack listener counts an IPv4 client once.
 *
 * ```ts
 * ipKey('2001:db8:aa:bb12::1')         // '2001:db8:aa:bb00::/56'
 * ipKey('::ffff:203.0.113.7')          // '203.0.113.7'
 * ipKey('2001:db8::1', 64)             // '2001:db8::/64'
 * ipKey('2001:db8::1', false)          // '2001:db8::1'
 * ```
 *
 * @param ip The address as the framework reports it (`undefined` when the socket is gone).
 * @param ipv6Subnet Prefix length (1–128) IPv6 addresses are grouped to, or `false` to keep them whole.
 * @returns The key, or `undefined` (the shared fallback bucket) when there is no address.
 */
export function ipKey(ip: string | undefined, ipv6Subnet: number | false = 56): string | undefined {
  if (ip === undefined || ip === '') return undefined
  if (ip.indexOf(':') === -1) return ip
  const groups = parseIPv6(ip)
  if (groups === undefined) return ip
  if (isMappedIPv4(groups))
    return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`
  if (ipv6Subnet === false || ipv6Subnet >= 128) return formatIPv6(groups)
  for (let i = 0; i < 8; i++) {
    const keep = Math.min(16, Math.max(0, ipv6Subnet - i * 16))
    groups[i] = keep === 0 ? 0 : groups[i]! & ((0xffff << (16 - keep)) & 0xffff)
  }
  return `${formatIPv6(groups)}/${ipv6Subnet}`
}

function isMappedIPv4(groups: readonly number[]): boolean {
  return (
    groups[5] === 0xffff &&
    groups[0] === 0 &&
    groups[1] === 0 &&
    groups[2] === 0 &&
    groups[3] === 0 &&
    groups[4] === 0
  )
}

const HEX_GROUP = /^[0-9a-f]{1,4}$/i
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

/** Eight 16-bit groups, or `undefined` when `text` is not an IPv6 address. Accepts a zone (`%eth0`) and a trailing IPv4. */
function parseIPv6(text: string): number[] | undefined {
  const zone = text.indexOf('%')
  if (zone !== -1) text = text.slice(0, zone)
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const head = halves[0] === '' ? [] : halves[0]!.split(':')
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : []
  const parts = halves.length === 2 ? [...head, ...tail] : head
  const groups: number[] = []
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = IPV4.exec(part)
      if (!v4) return undefined
      const bytes = v4.slice(1).map(Number)
      if (bytes.some((byte) => byte > 255)) return undefined
      groups.push((bytes[0]! << 8) | bytes[1]!, (bytes[2]! << 8) | bytes[3]!)
    } else {
      if (!HEX_GROUP.test(part)) return undefined
      groups.push(Number.parseInt(part, 16))
    }
  }
  if (halves.length === 1) return groups.length === 8 ? groups : undefined
  const missing = 8 - groups.length
  if (missing < 1) return undefined
  const headCount = groups.length - (tail.length + (tail.at(-1)?.includes('.') ? 1 : 0))
  return [...groups.slice(0, headCount), ...new Array<number>(missing).fill(0), ...groups.slice(headCount)]
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run of two or more zero groups as `::`. */
function formatIPv6(groups: readonly number[]): string {
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const hex = groups.map((group) => group.toString(16))
  if (bestStart === -1) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}
