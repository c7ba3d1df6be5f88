/**
 * Stable error codes. Match on `error.code`, never on the message: messages
 * may be reworded, codes never change meaning.
 */
export type TollgateErrorCode =
  | 'ERR_TOLLGATE_INVALID_OPTION'
  | 'ERR_TOLLGATE_UNKNOWN_OPTION'
  | 'ERR_TOLLGATE_INVALID_KEY'
  | 'ERR_TOLLGATE_INVALID_WEIGHT'
  | 'ERR_TOLLGATE_UNSUPPORTED'
  | 'ERR_TOLLGATE_POLICY_CONFLICT'
  | 'ERR_TOLLGATE_LIMITED'
  | 'ERR_TOLLGATE_ABORTED'
  | 'ERR_TOLLGATE_CLOSED'
  | 'ERR_TOLLGATE_STORE'

/** A `TypeError` (wrong kind of value) with a stable `code`. */
export class TollgateTypeError extends TypeError {
  readonly code: TollgateErrorCode
  constructor(code: TollgateErrorCode, message: string) {
    super(message)
    this.name = 'TollgateTypeError'
    this.code = code
  }
}

/** A `RangeError` (right kind, value out of range) with a stable `code`. */
export class TollgateRangeError extends RangeError {
  readonly code: TollgateErrorCode
  constructor(code: TollgateErrorCode, message: string) {
    super(message)
    this.name = 'TollgateRangeError'
    this.code = code
  }
}

/** An operational failure (closed limiter, store failure, aborted wait) with a stable `code`. */
export class TollgateError extends Error {
  readonly code: TollgateErrorCode
  constructor(code: TollgateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'TollgateError'
    this.code = code
  }
}

/** Renders a user-supplied value for an error message without throwing on exotic inputs. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'undefined')
    return String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (value === null) return 'null'
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'symbol') return value.toString()
  if (Array.isArray(value)) return 'an array'
  try {
    const json = JSON.stringify(value)
    return json.length > 60 ? `${json.slice(0, 57)}...` : json
  } catch {
    return 'an object'
  }
}

/**
 * Throws the standard "invalid option" error: `<where>: "<option>" must be <allowed>, got <value>`.
 * As Node's own argument errors: a `RangeError` for a number out of range, a `TypeError` for
 * anything else (a wrong type, or a value of the right type that is not allowed).
 */
export function invalidOption(
  where: string,
  option: string,
  allowed: string,
  value: unknown,
  /** `'type'` where the option takes no number at all, so a number given is of the wrong type. */
  kind?: 'type',
): never {
  const message = `${where}: "${option}" must be ${allowed}, got ${describe(value)}`
  throw kind === 'type' || typeof value !== 'number'
    ? new TollgateTypeError('ERR_TOLLGATE_INVALID_OPTION', message)
    : new TollgateRangeError('ERR_TOLLGATE_INVALID_OPTION', message)
}

/** Rejects option names the caller does not know, so a typo (`windowMs`, `max`) never silently means "default". */
export function rejectUnknownOptions(where: string, options: object, known: ReadonlySet<string>): void {
  for (const name of Object.keys(options)) {
    if (!known.has(name)) {
      const list = [...known].sort().join(', ')
      throw new TollgateTypeError(
        'ERR_TOLLGATE_UNKNOWN_OPTION',
        `${where}: unknown option "${name}"; known options are ${list}`,
      )
    }
  }
}
