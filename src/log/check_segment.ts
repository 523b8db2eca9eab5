/**
 * Checking one segment of a history: replay events `[0, from)` unchecked, then `[from, to)` with
 * a checker. The verdicts equal a sequential run's on the same steps: a step reports what is new
 * against its own pre-state, and the checker's first step derives the pre-state's violations in
 * full (full == incremental). Used by the worker threads of `checkInWorkers` (parallel.ts).
 */
import { isOstdPanic } from '../arch/errors.js'
import { applyCall, eventSpec, withVariants, type AnyEventSpec, type ModelEvent } from '../../reducers/index.js'
import { Checker } from '../check/checker.js'
import { defaultRegistry } from '../check/rules/index.js'
import type { CheckMode, Violation } from '../check/rule.js'
import { genesis, type ModelConfigInput } from '../model/genesis.js'
import { setSnapshotFreezing } from '../model/immer.js'

export interface SegmentTask {
  readonly events: readonly ModelEvent[]
  readonly from: number
  readonly to: number
  readonly check: Exclude<CheckMode, 'off'>
  readonly config: ModelConfigInput
  /** Reducer variants, by event type (the worker imports them from a module: `variantsModule`). */
  readonly variants?: ReadonlyMap<string, AnyEventSpec> | null
}

export interface SegmentResult {
  readonly from: number
  readonly to: number
  readonly violations: readonly Violation[]
  /** An event the model rejected (a failed precondition or panic): its index and rule. */
  readonly rejected: { readonly index: number; readonly rule: string; readonly message: string } | null
  /** Time replaying the prefix unchecked, and checking the segment (ms). */
  readonly prefixMs: number
  readonly checkMs: number
}

export function checkSegment(task: SegmentTask): SegmentResult {
  setSnapshotFreezing(false)
  let s = genesis(task.config)
  const checker = new Checker(defaultRegistry(), task.check)
  const violations: Violation[] = []
  const t0 = performance.now()
  let checkFrom: number | null = null // when the checked part began
  const result = (rejected: SegmentResult['rejected']): SegmentResult => {
    const end = performance.now()
    const t1 = checkFrom ?? end
    return { from: task.from, to: task.to, violations, rejected, prefixMs: t1 - t0, checkMs: end - t1 }
  }
  for (let i = 0; i < task.to; i++) {
    if (i === task.from) checkFrom = performance.now()
    const e = task.events[i]!
    const spec = eventSpec(e.type)
    if (spec === undefined) throw new Error(`unknown event type ${e.type}`)
    try {
      const out = withVariants(task.variants ?? null, () => applyCall(spec, s, e))
      if (i >= task.from) violations.push(...checker.check({ event: e, before: s, after: out.snapshot, result: out.result, steps: out.steps ?? [] }, i))
      s = out.snapshot
    } catch (err) {
      if (!isOstdPanic(err)) throw err
      return result({ index: i, rule: err.rule, message: err.detail })
    }
  }
  return result(null)
}
