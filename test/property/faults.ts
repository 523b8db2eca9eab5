/**
 * Faulty reducer variants, by module, for the property tests: each one breaks some clause on the
 * histories the generator produces (when its event occurs), so that full and incremental checking
 * can be compared on runs with violations. `module` is the `ALL_OPS` key prefix whose operations
 * exercise the fault; the tests give the operations of `focus` more weight.
 *
 * The list faults are those of test/unit/linked_list.test.ts (copied: a test file cannot be
 * imported without registering its tests).
 */
import { getFromUnused } from '../../reducers/frame/meta.js'
import { frameClone, frameDrop, frameIntoRaw } from '../../reducers/frame/frame.js'
import { insertBefore, listDrop, takeCurrent, type InsertBeforeEvent, type ListDropEvent, type TakeCurrentEvent } from '../../reducers/frame/linked_list.js'
import { segmentClone, segmentDrop, segmentNext, segmentSplit } from '../../reducers/frame/segment.js'
import { uniqueDrop, uniqueIntoShared, uniqueMetaWrite, uniqueTryFromShared } from '../../reducers/frame/unique.js'
import type { AnyEventSpec } from '../../reducers/index.js'
import { frameVmIoEvents, segmentVmIoEvents } from '../../reducers/io/frame_io.js'
import { readerRead, readerSkip, writerFill } from '../../reducers/io/vm_io.js'
import { frameToIndex, PAGE_SIZE, PageUsage } from '../../src/arch/constants.js'
import { editSnapshot } from '../../src/model/edit.js'
import { slotOf } from '../../src/model/slots.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { tableGet } from '../../src/model/table.js'
import { variant } from '../firing/harness.js'
import { PT_FAULTS } from './pt_faults.js'
import { VM_FAULTS } from './vm_faults.js'

export interface Fault {
  readonly module: 'meta' | 'frame' | 'unique' | 'segment' | 'list' | 'io' | 'pt' | 'vm'
  /** The `ALL_OPS` groups (key prefixes) whose operations exercise the fault (default: `module`). */
  readonly focus?: readonly string[]
  /** What the variant gets wrong. */
  readonly doc: string
  readonly spec: AnyEventSpec
  /** The mix also has the TLB operations (src/log/gen_vm_tlb.ts, prefix `tlb`): user accesses that cache translations. */
  readonly tlb?: boolean
  /** Events per random history (default: the test's); longer for faults whose event is rare. */
  readonly ops?: number
}

/** Restores slot `idx`'s cells (exec, ghost, unique owner) to their values in `s`. */
function restoreSlot(post: Snapshot, s: Snapshot, idx: number): Snapshot {
  return editSnapshot(post, (_d, t) => {
    t.metaSlots.set(idx, tableGet(s.metaSlots, idx))
    t.slotOwners.set(idx, tableGet(s.regions.slotOwners, idx))
    if (t.uniqueOwners.get(idx) !== null) t.uniqueOwners.set(idx, { ...t.uniqueOwners.get(idx)!, innerPerms: tableGet(s.regions.slotOwners, idx)!.innerPerms })
  })
}

const [, frameWriteBytes] = frameVmIoEvents
const [, , , segmentWriteVal] = segmentVmIoEvents

