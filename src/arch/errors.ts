/**
 * The error a call raises where OSTD panics or where a `requires` clause is violated
 * (API.md "Panic"). The snapshot is unchanged when it is thrown.
 */

/** `panic`: OSTD itself panics. `requires`: a Verus precondition fails (undefined behaviour in Rust). */
export type PanicKind = 'panic' | 'requires'

export class OstdPanic extends Error {
  override readonly name = 'OstdPanic'
  /** The spec rule the call broke (`REQ-…`), or `MODEL-…` for model-level misuse. */
  readonly rule: string
  readonly kind: PanicKind

  constructor(rule: string, message: string, kind: PanicKind = 'panic') {
    super(`${rule}: ${message}`)
    this.rule = rule
    this.kind = kind
  }

  /** The message without the rule prefix. */
  get detail(): string {
    return this.message.slice(this.rule.length + 2)
  }
}

export function isOstdPanic(e: unknown): e is OstdPanic {
  return e instanceof OstdPanic
}
