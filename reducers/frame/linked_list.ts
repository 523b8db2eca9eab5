/**
 * `LinkedList<M>` of unique frames and its `CursorMut` (ostd::mm::frame::linked_list). The spec
 * digest has no IDs for it; the rules are the model's (REQ-LIST-*, ENS-LIST-*, INV-LIST-*).
 *
 * Model: `Snapshot.lists[id] = { frontPaddr, backPaddr, size, listId }` with `listId = id + 1`
 * (OSTD assigns ids lazily from a global counter; never 0). A linked frame's slot storage is
 * `FrameLink { meta, nextPaddr, prevPaddr }` and its `in_list` cell is the list id, in the exec
 * slot, the slot owner and the `UniqueFrameOwner`'s permission alike. It stays `rc == UNIQUE`,
 * un-parked, with its owner in `uniqueOwners`, and — as OSTD forgets it with `into_raw` when it
 * is inserted — has no handle and `raw_count == 1`; `take_current` revives it with `from_raw`.
 *
 * Cursor positions are physical addresses of elements, or `null` for OSTD's "ghost"
 * past-the-end position. `insert_before` keeps the cursor where it is; `take_current` moves it
 * to the next element (the ghost after the back). Cursors hold no state in the model: they are
 * a position on the caller's side (src/api/linked_list.ts).
 */
import { z } from 'zod'
import { frameToIndex, validFramePaddr } from '../../src/arch/constants.js'
import { editSnapshot } from '../../src/model/edit.js'
import { isPhysicalSlot, slotOf } from '../../src/model/slots.js'
import type { LinkedListState, MetaSlotCells, Snapshot } from '../../src/model/snapshot.js'
import { tableGet } from '../../src/model/table.js'
import { Addr, HandleId } from '../schema.js'
import { defineEvent, StepRecorder, type ModelEvent, type Requirement } from '../types.js'
import { freshId } from './edit.js'
import { hex } from './meta.js'
import { editHeldCells, storedMeta, uniqueDrop, uniqueFromRaw, uniqueIntoRaw } from './unique.js'

// ---- reading lists -------------------------------------------------------------------------

export function listEntry(s: Snapshot, id: number): LinkedListState | null {
  return tableGet(s.lists, id)
}

/** The exec `Link` of the frame at `paddr` (its `FrameLink` storage), or null. */
export function linkOf(s: Snapshot, paddr: number): { nextPaddr: number | null; prevPaddr: number | null; inList: number } | null {
  if (!validFramePaddr(paddr) || !isPhysicalSlot(s, frameToIndex(paddr))) return null
  const cells = slotOf(s, frameToIndex(paddr))
  const st = cells.storage
  return st?.kind === 'FrameLink' ? { nextPaddr: st.nextPaddr, prevPaddr: st.prevPaddr, inList: cells.inList } : null
}

/**
 * Whether the frame at `paddr` is an element of `list` — OSTD's `cursor_mut_at` / `contains`
 * test: a valid frame address whose slot's `in_list` is the list's id (and holds a `Link`).
 */
export function isElement(s: Snapshot, list: LinkedListState, paddr: number): boolean {
  return linkOf(s, paddr)?.inList === list.listId
}

/** `Link::next` / `prev` with one field replaced (a frame that is not linked is left as it is). */
function withLinks(cells: MetaSlotCells, patch: { nextPaddr?: number | null; prevPaddr?: number | null }): MetaSlotCells {
  const st = cells.storage
  return st?.kind === 'FrameLink' ? { ...cells, storage: { ...st, ...patch } } : cells
}

// ---- preconditions -------------------------------------------------------------------------

/** REQ-LIST-1 (model): the list handle is live (created by `linked_list.new`, not dropped). */
function liveList<E extends ModelEvent & { list: number }>(): Requirement<E> {
  return {
    rule: 'REQ-LIST-1',
    summary: '[model] The `LinkedList` a call operates on is live: created by `LinkedList::new` and not dropped.',
    kind: 'requires',
    check: (s, e) => (listEntry(s, e.list) === null ? `LinkedList ${e.list} is not a live list (dropped or never created)` : null),
  }
}

/**
 * REQ-LIST-CURSOR-1 (model): the cursor is at an element of this list or at the ghost position.
 * In Rust a `CursorMut` borrows the list mutably, so its position cannot go stale; a model cursor
 * is a position held by the caller, which another call on the list may have invalidated.
 */
