import { invalidOption } from './errors.js'
import type { Decision, RateStatus } from './types.js'

/** Which rate-limit header fields to send. */
export type HeaderFormat = 'draft-6' | 'draft-7' | 'draft-8'

/** Options of {@link rateLimitHeaders}. */
export interface HeaderOptions {
  /**
   * `'draft-8'`: `RateLimit-Policy` + `RateLimit` in the syntax of drafts -08 to -11 of
   * draft-ietf-httpapi-ratelimit-headers; `'draft-7'`: combined `RateLimit`;
   * `'draft-6'`: `RateLimit-Limit/-Remaining/-Reset`; `false`: none.
   * @default 'draft-8'
   */
  readonly format?: HeaderFormat | false
  /**
   * Also send `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch
   * seconds); needs `now`. @default false
   */
  readonly legacy?: boolean
  /**
   * Epoch milliseconds of the decision, for the legacy `X-RateLimit-Reset` (the limiter's
   * `clock.now()`); required with `legacy: true`, so the function stays pure.
   * @default none
   */
  readonly now?: number
}

/** Header names and values; names in their canonical case. */
export type Headers = Record<string, string>

/** Milliseconds to whole seconds, rounded up: a client that waits that long is never early. */
export function toSeconds(ms: number): number {
  return ms <= 0 ? 0 : Math.ceil(ms / 1000)
}

/** A Structured Field string: quoted, with `"` and `\` escaped (names are printable ASCII by construction). */
export function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`
}

/** `;w=<seconds>` when the window is a whole number of seconds; omitted otherwise, rather than lie. */
function windowParam(rate: RateStatus): string {
  return rate.window % 1000 === 0 ? `;w=${rate.window / 1000}` : ''
}

function allRates(decisions: readonly Decision[]): RateStatus[] {
  return decisions.flatMap((decision) => decision.rates)
}

/** The rate with the lowest remaining (ties: the longest reset) across decisions. */
function tightest(decisions: readonly Decision[]): RateStatus | undefined {
  let best: RateStatus | undefined
  for (const rate of allRates(decisions)) {
    if (
      !best ||
      rate.remaining < best.remaining ||
      (rate.remaining === best.remaining && rate.resetMs > best.resetMs)
    ) {
      best = rate
    }
  }
  return best
}

function list(decision: Decision | readonly Decision[]): readonly Decision[] {
  return Array.isArray(decision) ? decision : [decision as Decision]
}

/** draft-8 (syntax of drafts -08 to -11): one list member per rate in each field. */
export function draft8Headers(decision: Decision | readonly Decision[]): Headers {
  const rates = allRates(list(decision))
  if (rates.length === 0) return {}
  return {
    'RateLimit-Policy': rates
      .map(
        (rate) =>
          `${sfString(rate.name)};q=${rate.limit}${rate.quotaUnit ? `;qu=${sfString(rate.quotaUnit)}` : ''}${windowParam(rate)}`,
      )
      .join(', '),
    RateLimit: rates
      .map((rate) => `${sfString(rate.name)};r=${rate.remaining};t=${toSeconds(rate.resetMs)}`)
      .join(', '),
  }
}

function policyList(rates: readonly RateStatus[]): string {
  return rates.map((rate) => `${rate.limit}${windowParam(rate)}`).join(', ')
}

/** draft-7: `RateLimit-Policy` and a combined `RateLimit` for the tightest rate. */
export function draft7Headers(decision: Decision | readonly Decision[]): Headers {
  const decisions = list(decision)
  const top = tightest(decisions)
  if (!top) return {}
  return {
    'RateLimit-Policy': policyList(allRates(decisions)),
    RateLimit: `limit=${top.limit}, remaining=${top.remaining}, reset=${toSeconds(top.resetMs)}`,
  }
}

/** draft-6: `RateLimit-Policy`, `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` for the tightest rate. */
export function draft6Headers(decision: Decision | readonly Decision[]): Headers {
  const decisions = list(decision)
  const top = tightest(decisions)
  if (!top) return {}
  return {
    'RateLimit-Policy': policyList(allRates(decisions)),
    'RateLimit-Limit': String(top.limit),
    'RateLimit-Remaining': String(top.remaining),
    'RateLimit-Reset': String(toSeconds(top.resetMs)),
  }
}

/** `X-RateLimit-Limit`, `-Remaining`, and `-Reset` as epoch seconds (the GitHub convention). */
export function legacyHeaders(decision: Decision | readonly Decision[], now: number): Headers {
  const top = tightest(list(decision))
  if (!top) return {}
  return {
    'X-RateLimit-Limit': String(top.limit),
    'X-RateLimit-Remaining': String(top.remaining),
    'X-RateLimit-Reset': String(Math.ceil((now + top.resetMs) / 1000)),
  }
}

/**
 * `Retry-After` in delta seconds (rounded up) when a decision rejects and a retry can
 * succeed; nothing for allowed or `too-heavy` decisions (waiting would not help).
 */
export function retryAfterHeader(decision: Decision | readonly Decision[]): Headers {
  const value = retryAfterValue(decision)
  return value === undefined ? {} : { 'Retry-After': value }
}

/**
 * The value of {@link retryAfterHeader}'s `Retry-After` (the longest wait of the rejecting
 * decisions), or `undefined`: without the object, for the adapters' per-request path.
 * @internal
 */
export function retryAfterValue(decision: Decision | readonly Decision[]): string | undefined {
  let wait = -1
  if (Array.isArray(decision)) {
    for (const d of decision as readonly Decision[]) wait = longerWait(d, wait)
  } else wait = longerWait(decision as Decision, wait)
  return wait < 0 ? undefined : String(Math.max(1, toSeconds(wait)))
}

/** `d`'s retry wait when it rejects, can succeed by waiting and waits longer than `wait`; else `wait`. */
function longerWait(d: Decision, wait: number): number {
  return !d.allowed && Number.isFinite(d.retryAfterMs) && d.retryAfterMs > wait ? d.retryAfterMs : wait
}

/**
 * Every header a response should carry for one decision, or for the decisions of
 * several limiters stacked on one request: the chosen `RateLimit*` format, legacy
 * headers when asked, and `Retry-After` when rejected. A pure function.
 */
export function rateLimitHeaders(
  decision: Decision | readonly Decision[],
  options: HeaderOptions = {},
): Headers {
  const format = options.format ?? 'draft-8'
  const headers: Headers =
    format === 'draft-8'
      ? draft8Headers(decision)
      : format === 'draft-7'
        ? draft7Headers(decision)
        : format === 'draft-6'
          ? draft6Headers(decision)
          : {}
  if (options.legacy) {
    if (typeof options.now !== 'number' || !Number.isFinite(options.now)) {
      invalidOption(
        'rateLimitHeaders',
        'now',
        'epoch milliseconds (clock.now()) with legacy: true',
        options.now,
      )
    }
    Object.assign(headers, legacyHeaders(decision, options.now))
  }
  return Object.assign(headers, retryAfterHeader(decision))
}
