import { invalidOption } from './errors.js'

/** A duration: milliseconds as a number, or a string such as `'1m'`, `'10 s'`, `'1.5h'`, `'1d'`. */
export type Duration = number | string

const UNITS: Record<string, number> = {
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
}

const PATTERN = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]+)?\s*$/i

/**
 * Parses a duration into whole milliseconds.
 *
 * Numbers are milliseconds. Strings are a number followed by an optional unit
 * (`ms`, `s`, `m`, `h`, `d`, `w` and their long forms); a bare number string is
 * milliseconds. The result must be a positive whole number of milliseconds (or 0, with `allowZero`).
 *
 * @throws TollgateRangeError (a number) or TollgateTypeError (anything else), code
 *   `ERR_TOLLGATE_INVALID_OPTION`, naming `option` when the value is not a duration allowed here.
 */
export function parseDuration(
  value: unknown,
  option = 'window',
  where = 'tollgate',
  allowZero = false,
): number {
  const allowed = `${allowZero ? 'a duration of 0 or more' : 'a positive duration'} (milliseconds, or a string such as "1m" or "10 s")`
  let ms: number
  if (typeof value === 'number') {
    ms = value
  } else if (typeof value === 'string') {
    const match = PATTERN.exec(value)
    const unit = match?.[2] ? UNITS[match[2].toLowerCase()] : 1
    if (!match || unit === undefined) invalidOption(where, option, allowed, value)
    ms = Number(match[1]) * unit
  } else {
    return invalidOption(where, option, allowed, value)
  }
  if (!Number.isFinite(ms) || ms < 0 || (ms === 0 && !allowZero)) invalidOption(where, option, allowed, value)
  if (!Number.isSafeInteger(ms)) {
    invalidOption(where, option, `a whole number of milliseconds (${allowed})`, value)
  }
  return ms
}
