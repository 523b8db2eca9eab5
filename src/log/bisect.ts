/**
 * Bisecting a history: the first step where a predicate over the snapshot holds (the first
 * violation, the first snapshot where a VA maps a given PA, the first time a slot's ref count
 * reaches a value).
 *
 * Strategy. A predicate over snapshots is in general not monotone (a mapping appears, goes, comes
 * back), so a binary search over checkpoints would not be valid: `bisect` scans forward from
 * genesis (or `from`), replaying from the nearest checkpoint, and skips work where it can:
 *   - a predicate may name the part of the snapshot it reads (`select`); when that part is the
 *     identical object as at the previous evaluation (structural sharing), the verdict is reused
 *     without evaluating it (e.g. the frame memory is untouched by most frame-layer events);
 *   - internal steps are visited only with `internal: true`;
 *   - `monotone: true` (the caller promises: once true, true at every later step) binary-searches
 *     the checkpoints first and scans only between the last false and the first true one.
 * `firstViolation` needs no replay at all when the history was checked (the violations were
 * recorded at dispatch); on an unchecked history it scans with a fresh incremental checker.
 */
import { Checker } from '../check/checker.js'
import { defaultRegistry } from '../check/rules/index.js'
import type { Violation } from '../check/rule.js'
import { frameToIndex } from '../arch/constants.js'
import { pageWalk } from '../model/pt_walk.js'
import { mappingAt } from '../model/pt_view.js'
import { slotOf } from '../model/slots.js'
import type { Snapshot } from '../model/snapshot.js'
import { tableGet } from '../model/table.js'
import { internalSteps, type History } from './history.js'

export interface SnapshotPredicate {
  /** What it looks for, for messages. */
  readonly describe: string
  /**
   * The part of the snapshot the predicate reads: when it is the identical object as at the last
   * evaluation, the last verdict is reused (must return a value the test's verdict depends on only).
   */
  readonly select?: (s: Snapshot) => unknown
  readonly test: (s: Snapshot) => boolean
}

export interface BisectOptions {
  /** Also look at the snapshots after internal steps (default: event boundaries only). */
  internal?: boolean
  /** First event to consider (default 0; genesis is tested only when 0). */
  from?: number
  /** The predicate is monotone: use the checkpoints to skip to the right segment. */
  monotone?: boolean
}

export interface BisectHit {
  /** The event after which (or inside which) it first holds; null = it holds at genesis. */
  readonly index: number | null
  /** The internal step (depth-first numbering, `internalSteps`) after which it holds, or null at the event's boundary. */
  readonly internal: number | null
  /** The internal step's path (`Violation.internal` numbering), when `internal` is set. */
  readonly path?: readonly number[]
  readonly snapshot: Snapshot
  /** Steps replayed and predicate evaluations done (the cost). */
  readonly stats: { readonly replayed: number; readonly evaluated: number; readonly reused: number }
}

/** The first position (event boundary, or internal step with `internal`) where `predicate` holds; null if none. */
export function bisect(history: History, predicate: SnapshotPredicate, options: BisectOptions = {}): BisectHit | null {
  const stats = { replayed: 0, evaluated: 0, reused: 0 }
  let lastPart: unknown = undefined
  let lastVerdict = false
  let primed = false
  const holds = (s: Snapshot): boolean => {
    if (predicate.select !== undefined) {
      const part = predicate.select(s)
      if (primed && part === lastPart) {
        stats.reused++
        return lastVerdict
      }
      lastPart = part
      primed = true
    }
    stats.evaluated++
    lastVerdict = predicate.test(s)
    return lastVerdict
  }
  let from = options.from ?? 0
  if (from === 0) {
    if (holds(history.genesis)) return { index: null, internal: null, snapshot: history.genesis, stats }
  }
  if (options.monotone) {
    // the last checkpoint where it does not hold yet: the answer is after it
    const cps = history.checkpoints().filter((c) => c.index >= from && c.index <= history.length)
    let lo = 0
    let hi = cps.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      stats.evaluated++
      if (predicate.test(cps[mid]!.snapshot)) hi = mid - 1
      else lo = mid
    }
    if (cps.length > 0) from = Math.max(from, cps[lo]!.index)
  }
  for (const step of history.scan(from, history.length)) {
    stats.replayed++
    if (options.internal) {
      const inner = internalSteps(step)
      for (let k = 0; k < inner.length; k++) {
        if (holds(inner[k]!.step.after)) return { index: step.index, internal: k, path: inner[k]!.path, snapshot: inner[k]!.step.after, stats }
      }
    }
    if (holds(step.after)) return { index: step.index, internal: null, snapshot: step.after, stats }
  }
  return null
}