export const FAULTS: Record<string, Fault> = {
  // ---- meta (through the internal steps of every allocation) ----
  getFromUnusedKeepsUsage: {
    module: 'frame',
    doc: 'get_from_unused claims the slot but leaves ghost usage Unused (ENS-META-GETUNUSED-*, INV-STORE-13)',
    spec: variant(getFromUnused, (s, e) => {
      const o = getFromUnused.reduce(s, e)
      if (!o.result.ok) return o
      const idx = frameToIndex(e.paddr)
      return { ...o, snapshot: editSnapshot(o.snapshot, (_d, t) => t.slotOwners.set(idx, { ...t.slotOwners.get(idx)!, usage: PageUsage.Unused })) }
    }),
  },

  // ---- frame ----
  dropDoesNothing: {
    module: 'frame',
    doc: 'Frame::drop does nothing: the handle and its reference stay (ENS-FRAME-DROP-*, ENS-EMB-FRAMEDROP-*)',
    spec: variant(frameDrop, (s) => ({ snapshot: s, result: null })),
  },
  cloneForgetsRc: {
    module: 'frame',
    doc: 'Frame::clone registers the handle but does not count the reference (ENS-FRAME-CLONE-1, INV-ACCT-3)',
    spec: variant(frameClone, (s, e) => {
      const o = frameClone.reduce(s, e)
      return { ...o, snapshot: restoreSlot(o.snapshot, s, frameToIndex(tableGet(s.frames, e.frame)!.paddr)) }
    }),
  },
  intoRawStrayObligation: {
    module: 'frame',
    doc: 'Frame::into_raw leaves a stray obligation on slot 1 (ENS-FRAME-FORGET-1, INV-OBLIG-1)',
    spec: variant(frameIntoRaw, (s, e) => {
      const o = frameIntoRaw.reduce(s, e)
      return { ...o, snapshot: editSnapshot(o.snapshot, (_d, t) => void t.frameObligations.set(1, 5)) }
    }),
  },

  // ---- unique ----
  uniqueDropLeavesOwner: {
    module: 'unique',
    doc: 'UniqueFrame::drop frees the slot but leaves the UniqueFrameOwner in place',
    spec: variant(uniqueDrop, (s, e) => {
      const o = uniqueDrop.reduce(s, e)
      const idx = frameToIndex(tableGet(s.uniqueFrames, e.unique)!.paddr)
      return { ...o, snapshot: editSnapshot(o.snapshot, (_d, t) => t.uniqueOwners.set(idx, tableGet(s.uniqueOwners, idx))) }
    }),
  },
  intoSharedKeepsUnique: {
    module: 'unique',
    doc: 'Frame::from(UniqueFrame) makes the Frame but keeps the unique handle registered',
    spec: variant(uniqueIntoShared, (s, e) => {
      const o = uniqueIntoShared.reduce(s, e)
      return { ...o, snapshot: editSnapshot(o.snapshot, (_d, t) => t.uniqueFrames.set(e.unique, tableGet(s.uniqueFrames, e.unique))) }
    }),
  },
  tryFromSharedStaysParked: {
    module: 'unique',
    doc: 'UniqueFrame::try_from(Frame) succeeds but leaves the slot permission parked',
    spec: variant(uniqueTryFromShared, (s, e) => {
      const o = uniqueTryFromShared.reduce(s, e)
      if (!o.result.ok) return o
      const idx = frameToIndex(tableGet(s.frames, e.frame)!.paddr)
      return { ...o, snapshot: editSnapshot(o.snapshot, (_d, t) => t.unparked.set(idx, null)) }
    }),
  },
  metaWriteExecOnly: {
    module: 'unique',
    doc: 'a write through meta_mut updates the exec cell only, not the ghost copies',
    spec: variant(uniqueMetaWrite, (s, e) => {
      const o = uniqueMetaWrite.reduce(s, e)
      const idx = frameToIndex(tableGet(s.uniqueFrames, e.unique)!.paddr)
      return {
        ...o,
        snapshot: editSnapshot(o.snapshot, (_d, t) => {
          t.slotOwners.set(idx, tableGet(s.regions.slotOwners, idx))
          t.uniqueOwners.set(idx, tableGet(s.uniqueOwners, idx))
        }),
      }
    }),
  },

  // ---- segment ----
  segmentCloneForgetsRc: {
    module: 'segment',
    doc: 'Segment::clone registers the new segment without taking its references',
    spec: variant(segmentClone, (s, e) => {
      const o = segmentClone.reduce(s, e)
      const seg = tableGet(s.segments, e.segment)!
      let post = o.snapshot
      for (let pa = seg.startPaddr; pa < seg.endPaddr; pa += PAGE_SIZE) post = restoreSlot(post, s, frameToIndex(pa))
      return { ...o, snapshot: post }
    }),
  },
  splitOverlaps: {
    module: 'segment',
    doc: 'Segment::split gives a right half that starts one page early (the halves overlap)',
    spec: variant(segmentSplit, (s, e) => {
      const o = segmentSplit.reduce(s, e)
      const right = tableGet(o.snapshot.segments, o.result.right)!
      return { ...o, snapshot: editSnapshot(o.snapshot, (_d, t) => t.segments.set(o.result.right, { ...right, startPaddr: right.startPaddr - PAGE_SIZE })) }
    }),
  },
  nextKeepsRange: {
    module: 'segment',
    doc: 'Iterator::next hands out the first page but does not shrink the segment',
    spec: variant(segmentNext, (s, e) => {
      const o = segmentNext.reduce(s, e)
      return { ...o, snapshot: editSnapshot(o.snapshot, (_d, t) => t.segments.set(e.segment, tableGet(s.segments, e.segment))) }
    }),
  },
  segmentDropLeaksLastPage: {
    module: 'segment',
    doc: 'Drop for Segment releases every page but the last',
    spec: variant(segmentDrop, (s, e) => {
      const seg = tableGet(s.segments, e.segment)!
      if (seg.endPaddr - seg.startPaddr === PAGE_SIZE) return { snapshot: editSnapshot(s, (_d, t) => t.segments.set(e.segment, null)), result: null }
      const shorter = editSnapshot(s, (_d, t) => t.segments.set(e.segment, { ...seg, endPaddr: seg.endPaddr - PAGE_SIZE }))
      return segmentDrop.reduce(shorter, e)
    }),
  },

  // ---- list (test/unit/linked_list.test.ts) ----
  insertForgetsPrev: {
    module: 'list',
    focus: ['list', 'unique'],
    doc: 'insert_before does not link the previous element to the new one',
    spec: variant(insertBefore, (s: Snapshot, e: InsertBeforeEvent) => {
      const o = insertBefore.reduce(s, e)
      const list = tableGet(s.lists, e.list)!
      const next = e.currentPaddr
      const prev = next === null ? list.backPaddr : (slotOf(s, frameToIndex(next)).storage as { prevPaddr: number | null }).prevPaddr
      return prev === null ? o : { ...o, snapshot: restoreSlot(o.snapshot, s, frameToIndex(prev)) }
    }),
  },
  takeForgetsNext: {
    module: 'list',
    focus: ['list', 'unique'],
    doc: 'take_current does not relink the next element to the previous one',
    spec: variant(takeCurrent, (s: Snapshot, e: TakeCurrentEvent) => {
      const o = takeCurrent.reduce(s, e)
      const next = o.result?.nextPaddr ?? null
      return next === null ? o : { ...o, snapshot: restoreSlot(o.snapshot, s, frameToIndex(next)) }
    }),
  },
  dropLeavesMembers: {
    module: 'list',
    focus: ['list', 'unique'],
    doc: 'Drop for LinkedList removes the list but leaves its frames linked (in_list names a list that is gone)',
    spec: variant(listDrop, (s: Snapshot, e: ListDropEvent) => ({ snapshot: editSnapshot(s, (_d, t) => t.lists.set(e.list, null)), result: null })),
  },

  // ---- io ----
  writeBytesOffByOne: {
    module: 'io',
    doc: 'VmIo::write_bytes on a frame writes one byte further than asked',
    spec: variant(frameWriteBytes!, (s, e) => frameWriteBytes!.reduce(s, { ...e, offset: (e['offset'] as number) + 1 })),
  },
  segmentWriteValLost: {
    module: 'io',
    doc: 'VmIo::write_val on a segment returns Ok but writes nothing',
    spec: variant(segmentWriteVal!, (s, e) => {
      const o = segmentWriteVal!.reduce(s, e)
      return { ...o, snapshot: s }
    }),
  },
  readerSkipTwice: {
    module: 'io',
    doc: 'VmReader::skip(n) advances by 2n (past the end when n > remain / 2)',
    spec: variant(readerSkip, (s, e) => readerSkip.reduce(s, { ...e, n: 2 * (e['n'] as number) })),
  },
  fillStaysPut: {
    module: 'io',
    doc: 'VmWriter::fill writes the copies but leaves the cursor where it was',
    spec: variant(writerFill, (s, e) => {
      const o = writerFill.reduce(s, e)
      const w = e['writer'] as number
      return { ...o, snapshot: editSnapshot(o.snapshot, (_d, t) => t.vmIos.set(w, tableGet(s.vmIos, w))) }
    }),
  },
  copyMovesReaderOnly: {
    module: 'io',
    doc: 'VmReader::read copies the bytes but only the reader advances',
    spec: variant(readerRead, (s, e) => {
      const o = readerRead.reduce(s, e)
      const w = e['writer'] as number
      return { ...o, snapshot: editSnapshot(o.snapshot, (_d, t) => t.vmIos.set(w, tableGet(s.vmIos, w))) }
    }),
  },

  // ---- page-table entries (test/property/pt_faults.ts) ----
  ...Object.fromEntries(Object.entries(PT_FAULTS).map(([name, f]) => [name, { module: 'pt' as const, focus: ['pt', 'frame'], ...f }])),

  // ---- VmSpace and the TLB (test/property/vm_faults.ts) ----
  ...Object.fromEntries(Object.entries(VM_FAULTS).map(([name, f]) => [name, { module: 'vm' as const, focus: ['vm', 'tlb'], tlb: true, ...f }])),
}
