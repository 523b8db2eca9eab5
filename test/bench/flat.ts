/**
 * Issue #7's flatness goal: the incremental check time per event as the mapped set grows. For each
 * size N, N 4 KiB pages are mapped unchecked from 1 GiB on (`fillEvents`), then a checker takes over:
 * its first step derives the state's violations in full (the priming, reported apart), and the
 * next `ops` operations of the random workload (map / unmap / protect / query, two API events each)
 * are checked incrementally in `[0, 1 GiB)`, timing `Checker.check` per event. The operations meet
 * the same empty first GiB and the same cursor at every size (the window is 1 GiB plus the whole
 * GiB the largest size needs, `flatWindow`), so only the size of the rest of the state differs.
 */
import { applyCall, eventSpec, type InternalStep, type ModelEvent } from '../../reducers/index.js'
import { Checker } from '../../src/check/checker.js'
import { defaultRegistry } from '../../src/check/rules/index.js'
import { setSnapshotFreezing } from '../../src/model/immer.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { pageSize } from '../../src/arch/constants.js'
import { fillEvents, setUp, workloadEvents } from './workloads.js'

export interface FlatRow {
  readonly pages: number
  readonly fillMs: number
  readonly primeMs: number
  readonly events: number
  readonly checkUs: { readonly p50: number; readonly p99: number; readonly mean: number }
  readonly violations: number
}

/** One API event applied, as a checker step. */
export function apply(s: Snapshot, e: ModelEvent): InternalStep {
  const out = applyCall(eventSpec(e.type)!, s, e)
  return { event: e, before: s, after: out.snapshot, result: out.result, steps: out.steps ?? [] }
}

/** The cursor window (bytes): the operations' first GiB, then the whole GiB `pages` 4 KiB pages fill. */
export function flatWindow(pages: number): number {
  return (1 + Math.max(1, Math.ceil((pages * pageSize(1)) / pageSize(3)))) * pageSize(3)
}

export function runFlat(pages: number, ops: number, seed: number, windowBytes = flatWindow(pages)): FlatRow {
  setSnapshotFreezing(false)
  const { s: s0, cursor } = setUp(windowBytes)
  let s = s0
  const t0 = performance.now()
  for (const e of fillEvents(pages, cursor, pageSize(3))) s = apply(s, e).after
  const fillMs = performance.now() - t0
  const events = workloadEvents('random', ops, seed, cursor)
  return { pages, fillMs, ...checkFlat(s, events) }
}

/** Checks `events` from `s` incrementally: the first event primes the checker (a full derivation of the state's violations, timed apart), the rest are timed one by one. */
export function checkFlat(start: Snapshot, events: readonly ModelEvent[]): Omit<FlatRow, 'pages' | 'fillMs'> {
  let s = start
  const checker = new Checker(defaultRegistry(), 'incremental')
  let violations = 0
  const p0 = performance.now()
  const first = apply(s, events[0]!)
  violations += checker.check(first, 0).length
  const primeMs = performance.now() - p0
  s = first.after
  const us: number[] = []
  for (let i = 1; i < events.length; i++) {
    const step = apply(s, events[i]!)
    const c0 = performance.now()
    violations += checker.check(step, i).length
    us.push((performance.now() - c0) * 1000)
    s = step.after
  }
  us.sort((a, b) => a - b)
  const at = (q: number): number => us[Math.min(us.length - 1, Math.floor(q * us.length))]!
  return { primeMs, events: us.length, checkUs: { p50: at(0.5), p99: at(0.99), mean: us.reduce((a, b) => a + b, 0) / us.length }, violations }
}
