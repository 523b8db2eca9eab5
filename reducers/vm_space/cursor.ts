/**
 * VmSpace cursors (ostd::mm::vm_space `Cursor` / `CursorMut`; seed 004 vm_space.rs 704–742;
 * operations.md §8.2–8.3, §9–§10; behaviour.md §2.6): creation and drop.
 *
 * Events:
 *   vm_space.cursor      {vmSpace, vaStart, vaEnd}  `VmSpace::cursor(guard, &va)`: `Ok({ cursor })` or `Err('AccessDenied')`
 *   vm_space.cursor_mut  {vmSpace, vaStart, vaEnd}  `VmSpace::cursor_mut(guard, &va)`, with a `TlbFlusher`
 *   vm_cursor.drop       {cursor}                   drop: a `CursorMut` first dispatches what its flusher
 *                                                   still holds, then the page-table cursor is dropped
 *
 * A VmSpace cursor is `Cursor(pt_cursor.0)`: its id is the page-table cursor's, and the read-only
 * methods are the page-table cursor's own events on that id (`cursor.query`, `cursor.next`,
 * `cursor.find_next`, `cursor.jump`, `cursor.virt_addr`). The mutating ones are VmSpace events
 * (map.ts, unmap.ts, protect.ts, flusher.ts): they keep the ghost views and the flusher.
 *
 * Creation runs `page_table.cursor` / `page_table.cursor_mut` as an internal step on the space's
 * page table; every `PageTableError` becomes `AccessDenied` (behaviour.md §2.4, §2.6) and nothing
 * changes then.
 *
 * Modelling decision: OSTD's `TlbFlusher` has no `Drop` that flushes; a `CursorMut` dropped with
 * issued, undispatched flushes would release the deferred frames without flushing. The model
 * dispatches them at the drop (what every OSTD caller does before dropping), so a released frame
 * is never reachable through a stale TLB entry.
 */
import { z } from 'zod'
import { frameToIndex, NR_LEVELS } from '../../src/arch/constants.js'
import { ptConfig } from '../../src/arch/pt_config.js'
import type { CursorKind } from '../../src/model/pt_cursor.js'
import { nodeOwnerAt, nodeOwnerInv } from '../../src/model/spec/page_table.js'
import { tableGet } from '../../src/model/table.js'
import { liveVmSpace } from '../../src/model/vm_space.js'
import { firstFailure } from '../page_table/child.js'
import { HandleId } from '../schema.js'
import { defineEvent, err, ok, StepRecorder, type EventSpec, type ModelEvent, type Requirement, type Result } from '../types.js'
import { cursorDrop, pageTableCursor, pageTableCursorMut, validatedRange, type CursorNewResult } from '../page_table/cursor.js'
import { VaddrSchema } from '../page_table/page_table.js'
import { dispatchFlush } from './flusher.js'
import { embCursor, embVmSpace } from '../embedding/requires.js'
import { liveSpace, liveVmCursor, putVmCursor, spaceOf, withVm } from './state.js'

const NewFields = { vmSpace: HandleId, vaStart: VaddrSchema, vaEnd: VaddrSchema }
export const VmCursorNewEvent = z.object({ type: z.literal('vm_space.cursor'), ...NewFields })
export type VmCursorNewEvent = z.infer<typeof VmCursorNewEvent>
export const VmCursorMutNewEvent = z.object({ type: z.literal('vm_space.cursor_mut'), ...NewFields })
export type VmCursorMutNewEvent = z.infer<typeof VmCursorMutNewEvent>
type NewEvent = VmCursorNewEvent | VmCursorMutNewEvent

export type VmError = 'AccessDenied' | 'InvalidArgs' | 'PageFault'

/**
 * REQ-VMSPACE-CURSORMUT-1 (= REQ-VMSPACE-CURSOR-1): the page table's owner tree is `inv()` (its root a
 * tree-owned level-4 root whose record is well formed) and `va.end <= LOCKED_END_BOUND` for a range
 * that validates. (`cursor` gets REQ-VMSPACE-CURSOR-1 from its internal `page_table.cursor` step.)
 */
function ptOwnInv<E extends NewEvent>(): Requirement<E> {
  return {
    rule: 'REQ-VMSPACE-CURSORMUT-1',
    kind: 'requires',
    check: (s, e) => {
      const r = liveVmSpace(s, e.vmSpace)
      const h = r === null ? null : tableGet(s.pt.tables, r.pageTable)
      if (h === null) return r === null ? null : `VmSpace ${e.vmSpace}'s page table ${r.pageTable} is not live`
      const slot = frameToIndex(h.rootPaddr)
      const o = nodeOwnerAt(s, slot)
      if (o === null || o.path !== '' || o.inScope || o.level !== NR_LEVELS) return `the root of VmSpace ${e.vmSpace}'s page table is not a tree-owned level-4 root (pt_own.inv())`
      const bad = firstFailure(nodeOwnerInv(s, o, slot, `pt.owners[${slot}]`))
      if (bad !== null) return bad
      const range = validatedRange('user', e)
      if (!range.ok) return null
      return BigInt(range.value.end) <= ptConfig('user').lockedEndBound ? null : `va.end 0x${range.value.end.toString(16)} is beyond LOCKED_END_BOUND`
    },
  }
}

