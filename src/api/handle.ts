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

  /**
   * For a facade call that takes another handle by value (`Segment::from(frame)`,
   * `list.push_back(unique)`): checks that `other` is live, runs `fn` with its model, then marks
   * `other` consumed. A panic in `fn` leaves `other` live, as the state is unchanged.
   */
  static take<T>(other: Handle, fn: (model: Model) => T): T {
    return other.consume(() => fn(other.model))
  }

  /** The model of a live handle (for by-value calls that may give the handle back, like `try_from`). */
  static modelOf(other: Handle): Model {
    other.live()
    return other.model
  }

  /** Marks a handle consumed after a by-value call that moved it. */
  static markMoved(other: Handle): void {
    other.consume(() => undefined)
  }

  toString(): string {
    return `${this.kind}(${this.id})`
  }
}
