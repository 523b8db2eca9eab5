/**
 * `UniqueFrame` (reducers/frame/unique.ts, src/api/unique_frame.ts): what each call returns and
 * exactly what it changes, in both checking modes without violations.
 */
import { describe, expect, it } from 'vitest'
import { frameToMeta, metaAddr, PAGE_SIZE, PageUsage, REF_COUNT_UNIQUE, REF_COUNT_UNUSED } from '../../src/arch/constants.js'
import { OstdPanic } from '../../src/arch/errors.js'
import { createModel } from '../../src/api/model.js'
import { unwrap } from '../../src/api/result.js'
import { UniqueFrame } from '../../src/api/unique_frame.js'
import { computeChanges, type ChangeSet } from '../../src/check/changes.js'
import { freeStackTop } from '../../reducers/frame/allocator.js'
import { isParked, obligationsOf, ownerOf, slotOf, uniqueOwnerOf } from '../../src/model/slots.js'
import { UNIT_META, type Snapshot } from '../../src/model/snapshot.js'
import { tableGet } from '../../src/model/table.js'
import { panicRule, bothModes } from '../util.js'

const META = { type: 'PageCacheMeta', untyped: false, value: { dirty: false } }

/** The non-empty parts of what changed between two snapshots. */
function changed(a: Snapshot, b: Snapshot): Record<string, number[]> {
  const c = computeChanges(a, b)
  const out: Record<string, number[]> = {}
  for (const k of ['slotCells', 'parking', 'obligations', 'uniqueOwners', 'memory', 'frames', 'segments', 'uniqueFrames', 'lists'] as const) {
    const set = (c as ChangeSet)[k]
    if (set.size > 0) out[k] = [...set].sort((x, y) => x - y)
  }
  return out
}

describe('UniqueFrame::from_unused', () => {
  it('returns a new handle and changes exactly the slot, its parking, its owner and the handle registry', () =>
    bothModes((m) => {
      const before = m.state
      const u = unwrap(UniqueFrame.fromUnused(m, 0x5000, META))
      expect(u.id).toBe(0)
      expect(m.history.at(0).result).toEqual({ ok: true, value: { unique: 0, paddr: 0x5000 } })
      expect(changed(before, m.state)).toEqual({ slotCells: [5], parking: [5], uniqueOwners: [5], uniqueFrames: [0] })
      expect(slotOf(m.state, 5)).toEqual({ refCount: REF_COUNT_UNIQUE, storage: { kind: 'Frame', meta: META }, vtablePtr: 0, inList: 0 })
      expect(ownerOf(m.state, 5)).toMatchObject({ usage: PageUsage.Frame, rawCount: 0, innerPerms: slotOf(m.state, 5) })
      expect(uniqueOwnerOf(m.state, 5)).toEqual({ slotIndex: 5, metaPermAddr: metaAddr(5), innerPerms: slotOf(m.state, 5) })
      expect(isParked(m.state, 5)).toBe(false)
      expect(m.state.counters.unique).toBe(1)
      expect(m.state.allocator).toBe(before.allocator)
      // the internal step is get_from_unused with as_unique
      expect(m.history.at(0).steps.map((s) => s.event)).toEqual([{ type: 'meta_slot.get_from_unused', paddr: 0x5000, meta: META, asUnique: true }])
    }))

  it('returns Err for a misaligned or out-of-range address and changes nothing', () =>
    bothModes((m) => {
      const before = m.state
      expect(UniqueFrame.fromUnused(m, 0x5008)).toEqual({ ok: false, error: 'NotAligned' })
      expect(UniqueFrame.fromUnused(m, 1 << 22)).toEqual({ ok: false, error: 'OutOfBound' })
      expect(m.state).toBe(before)
    }))

  it('panics on a slot used before (usage stays Frame after a drop), leaving the state unchanged', () =>
    bothModes((m) => {
      unwrap(UniqueFrame.fromUnused(m, 0x5000)).drop()
      const before = m.state
      const length = m.history.length
      expect(panicRule(() => UniqueFrame.fromUnused(m, 0x5000))).toBe('REQ-UNIQUE-FROMUNUSED-2')
      expect(m.state).toBe(before)
      expect(m.history.length).toBe(length)
    }))

  it('panics on a slot held by a live UniqueFrame (REQ-UNIQUE-FROMUNUSED-1), not Err(Unique)', () =>
    bothModes((m) => {
      UniqueFrame.fromUnused(m, 0x5000)
      expect(panicRule(() => UniqueFrame.fromUnused(m, 0x5000))).toBe('REQ-UNIQUE-FROMUNUSED-1')
    }))
})

