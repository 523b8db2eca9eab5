/**
 * The event log: the history of dispatched events, their snapshots and their checked violations.
 * The log stores events; states are derived (replay from genesis gives the same snapshots). It
 * publishes every step on `steps$` and every violation on `violations$` (RxJS).
 *
 * `undo()` moves the head back one event (the undone events form the redo stack); `redo()`
 * re-applies the next one; dispatching after an undo drops the redo stack.
 */
import equal from 'fast-deep-equal/es6/index.js'
import { Subject } from 'rxjs'
import { applyCall, eventSpec, withVariants, type AnyEventSpec, type InternalStep, type ModelEvent } from '../../reducers/index.js'
import { Checker } from '../check/checker.js'
import { defaultRegistry } from '../check/rules/index.js'
import type { RuleRegistry } from '../check/registry.js'
import type { CheckMode, Violation } from '../check/rule.js'
import { genesis, type ModelConfigInput } from '../model/genesis.js'
import type { Snapshot } from '../model/snapshot.js'
import { formatTrace, parseTrace, traceHeader, validateEvent, type Trace } from './trace.js'

/** One dispatched event with its result, its snapshots, its internal steps and its violations. */
export interface Step extends InternalStep {
  /** Position in the history (0-based). */
  readonly index: number
  readonly violations: readonly Violation[]
}

export interface HistoryOptions extends ModelConfigInput {
  check?: CheckMode
  /** Replacement event specs (same `type`) used instead of the model's own: reducer variants. */
  variants?: readonly AnyEventSpec[]
  registry?: RuleRegistry
  /** Validate events with their schema on dispatch (default true). */
  validate?: boolean
  /**
   * Start from this snapshot instead of genesis (tests and debugging: e.g. a corrupted state).
   * Such a history's trace does not record the start state.
   */
  initial?: Snapshot
}

/** An event that does not match its schema (or has an unknown type); nothing was applied. */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError'
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`invalid event${field ? `: field ${field}` : ''}: ${reason}`)
  }
}

export class History {
  readonly steps$ = new Subject<Step>()
  readonly violations$ = new Subject<Violation>()
  readonly genesis: Snapshot
  readonly checkMode: CheckMode
  readonly config: ModelConfigInput
  private readonly checker: Checker
  private readonly variants: ReadonlyMap<string, AnyEventSpec> | null
  private readonly validate: boolean
  /** Applied steps are `entries[0 .. head)`; `entries[head ..]` is the redo stack. */
  private entries: Step[] = []
  private head = 0

  constructor(options: HistoryOptions = {}) {
    this.config = { physicalMemory: options.physicalMemory, mmioRanges: options.mmioRanges }
    this.genesis = options.initial ?? genesis(this.config)
    this.checkMode = options.check ?? 'incremental'
    this.checker = new Checker(options.registry ?? defaultRegistry(), this.checkMode)
    this.variants = options.variants && options.variants.length > 0 ? new Map(options.variants.map((v) => [v.type, v])) : null
    this.validate = options.validate ?? true
  }

  /** The current snapshot (after the last applied event). */
  get state(): Snapshot {
    return this.head === 0 ? this.genesis : this.entries[this.head - 1]!.after
  }

  /** Number of applied events. */
  get length(): number {
    return this.head
  }

  get canUndo(): boolean {
    return this.head > 0
  }

  get canRedo(): boolean {
    return this.head < this.entries.length
  }

  /** The applied step at `i` (0-based). */
  at(i: number): Step {
    if (!Number.isInteger(i) || i < 0 || i >= this.head) throw new RangeError(`no step ${i} (history has ${this.head})`)
    return this.entries[i]!
  }

  /** The snapshot after `i` applied events (`snapshotAt(0)` is genesis). */
  snapshotAt(i: number): Snapshot {
    if (!Number.isInteger(i) || i < 0 || i > this.head) throw new RangeError(`no snapshot ${i} (history has ${this.head} steps)`)
    return i === 0 ? this.genesis : this.entries[i - 1]!.after
  }

  /** The applied events, in order. */
  events(): ModelEvent[] {
    return this.entries.slice(0, this.head).map((s) => s.event)
  }

  /** Every violation of the applied steps. */
  violations(): Violation[] {
    return this.entries.slice(0, this.head).flatMap((s) => s.violations)
  }

  /**
   * Applies one event. A failed precondition (or OSTD panic) throws `OstdPanic` and leaves the
   * history and the state exactly as they were.
   */
  dispatch(event: ModelEvent): Step {
    let checked = event
    if (this.validate || eventSpec(event?.type) === undefined) {
      const v = validateEvent(event)
      if (!v.ok) throw new InvalidEventError(v.field, v.reason)
      checked = v.event
    }
    const step = this.apply(checked, this.head)
    this.entries.length = this.head
    this.entries.push(step)
    this.head++
    this.publish(step)
    return step
  }

  /** Moves the head back one event; returns the undone step (null at genesis). */
  undo(): Step | null {
    if (this.head === 0) return null
    this.head--
    this.checker.reset()
    return this.entries[this.head]!
  }

  /** Re-applies the next undone event; returns its (re-computed) step (null if none). */
  redo(): Step | null {
    if (this.head >= this.entries.length) return null
    const step = this.apply(this.entries[this.head]!.event, this.head)
    this.entries[this.head] = step
    this.head++
    this.publish(step)
    return step
  }

  /** Moves the head to `i` applied events (within the applied and redo steps). */
  seek(i: number): Snapshot {
    if (!Number.isInteger(i) || i < 0 || i > this.entries.length) throw new RangeError(`cannot seek to ${i} (0..${this.entries.length})`)
    while (this.head > i) this.undo()
    while (this.head < i) this.redo()
    return this.state
  }

  /** The applied events as an NDJSON trace. */
  toNDJSON(): string {
    return formatTrace(traceHeader(this.config), this.events())
  }

  /**
   * Replays the applied events from genesis and compares every snapshot with the recorded one.
   * Returns the first index whose snapshot differs, or null when all are identical.
   */
  verify(): number | null {
    let s = this.genesis
    for (let i = 0; i < this.head; i++) {
      const recorded = this.entries[i]!
      const outcome = withVariants(this.variants, () => applyCall(eventSpec(recorded.event.type)!, s, recorded.event))
      if (!equal(outcome.snapshot, recorded.after)) return i
      s = outcome.snapshot
    }
    return null
  }

  /** A history built by replaying a validated trace (nothing is applied if any line is bad). */
  static fromNDJSON(text: string, options: Omit<HistoryOptions, keyof ModelConfigInput> = {}): History {
    const trace: Trace = parseTrace(text)
    const history = new History({ ...options, ...trace.header.config })
    for (const e of trace.events) history.dispatch(e)
    return history
  }

  private apply(event: ModelEvent, index: number): Step {
    const before = this.state
    const spec = eventSpec(event.type)!
    const outcome = withVariants(this.variants, () => applyCall(spec, before, event))
    const internal: InternalStep = { event, before, after: outcome.snapshot, result: outcome.result, steps: outcome.steps ?? [] }
    const violations = this.checker.check(internal, index)
    return { ...internal, index, violations }
  }

  private publish(step: Step): void {
    this.steps$.next(step)
    for (const v of step.violations) this.violations$.next(v)
  }
}
