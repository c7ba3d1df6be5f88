import { STATUS_CODES } from 'node:http'
import { toSeconds } from '../headers.js'
import type { Decision } from '../types.js'

/**
 * A response body the adapters send as is.
 * @internal What `HttpEngine` hands an adapter's `send` binding.
 */
export interface HttpBody {
  /** The `Content-Type` header value, charset included. */
  readonly contentType: string
  /** Already serialised, so every framework sends the same bytes whatever its own serialiser would do. */
  readonly body: string
}

/** What `message` may be or return: a string is sent as `text/plain`, an object as JSON. */
export type HttpMessage = string | { readonly [field: string]: unknown }

const TEXT = 'text/plain; charset=utf-8'
const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * Whether a client that sent this `Accept` header prefers JSON to plain text: it
 * names `application/json` (or a `+json` type) with a quality at least that of
 * `text/plain` / `text/*`. `*\/*` alone (curl, browsers) means text.
 */
export function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.indexOf('json') === -1) return false
  let json = 0
  let text = 0
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';')
    const media = type.trim().toLowerCase()
    let q = 1
    for (const param of params) {
      const [name, value] = param.split('=')
      if (name?.trim().toLowerCase() === 'q') q = Number(value) || 0
    }
    if (media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json'))) {
      json = Math.max(json, q)
    } else if (media === 'text/plain' || media === 'text/*') {
      text = Math.max(text, q)
    }
  }
  return json > 0 && json >= text
}

/**
 * The default sentence of a rejection.
 * @internal Used by `HttpEngine` (through `limitedBody`) for the adapters' default response.
 */
export function limitedMessage(decision: Decision): string {
  if (decision.reason === 'too-heavy') {
    return `This request costs ${decision.weight} units, more than the rate limit admits at once; it can never pass.`
  }
  const seconds = Math.max(1, toSeconds(decision.retryAfterMs))
  return `Too many requests, please try again in ${seconds} second${seconds === 1 ? '' : 's'}.`
}

/**
 * The body of a rejection: the user's `message` when given (a string as text, an
 * object as JSON), otherwise a default sentence, as JSON `{ error, message, retryAfter, reason }`
 * when the client prefers JSON (`error` is the reason phrase of `status`, `retryAfter` in
 * seconds, `null` when waiting cannot help).
 * @internal Used by `HttpEngine` to answer rejected requests for every adapter.
 */
export function limitedBody(
  decision: Decision,
  message: HttpMessage | undefined,
  json: boolean,
  status = 429,
): HttpBody {
  if (message !== undefined) return messageBody(message)
  const text = limitedMessage(decision)
  if (!json) return { contentType: TEXT, body: text }
  const retryAfter = Number.isFinite(decision.retryAfterMs)
    ? Math.max(1, toSeconds(decision.retryAfterMs))
    : null
  return {
    contentType: JSON_TYPE,
    body: JSON.stringify({
      error: STATUS_CODES[status] ?? 'Too Many Requests',
      message: text,
      retryAfter,
      reason: decision.reason,
    }),
  }
}

/**
 * A string as text, anything else as JSON.
 * @internal Used by `HttpEngine` for a user-supplied `message`.
 */
export function messageBody(message: HttpMessage): HttpBody {
  return typeof message === 'string'
    ? { contentType: TEXT, body: message }
    : { contentType: JSON_TYPE, body: JSON.stringify(message) }
}

const FAILURES: Record<number, string> = {
  500: 'Internal Server Error: the rate limiter could not decide on this request.',
  503: 'Service Unavailable: the rate limiter cannot reach its store.',
}

/**
 * The body of a 500/503 answered by the `failure: 'closed'` policy.
 * @internal Used by `HttpEngine` when the limiter cannot decide.
 */
export function failureBody(status: number, json: boolean): HttpBody {
  const text = FAILURES[status] ?? 'The rate limiter could not decide on this request.'
  if (!json) return { contentType: TEXT, body: text }
  const error = status === 503 ? 'Service Unavailable' : 'Internal Server Error'
  return { contentType: JSON_TYPE, body: JSON.stringify({ error, message: text }) }
}
