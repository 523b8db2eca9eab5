/**
 * The frame `LinkedList` and its cursor (reducers/frame/linked_list.ts, src/api/linked_list.ts):
 * what each call returns and exactly what it changes; OSTD's cursor movement through the ghost
 * position; and full / incremental checking agreeing on list histories, also when a faulty
 * reducer breaks the links.
 */
import { describe, expect, it } from 'vitest'
import { frameToIndex, REF_COUNT_UNIQUE, REF_COUNT_UNUSED } from '../../src/arch/constants.js'
import { isOstdPanic } from '../../src/arch/errors.js'
import { LinkedList, type LinkedListCursorMut } from '../../src/api/linked_list.js'
import { createModel, type Model } from '../../src/api/model.js'
import { unwrap } from '../../src/api/result.js'
import { UniqueFrame } from '../../src/api/unique_frame.js'
import { computeChanges } from '../../src/check/changes.js'
import { freeStackTop } from '../../reducers/frame/allocator.js'
import { insertBefore, listDrop, takeCurrent, type InsertBeforeEvent, type ListDropEvent, type TakeCurrentEvent } from '../../reducers/frame/linked_list.js'
import type { AnyEventSpec } from '../../reducers/index.js'
import { editSnapshot } from '../../src/model/edit.js'
import { isParked, ownerOf, slotOf, uniqueOwnerOf } from '../../src/model/slots.js'
import type { FrameMeta, Snapshot } from '../../src/model/snapshot.js'
import { tableGet } from '../../src/model/table.js'
import { panicRule, bothModes } from '../util.js'

const meta = (value: number): FrameMeta => ({ type: 'Link<PageMeta>', untyped: false, value })
const PAGE = 0x1000

/** A unique frame at page `n` whose metadata value is `n`. */
const frame = (m: Model, n: number): UniqueFrame => unwrap(UniqueFrame.fromUnused(m, n * PAGE, meta(n)))

/** The list's elements as page numbers, front to back, walked with a cursor. */
function pages(l: LinkedList): number[] {
  const out: number[] = []
  const c = l.cursorFrontMut()
  for (let pa = c.currentPaddr(); pa !== null; c.moveNext(), pa = c.currentPaddr()) out.push(pa / PAGE)
  return out
}

