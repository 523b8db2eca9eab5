/**
 * The reducer contract (DESIGN.md "Contracts"): a reducer is a pure, deterministic function
 * `(snapshot, event) -> { snapshot, result, steps? }`. Preconditions are declared beside it as
 * `Requirement`s; the dispatcher evaluates them on the pre-state and throws `OstdPanic` naming the
 * failed `REQ-` rule before anything changes. Where OSTD returns `Err`, the result is an error
 * value, not a throw. Composite operations call other event specs through `applyEvent` and return
 * those internal steps.
 */
import type { z } from 'zod'
import { OstdPanic, type PanicKind } from '../src/arch/errors.js'
import type { Snapshot } from '../src/model/snapshot.js'

/** An event: `{ type, ...args }`, JSON-safe, named after the OSTD call. */
export interface ModelEvent {
  readonly type: string
  readonly [arg: string]: unknown
}

/** A `Result<T, E>` as OSTD returns it. */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E }

export function ok<T>(value: T): Result<T, never> {
  return { ok: true, value }
}

export function err<E>(error: E): Result<never, E> {
  return { ok: false, error }
}

/** One step of an event's reduction, with the snapshots around it (internal steps included). */
export interface InternalStep {
  readonly event: ModelEvent
  readonly before: Snapshot
  readonly after: Snapshot
  readonly result: unknown
  readonly steps: readonly InternalStep[]
}

export interface Outcome<R = unknown> {
  readonly snapshot: Snapshot
  readonly result: R
  /** Internal steps, in order; the first's `before` is the pre-state, the last's `after` need not be the post-state. */
  readonly steps?: readonly InternalStep[]
}

/** A precondition: returns `null` when it holds, otherwise a message stating the bad value. */
export interface Requirement<E extends ModelEvent = ModelEvent> {
  readonly rule: string
  /** For a rule the model adds (not in the spec digest): what it requires, starting "[model]". */
  readonly summary?: string
  /** `panic`: OSTD panics here; `requires`: a Verus `requires` (undefined behaviour in Rust). */
  readonly kind: PanicKind
  readonly check: (s: Snapshot, e: E) => string | null
}

export interface EventSpec<E extends ModelEvent = ModelEvent, R = unknown> {
  readonly type: E['type']
  /** What the event does, in one or two sentences, citing OSTD. */
  readonly doc: string
  readonly schema: z.ZodType<E>
  /** Evaluated in order on the pre-state; the first that fails is thrown. */
  readonly requires: ReadonlyArray<Requirement<E>>
  readonly reduce: (s: Snapshot, e: E) => Outcome<R>
}

/** Declares an event spec (identity function that fixes the types). */
export function defineEvent<E extends ModelEvent, R>(spec: EventSpec<E, R>): EventSpec<E, R> {
  return spec
}

// ---- reducer variants ----------------------------------------------------------------------

/**
 * A variant of an event spec: the same event type, schema and (unless replaced) preconditions,
 * with another reducer. Pass variants to `createModel({ variants })` to run the model with them.
 */
export function variantOf<E extends ModelEvent, R>(
  spec: EventSpec<E, R>,
  reduce: (s: Snapshot, e: E) => Outcome<R>,
  opts: { requires?: EventSpec<E, R>['requires'] } = {},
): EventSpec<ModelEvent, unknown> {
  return { ...spec, reduce, requires: opts.requires ?? spec.requires } as unknown as EventSpec<ModelEvent, unknown>
}

let activeVariants: ReadonlyMap<string, EventSpec<ModelEvent, unknown>> | null = null

/**
 * Runs `fn` with some event specs replaced by variants (by type), so that composite reducers
 * calling them through `applyEvent` / `StepRecorder.run` use the variants too. Used by the event
 * log to let a user swap one reducer and see which clause the variant breaks.
 */
export function withVariants<T>(variants: ReadonlyMap<string, EventSpec<ModelEvent, unknown>> | null, fn: () => T): T {
  const saved = activeVariants
  activeVariants = variants
  try {
    return fn()
  } finally {
    activeVariants = saved
  }
}

/** The spec in force for `spec.type`: the active variant, if any, else `spec`. */
export function resolveSpec<E extends ModelEvent, R>(spec: EventSpec<E, R>): EventSpec<E, R> {
  const variant = activeVariants?.get(spec.type)
  return (variant as EventSpec<E, R> | undefined) ?? spec
}

/** Evaluates the preconditions of `spec` on `s`; throws the first that fails. */
export function checkRequires<E extends ModelEvent>(spec: EventSpec<E, unknown>, s: Snapshot, e: E): void {
  for (const req of spec.requires) {
    const failure = req.check(s, e)
    if (failure !== null) throw new OstdPanic(req.rule, failure, req.kind)
  }
}

/** Checks the preconditions, then reduces: how one event (top-level or internal) is applied. */
export function applyEvent<E extends ModelEvent, R>(spec: EventSpec<E, R>, s: Snapshot, e: NoInfer<E>): Outcome<R> {
  const active = resolveSpec(spec)
  checkRequires(active as EventSpec<E, unknown>, s, e)
  return active.reduce(s, e)
}

/**
 * Collects the internal steps of a composite reduction: `run(spec, event)` applies one event to
 * the running snapshot and records it.
 */
export class StepRecorder {
  private current: Snapshot
  readonly steps: InternalStep[] = []

  constructor(start: Snapshot) {
    this.current = start
  }

  get snapshot(): Snapshot {
    return this.current
  }

  run<E extends ModelEvent, R>(spec: EventSpec<E, R>, event: NoInfer<E>): R {
    // The history names an internal step by its event's type, and the checker picks the step's
    // rules by it: a step recorded under another type than the reducer that ran would escape them.
    if (event.type !== spec.type) throw new Error(`internal step: event type ${JSON.stringify(event.type)} recorded for the reducer of ${spec.type}`)
    const before = this.current
    const outcome = applyEvent(spec, before, event)
    this.steps.push({ event, before, after: outcome.snapshot, result: outcome.result, steps: outcome.steps ?? [] })
    this.current = outcome.snapshot
    return outcome.result
  }

  /** Replaces the running snapshot by a step that is not itself an event (bookkeeping). */
  set(next: Snapshot): void {
    this.current = next
  }
}
