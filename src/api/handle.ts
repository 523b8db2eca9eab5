/**
 * Handle objects: thin wrappers holding an id into the model (API.md "Handles"). Ownership moves
 * like Rust's: a call that takes the handle by value marks it consumed, and any later use throws
 * `OstdPanic`.
 */
import { OstdPanic } from '../arch/errors.js'
import type { Model } from './model.js'

export abstract class Handle {
  #consumed = false

  constructor(
    protected readonly model: Model,
    /** The id of the object in the model; two handles to the same object have equal ids. */
    readonly id: number,
  ) {}

  /** Rust type name, for messages. */
  protected abstract get kind(): string

  /** Whether a call took this handle by value (moved or dropped). */
  get consumed(): boolean {
    return this.#consumed
  }

  /** Throws if the handle was moved or dropped (use after move). */
  protected live(): void {
    if (this.#consumed) throw new OstdPanic('REQ-HANDLE-1', `${this.kind} ${this.id} was moved or dropped and cannot be used`, 'requires')
  }

  /** Runs a by-value call: checks liveness, runs `fn`, then marks this handle consumed. */
  protected consume<T>(fn: () => T): T {
    this.live()
    const out = fn()
    this.#consumed = true
    return out
  }

  toString(): string {
    return `${this.kind}(${this.id})`
  }
}