describe('LinkedList::new / push / pop', () => {
  it('new gives an empty list with its own id; nothing else changes', () =>
    bothModes((m) => {
      const before = m.state
      const a = LinkedList.new(m)
      const b = LinkedList.new(m)
      expect([a.id, b.id]).toEqual([0, 1])
      expect(tableGet(m.state.lists, 1)).toEqual({ frontPaddr: null, backPaddr: null, size: 0, listId: 2 })
      expect(a.isEmpty()).toBe(true)
      expect(a.size()).toBe(0)
      const c = computeChanges(before, m.state)
      expect([...c.lists]).toEqual([0, 1])
      expect(c.slotCells.size + c.uniqueFrames.size + c.parking.size).toBe(0)
    }))

  it('push_back / push_front link the frame at the end, consume the handle and keep it owned (raw_count 1)', () =>
    bothModes((m) => {
      const l = LinkedList.new(m)
      const f5 = frame(m, 5)
      l.pushBack(f5)
      l.pushBack(frame(m, 6))
      const f7 = frame(m, 7)
      const before = m.state
      l.pushFront(f7)
      expect(pages(l)).toEqual([7, 5, 6])
      expect(l.size()).toBe(3)
      expect(f5.consumed).toBe(true)
      // exactly the new frame and its neighbour (the old front) changed, besides the handle and the list
      const c = computeChanges(before, m.state)
      expect([...c.slotCells].sort()).toEqual([5, 7])
      expect([...c.uniqueFrames]).toEqual([2])
      expect(c.parking.size + c.obligations.size).toBe(0)
      expect(slotOf(m.state, 7)).toEqual({ refCount: REF_COUNT_UNIQUE, storage: { kind: 'FrameLink', meta: meta(7), nextPaddr: 5 * PAGE, prevPaddr: null }, vtablePtr: 0, inList: 1 })
      expect(ownerOf(m.state, 7).rawCount).toBe(1)
      expect(isParked(m.state, 7)).toBe(false)
      expect(uniqueOwnerOf(m.state, 7)!.innerPerms).toEqual(slotOf(m.state, 7))
      expect(tableGet(m.state.uniqueFrames, 2)).toBeNull()
      expect(tableGet(m.state.lists, 0)).toEqual({ frontPaddr: 7 * PAGE, backPaddr: 6 * PAGE, size: 3, listId: 1 })
      // push_front = cursor_front_mut().insert_before(frame), which forgets it with into_raw
      const step = m.history.at(m.history.length - 1)
      expect(step.steps.map((s) => s.event)).toEqual([{ type: 'linked_list.cursor_mut.insert_before', list: 0, currentPaddr: 5 * PAGE, unique: 2 }])
      expect(step.steps[0]!.steps.map((s) => s.event.type)).toEqual(['unique_frame.into_raw'])
    }))

  it('pop_front / pop_back return the end frames as new handles with their plain metadata back', () =>
    bothModes((m) => {
      const l = LinkedList.new(m)
      for (const n of [5, 6, 7]) l.pushBack(frame(m, n))
      const before = m.state
      const f = l.popFront()!
      expect(f.startPaddr()).toBe(5 * PAGE)
      expect(f.meta()).toEqual(meta(5))
      const c = computeChanges(before, m.state)
      expect([...c.slotCells].sort()).toEqual([5, 6])
      expect(slotOf(m.state, 5)).toEqual({ refCount: REF_COUNT_UNIQUE, storage: { kind: 'Frame', meta: meta(5) }, vtablePtr: 0, inList: 0 })
      expect(ownerOf(m.state, 5).rawCount).toBe(0)
      expect(l.popBack()!.startPaddr()).toBe(7 * PAGE)
      expect(pages(l)).toEqual([6])
      expect(tableGet(m.state.lists, 0)).toEqual({ frontPaddr: 6 * PAGE, backPaddr: 6 * PAGE, size: 1, listId: 1 })
      expect(l.popBack()!.startPaddr()).toBe(6 * PAGE)
      expect(l.isEmpty()).toBe(true)
      const empty = m.state
      expect(l.popFront()).toBeNull()
      expect(l.popBack()).toBeNull()
      expect(m.state).toBe(empty)
    }))

  it('a frame taken from one list can be pushed onto another (in_list becomes that list\'s id)', () =>
    bothModes((m) => {
      const a = LinkedList.new(m)
      const b = LinkedList.new(m)
      a.pushBack(frame(m, 5))
      b.pushBack(a.popFront()!)
      expect(slotOf(m.state, 5).inList).toBe(2)
      expect(b.contains(5 * PAGE)).toBe(true)
      expect(a.contains(5 * PAGE)).toBe(false)
    }))
})

