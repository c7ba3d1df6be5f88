import { ipKey, prefersJson } from '@tollgate/core'
import { describe, expect, test } from 'vitest'

describe('ipKey', () => {
  test.each([
    ['203.0.113.7', 56, '203.0.113.7'],
    ['2001:db8:aa:bb12::1', 56, '2001:db8:aa:bb00::/56'],
    ['2001:DB8:AA:BBFF:1:2:3:4', 56, '2001:db8:aa:bb00::/56'],
    ['2001:db8::1', 64, '2001:db8::/64'],
    ['2001:db8:1:2:3:4:5:6', 48, '2001:db8:1::/48'],
    ['2001:db8:1:2:3:4:5:6', 60, '2001:db8:1::/60'],
    ['2001:db8::1', false, '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', false, '2001:db8::1'],
    ['2001:db8::1', 128, '2001:db8::1'],
    ['fe80::1%eth0', 56, 'fe80::/56'],
    ['::ffff:203.0.113.7', 56, '203.0.113.7'],
    ['::FFFF:203.0.113.7', false, '203.0.113.7'],
    ['::ffff:cb00:7107', 56, '203.0.113.7'],
    ['::1', 56, '::/56'],
    ['::1', false, '::1'],
    ['2001:db8:0:0:1:0:0:1', false, '2001:db8::1:0:0:1'],
    ['1:0:0:2:0:0:0:3', false, '1:0:0:2::3'],
    ['1:2:3:4:5:6:0:0', false, '1:2:3:4:5:6::'],
    ['::ffff:1.2.3.4%eth0', 56, '1.2.3.4'],
    ['::ffff:01.2.3.004', 56, '1.2.3.4'],
    ['::ffff:0.0.0.0', 56, '0.0.0.0'],
    ['::ffff:255.255.255.255', false, '255.255.255.255'],
    ['64:ff9b::192.0.2.33', false, '64:ff9b::c000:221'],
  ] as const)('%s /%s → %s', (ip, subnet, key) => {
    expect(ipKey(ip, subnet)).toBe(key)
  })

  test('no address means the fallback bucket', () => {
    expect(ipKey(undefined)).toBeUndefined()
    expect(ipKey('')).toBeUndefined()
  })

  test.each([
    'not:an:address',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    '::ffff:256.1.2.3',
    '::ffff:1.2.3',
    '::ffff:1.2.3.4.5',
    '::ffff:1.2.3.1234',
    // An IPv4 part ends the address (RFC 4291 2.2).
    '0:0:0:0:ffff:1.2.3.4::',
    '1:2:3:4:5:6:7:1.2.3.4',
    ':1::2',
    '1::2:',
    '1:::2',
    '12345::1',
  ])('%s is not an address: it is kept as it is', (text) => {
    expect(ipKey(text)).toBe(text)
  })

  test('agrees with the WHATWG URL parser on 5,000 addresses written every way', () => {
    // Seeded, so a failure reproduces.
    let seed = 0x2545f491
    const random = (n: number) => {
      seed ^= seed << 13
      seed ^= seed >>> 17
      seed ^= seed << 5
      return (seed >>> 0) % n
    }
    for (let t = 0; t < 5000; t++) {
      const groups = Array.from({ length: 8 }, () => (random(3) === 0 ? 0 : random(0x10000)))
      if (random(8) === 0) groups.splice(0, 6, 0, 0, 0, 0, 0, 0xffff)
      let parts = groups.map((g) => {
        const hex = g.toString(16).padStart(random(2) === 0 ? 4 : 1, '0')
        return random(2) === 0 ? hex.toUpperCase() : hex
      })
      if (random(4) === 0) {
        const bytes = [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255]
        parts = [...parts.slice(0, 6), bytes.join('.')]
      }
      let text = parts.join(':')
      const run = text.match(/(^|:)(0+:){1,}0+(:|$)/)
      if (run && random(2) === 0) text = text.replace(run[0], '::')
      const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1)
      const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff
      const expected = mapped
        ? `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`
        : canonical
      expect(ipKey(text, false), text).toBe(expected)
    }
  })

  test('two addresses in one /56 share a key; different /56 do not', () => {
    expect(ipKey('2001:db8:0:100::1')).toBe(ipKey('2001:db8:0:1ff:ffff::9'))
    expect(ipKey('2001:db8:0:100::1')).not.toBe(ipKey('2001:db8:0:200::1'))
  })
})

describe('prefersJson', () => {
  test.each([
    [undefined, false],
    ['*/*', false],
    ['text/html,application/xhtml+xml,*/*;q=0.8', false],
    ['application/json', true],
    ['application/problem+json', true],
    ['application/json, text/plain, */*', true],
    ['text/plain, application/json', true],
    ['application/json;q=0.5, text/plain', false],
    ['application/json;q=0', false],
  ] as const)('%s → %s', (accept, json) => {
    expect(prefersJson(accept)).toBe(json)
  })
})