function cursorInList<E extends ModelEvent & { list: number; currentPaddr: number | null }>(): Requirement<E> {
  return {
    rule: 'REQ-LIST-CURSOR-1',
    summary: "[model] A list cursor is at an element of its list (`in_list` = the list's id) or at the ghost position (Rust's `&mut` borrow keeps it valid; a model cursor can go stale).",
    kind: 'requires',
    check: (s, e) => {
      const list = listEntry(s, e.list)
      if (list === null || e.currentPaddr === null || isElement(s, list, e.currentPaddr)) return null
      return `the cursor position ${hex(e.currentPaddr)} is not an element of LinkedList ${e.list} (id ${list.listId})`
    },
  }
}

const Position = z.union([Addr, z.null()])

// ---- new -----------------------------------------------------------------------------------

export const ListNewEvent = z.object({ type: z.literal('linked_list.new') })
export type ListNewEvent = z.infer<typeof ListNewEvent>

/**
 * `LinkedList::new()` — an empty list (`front`, `back` None, size 0). The model gives it its id
 * at once (`listId = handle id + 1`; OSTD's `lazy_get_id` allocates one on first use).
 *
 * Owes ENS-LIST-NEW-1.
 */
export const listNew = defineEvent<ListNewEvent, { list: number }>({
  type: 'linked_list.new',
  doc: 'LinkedList::new: an empty linked list of unique frames.',
  schema: ListNewEvent,
  requires: [],
  reduce(s) {
    let list = -1
    const snapshot = editSnapshot(s, (d, t) => {
      list = freshId(d, 'list')
      t.lists.set(list, { frontPaddr: null, backPaddr: null, size: 0, listId: list + 1 })
    })
    return { snapshot, result: { list } }
  },
})

// ---- cursor: insert_before / take_current --------------------------------------------------

export const InsertBeforeEvent = z.object({
  type: z.literal('linked_list.cursor_mut.insert_before'),
  list: HandleId,
  currentPaddr: Position,
  unique: HandleId,
})
export type InsertBeforeEvent = z.infer<typeof InsertBeforeEvent>

/**
 * `CursorMut::insert_before(frame)` — links the unique frame just before the cursor's element
 * (at the back when the cursor is at the ghost position); the cursor does not move. The frame is
 * forgotten into the list: `into_raw` (internal step — OSTD calls it last; it touches only the
 * handle and `raw_count`, so the model runs it first), then the links, `in_list := list id` and
 * the list's ends and size (`size + 1`).
 *
 * Requires REQ-LIST-1, REQ-LIST-CURSOR-1 (and REQ-UNIQUE-INTORAW-1..3 in the internal step).
 * Owes ENS-LIST-INSERT-1..2.
 */
export const insertBefore = defineEvent<InsertBeforeEvent, null>({
  type: 'linked_list.cursor_mut.insert_before',
  doc: 'CursorMut::insert_before: link a unique frame before the cursor (at the back from the ghost position).',
  schema: InsertBeforeEvent,
  requires: [liveList(), cursorInList()],
  reduce(s, e) {
    const rec = new StepRecorder(s)
    const paddr = rec.run(uniqueIntoRaw, { type: 'unique_frame.into_raw', unique: e.unique })
    const mid = rec.snapshot
    const list = listEntry(mid, e.list)!
    const idx = frameToIndex(paddr)
    const next = e.currentPaddr
    const prev = next === null ? list.backPaddr : linkOf(mid, next)!.prevPaddr
    const snapshot = editSnapshot(mid, (_d, t) => {
      editHeldCells(t, mid, idx, (c) => ({ ...c, storage: { kind: 'FrameLink', meta: storedMeta(c)!, nextPaddr: next, prevPaddr: prev }, inList: list.listId }))
      if (prev !== null) editHeldCells(t, mid, frameToIndex(prev), (c) => withLinks(c, { nextPaddr: paddr }))
      if (next !== null) editHeldCells(t, mid, frameToIndex(next), (c) => withLinks(c, { prevPaddr: paddr }))
      t.lists.set(e.list, {
        ...list,
        frontPaddr: prev === null ? paddr : list.frontPaddr,
        backPaddr: next === null ? paddr : list.backPaddr,
        size: list.size + 1,
      })
    })
    return { snapshot, result: null, steps: rec.steps }
  },
})

