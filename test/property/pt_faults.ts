/**
 * Faulty reducers of the page-table entry layer (issue 3), each the kind of slip the Verus proof
 * code guards against: a PTE written without the owner-tree update, a forgotten `nr_children`
 * write, a frame mapped without recording its path. test/unit/pt_faults.test.ts shows each caught
 * by its rule on the first faulty step; test/property/faults.test.ts replays generated histories
 * with them in full and incremental mode.
 */
import { entryReplace } from '../../reducers/page_table/entry.js'
import { childFromFrame } from '../../reducers/page_table/child.js'
import { frameToIndex, PAGE_SIZE } from '../../src/arch/constants.js'
import { editSnapshot } from '../../src/model/edit.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { tableGet, tableWith } from '../../src/model/table.js'
import { variant } from '../firing/harness.js'
import type { AnyEventSpec } from '../../reducers/index.js'

/** The slot of the node whose entry handle `entry` is. */
function entryNodeSlot(s: Snapshot, entry: number): number {
  const h = tableGet(s.pt.entries, entry)!
  return tableGet(s.pt.guards, h.guard)!.paddr / PAGE_SIZE
}

export interface PtFault {
  readonly doc: string
  readonly spec: AnyEventSpec
  /** Events per random history, when the fault's event is rare in the default length. */
  readonly ops?: number
}

export const PT_FAULTS: Record<string, PtFault> = {
  replaceForgetsOwnerTree: {
    doc: 'Entry::replace writes the PTE but leaves the entry owner in the tree as it was',
    spec: variant(entryReplace, (s, e) => {
      const o = entryReplace.reduce(s, e)
      const slot = entryNodeSlot(s, e.entry)
      const idx = tableGet(s.pt.entries, e.entry)!.idx
      const before = tableGet(s.pt.owners, slot)!
      return {
        ...o,
        snapshot: editSnapshot(o.snapshot, (_d, t) => {
          const after = t.ptOwners.get(slot)!
          t.ptOwners.set(slot, { ...after, children: tableWith(after.children, idx, tableGet(before.children, idx)) })
        }),
      }
    }),
  },
  replaceForgetsNrChildren: {
    doc: 'Entry::replace skips the nr_children write (exec cell and ghost perm keep the old count)',
    spec: variant(entryReplace, (s, e) => {
      const o = entryReplace.reduce(s, e)
      const slot = entryNodeSlot(s, e.entry)
      return {
        ...o,
        snapshot: editSnapshot(o.snapshot, (_d, t) => {
          t.metaSlots.set(slot, tableGet(s.metaSlots, slot))
          const rec = t.ptOwners.get(slot)!
          t.ptOwners.set(slot, { ...rec, metaOwn: tableGet(s.pt.owners, slot)!.metaOwn })
        }),
      }
    }),
  },
  fromFrameForgetsPath: {
    doc: 'Child::Frame of a tracked frame made without inserting its path into the slot\'s paths_in_pt',
    // child.from_frame needs a frame and a tree position: about one in three 120-event histories has one
    ops: 360,
    spec: variant(childFromFrame, (s, e) => {
      const o = childFromFrame.reduce(s, e)
      const idx = frameToIndex(tableGet(s.frames, e.frame)!.paddr)
      return {
        ...o,
        snapshot: editSnapshot(o.snapshot, (_d, t) => {
          const owner = t.slotOwners.get(idx)!
          t.slotOwners.set(idx, { ...owner, pathsInPt: tableGet(s.regions.slotOwners, idx)!.pathsInPt })
        }),
      }
    }),
  },
}
