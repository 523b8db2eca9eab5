/**
 * VmSpace `CursorMut::map(frame, prop)` (ostd::mm::vm_space; seed 004 vm_space.rs 1336–1368;
 * operations.md §10.5; behaviour.md §2.6).
 *
 * Event: vm_cursor_mut.map {cursor, frame, prop} — no result.
 *
 * Steps: `cursor_mut.map` with the item `{ frame, prop }` (the `Frame` handle moves into the PTE);
 * when it replaced a frame (`Err(Mapped { va, item })`), the old frame moves into the flusher with
 * `issue_tlb_flush_with(Address(va), old)` and the flush is dispatched at once, which releases it
 * (behaviour.md §2.6: no error is reported). A replaced page-table node (`StrayPageTable`) cannot
 * occur with 4 KiB frames (OSTD panics there). While the space is active the ghost total and
 * remaining views lose the replaced mapping and gain the new one.
 *
 * Deviation from the seed: the seed's body ignores `Err(frag)` (the flush and the panic are
 * commented out), dropping the fragment at once; the model follows behaviour.md (flush, then
 * release).
 */
import { z } from 'zod'
import { cursorAt } from '../../src/model/pt_cursor.js'
import { mappingAt } from '../../src/model/pt_view.js'
import { HandleId } from '../schema.js'
import { embCursor, embFrame } from '../embedding/requires.js'
import { defineEvent, StepRecorder, type EventSpec, type ModelEvent, type Result } from '../types.js'
import { PagePropertySchema } from '../page_table/child.js'
import { cursorMutMap, type PageTableFragOut } from '../page_table/cursor_mut.js'
import { dispatchFlush, issueTlbFlushWith } from './flusher.js'
import { liveVmCursor, pinnedWindow, spaceOf, spaceRootSlot, updateViews, withVm } from './state.js'
import { PAGE_SIZE } from '../../src/arch/constants.js'
import { vmCursorAt } from '../../src/model/vm_space.js'

export const VmCursorMapEvent = z.object({ type: z.literal('vm_cursor_mut.map'), cursor: HandleId, frame: HandleId, prop: PagePropertySchema })
export type VmCursorMapEvent = z.infer<typeof VmCursorMapEvent>

/**
 * `CursorMut::map(frame, prop)`: maps the frame at the cursor (replacing silently), advances one
 * page. Requires REQ-EMB-MAP-1..2, REQ-HANDLE-1, REQ-VMSCURSOR-1 [model] and the internal `cursor_mut.map`'s own
 * (REQ-CURSORMUT-MAP-1..5 …). Owes ENS-VMSCURSOR-MAP-1..2 [model] (and `cursor_mut.map`'s
 * ENS-CURSORMUT-MAP-* on the internal step).
 */
export const vmCursorMap = defineEvent<VmCursorMapEvent, null>({
  type: 'vm_cursor_mut.map',
  doc: 'VmSpace CursorMut::map(frame, prop): map the frame at the cursor, advance one page; a replaced frame is released after a TLB flush (no error).',
  schema: VmCursorMapEvent,
  requires: [
    embCursor<VmCursorMapEvent>('REQ-EMB-MAP-1'),
    embFrame<VmCursorMapEvent>('REQ-EMB-MAP-2'),
    liveVmCursor<VmCursorMapEvent>('CursorMut'),
    pinnedWindow<VmCursorMapEvent>(() => PAGE_SIZE),
  ],
  reduce(s, e) {
    const vc = vmCursorAt(s, e.cursor)!
    const root = spaceRootSlot(s, spaceOf(s, vc.vmSpace))
    const va = cursorAt(s, e.cursor)!.va
    const before = mappingAt(s, root, va, { config: 'user' })
    const rec = new StepRecorder(s)
    const res = rec.run(cursorMutMap, { type: 'cursor_mut.map', cursor: e.cursor, item: { frame: e.frame, prop: e.prop } }) as Result<null, PageTableFragOut>
    if (!res.ok) {
      const frag = res.error
      if (frag.kind !== 'Mapped' || !('frame' in frag.item)) throw new Error('`UFrame` is base page sized but re-mapping out a child PT (a user page table holds only 4 KiB frames)')
      rec.run(issueTlbFlushWith, { type: 'vm_cursor_mut.issue_tlb_flush_with', cursor: e.cursor, op: { kind: 'Address', va: Number(frag.va) }, release: { kind: 'frame', handle: frag.item.frame } })
      dispatchFlush(rec, e.cursor)
    }
    const after = mappingAt(rec.snapshot, root, va, { config: 'user' })
    rec.set(withVm(rec.snapshot, (vm) => updateViews(vm, vc.vmSpace, before === null ? [] : [before], after === null ? [] : [after])))
    return { snapshot: rec.snapshot, result: null, steps: rec.steps }
  },
})

export const vmCursorMapEvents: readonly EventSpec<ModelEvent, unknown>[] = [vmCursorMap] as unknown as readonly EventSpec<ModelEvent, unknown>[]