export const TakeCurrentEvent = z.object({ type: z.literal('linked_list.cursor_mut.take_current'), list: HandleId, currentPaddr: Position })
export type TakeCurrentEvent = z.infer<typeof TakeCurrentEvent>
export type TakeCurrentResult = { unique: number; nextPaddr: number | null } | null

/**
 * `CursorMut::take_current()` — unlinks the cursor's element and returns it as a `UniqueFrame`;
 * the cursor moves to the next element (`nextPaddr`, null = the ghost position). At the ghost
 * position it returns `None` and changes nothing. Steps: the frame's own link is cleared
 * (storage back to plain metadata, `in_list := 0`), `from_raw` revives it (internal step: a new
 * handle, `raw_count - 1`), then its neighbours are linked to each other and the list's ends and
 * size (`size - 1`) updated. (OSTD calls `from_raw` first and clears the link last; the order
 * inside the call is not observable.)
 *
 * Requires REQ-LIST-1, REQ-LIST-CURSOR-1 (and REQ-UNIQUE-FROMRAW-1..4, REQ-LIST-FROMRAW-1 in the
 * internal step). Owes ENS-LIST-TAKE-1..2.
 */
export const takeCurrent = defineEvent<TakeCurrentEvent, TakeCurrentResult>({
  type: 'linked_list.cursor_mut.take_current',
  doc: 'CursorMut::take_current: unlink the element at the cursor and return it as a UniqueFrame.',
  schema: TakeCurrentEvent,
  requires: [liveList(), cursorInList()],
  reduce(s, e) {
    if (e.currentPaddr === null) return { snapshot: s, result: null }
    const paddr = e.currentPaddr
    const idx = frameToIndex(paddr)
    const { prevPaddr: prev, nextPaddr: next } = linkOf(s, paddr)!
    const rec = new StepRecorder(s)
    rec.set(editSnapshot(s, (_d, t) => editHeldCells(t, s, idx, (c) => ({ ...c, storage: { kind: 'Frame', meta: storedMeta(c)! }, inList: 0 }))))
    const { unique } = rec.run(uniqueFromRaw, { type: 'unique_frame.from_raw', paddr })
    const mid = rec.snapshot
    const list = listEntry(mid, e.list)!
    const snapshot = editSnapshot(mid, (_d, t) => {
      if (prev !== null) editHeldCells(t, mid, frameToIndex(prev), (c) => withLinks(c, { nextPaddr: next }))
      if (next !== null) editHeldCells(t, mid, frameToIndex(next), (c) => withLinks(c, { prevPaddr: prev }))
      t.lists.set(e.list, {
        ...list,
        frontPaddr: prev === null ? next : list.frontPaddr,
        backPaddr: next === null ? prev : list.backPaddr,
        size: list.size - 1,
      })
    })
    return { snapshot, result: { unique, nextPaddr: next }, steps: rec.steps }
  },
})

// ---- push / pop ----------------------------------------------------------------------------

const ListPush = <T extends string>(type: T) => z.object({ type: z.literal(type), list: HandleId, unique: HandleId })
const ListOnly = <T extends string>(type: T) => z.object({ type: z.literal(type), list: HandleId })

export const PushFrontEvent = ListPush('linked_list.push_front')
export type PushFrontEvent = z.infer<typeof PushFrontEvent>
export const PushBackEvent = ListPush('linked_list.push_back')
export type PushBackEvent = z.infer<typeof PushBackEvent>

/**
 * `LinkedList::push_front(frame)` = `cursor_front_mut().insert_before(frame)` (internal step).
 * Requires REQ-LIST-1. Owes ENS-LIST-INSERT-1..2.
 */
export const pushFront = defineEvent<PushFrontEvent, null>({
  type: 'linked_list.push_front',
  doc: 'LinkedList::push_front: link a unique frame at the front.',
  schema: PushFrontEvent,
  requires: [liveList()],
  reduce(s, e) {
    const rec = new StepRecorder(s)
    rec.run(insertBefore, { type: 'linked_list.cursor_mut.insert_before', list: e.list, currentPaddr: listEntry(s, e.list)!.frontPaddr, unique: e.unique })
    return { snapshot: rec.snapshot, result: null, steps: rec.steps }
  },
})

/**
 * `LinkedList::push_back(frame)` = `cursor_at_ghost_mut().insert_before(frame)` (internal step).
 * Requires REQ-LIST-1. Owes ENS-LIST-INSERT-1..2.
 */