function cursorNew<E extends NewEvent>(type: E['type'], kind: CursorKind, schema: z.ZodType<E>): EventSpec<E, Result<{ cursor: number }, VmError>> {
  /**
   * `VmSpace::cursor` / `cursor_mut`: the page-table cursor over the space's page table (internal
   * step); an error becomes `Err(AccessDenied)` with nothing changed. Requires REQ-EMB-OPENCURSOR-1 / REQ-EMB-OPENCURSORMUT-1, REQ-HANDLE-1 and the
   * internal step's own (REQ-VMSPACE-CURSOR-1, REQ-PTCURSOR-NEW-1: an overlapping live cursor
   * panics). Owes ENS-VMSPACE-CURSORMUT-1..4 (cursor_mut; `cursor`'s ENS-VMSPACE-CURSOR-1..4 are
   * checked on the internal step).
   */
  return defineEvent<E, Result<{ cursor: number }, VmError>>({
    type,
    doc: `VmSpace::${kind === 'Cursor' ? 'cursor' : 'cursor_mut'}(guard, va): a ${kind} over the space's page table; page-table errors become AccessDenied.`,
    schema,
    requires: kind === 'Cursor' ? [embVmSpace<E>('REQ-EMB-OPENCURSOR-1'), liveSpace<E>()] : [embVmSpace<E>('REQ-EMB-OPENCURSORMUT-1'), liveSpace<E>(), ptOwnInv<E>()],
    reduce(s, e) {
      const r = spaceOf(s, e.vmSpace)
      const rec = new StepRecorder(s)
      const spec = kind === 'Cursor' ? pageTableCursor : pageTableCursorMut
      const res = rec.run(spec as typeof pageTableCursor, { type: kind === 'Cursor' ? 'page_table.cursor' : 'page_table.cursor_mut', pageTable: r.pageTable, vaStart: e.vaStart, vaEnd: e.vaEnd } as never) as Result<CursorNewResult, unknown>
      if (!res.ok) return { snapshot: s, result: err('AccessDenied') }
      const id = res.value.cursor
      rec.set(withVm(rec.snapshot, (vm) => putVmCursor(vm, id, { vmSpace: e.vmSpace, kind, flusher: kind === 'CursorMut' ? { ops: [], deferred: [] } : null })))
      return { snapshot: rec.snapshot, result: ok({ cursor: id }), steps: rec.steps }
    },
  })
}

export const vmSpaceCursor = cursorNew<VmCursorNewEvent>('vm_space.cursor', 'Cursor', VmCursorNewEvent)
export const vmSpaceCursorMut = cursorNew<VmCursorMutNewEvent>('vm_space.cursor_mut', 'CursorMut', VmCursorMutNewEvent)

export const VmCursorDropEvent = z.object({ type: z.literal('vm_cursor.drop'), cursor: HandleId })
export type VmCursorDropEvent = z.infer<typeof VmCursorDropEvent>

/**
 * Drop of a VmSpace cursor: a `CursorMut`'s flusher dispatches what it still holds (module
 * comment), then `cursor.drop` unlocks the range and the record leaves `vm.cursors`.
 * Requires REQ-EMB-DROPCURSOR-1, REQ-HANDLE-1. Owes ENS-EMB-DROPCURSOR-1. Its steps owe their own (ENS-TLB-DISPATCH-* is checked on the dispatch event;
 * INV-VMCURSOR-1 / INV-STORE-8 that no record outlives its cursor).
 */
export const vmCursorDrop = defineEvent<VmCursorDropEvent, null>({
  type: 'vm_cursor.drop',
  doc: 'Drop of a VmSpace cursor: pending TLB flushes are dispatched (deferred frames released), then the range is unlocked.',
  schema: VmCursorDropEvent,
  requires: [embCursor<VmCursorDropEvent>('REQ-EMB-DROPCURSOR-1'), liveVmCursor<VmCursorDropEvent>('any')],
  reduce(s, e) {
    const rec = new StepRecorder(s)
    dispatchFlush(rec, e.cursor)
    rec.run(cursorDrop, { type: 'cursor.drop', cursor: e.cursor })
    rec.set(withVm(rec.snapshot, (vm) => putVmCursor(vm, e.cursor, null)))
    return { snapshot: rec.snapshot, result: null, steps: rec.steps }
  },
})

export const vmCursorEvents: readonly EventSpec<ModelEvent, unknown>[] = [vmSpaceCursor, vmSpaceCursorMut, vmCursorDrop] as unknown as readonly EventSpec<ModelEvent, unknown>[]
