/**
 * VmSpace `CursorMut::protect_next(len, op)` (ostd::mm::vm_space; seed 004 vm_space.rs 1435–1486;
 * operations.md §10.7; behaviour.md §2.6): the page-table `protect_next`, no TLB flush.
 *
 * Event: vm_cursor_mut.protect_next {cursor, len, prop | mask} → the protected range, or null.
 *
 * Steps: `cursor_mut.protect_next` (internal). While the space is active the ghost total and
 * remaining views replace the protected mapping by its new property. No flush is issued: OSTD's
 * caller issues one if it needs it (a cached mapping may keep the old property until then).
 */
import { z } from 'zod'
import { cursorAt } from '../../src/model/pt_cursor.js'
import { mappingsIn } from '../../src/model/pt_view.js'
import { vmCursorAt } from '../../src/model/vm_space.js'
import { HandleId, Usize } from '../schema.js'
import { embCursor } from '../embedding/requires.js'
import { defineEvent, StepRecorder, type EventSpec, type ModelEvent } from '../types.js'
import { PagePropertySchema } from '../page_table/child.js'
import type { RangeOut } from '../page_table/cursor.js'
import { cursorMutProtectNext } from '../page_table/cursor_mut.js'
import { ProtectMaskSchema } from '../page_table/entry.js'
import { liveVmCursor, mappingDelta, pinnedWindow, spaceOf, spaceRootSlot, updateViews, withVm } from './state.js'

export const VmCursorProtectNextEvent = z.union([
  z.object({ type: z.literal('vm_cursor_mut.protect_next'), cursor: HandleId, len: Usize, prop: PagePropertySchema }),
  z.object({ type: z.literal('vm_cursor_mut.protect_next'), cursor: HandleId, len: Usize, mask: ProtectMaskSchema }),
])
export type VmCursorProtectNextEvent = z.infer<typeof VmCursorProtectNextEvent>

/**
 * `CursorMut::protect_next(len, op)`. Requires REQ-EMB-PROTECTNEXT-1, REQ-HANDLE-1, REQ-VMSCURSOR-1 [model] and the
 * internal step's own (REQ-CURSORMUT-PROTECTNEXT-1..5). The internal step owes ENS-CURSORMUT-PROTECTNEXT-1..3;
 * the ghost views' update is INV-VMSPACE-13's.
 */
export const vmCursorProtectNext = defineEvent<VmCursorProtectNextEvent, RangeOut | null>({
  type: 'vm_cursor_mut.protect_next',
  doc: 'VmSpace CursorMut::protect_next(len, op): the page-table protect_next (no TLB flush).',
  schema: VmCursorProtectNextEvent as unknown as z.ZodType<VmCursorProtectNextEvent>,
  requires: [
    embCursor<VmCursorProtectNextEvent>('REQ-EMB-PROTECTNEXT-1'),
    liveVmCursor<VmCursorProtectNextEvent>('CursorMut'),
    pinnedWindow<VmCursorProtectNextEvent>((e) => e.len),
  ],
  reduce(s, e) {
    const vc = vmCursorAt(s, e.cursor)!
    const root = spaceRootSlot(s, spaceOf(s, vc.vmSpace))
    const start = cursorAt(s, e.cursor)!.va
    const window = { start, end: start + e.len }
    const before = mappingsIn(s, root, window, { config: 'user' })
    const rec = new StepRecorder(s)
    const inner = { ...e, type: 'cursor_mut.protect_next' } as Parameters<typeof cursorMutProtectNext.reduce>[1]
    const range = rec.run(cursorMutProtectNext, inner) as RangeOut | null
    const [removed, added] = mappingDelta(before, mappingsIn(rec.snapshot, root, window, { config: 'user' }))
    rec.set(withVm(rec.snapshot, (vm) => updateViews(vm, vc.vmSpace, removed, added)))
    return { snapshot: rec.snapshot, result: range, steps: rec.steps }
  },
})

export const vmCursorProtectEvents: readonly EventSpec<ModelEvent, unknown>[] = [vmCursorProtectNext] as unknown as readonly EventSpec<ModelEvent, unknown>[]