describe('reads', () => {
  it('start_paddr, level, size, meta, meta_mut return the frame\'s values and change nothing', () =>
    bothModes((m) => {
      const u = unwrap(UniqueFrame.fromUnused(m, 0x7000, META))
      const before = m.state
      expect(u.startPaddr()).toBe(0x7000)
      expect(u.level()).toBe(1)
      expect(u.size()).toBe(PAGE_SIZE)
      expect(u.meta()).toEqual(META)
      expect(u.metaMut().metaAddr).toBe(frameToMeta(0x7000))
      expect(m.state).toBe(before)
    }))
})

describe('writes', () => {
  it('meta_mut().write sets the value in the slot, its owner and the unique owner, keeping the type', () =>
    bothModes((m) => {
      const u = unwrap(UniqueFrame.fromUnused(m, 0x5000, META))
      const before = m.state
      u.metaMut().write({ dirty: true })
      expect(u.meta()).toEqual({ ...META, value: { dirty: true } })
      expect(changed(before, m.state)).toEqual({ slotCells: [5], uniqueOwners: [5] })
      expect(uniqueOwnerOf(m.state, 5)!.innerPerms).toEqual(slotOf(m.state, 5))
      expect(ownerOf(m.state, 5).innerPerms).toEqual(slotOf(m.state, 5))
    }))

  it('repurpose replaces the metadata under the same id and consumes the old handle object', () =>
    bothModes((m) => {
      const u = unwrap(UniqueFrame.fromUnused(m, 0x5000, META))
      const v = u.repurpose(UNIT_META)
      expect(v.id).toBe(u.id)
      expect(v).not.toBe(u)
      expect(v.meta()).toEqual(UNIT_META)
      expect(slotOf(m.state, 5).refCount).toBe(REF_COUNT_UNIQUE)
      expect(panicRule(() => u.meta())).toBe('REQ-HANDLE-1')
    }))

  it('transmute changes no state and keeps the id', () =>
    bothModes((m) => {
      const u = unwrap(UniqueFrame.fromUnused(m, 0x5000))
      const before = m.state
      const t = u.transmute()
      expect(t.id).toBe(u.id)
      expect(m.state).toBe(before)
    }))
})

describe('into_raw / from_raw', () => {
  it('into_raw returns the paddr, removes the handle, keeps the owner and un-parked slot, raw_count 1', () =>
    bothModes((m) => {
      const u = unwrap(UniqueFrame.fromUnused(m, 0x5000))
      const before = m.state
      expect(u.intoRaw()).toBe(0x5000)
      expect(changed(before, m.state)).toEqual({ slotCells: [5], uniqueFrames: [0] })
      expect(tableGet(m.state.uniqueFrames, 0)).toBeNull()
      expect(ownerOf(m.state, 5).rawCount).toBe(1)
      expect(uniqueOwnerOf(m.state, 5)).toBe(uniqueOwnerOf(before, 5))
      expect(isParked(m.state, 5)).toBe(false)
      expect(panicRule(() => u.startPaddr())).toBe('REQ-HANDLE-1')
    }))

  it('from_raw revives the forgotten frame under a new id, raw_count back to 0', () =>
    bothModes((m) => {
      const pa = unwrap(UniqueFrame.fromUnused(m, 0x5000)).intoRaw()
      const before = m.state
      const v = UniqueFrame.fromRaw(m, pa)
      expect(v.id).toBe(1)
      expect(changed(before, m.state)).toEqual({ slotCells: [5], uniqueFrames: [1] })
      expect(ownerOf(m.state, 5).rawCount).toBe(0)
      expect(v.startPaddr()).toBe(0x5000)
    }))

  it('from_raw of an address that was not forgotten panics', () =>
    bothModes((m) => {
      UniqueFrame.fromUnused(m, 0x5000)
      expect(panicRule(() => UniqueFrame.fromRaw(m, 0x5000))).toBe('REQ-UNIQUE-FROMRAW-2')
      expect(panicRule(() => UniqueFrame.fromRaw(m, 0x6000))).toBe('REQ-UNIQUE-FROMRAW-2')
    }))
})

