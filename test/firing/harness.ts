/**
 * The firing-test harness: every implemented rule has a case that breaks it on purpose — a
 * corrupted snapshot, a faulty reducer variant, or a bad argument — and the test asserts exactly
 * which rule IDs the checker (or the precondition) reports.
 */
import { produce, type Draft } from 'immer'
import { variantOf, type AnyEventSpec, type ModelEvent } from '../../reducers/index.js'
import type { EventSpec } from '../../reducers/types.js'
import { Checker } from '../../src/check/checker.js'
import { defaultRegistry } from '../../src/check/rules/index.js'
import type { Violation } from '../../src/check/rule.js'
import { createModel, type Model } from '../../src/api/model.js'
import { isOstdPanic } from '../../src/arch/errors.js'
import type { Snapshot } from '../../src/model/snapshot.js'

export interface FiringOutcome {
  /** Primary rule IDs reported (sorted, distinct). */
  readonly rules: string[]
  /** Umbrella IDs reported alongside (sorted, distinct). */
  readonly also: string[]
  readonly violations: readonly Violation[]
  /** For panics: whether the state and history were left exactly as they were. */
  readonly unchanged?: boolean
}

export interface FiringCase {
  /** The rule this case makes fire. */
  readonly rule: string
  readonly title: string
  /**
   * Rule IDs (primary) the case must report, exactly. Defaults to `[rule]`. Where a fault
   * necessarily breaks several clauses (e.g. an ENS clause and the accounting invariant), all are
   * listed.
   */
  readonly expect?: readonly string[]
  /** Umbrella IDs that must be reported alongside (`Violation.also`). */
  readonly expectAlso?: readonly string[]
  readonly run: () => FiringOutcome
}

export interface ModelSetup {
  physicalMemory?: number
  mmioRanges?: ReadonlyArray<readonly [number, number]>
}

const registry = defaultRegistry()

function outcome(violations: readonly Violation[], extra: Partial<FiringOutcome> = {}): FiringOutcome {
  return {
    rules: [...new Set(violations.map((v) => v.rule))].sort(),
    also: [...new Set(violations.flatMap((v) => v.also ?? []))].sort(),
    violations,
    ...extra,
  }
}

/**
 * Builds a state with `setup`, corrupts it with `edit`, and checks the corrupted snapshot as the
 * result of a step, in full and in incremental mode; the two must agree.
 */
export function corrupted(setup: (m: Model) => void, edit: (d: Draft<Snapshot>) => void, config: ModelSetup = {}): FiringOutcome {
  const m = createModel({ check: 'full', ...config })
  setup(m)
  const before = m.state
  const after = produce(before, edit)
  const step = { event: { type: 'test.corrupt' }, before, after, result: null, steps: [] }
  const full = new Checker(registry, 'full').check(step, 0)
  const incremental = new Checker(registry, 'incremental')
  incremental.check({ ...step, after: before }, 0) // prime the carried state on `before`
  const inc = incremental.check(step, 1).map((v) => ({ ...v, step: 0 }))
  if (JSON.stringify(full) !== JSON.stringify(inc)) {
    throw new Error(`full and incremental checks disagree:\nfull ${JSON.stringify(full)}\nincremental ${JSON.stringify(inc)}`)
  }
  return outcome(full)
}

/** Runs `act` on a model whose reducers are replaced by `variants`; collects every violation. */
export function withVariant(
  variants: readonly AnyEventSpec[],
  act: (m: Model) => void,
  opts: { check?: 'full' | 'incremental'; initial?: (m: Model) => Snapshot } = {},
): FiringOutcome {
  let initial: Snapshot | undefined
  if (opts.initial) initial = opts.initial(createModel({ check: 'off' }))
  const m = createModel({ check: opts.check ?? 'full', variants, ...(initial ? { initial } : {}) })
  act(m)
  return outcome(m.history.violations())
}

/** Runs `act` in both modes and requires the same violations. */
export function withVariantBothModes(
  variants: readonly AnyEventSpec[],
  act: (m: Model) => void,
  opts: { initial?: (m: Model) => Snapshot } = {},
): FiringOutcome {
  const full = withVariant(variants, act, { ...opts, check: 'full' })
  const inc = withVariant(variants, act, { ...opts, check: 'incremental' })
  if (JSON.stringify(full.violations) !== JSON.stringify(inc.violations)) {
    throw new Error(`full and incremental checks disagree:\nfull ${JSON.stringify(full.violations)}\nincremental ${JSON.stringify(inc.violations)}`)
  }
  return full
}

/**
 * Sets up a model, then dispatches `event` (built from the model) expecting a precondition
 * failure; reports the panic's rule and whether state and history are exactly unchanged.
 */
export function rejected(setup: (m: Model) => void, event: (m: Model) => ModelEvent, opts: { initial?: (m: Model) => Snapshot } = {}): FiringOutcome {
  let m = createModel({ check: 'full' })
  setup(m)
  if (opts.initial) m = createModel({ check: 'full', initial: opts.initial(m) })
  return rejectedOn(m, event(m))
}

/** Dispatches `e` on `m` expecting a precondition failure (see `rejected`). */
export function rejectedOn(m: Model, e: ModelEvent): FiringOutcome {
  const before = m.state
  const length = m.history.length
  try {
    m.dispatch(e)
  } catch (err) {
    if (!isOstdPanic(err)) throw err
    return {
      rules: [err.rule],
      also: [],
      violations: [],
      unchanged: m.state === before && m.history.length === length,
    }
  }
  throw new Error(`event ${JSON.stringify(e)} was accepted`)
}

/** A variant of `spec` with another reducer (and, optionally, no preconditions). */
export const variant = variantOf

/** A variant of `spec` that answers `Err(to)` where `spec` answers `Err(from)` (the wrong error, nothing else changed). */
export function errSwapped<E extends ModelEvent, R>(spec: EventSpec<E, R>, from: string, to: string): AnyEventSpec {
  return variantOf(spec, (s, e) => {
    const o = spec.reduce(s, e)
    const r = o.result as { ok?: boolean; error?: unknown } | null
    return r?.ok === false && r.error === from ? { ...o, result: { ok: false, error: to } as R } : o
  })
}

/** Runs `fn` expecting an `OstdPanic` (for calls that are not events, e.g. the PTE codec). */
export function panics(fn: () => unknown): FiringOutcome {
  try {
    fn()
  } catch (err) {
    if (!isOstdPanic(err)) throw err
    return { rules: [err.rule], also: [], violations: [] }
  }
  throw new Error('expected a panic')
}

/** Edits a snapshot outside a reducer (for faulty reducers built from a correct one). */
export function edit(s: Snapshot, fn: (d: Draft<Snapshot>) => void): Snapshot {
  return produce(s, fn)
}