export const pushBack = defineEvent<PushBackEvent, null>({
  type: 'linked_list.push_back',
  doc: 'LinkedList::push_back: link a unique frame at the back.',
  schema: PushBackEvent,
  requires: [liveList()],
  reduce(s, e) {
    const rec = new StepRecorder(s)
    rec.run(insertBefore, { type: 'linked_list.cursor_mut.insert_before', list: e.list, currentPaddr: null, unique: e.unique })
    return { snapshot: rec.snapshot, result: null, steps: rec.steps }
  },
})

export const PopFrontEvent = ListOnly('linked_list.pop_front')
export type PopFrontEvent = z.infer<typeof PopFrontEvent>
export const PopBackEvent = ListOnly('linked_list.pop_back')
export type PopBackEvent = z.infer<typeof PopBackEvent>
export type PopResult = { unique: number } | null

function pop(s: Snapshot, list: number, at: 'frontPaddr' | 'backPaddr') {
  const position = listEntry(s, list)![at]
  if (position === null) return { snapshot: s, result: null }
  const rec = new StepRecorder(s)
  const taken = rec.run(takeCurrent, { type: 'linked_list.cursor_mut.take_current', list, currentPaddr: position })!
  return { snapshot: rec.snapshot, result: { unique: taken.unique }, steps: rec.steps }
}

/**
 * `LinkedList::pop_front()` = `cursor_front_mut().take_current()` (internal step); `None` on an
 * empty list. Requires REQ-LIST-1. Owes ENS-LIST-TAKE-1..2.
 */
export const popFront = defineEvent<PopFrontEvent, PopResult>({
  type: 'linked_list.pop_front',
  doc: 'LinkedList::pop_front: unlink the front frame and return it as a UniqueFrame (None if empty).',
  schema: PopFrontEvent,
  requires: [liveList()],
  reduce: (s, e) => pop(s, e.list, 'frontPaddr'),
})

/**
 * `LinkedList::pop_back()` = `cursor_back_mut().take_current()` (internal step); `None` on an
 * empty list. Requires REQ-LIST-1. Owes ENS-LIST-TAKE-1..2.
 */
export const popBack = defineEvent<PopBackEvent, PopResult>({
  type: 'linked_list.pop_back',
  doc: 'LinkedList::pop_back: unlink the back frame and return it as a UniqueFrame (None if empty).',
  schema: PopBackEvent,
  requires: [liveList()],
  reduce: (s, e) => pop(s, e.list, 'backPaddr'),
})

// ---- drop ----------------------------------------------------------------------------------

export const ListDropEvent = ListOnly('linked_list.drop')
export type ListDropEvent = z.infer<typeof ListDropEvent>

/**
 * `Drop for LinkedList` — `while cursor_front_mut().take_current().is_some() {}`: every frame,
 * front first, is taken (internal step) and dropped as `UniqueFrame::drop` does (internal step:
 * rc UNUSED, re-parked, back to the allocator — so the back frame is the next one handed out);
 * then the list is gone.
 *
 * Requires REQ-LIST-1 (and the internal steps' requirements). Owes ENS-LIST-DROP-1.
 */
export const listDrop = defineEvent<ListDropEvent, null>({
  type: 'linked_list.drop',
  doc: 'Drop for LinkedList: drop every frame (front first), then the list.',
  schema: ListDropEvent,
  requires: [liveList()],
  reduce(s, e) {
    const rec = new StepRecorder(s)
    for (let taken = 0; ; taken++) {
      const front = listEntry(rec.snapshot, e.list)!.frontPaddr
      if (front === null) break
      // A well-formed list has at most one element per frame; a longer walk means a corrupted chain.
      if (taken > s.nrFrames) throw new Error(`LinkedList ${e.list}: more elements than frames (corrupted links at ${hex(front)})`)
      const frame = rec.run(takeCurrent, { type: 'linked_list.cursor_mut.take_current', list: e.list, currentPaddr: front })!
      rec.run(uniqueDrop, { type: 'unique_frame.drop', unique: frame.unique })
    }
    const snapshot = editSnapshot(rec.snapshot, (_d, t) => t.lists.set(e.list, null))
    return { snapshot, result: null, steps: rec.steps }
  },
})

export const linkedListEvents = [listNew, insertBefore, takeCurrent, pushFront, pushBack, popFront, popBack, listDrop] as const
