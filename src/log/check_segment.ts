/**
 * Checking segments of a history: replay the events before a segment unchecked, then check the
 * segment's events. The verdicts equal a sequential run's on the same steps: a step reports what
 * is new against its own pre-state, and each segment's checker derives its first pre-state's
 * violations in full (full == incremental). Used by the worker threads of `checkInWorkers`
 * (parallel.ts): a `SegmentRunner` checks several segments in increasing order, replaying only
 * the events between them.
 */
import { isOstdPanic } from '../arch/errors.js'
import { applyCall, eventSpec, withVariants, type AnyEventSpec, type ModelEvent } from '../../reducers/index.js'
import { Checker } from '../check/checker.js'
import { defaultRegistry } from '../check/rules/index.js'
import type { CheckMode, Violation } from '../check/rule.js'
import { genesis, type ModelConfigInput } from '../model/genesis.js'
import { setSnapshotFreezing } from '../model/immer.js'
import type { Snapshot } from '../model/snapshot.js'

/** A history to check segments of. */
export interface SegmentSetup {
  readonly events: readonly ModelEvent[]
  readonly check: Exclude<CheckMode, 'off'>
  readonly config: ModelConfigInput
  /** Reducer variants, by event type (the worker imports them from a module: `variantsModule`). */
  readonly variants?: ReadonlyMap<string, AnyEventSpec> | null
}

export interface SegmentTask extends SegmentSetup {
  readonly from: number
  readonly to: number
}

export type Rejection = { readonly index: number; readonly rule: string; readonly message: string }

export interface SegmentResult {
  readonly from: number
  readonly to: number
  readonly violations: readonly Violation[]
  /** An event the model rejected (a failed precondition or panic): its index and rule. */
  readonly rejected: Rejection | null
  /** Time replaying the events before the segment unchecked (from where the runner stood), and checking the segment (ms). */
  readonly prefixMs: number
  readonly checkMs: number
}

/** Checks segments of one history in increasing order, keeping the state between them. */
export class SegmentRunner {
  private state: Snapshot
  /** Events applied to `state` so far. */
  private position = 0
  /** Set once the model rejects an event: no later event can be applied. */
  private rejection: Rejection | null = null
  private readonly registry = defaultRegistry()

  constructor(private readonly setup: SegmentSetup) {
    setSnapshotFreezing(false)
    this.state = genesis(setup.config)
  }

  /** Replays `[position, from)` unchecked, then checks `[from, to)`; `from` must not be behind the runner. */
  run(from: number, to: number): SegmentResult {
    if (from < this.position) throw new RangeError(`segment [${from}, ${to}) starts before event ${this.position}, where the runner stands`)
    const t0 = performance.now()
    const violations: Violation[] = []
    let checkFrom: number | null = null
    const result = (): SegmentResult => {
      const end = performance.now()
      const t1 = checkFrom ?? end
      return { from, to, violations, rejected: this.rejection, prefixMs: t1 - t0, checkMs: end - t1 }
    }
    if (this.rejection !== null) return result()
    // A fresh checker per segment: its first step derives the pre-state's violations in full.
    const checker = new Checker(this.registry, this.setup.check)
    for (let i = this.position; i < to; i++) {
      if (i === from) checkFrom = performance.now()
      const e = this.setup.events[i]!
      const spec = eventSpec(e.type)
      if (spec === undefined) throw new Error(`unknown event type ${e.type}`)
      try {
        const out = withVariants(this.setup.variants ?? null, () => applyCall(spec, this.state, e))
        if (i >= from) violations.push(...checker.check({ event: e, before: this.state, after: out.snapshot, result: out.result, steps: out.steps ?? [] }, i))
        this.state = out.snapshot
        this.position = i + 1
      } catch (err) {
        if (!isOstdPanic(err)) throw err
        this.rejection = { index: i, rule: err.rule, message: err.detail }
        return result()
      }
    }
    return result()
  }
}

/** Checks one segment from genesis. */
export function checkSegment(task: SegmentTask): SegmentResult {
  return new SegmentRunner(task).run(task.from, task.to)
}