describe('CursorMut', () => {
  it('moves through the ghost position: back -> ghost -> front, front -> ghost -> back', () =>
    bothModes((m) => {
      const l = LinkedList.new(m)
      for (const n of [5, 6]) l.pushBack(frame(m, n))
      const c = l.cursorBackMut()
      expect(c.currentMeta()).toEqual(meta(6))
      c.moveNext()
      expect(c.currentPaddr()).toBeNull()
      expect(c.currentMeta()).toBeNull()
      c.moveNext()
      expect(c.currentPaddr()).toBe(5 * PAGE)
      c.movePrev()
      expect(c.currentPaddr()).toBeNull()
      c.movePrev()
      expect(c.currentPaddr()).toBe(6 * PAGE)
      expect(c.asList()).toBe(l)
    }))

  it('insert_before links before the cursor and keeps the cursor; at the ghost position it appends', () =>
    bothModes((m) => {
      const l = LinkedList.new(m)
      for (const n of [5, 6]) l.pushBack(frame(m, n))
      const c = l.cursorMutAt(6 * PAGE)!
      c.insertBefore(frame(m, 7))
      expect(c.currentPaddr()).toBe(6 * PAGE)
      expect(pages(l)).toEqual([5, 7, 6])
      c.moveNext()
      c.insertBefore(frame(m, 8))
      expect(c.currentPaddr()).toBeNull()
      expect(pages(l)).toEqual([5, 7, 6, 8])
      expect(l.size()).toBe(4)
    }))

  it('take_current returns the element and moves to the next; at the ghost position it returns null', () =>
    bothModes((m) => {
      const l = LinkedList.new(m)
      for (const n of [5, 6, 7]) l.pushBack(frame(m, n))
      const c = l.cursorMutAt(6 * PAGE)!
      const t = c.takeCurrent()!
      expect(m.history.at(m.history.length - 1).result).toEqual({ unique: 3, nextPaddr: 7 * PAGE })
      expect(t.startPaddr()).toBe(6 * PAGE)
      expect(c.currentPaddr()).toBe(7 * PAGE)
      expect(pages(l)).toEqual([5, 7])
      expect(c.takeCurrent()!.startPaddr()).toBe(7 * PAGE)
      expect(c.currentPaddr()).toBeNull()
      const before = m.state
      expect(c.takeCurrent()).toBeNull()
      expect(m.state).toBe(before)
      expect(tableGet(m.state.lists, 0)).toEqual({ frontPaddr: 5 * PAGE, backPaddr: 5 * PAGE, size: 1, listId: 1 })
    }))

  it('contains / cursorMutAt: only frames of this list; any other address is simply not contained', () =>
    bothModes((m) => {
      const l = LinkedList.new(m)
      l.pushBack(frame(m, 5))
      const other = frame(m, 6)
      expect(l.contains(5 * PAGE)).toBe(true)
      expect(l.contains(6 * PAGE)).toBe(false)
      expect(l.contains(5 * PAGE + 8)).toBe(false)
      expect(l.contains(1 << 30)).toBe(false)
      expect(l.cursorMutAt(6 * PAGE)).toBeNull()
      expect(l.cursorMutAt(5 * PAGE)!.currentMeta()).toEqual(meta(5))
      other.drop()
    }))

  it('a cursor whose element left the list panics (REQ-LIST-CURSOR-1), state unchanged', () =>
    bothModes((m) => {
      const l = LinkedList.new(m)
      for (const n of [5, 6]) l.pushBack(frame(m, n))
      const stale: LinkedListCursorMut = l.cursorFrontMut()
      l.popFront()!.drop()
      const before = m.state
      expect(panicRule(() => stale.currentMeta())).toBe('REQ-LIST-CURSOR-1')
      expect(panicRule(() => stale.takeCurrent())).toBe('REQ-LIST-CURSOR-1')
      expect(panicRule(() => m.dispatch({ type: 'linked_list.cursor_mut.take_current', list: 0, currentPaddr: 5 * PAGE }))).toBe('REQ-LIST-CURSOR-1')
      expect(m.state).toBe(before)
    }))
})

describe('LinkedList drop', () => {
  it('frees every frame front first (the back one is reused first) and removes the list', () =>
    bothModes((m) => {
      const l = LinkedList.new(m)
      for (const n of [5, 6, 7]) l.pushBack(frame(m, n))
      l.drop()
      expect(tableGet(m.state.lists, 0)).toBeNull()
      for (const n of [5, 6, 7]) {
        expect(slotOf(m.state, n).refCount).toBe(REF_COUNT_UNUSED)
        expect(isParked(m.state, n)).toBe(true)
        expect(uniqueOwnerOf(m.state, n)).toBeNull()
        expect(ownerOf(m.state, n).rawCount).toBe(0)
      }
      expect(freeStackTop(m.state)).toBe(7)
      const step = m.history.at(m.history.length - 1)
      expect(step.steps.map((s) => s.event.type)).toEqual([
        'linked_list.cursor_mut.take_current',
        'unique_frame.drop',
        'linked_list.cursor_mut.take_current',
        'unique_frame.drop',
        'linked_list.cursor_mut.take_current',
        'unique_frame.drop',
      ])
      expect(panicRule(() => l.size())).toBe('REQ-HANDLE-1')
      expect(panicRule(() => m.dispatch({ type: 'linked_list.pop_front', list: 0 }))).toBe('REQ-LIST-1')
      expect(unwrap(m.frames.allocFrame()).startPaddr()).toBe(7 * PAGE)
    }))
})

// ---- full and incremental checking agree -----------------------------------------------------

