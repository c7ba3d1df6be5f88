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
  // A dual-stack listener (Node's default `::`) reports every IPv4 client this way.
  if (isMappedPrefix(ip)) {
    const v4 = ip.slice(MAPPED_PREFIX)
    if (isCanonicalIPv4(v4)) return v4
  }
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

const COLON = 0x3a
const DOT = 0x2e
/** The length of `::ffff:`. */
const MAPPED_PREFIX = 7

/** Whether `text` starts with `::ffff:` (any case). */
function isMappedPrefix(text: string): boolean {
  return (
    text.charCodeAt(0) === COLON &&
    text.charCodeAt(1) === COLON &&
    (text.charCodeAt(2) | 0x20) === 0x66 &&
    (text.charCodeAt(3) | 0x20) === 0x66 &&
    (text.charCodeAt(4) | 0x20) === 0x66 &&
    (text.charCodeAt(5) | 0x20) === 0x66 &&
    text.charCodeAt(6) === COLON
  )
}

/** Whether `text` is four decimal bytes as IPv4 writes them: no leading zeros, nothing else. */
function isCanonicalIPv4(text: string): boolean {
  let octets = 0
  let i = 0
  while (i < text.length) {
    let value = 0
    const start = i
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c < 0x30 || c > 0x39) break
      value = value * 10 + c - 0x30
      i++
    }
    const digits = i - start
    const leadingZero = digits > 1 && text.charCodeAt(start) === 0x30
    if (digits === 0 || digits > 3 || value > 255 || leadingZero) return false
    if (++octets === 4) return i === text.length
    if (text.charCodeAt(i) !== DOT) return false
    i++
  }
  return false
}

/** The value of a hexadecimal digit's char code, or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  const lower = c | 0x20
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1
}

/**
 * The two 16-bit groups of the dotted IPv4 address in `text` from `start` to `end` (1–3 decimal
 * digits per byte, each at most 255), or `undefined`.
 */
function parseIPv4Tail(text: string, start: number, end: number): [number, number] | undefined {
  const bytes = [0, 0, 0, 0]
  let i = start
  for (let b = 0; b < 4; b++) {
    if (b > 0) {
      if (text.charCodeAt(i) !== DOT) return undefined
      i++
    }
    const first = i
    let value = 0
    while (i < end) {
      const c = text.charCodeAt(i)
      if (c < 0x30 || c > 0x39) break
      value = value * 10 + c - 0x30
      i++
    }
    if (i === first || i - first > 3 || value > 255) return undefined
    bytes[b] = value
  }
  if (i !== end) return undefined
  return [(bytes[0]! << 8) | bytes[1]!, (bytes[2]! << 8) | bytes[3]!]
}

/**
 * Eight 16-bit groups, or `undefined` when `text` is not an IPv6 address. Accepts a zone (`%eth0`)
 * and a trailing IPv4. One pass over the characters: no regular expression, split or substring.
 */
function parseIPv6(text: string): number[] | undefined {
  let end = text.indexOf('%')
  if (end === -1) end = text.length
  const groups: number[] = []
  /** Where `::` stands, as an index into `groups`; -1 when there is none. */
  let gap = -1
  let i = 0
  if (text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) return undefined
    gap = 0
    i = 2
  }
  while (i < end) {
    if (groups.length === 8) return undefined
    const start = i
    let value = 0
    while (i < end) {
      const digit = hexDigit(text.charCodeAt(i))
      if (digit === -1) break
      value = value * 16 + digit
      i++
    }
    if (i < end && text.charCodeAt(i) === DOT) {
      // The last 32 bits written as IPv4 (`::ffff:1.2.3.4`): it must end the address.
      const v4 = groups.length <= 6 ? parseIPv4Tail(text, start, end) : undefined
      if (v4 === undefined) return undefined
      groups.push(v4[0], v4[1])
      break
    }
    if (i === start || i - start > 4) return undefined
    groups.push(value)
    if (i === end) break
    if (text.charCodeAt(i) !== COLON) return undefined
    i++
    if (i < end && text.charCodeAt(i) === COLON) {
      if (gap !== -1) return undefined
      gap = groups.length
      i++
    } else if (i === end) return undefined
  }
  if (gap === -1) return groups.length === 8 ? groups : undefined
  // `::` stands for at least one zero group.
  if (groups.length > 7) return undefined
  const zeros = new Array<number>(8 - groups.length).fill(0)
  groups.splice(gap, 0, ...zeros)
  return groups
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
  let text = ''
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += '::'
      i += bestLength - 1
      continue
    }
    // After the first group, a separator, unless `::` just ended.
    if (i > 0 && i !== bestStart + bestLength) text += ':'
    text += groups[i]!.toString(16)
  }
  return text
}
