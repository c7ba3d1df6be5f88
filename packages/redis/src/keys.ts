import type { StoreTarget } from '@tollgate/core'

/*
 * Key layout (see README "Key layout"):
 *
 *   <prefix><namespace>:{<key>}   a key's state, all its rates in one hash
 *   <prefix>{<namespace>}         a policy's shared bucket (keyless fallback, global ceiling)
 *
 * The braces are the Cluster hash tag: every policy's state for one client key
 * lands in one slot. In the namespace, `%`, `:`, `{` and `}` are
 * percent-encoded, so the first `:` after the prefix ends the namespace and no
 * two (namespace, key) pairs share a Redis key.
 */
function escapeNamespace(namespace: string): string {
  return namespace.replace(/[%:{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** The Redis key that holds `target`'s state. */
export function redisKey(prefix: string, target: StoreTarget): string {
  const namespace = escapeNamespace(target.policy.namespace)
  return target.key === undefined ? `${prefix}{${namespace}}` : `${prefix}${namespace}:{${target.key}}`
}