/** Restores slot `idx`'s cells (exec, ghost, unique owner) to their values in `s`. */
function restoreSlot(post: Snapshot, s: Snapshot, idx: number): Snapshot {
  return editSnapshot(post, (_d, t) => {
    t.metaSlots.set(idx, tableGet(s.metaSlots, idx))
    t.slotOwners.set(idx, tableGet(s.regions.slotOwners, idx))
    if (t.uniqueOwners.get(idx) !== null) t.uniqueOwners.set(idx, { ...t.uniqueOwners.get(idx)!, innerPerms: tableGet(s.regions.slotOwners, idx)!.innerPerms })
  })
}

/** Faulty reducers that break the links. */
const FAULTS: Record<string, AnyEventSpec> = {
  insertForgetsPrev: {
    ...insertBefore,
    reduce: (s: Snapshot, e: InsertBeforeEvent) => {
      const o = insertBefore.reduce(s, e)
      const list = tableGet(s.lists, e.list)!
      const next = e.currentPaddr
      const prev = next === null ? list.backPaddr : (slotOf(s, frameToIndex(next)).storage as { prevPaddr: number | null }).prevPaddr
      return prev === null ? o : { ...o, snapshot: restoreSlot(o.snapshot, s, frameToIndex(prev)) }
    },
  } as unknown as AnyEventSpec,
  takeForgetsNext: {
    ...takeCurrent,
    reduce: (s: Snapshot, e: TakeCurrentEvent) => {
      const o = takeCurrent.reduce(s, e)
      const next = o.result?.nextPaddr ?? null
      return next === null ? o : { ...o, snapshot: restoreSlot(o.snapshot, s, frameToIndex(next)) }
    },
  } as unknown as AnyEventSpec,
  /** Removes the list but leaves its frames linked: their `in_list` names a list that is gone. */
  dropLeavesMembers: {
    ...listDrop,
    reduce: (s: Snapshot, e: ListDropEvent) => ({ snapshot: editSnapshot(s, (_d, t) => t.lists.set(e.list, null)), result: null }),
  } as unknown as AnyEventSpec,
}

/** A deterministic pseudo-random list history (xorshift), run through the facade. */
function runHistory(seed: number, check: 'full' | 'incremental', variants: AnyEventSpec[]): string {
  const m = createModel({ check, physicalMemory: 1 << 22, variants })
  let x = seed | 1
  const rnd = (n: number): number => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) % n
  }
  const lists: LinkedList[] = []
  const loose: UniqueFrame[] = []
  let nextPage = 1
  try {
    for (let op = 0; op < 80; op++) {
      const k = rnd(9)
      if (k === 0 || lists.length === 0) lists.push(LinkedList.new(m))
      else if (k === 1 || loose.length === 0) loose.push(frame(m, nextPage++))
      else {
        const l = lists[rnd(lists.length)]!
        if (k === 2) l.pushBack(loose.pop()!)
        else if (k === 3) l.pushFront(loose.pop()!)
        else if (k === 4) {
          const f = rnd(2) === 0 ? l.popFront() : l.popBack()
          if (f) loose.push(f)
        } else if (k === 5 || k === 6) {
          const c: LinkedListCursorMut = l.cursorFrontMut()
          for (let i = rnd(4); i > 0; i--) c.moveNext()
          if (k === 5) c.insertBefore(loose.pop()!)
          else {
            const f = c.takeCurrent()
            if (f) loose.push(f)
          }
        } else if (k === 7) loose.splice(rnd(loose.length), 1)[0]!.drop()
        else if (lists.length > 1) lists.splice(lists.indexOf(l), 1)[0]!.drop()
      }
    }
  } catch (e) {
    // a faulty reducer can make a later call invalid; both modes stop at the same place
    if (!isOstdPanic(e)) throw e
  }
  return JSON.stringify(m.history.violations())
}

describe('full and incremental checking agree on list histories', () => {
  it('clean histories have no violations', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const full = runHistory(seed, 'full', [])
      expect(full).toBe('[]')
      expect(runHistory(seed, 'incremental', [])).toBe(full)
    }
  })

  for (const [name, fault] of Object.entries(FAULTS)) {
    it(`with a faulty reducer that breaks the links (${name})`, () => {
      let fired = 0
      for (let seed = 1; seed <= 12; seed++) {
        const full = runHistory(seed, 'full', [fault])
        expect(runHistory(seed, 'incremental', [fault])).toBe(full)
        if (full !== '[]') fired++
      }
      expect(fired).toBeGreaterThan(0)
    })
  }
})