export interface FirstViolation {
  readonly index: number
  readonly violation: Violation
  /** Whether the scan had to replay with a checker (the history was unchecked). */
  readonly rechecked: boolean
}

/**
 * The first step that reports a violation (of `rule`, when given). Uses the recorded violations
 * of a checked history (no replay); `recheck` (or an unchecked history) scans forward with a
 * fresh checker in incremental mode.
 *
 * `persistent: true` is for a long unchecked history whose fault leaves the state broken (a leak,
 * a corrupted count): it searches the checkpoints, from the last one backwards, for the last one
 * whose state holds no (matching) invariant violation — evaluating the invariants on a
 * checkpoint's snapshot, no replay — and scans with a checker only from there. It finds the first
 * violation of the run of broken checkpoints that reaches the end; a violation that leaves no
 * trace in the state (a wrong result, an invariant broken and later restored) before that point
 * is not seen — the caller asserts the fault persists, as with `git bisect`.
 */
export function firstViolation(history: History, opts: { rule?: string; recheck?: boolean; persistent?: boolean } = {}): FirstViolation | null {
  const matches = (v: Violation): boolean => opts.rule === undefined || v.rule === opts.rule || (v.also ?? []).includes(opts.rule)
  if (history.checkMode !== 'off' && !opts.recheck) {
    for (const i of history.violatingSteps()) {
      const v = history.violationsAt(i).find(matches)
      if (v !== undefined) return { index: i, violation: v, rechecked: false }
    }
    return null
  }
  const registry = history.options.registry ?? defaultRegistry()
  let from = 0
  const checker = new Checker(registry, 'incremental')
  if (opts.persistent) {
    const cps = history.checkpoints().filter((c) => c.index <= history.length)
    // Each probe is evaluated from the nearest checkpoint already evaluated (`violationsNear`), at
    // the cost of the units that differ between the two. The first probe (the last checkpoint)
    // costs a full evaluation; the search gallops back from it in doubling steps and then halves
    // the gap, so the whole search costs about that one evaluation plus the changes of the stretch
    // between the fault and the end — little for a fault near the end, as in a history that was
    // cut short by it, and about a binary search's for one far from it.
    const broken = (k: number, near: number): boolean => checker.violationsNear(cps[k]!.snapshot, cps[near]!.snapshot).some(matches)
    const last = cps.length - 1
    if (last >= 0 && !broken(last, last)) from = cps[last]!.index
    else if (last >= 0) {
      let hi = last // the lowest checkpoint found broken
      let lo = -1 // the highest checkpoint below it found clean (-1: none yet)
      for (let stride = 1; lo < 0 && hi > 0; stride *= 2) {
        const k = Math.max(0, last - stride)
        if (broken(k, hi)) hi = k
        else lo = k
      }
      while (lo >= 0 && hi - lo > 1) {
        const mid = (lo + hi) >> 1
        if (broken(mid, mid - lo <= hi - mid ? lo : hi)) hi = mid
        else lo = mid
      }
      // broken at checkpoint 0 too: the scan starts from genesis
      from = lo >= 0 ? cps[lo]!.index : 0
    }
  }
  // The scan's checker knows the state it starts from when the bisection evaluated it.
  for (const step of history.scan(from, history.length, checker)) {
    const v = step.violations.find(matches)
    if (v !== undefined) return { index: step.index, violation: v, rechecked: true }
  }
  return null
}

