/**
 * The 1 GiB mapping workload (issue #4): an untracked page table, one `CursorMut` over
 * `[0, 1 GiB)`, the lower 512 MiB mapped with 4 KiB pages (131,072 `cursor_mut.map` events), the
 * upper 512 MiB with 2 MiB pages (256 events), every mapping checked by a page walk, then the whole
 * range unmapped with `take_next` (one event per fragment: 256 level-1 sub-trees and 256 huge
 * leaves), the cursor and the page table dropped.
 *
 * The events are applied with the reducers and the checker directly (no history: only the current
 * snapshot is retained), so the heap figures are the model state's own. `limit` stops the mapping
 * phase early (for incremental checking, which is measured on a prefix).
 */
import { applyCall, eventSpec, type InternalStep, type ModelEvent } from '../../reducers/index.js'
import { newUser, PageFlags } from '../../src/arch/page_prop.js'
import { pageSize } from '../../src/arch/constants.js'
import { Checker } from '../../src/check/checker.js'
import { defaultRegistry } from '../../src/check/rules/index.js'
import type { CheckMode, Violation } from '../../src/check/rule.js'
import { genesis } from '../../src/model/genesis.js'
import { setSnapshotFreezing } from '../../src/model/immer.js'
import { pageWalk } from '../../src/model/pt_walk.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { pageTableHandle } from '../../src/model/pt_tables.js'
import { cursorAt } from '../../src/model/pt_cursor.js'

const K4 = pageSize(1)
const M2 = pageSize(2)
const HALF = 512 * 2 ** 20
const PROP = newUser(PageFlags.RW)

export interface Map1gPhase {
  readonly name: string
  readonly events: number
  readonly primitive: number
  readonly ms: number
  /** Heap in use after the phase minus before the run (the state), bytes; null without --expose-gc. */
  readonly heapBytes: number | null
}

export interface Map1gResult {
  readonly mode: CheckMode
  readonly phases: readonly Map1gPhase[]
  readonly violations: number
  readonly mappedBytes: number
  /** The state after the run. */
  readonly final: Snapshot
}

function gc(): number | null {
  const g = (globalThis as { gc?: () => void }).gc
  if (g === undefined) return null
  g()
  return process.memoryUsage().heapUsed
}

function countPrimitive(steps: readonly InternalStep[]): number {
  let n = 0
  for (const s of steps) n += 1 + countPrimitive(s.steps)
  return n
}

export function runMap1g(mode: CheckMode, limit4k = Infinity): Map1gResult {
  setSnapshotFreezing(false)
  const heap0 = gc()
  const checker = new Checker(defaultRegistry(), mode)
  let s: Snapshot = genesis({ physicalMemory: 1 << 24 })
  let index = 0
  const violations: Violation[] = []
  let primitive = 0
  const apply = <R>(e: ModelEvent): R => {
    const out = applyCall(eventSpec(e.type)!, s, e)
    const step: InternalStep = { event: e, before: s, after: out.snapshot, result: out.result, steps: out.steps ?? [] }
    primitive += 1 + countPrimitive(step.steps)
    if (mode !== 'off') violations.push(...checker.check(step, index))
    index++
    s = out.snapshot
    return out.result as R
  }
  const phases: Map1gPhase[] = []
  const phase = (name: string, fn: () => void): void => {
    const e0 = index
    const p0 = primitive
    const t0 = performance.now()
    fn()
    const ms = performance.now() - t0
    const heap = gc()
    phases.push({ name, events: index - e0, primitive: primitive - p0, ms, heapBytes: heap === null || heap0 === null ? null : heap - heap0 })
  }

  let pageTable = 0
  let cursor = 0
  phase('page table + cursor over [0, 1 GiB)', () => {
    pageTable = apply<{ pageTable: number }>({ type: 'page_table.new', config: 'untracked' }).pageTable
    const r = apply<{ ok: boolean; value: { cursor: number } }>({ type: 'page_table.cursor_mut', pageTable, vaStart: 0, vaEnd: 2 * HALF })
    cursor = r.value.cursor
  })
  let mapped = 0
  const n4k = Math.min(HALF / K4, limit4k)
  phase(`map ${n4k.toLocaleString('en-US')} × 4 KiB`, () => {
    for (let i = 0; i < n4k; i++) {
      apply({ type: 'cursor_mut.map', cursor, item: { pa: (i * K4) % 2 ** 30, level: 1, prop: PROP } })
      mapped += K4
    }
  })
  if (n4k === HALF / K4) {
    phase('map 256 × 2 MiB', () => {
      for (let i = 0; i < HALF / M2; i++) {
        apply({ type: 'cursor_mut.map', cursor, item: { pa: i * M2, level: 2, prop: PROP } })
        mapped += M2
      }
    })
  }
  const root = pageTableHandle(s, pageTable)!.rootPaddr
  for (const va of [0, K4 * 7, HALF - K4, HALF, 2 * HALF - K4]) {
    if (va >= (n4k === HALF / K4 ? 2 * HALF : n4k * K4)) continue
    const w = pageWalk(s, root, va)
    const want = va < HALF ? (va % 2 ** 30) : va - HALF
    if (w === null || w.pa !== want) throw new Error(`page walk of ${va}: ${JSON.stringify(w)}, expected pa ${want}`)
  }
  let frags = 0
  phase('unmap [0, 1 GiB) with take_next', () => {
    apply({ type: 'cursor.jump', cursor, va: 0 })
    for (;;) {
      const f = apply<unknown>({ type: 'cursor_mut.take_next', cursor, len: 2 * HALF - cursorAt(s, cursor)!.va })
      if (f === null) break
      frags++
      const frag = f as { kind: string; pt?: number }
      if (frag.kind === 'StrayPageTable') apply({ type: 'page_table_node.drop', node: frag.pt! })
    }
  })
  phase('drop cursor + page table', () => {
    apply({ type: 'cursor.drop', cursor })
    apply({ type: 'page_table.drop', pageTable })
  })
  if (frags === 0 && mapped > 0) throw new Error('take_next found nothing to unmap')
  return { mode, phases, violations: violations.length, mappedBytes: mapped, final: s }
}
