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
  ] as const)('%s /%s → %s', (ip, subnet, key) => {
    expect(ipKey(ip, subnet)).toBe(key)
  })

  test('no address means the fallback bucket', () => {
    expect(ipKey(undefined)).toBeUndefined()
    expect(ipKey('')).toBeUndefined()
  })

  test('text that is not an address is kept as it is', () => {
    expect(ipKey('not:an:address')).toBe('not:an:address')
    expect(ipKey('1:2:3:4:5:6:7:8:9')).toBe('1:2:3:4:5:6:7:8:9')
    expect(ipKey('1::2::3')).toBe('1::2::3')
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
