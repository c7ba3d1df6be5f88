import { createHash } from 'node:crypto'
import type { CompiledPolicy, StoreTarget } from '@tollgate/core'

/*
 * Key layout (see README "Key layout"):
 *
 *   <prefix><namespace>:{<key>}   a key's state, all its rates in one value
 *   <prefix>{<namespace>}         a policy's shared bucket (keyless fallback, global ceiling)
 *
 * The braces are the Cluster hash tag: every policy's state for one client key
 * lands in one slot. In the namespace, `%`, `:`, `@`, `{` and `}` are
 * percent-encoded, so the first `:` after the prefix ends the namespace and no
 * two (namespace, key) pairs share a Redis key.
 *
 * A named policy's namespace carries a tag of its rules (`api@3f9a1c2e`): state is
 * kept in units of the rules it was written under, so a deploy that changes a
 * named policy's rates or algorithm starts from fresh keys (the old ones expire)
 * instead of reading state it would misread, or a value of another type. An
 * unnamed policy's namespace is its rules already.
 */
function escapeNamespace(namespace: string): string {
  return namespace.replace(/[%:@{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

const namespaces = new WeakMap<CompiledPolicy, string>()

/** The namespace part of a policy's keys, computed once per policy. */
export function keyNamespace(policy: CompiledPolicy): string {
  let namespace = namespaces.get(policy)
  if (namespace === undefined) {
    namespace = escapeNamespace(policy.namespace)
    if (policy.namespace !== policy.fingerprint) {
      namespace += `@${createHash('sha1').update(policy.fingerprint).digest('hex').slice(0, 8)}`
    }
    namespaces.set(policy, namespace)
  }
  return namespace
}

/** The Redis key that holds `target`'s state. */
export function redisKey(prefix: string, target: StoreTarget): string {
  const namespace = keyNamespace(target.policy)
  return target.key === undefined ? `${prefix}{${namespace}}` : `${prefix}${namespace}:{${target.key}}`
}