// ---- predicates ------------------------------------------------------------------------------

/**
 * The page table rooted at `rootPaddr` maps `va` to `pa`. `source: 'pte'` walks the PTE words
 * (`page_walk`, what the MMU sees; reads only the frame memory); `'ghost'` reads the abstract
 * view of the owner tree (`query_mapping`).
 */
export function vaMapsTo(rootPaddr: number, va: number, pa: number, source: 'pte' | 'ghost' = 'pte'): SnapshotPredicate {
  const describe = `VA ${hex(va)} maps PA ${hex(pa)} (root ${hex(rootPaddr)}, ${source})`
  if (source === 'pte') {
    return { describe, select: (s) => s.memory, test: (s) => pageWalk(s, rootPaddr, va)?.pa === pa }
  }
  const root = frameToIndex(rootPaddr)
  return {
    describe,
    select: (s) => s.pt,
    test: (s) => {
      const m = mappingAt(s, root, va)
      return m !== null && m.paRange.start + (va - m.vaRange.start) === pa
    },
  }
}

/** The ref count of the slot of `paddr` equals `value` (REF_COUNT_UNUSED / REF_COUNT_UNIQUE included). */
export function refCountReaches(paddr: number, value: number): SnapshotPredicate {
  const idx = frameToIndex(paddr)
  return { describe: `ref count of ${hex(paddr)} reaches ${value}`, select: (s) => tableGet(s.metaSlots, idx), test: (s) => slotOf(s, idx).refCount === value }
}

/** The state has an invariant violation (a full check of the snapshot; no `select`: every part counts). */
export function violatesInvariant(rule?: string): SnapshotPredicate {
  let checker: Checker | null = null
  return {
    describe: rule === undefined ? 'an invariant is violated' : `${rule} is violated`,
    test: (s) => {
      checker ??= new Checker(defaultRegistry(), 'full')
      return checker.violationsIn(s).some((v) => rule === undefined || v.rule === rule)
    },
  }
}

/**
 * A predicate written as text (the CLI's `bisect --where`):
 *   `refcount:<paddr>=<n>`          the slot of `paddr` has ref count `n` (`-1` unused, `-2` unique)
 *   `maps:<root>:<va>=<pa>[:ghost]` the page table at `root` maps `va` to `pa` (PTE walk, or the view)
 *   `invariant[:<RULE>]`            some invariant (or RULE) is violated in the state
 * Numbers are decimal or `0x` hex. Throws `SyntaxError` naming what is wrong.
 */
export function parsePredicate(text: string): SnapshotPredicate {
  const num = (t: string | undefined, what: string): number => {
    const m = t === undefined ? null : /^(-?)(0x[0-9a-f_]+|\d+)$/i.exec(t.trim())
    const n = m === null ? NaN : (m[1] ? -1 : 1) * Number(m[2]!.replace(/_/g, ''))
    if (!Number.isSafeInteger(n)) throw new SyntaxError(`predicate ${JSON.stringify(text)}: ${what} must be an integer (decimal or 0x hex), got ${JSON.stringify(t ?? '')}`)
    return n
  }
  const rc = /^refcount:([^=]+)=(.+)$/.exec(text)
  if (rc) return refCountReaches(num(rc[1], 'the paddr'), num(rc[2], 'the ref count'))
  const maps = /^maps:([^:]+):([^=]+)=([^:]+)(:ghost)?$/.exec(text)
  if (maps) return vaMapsTo(num(maps[1], 'the root paddr'), num(maps[2], 'the va'), num(maps[3], 'the pa'), maps[4] ? 'ghost' : 'pte')
  const inv = /^invariant(?::(.+))?$/.exec(text)
  if (inv) return violatesInvariant(inv[1])
  throw new SyntaxError(`predicate ${JSON.stringify(text)}: expected refcount:<paddr>=<n>, maps:<root>:<va>=<pa>[:ghost] or invariant[:<RULE>]`)
}

function hex(n: number): string {
  return `0x${n.toString(16)}`
}
