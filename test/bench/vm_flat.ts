/**
 * Issue #7's flatness goal for a VmSpace: the incremental check time per event of workload (3)
 * (test/bench/vm_workload.ts) as the space's mapped set grows. For each size N, after the
 * workload's set-up (its CursorMut's range widened to reach past its 64 MiB window), N tracked
 * 4 KiB frames are allocated and mapped unchecked just above the window; the cursor jumps back, and
 * the workload's operations are checked incrementally in the window (`checkFlat`: the first event
 * primes the checker). Unlike the page-table `flat`, the space's ghost views (`mv_range`,
 * `mem_view`) hold the N pages too, so every VmSpace step edits and compares state of that size.
 */
import type { ModelEvent } from '../../reducers/index.js'
import { pageSize } from '../../src/arch/constants.js'
import { newUser, PageFlags } from '../../src/arch/page_prop.js'
import { setSnapshotFreezing } from '../../src/model/immer.js'
import { UNIT_META } from '../../src/model/snapshot.js'
import { apply, checkFlat, type FlatRow } from './flat.js'
import { VM_WINDOW, vmStart, vmWorkloadEvents } from './vm_workload.js'

const K4 = pageSize(1)
const CURSOR = 0

/** The workload's events with N pages mapped above its window first: [set-up and fill (unchecked), the operations (checked)]. */
export function vmFlatEvents(pages: number, ops: number, seed: number): [ModelEvent[], ModelEvent[]] {
  const workload = vmWorkloadEvents(ops, seed)
  // the three set-up events: vm_space.new, activate, cursor_mut (its range widened)
  const setUp = workload.slice(0, 3).map((e) => (e.type === 'vm_space.cursor_mut' ? ({ ...e, vaEnd: VM_WINDOW.end + pages * K4 } as ModelEvent) : e))
  const fill: ModelEvent[] = [{ type: 'cursor.jump', cursor: CURSOR, va: VM_WINDOW.end } as ModelEvent]
  for (let p = 0; p < pages; p++) {
    fill.push({ type: 'frame_alloc.alloc_frame', zeroed: true, meta: UNIT_META } as ModelEvent)
    fill.push({ type: 'vm_cursor_mut.map', cursor: CURSOR, frame: p, prop: newUser(PageFlags.RW) } as ModelEvent)
  }
  // the operations start with the cursor at the window's start; the fill's frames come first in the handle ids
  const back = { type: 'cursor.jump', cursor: CURSOR, va: VM_WINDOW.start } as ModelEvent
  const operations = workload.slice(3).map((e) => ('frame' in e && typeof e.frame === 'number' ? ({ ...e, frame: e.frame + pages } as ModelEvent) : e))
  return [[...setUp, ...fill, back], operations]
}

/** Workload (3) checked incrementally with `pages` more pages mapped in its VmSpace. */
export function runVmFlat(pages: number, ops: number, seed: number): FlatRow {
  setSnapshotFreezing(false)
  const [fill, operations] = vmFlatEvents(pages, ops, seed)
  let s = vmStart(pages)
  const t0 = performance.now()
  for (const e of fill) s = apply(s, e).after
  const fillMs = performance.now() - t0
  return { pages, fillMs, ...checkFlat(s, operations) }
}
