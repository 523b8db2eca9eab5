/**
 * VmSpace `CursorMut::unmap(len)` (ostd::mm::vm_space; seed 004 vm_space.rs 1370–1433;
 * operations.md §10.6; behaviour.md §2.6).
 *
 * Event: vm_cursor_mut.unmap {cursor, len} → the number of 4 KiB frames unmapped.
 *
 * Steps: `cursor_mut.take_next(end - va)` until it returns null; a `Mapped` fragment's frame moves
 * into the flusher (`issue_tlb_flush_with(Address(va), frame)`, count + 1), a `StrayPageTable`'s node
 * too (`issue_tlb_flush_with(Range(va..va+len), pt)`, count + `num_frames`); finally
 * `dispatch_tlb_flush`, which flushes the TLB and then releases them. An empty window gives 0.
 * While the space is active the ghost total and remaining views lose the removed mappings.
 *
 * The page-table layer's `cursor_mut.unmap` releases each fragment at once (no TLB); this is the
 * VmSpace call with the flush OSTD performs (behaviour.md §2.6, the seed comments it out).
 */
import { z } from 'zod'
import { cursorAt } from '../../src/model/pt_cursor.js'
import { mappingsIn } from '../../src/model/pt_view.js'
import { vmCursorAt } from '../../src/model/vm_space.js'
import { HandleId, Usize } from '../schema.js'
import { embCursor } from '../embedding/requires.js'
import { defineEvent, StepRecorder, type EventSpec, type ModelEvent } from '../types.js'
import { cursorMutTakeNext, type PageTableFragOut } from '../page_table/cursor_mut.js'
import { dispatchFlush, issueTlbFlushWith } from './flusher.js'
import { liveVmCursor, mappingDelta, pinnedWindow, spaceOf, spaceRootSlot, updateViews, withVm } from './state.js'

export const VmCursorUnmapEvent = z.object({ type: z.literal('vm_cursor_mut.unmap'), cursor: HandleId, len: Usize })
export type VmCursorUnmapEvent = z.infer<typeof VmCursorUnmapEvent>

/**
 * `CursorMut::unmap(len)`. Requires REQ-EMB-UNMAP-1, REQ-HANDLE-1, REQ-VMSCURSOR-1 [model] and `take_next`'s own
 * (REQ-CURSORMUT-UNMAP-1..3 panics, REQ-PTCURSOR-TAKENEXT-1). Owes ENS-VMSCURSOR-UNMAP-1..3 [model] and
 * ENS-EMB-UNMAP-1..4 (-3: each removed frame's reference goes into the flusher with its flush and
 * is released by the dispatch that ends the call — never left behind as a handle).
 */
export const vmCursorUnmap = defineEvent<VmCursorUnmapEvent, number>({
  type: 'vm_cursor_mut.unmap',
  doc: 'VmSpace CursorMut::unmap(len): take every mapping of [va, va + len) out, flush the TLB, release the frames; the number of 4 KiB frames unmapped.',
  schema: VmCursorUnmapEvent,
  requires: [
    embCursor<VmCursorUnmapEvent>('REQ-EMB-UNMAP-1'),
    liveVmCursor<VmCursorUnmapEvent>('CursorMut'),
    pinnedWindow<VmCursorUnmapEvent>((e) => e.len),
  ],
  reduce(s, e) {
    const vc = vmCursorAt(s, e.cursor)!
    const root = spaceRootSlot(s, spaceOf(s, vc.vmSpace))
    const start = cursorAt(s, e.cursor)!.va
    const end = start + e.len
    const window = { start, end: Math.max(start, end) }
    const before = mappingsIn(s, root, window, { config: 'user' })
    const rec = new StepRecorder(s)
    let count = 0
    for (;;) {
      const va = cursorAt(rec.snapshot, e.cursor)!.va
      const frag = rec.run(cursorMutTakeNext, { type: 'cursor_mut.take_next', cursor: e.cursor, len: Math.max(0, end - va) }) as PageTableFragOut | null
      if (frag === null) break
      if (cursorAt(rec.snapshot, e.cursor)!.va <= va) break // a faulty take_next that does not advance would loop forever
      const fva = Number(frag.va)
      if (frag.kind === 'Mapped') {
        count += 1
        if ('frame' in frag.item) rec.run(issueTlbFlushWith, { type: 'vm_cursor_mut.issue_tlb_flush_with', cursor: e.cursor, op: { kind: 'Address', va: fva }, release: { kind: 'frame', handle: frag.item.frame } })
      } else {
        count += frag.numFrames
        rec.run(issueTlbFlushWith, { type: 'vm_cursor_mut.issue_tlb_flush_with', cursor: e.cursor, op: { kind: 'Range', start: fva, end: fva + frag.len }, release: { kind: 'node', handle: frag.pt } })
      }
    }
    dispatchFlush(rec, e.cursor)
    const [removed, added] = mappingDelta(before, mappingsIn(rec.snapshot, root, window, { config: 'user' }))
    rec.set(withVm(rec.snapshot, (vm) => updateViews(vm, vc.vmSpace, removed, added)))
    return { snapshot: rec.snapshot, result: count, steps: rec.steps }
  },
})

export const vmCursorUnmapEvents: readonly EventSpec<ModelEvent, unknown>[] = [vmCursorUnmap] as unknown as readonly EventSpec<ModelEvent, unknown>[]
