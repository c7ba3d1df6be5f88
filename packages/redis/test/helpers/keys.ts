import { createHash } from 'node:crypto'

/** The tag of a named policy's rules in its Redis keys: the first 8 hex digits of SHA1(fingerprint). */
export function rulesTag(fingerprint: string): string {
  return createHash('sha1').update(fingerprint).digest('hex').slice(0, 8)
}