describe('drop', () => {
  it('frees the slot (usage stays Frame), re-parks it, removes owner and handle, and returns the frame to the allocator', () =>
    bothModes((m) => {
      const u = unwrap(UniqueFrame.fromUnused(m, 0x9000))
      const before = m.state
      u.drop()
      expect(changed(before, m.state)).toEqual({ slotCells: [9], parking: [9], uniqueOwners: [9], uniqueFrames: [0] })
      expect(slotOf(m.state, 9)).toEqual({ refCount: REF_COUNT_UNUSED, storage: null, vtablePtr: null, inList: 0 })
      expect(ownerOf(m.state, 9).usage).toBe(PageUsage.Frame)
      expect(isParked(m.state, 9)).toBe(true)
      expect(freeStackTop(m.state)).toBe(9)
      // the steps: drop_last_in_place on a parked slot
      expect(m.history.at(1).steps.map((s) => s.event.type)).toEqual(['meta_slot.drop_last_in_place'])
      // LIFO: the allocator hands the frame out next, as a shared Frame
      expect(unwrap(m.frames.allocFrame()).startPaddr()).toBe(0x9000)
    }))

  it('a dropped handle cannot be dropped again', () =>
    bothModes((m) => {
      const u = unwrap(UniqueFrame.fromUnused(m, 0x9000))
      u.drop()
      expect(panicRule(() => u.drop())).toBe('REQ-HANDLE-1')
      expect(panicRule(() => m.dispatch({ type: 'unique_frame.drop', unique: 0 }))).toBe('REQ-EMB-UNIQUEDROP-1')
    }))
})

describe('conversions with Frame', () => {
  it('into_shared: rc 1, re-parked, the owner gone, one Frame handle and one obligation', () =>
    bothModes((m) => {
      const u = unwrap(UniqueFrame.fromUnused(m, 0x5000, META))
      const before = m.state
      const f = u.intoShared()
      expect(changed(before, m.state)).toEqual({ slotCells: [5], parking: [5], obligations: [5], uniqueOwners: [5], frames: [0], uniqueFrames: [0] })
      expect(f.referenceCount()).toBe(1)
      expect(f.meta()).toEqual(META)
      expect(isParked(m.state, 5)).toBe(true)
      expect(obligationsOf(m.state, 5)).toBe(1)
      f.clone().drop()
      f.drop()
      expect(slotOf(m.state, 5).refCount).toBe(REF_COUNT_UNUSED)
    }))

  it('try_from_shared of the sole reference: Ok, the Frame consumed, its obligation redeemed, the slot un-parked', () =>
    bothModes((m) => {
      const f = unwrap(m.frames.allocFrame())
      const before = m.state
      const u = unwrap(UniqueFrame.tryFromShared(f))
      expect(changed(before, m.state)).toEqual({ slotCells: [0], parking: [0], obligations: [0], uniqueOwners: [0], frames: [0], uniqueFrames: [0] })
      expect(slotOf(m.state, 0).refCount).toBe(REF_COUNT_UNIQUE)
      expect(obligationsOf(m.state, 0)).toBe(0)
      expect(f.consumed).toBe(true)
      expect(u.startPaddr()).toBe(0)
      u.drop()
    }))

  it('try_from_shared with another reference: Err gives the same, still live, Frame back; nothing changes', () =>
    bothModes((m) => {
      const f = unwrap(m.frames.allocFrame())
      const g = f.clone()
      const before = m.state
      const r = UniqueFrame.tryFromShared(f)
      expect(r.ok).toBe(false)
      expect(!r.ok && r.error).toBe(f)
      expect(f.consumed).toBe(false)
      expect(m.state).toBe(before)
      expect(m.history.at(m.history.length - 1).result).toEqual({ ok: false, error: { frame: f.id } })
      f.drop()
      g.drop()
    }))

  it('a panic is an OstdPanic naming the rule', () => {
    const m = createModel()
    expect(() => m.dispatch({ type: 'unique_frame.into_shared', unique: 3 })).toThrow(OstdPanic)
    expect(panicRule(() => m.dispatch({ type: 'unique_frame.into_shared', unique: 3 }))).toBe('REQ-EMB-FROMUNIQUE-1')
  })
})
