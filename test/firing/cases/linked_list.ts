/**
 * Firing cases of the frame `LinkedList` (model rules): REQ-LIST-1, REQ-LIST-CURSOR-1,
 * ENS-LIST-NEW-1, ENS-LIST-INSERT-1..2, ENS-LIST-TAKE-1..2, ENS-LIST-DROP-1, INV-LIST-1..3.
 */
import type { Draft } from 'immer'
import { PageUsage } from '../../../src/arch/constants.js'
import { insertBefore, listDrop, listNew, popFront, pushBack, takeCurrent } from '../../../reducers/frame/linked_list.js'
import { LinkedList } from '../../../src/api/linked_list.js'
import type { Model } from '../../../src/api/model.js'
import { unwrap } from '../../../src/api/result.js'
import { UniqueFrame } from '../../../src/api/unique_frame.js'
import type { LinkedListState, Snapshot } from '../../../src/model/snapshot.js'
import { tableGet, type Table } from '../../../src/model/table.js'
import { UNIT_META } from '../../../src/model/snapshot.js'
import { corrupted, edit, rejected, variant, withVariantBothModes, type FiringCase } from '../harness.js'
import { setCells, setOwner, tableSet } from './util.js'

const unique = (m: Model, pa: number): UniqueFrame => unwrap(UniqueFrame.fromUnused(m, pa))

/** List 0 holding the frames at `paddrs`, front to back. */
function listOf(m: Model, paddrs: readonly number[]): LinkedList {
  const l = LinkedList.new(m)
  for (const pa of paddrs) l.pushBack(unique(m, pa))
  return l
}

function listIn(d: Draft<Snapshot>, id: number): LinkedListState {
  return tableGet(d.lists as Table<LinkedListState>, id)!
}

/** A faulty reducer that also changes slot 9's usage (a slot the call does not touch). */
const touches9 = (s: Snapshot): Snapshot => edit(s, (d) => setOwner(d, 9, { usage: PageUsage.Reserved }))

export const linkedListCases: FiringCase[] = [
  // ---- REQ ------------------------------------------------------------------------------
  {
    rule: 'REQ-LIST-1',
    title: 'push_back onto a dropped list',
    run: () =>
      rejected(
        (m) => {
          LinkedList.new(m).drop()
          unique(m, 0x5000)
        },
        () => ({ type: 'linked_list.push_back', list: 0, unique: 0 }),
      ),
  },
  {
    rule: 'REQ-LIST-CURSOR-1',
    title: 'take_current at a frame that is not in the list (a stale cursor)',
    run: () =>
      rejected(
        (m) => {
          listOf(m, [0x5000])
          unique(m, 0x6000)
        },
        () => ({ type: 'linked_list.cursor_mut.take_current', list: 0, currentPaddr: 0x6000 }),
      ),
  },
  // ---- ENS ------------------------------------------------------------------------------
  {
    rule: 'ENS-LIST-NEW-1',
    title: 'new touches a slot',
    run: () => withVariantBothModes([variant(listNew, (s, e) => {
      const o = listNew.reduce(s, e)
      return { ...o, snapshot: touches9(o.snapshot) }
    })], (m) => void LinkedList.new(m)),
  },
  {
    rule: 'ENS-LIST-INSERT-1',
    title: 'insert_before at the front links the frame at the back instead',
    run: () =>
      withVariantBothModes(
        [variant(insertBefore, (s, e) => insertBefore.reduce(s, { ...e, currentPaddr: null }))],
        (m) => {
          const l = listOf(m, [0x5000])
          l.cursorFrontMut().insertBefore(unique(m, 0x6000))
        },
      ),
  },
  {
    rule: 'ENS-LIST-INSERT-2',
    title: 'push_back touches another slot',
    run: () =>
      withVariantBothModes(
        [variant(pushBack, (s, e) => {
          const o = pushBack.reduce(s, e)
          return { ...o, snapshot: touches9(o.snapshot) }
        })],
        (m) => void listOf(m, [0x5000, 0x6000]),
      ),
  },
  {
    rule: 'ENS-LIST-TAKE-1',
    title: 'take_current leaves the cursor at the ghost position instead of the next element',
    run: () =>
      withVariantBothModes(
        [variant(takeCurrent, (s, e) => {
          const o = takeCurrent.reduce(s, e)
          return o.result === null ? o : { ...o, result: { ...o.result, nextPaddr: null } }
        })],
        (m) => void listOf(m, [0x5000, 0x6000]).cursorFrontMut().takeCurrent(),
      ),
  },
  {
    rule: 'ENS-LIST-TAKE-2',
    title: 'pop_front touches another slot',
    run: () =>
      withVariantBothModes(
        [variant(popFront, (s, e) => {
          const o = popFront.reduce(s, e)
          return { ...o, snapshot: touches9(o.snapshot) }
        })],
        (m) => void listOf(m, [0x5000, 0x6000]).popFront(),
      ),
  },
  {
    rule: 'ENS-LIST-DROP-1',
    title: 'dropping a list touches another slot',
    run: () =>
      withVariantBothModes(
        [variant(listDrop, (s, e) => {
          const o = listDrop.reduce(s, e)
          return { ...o, snapshot: touches9(o.snapshot) }
        })],
        (m) => listOf(m, [0x5000, 0x6000]).drop(),
      ),
  },
  // ---- INV ------------------------------------------------------------------------------
  {
    rule: 'INV-LIST-1',
    title: 'a one-element list that claims two elements',
    run: () => corrupted((m) => void listOf(m, [0x5000]), (d) => tableSet(d.lists, 0, { ...listIn(d, 0), size: 2 })),
  },
  {
    rule: 'INV-LIST-2',
    title: 'a list element that is not counted as a forgotten frame (raw_count 0)',
    run: () => corrupted((m) => void listOf(m, [0x5000, 0x6000]), (d) => setOwner(d, 6, { rawCount: 0 })),
  },
  {
    rule: 'INV-LIST-3',
    title: 'a forgotten unique frame that claims to be in the list but is not linked from it',
    run: () =>
      corrupted(
        (m) => {
          listOf(m, [0x5000])
          unique(m, 0x6000).intoRaw()
        },
        (d) => setCells(d, 6, { storage: { kind: 'FrameLink', meta: UNIT_META, nextPaddr: null, prevPaddr: null }, inList: listIn(d, 0).listId }),
      ),
  },
]
