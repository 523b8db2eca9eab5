/**
 * Page-table cursors (behaviour.md §2.5 items 1–13, §2.6 `unmap`): creation with its errors and the
 * guard node, the locks a cursor holds, virt_addr / query / next / jump / find_next,
 * `CursorMut::map` with its panics, replacements, splits and stray page tables, `take_next`,
 * `protect_next` and `unmap` (leaves, stray sub-trees with their frame counts, huge pages split
 * when only partly in the window) — on the user and untracked configurations (and kernel cases),
 * 4 KiB / 2 MiB / 1 GiB pages. Every history must be clean; bad input panics or errs with the
 * state unchanged.
 */
import { describe, expect, it } from 'vitest'
import { frameToIndex, PAGE_SIZE, pageSize, REF_COUNT_UNUSED } from '../../src/arch/constants.js'
import { newUser, PageFlags } from '../../src/arch/page_prop.js'
import { isPresent } from '../../src/arch/pte.js'
import { readPte } from '../../src/model/memory.js'
import { createModel, type Model } from '../../src/api/model.js'
import { cursorAt } from '../../src/model/pt_cursor.js'
import { nodeOwnerAt } from '../../src/model/spec/page_table.js'
import { ownerOf, slotOf } from '../../src/model/slots.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { tableForEach, tableGet, tableKeys } from '../../src/model/table.js'
import type { ModelEvent } from '../../reducers/types.js'
import { panicRule } from '../util.js'

const RW = newUser(PageFlags.RW)
const RX = newUser(PageFlags.RX)
const K4 = PAGE_SIZE
const M2 = pageSize(2)
const G1 = pageSize(3)

type Check = 'full' | 'incremental'

/** Runs `body` on a fresh 16 MiB model in each mode and requires a clean history. */
function inModes(modes: readonly Check[], body: (m: Model) => void): void {
  for (const check of modes) {
    const m = createModel({ check, physicalMemory: 1 << 24 })
    body(m)
    expect(m.history.violations()).toEqual([])
  }
}
const BOTH: readonly Check[] = ['full', 'incremental']
const INC: readonly Check[] = ['incremental']

function newPt(m: Model, config: 'user' | 'untracked' = 'user'): number {
  return m.call<{ pageTable: number }>({ type: 'page_table.new', config }).pageTable
}

function open(m: Model, pageTable: number, start: number | string, end: number | string, mut = true): number {
  const r = m.call<{ ok: boolean; value: { cursor: number } }>({ type: mut ? 'page_table.cursor_mut' : 'page_table.cursor', pageTable, vaStart: start, vaEnd: end })
  expect(r.ok).toBe(true)
  return r.value.cursor
}

function frame(m: Model): { frame: number; paddr: number } {
  return m.call<{ value: { frame: number; paddr: number } }>({ type: 'frame_alloc.alloc_frame' }).value
}

function map(m: Model, cursor: number, item: object): { ok: boolean; value?: null; error?: any } {
  return m.call({ type: 'cursor_mut.map', cursor, item })
}

function va(m: Model, cursor: number): number | string {
  return m.call({ type: 'cursor.virt_addr', cursor })
}

/** Dispatching `e` panics with `rule`, and state and history are exactly unchanged. */
function panicsWith(m: Model, e: ModelEvent, rule: string): void {
  const before = m.state
  const length = m.history.length
  expect(panicRule(() => m.dispatch(e))).toBe(rule)
  expect(m.state).toBe(before)
  expect(m.history.length).toBe(length)
}

/** Node slots of the owner tree. */
function nodes(s: Snapshot): number[] {
  return tableKeys(s.pt.owners)
}

function lockByte(s: Snapshot, slot: number): number {
  const st = slotOf(s, slot).storage
  return st?.kind === 'PTNode' ? st.lock : -1
}

function lockedNodes(s: Snapshot): number[] {
  return nodes(s).filter((n) => lockByte(s, n) === 1)
}

function rootSlot(m: Model, pageTable: number): number {
  return tableGet(m.state.pt.tables, pageTable)!.rootPaddr / PAGE_SIZE
}

// ---- creation ------------------------------------------------------------------------------

describe('creation (§2.5.1): errors in OSTD order, nothing changes', () => {
  it('InvalidVaddrRange for empty, 0..0, reversed and out-of-range ranges; then UnalignedVaddr', () => {
    inModes(BOTH, (m) => {
      const pt = newPt(m)
      const cases: Array<[number | string, number | string, object]> = [
        [0, 0, { kind: 'InvalidVaddrRange', start: 0, end: 0 }],
        [0x2000, 0x2000, { kind: 'InvalidVaddrRange', start: 0x2000, end: 0x2000 }],
        [0x3000, 0x2000, { kind: 'InvalidVaddrRange', start: 0x3000, end: 0x2000 }],
        [0, 2 ** 47 + K4, { kind: 'InvalidVaddrRange', start: 0, end: 2 ** 47 + K4 }],
        // out of range and unaligned: the range check comes first
        [0x1001, 2 ** 48, { kind: 'InvalidVaddrRange', start: 0x1001, end: 2 ** 48 }],
        [0x1001, 0x3000, { kind: 'UnalignedVaddr' }],
        [0x1000, 0x3001, { kind: 'UnalignedVaddr' }],
      ]
      for (const mut of [false, true]) {
        for (const [start, end, error] of cases) {
          const before = m.state
          const r = m.call({ type: mut ? 'page_table.cursor_mut' : 'page_table.cursor', pageTable: pt, vaStart: start, vaEnd: end })
          expect(r).toEqual({ ok: false, error })
          expect(m.state).toBe(before)
        }
      }
      // the page table accepts a range ending at 2^47 (MAX_USERSPACE_VADDR is one page lower)
      expect(open(m, pt, 2 ** 47 - K4, 2 ** 47)).toBe(0)
    })
  })

  it('descends to the guard node, allocating missing nodes; the cursor starts at range.start', () => {
    inModes(BOTH, (m) => {
      const pt = newPt(m)
      const root = rootSlot(m, pt)
      const c = open(m, pt, 0x1000, 0x2000)
      const cur = cursorAt(m.state, c)!
      // a one-page range: L3, L2 and L1 allocated; the guard node is the level-1 node
      expect(nodes(m.state).length).toBe(4)
      expect([cur.level, cur.guardLevel, cur.va, cur.kind]).toEqual([1, 1, 0x1000, 'CursorMut'])
      expect(va(m, c)).toBe(0x1000)
      m.call({ type: 'cursor.drop', cursor: c })
      // [0, 4M) spans two level-2 entries: the level-2 node is the guard, nothing new is allocated
      const c2 = open(m, pt, 0, 4 * M2 / 2)
      expect(cursorAt(m.state, c2)!.guardLevel).toBe(2)
      expect(nodes(m.state).length).toBe(4)
      m.call({ type: 'cursor.drop', cursor: c2 })
      expect(cursorAt(m.state, c2)).toBe(null)
      expect(tableGet(m.state.pt.owners, root)!.level).toBe(4)
    })
  })

  it('a whole root entry is one entry: the level-3 node is the guard (dfs over its 512 entries)', () => {
    inModes(INC, (m) => {
      const pt = newPt(m)
      const c3 = open(m, pt, 0, pageSize(4), false)
      expect(cursorAt(m.state, c3)!.guardLevel).toBe(3)
      expect(cursorAt(m.state, c3)!.owner.continuations[3]!.slot).toBe(rootSlot(m, pt))
      m.call({ type: 'cursor.drop', cursor: c3 })
      // the whole user half: the root is the guard node
      const c4 = open(m, pt, 0, 2 ** 47, false)
      expect(cursorAt(m.state, c4)!.guardLevel).toBe(4)
      expect(lockedNodes(m.state).length).toBe(2)
    })
  })

  it('a huge leaf stops the descent (untracked, 1 GiB)', () => {
    inModes(BOTH, (m) => {
      const pt = newPt(m, 'untracked')
      const c = open(m, pt, 0, 2 * G1)
      expect(map(m, c, { pa: G1, level: 3, prop: RW })).toEqual({ ok: true, value: null })
      m.call({ type: 'cursor.drop', cursor: c })
      const c2 = open(m, pt, K4, 2 * K4, false)
      expect([cursorAt(m.state, c2)!.guardLevel, cursorAt(m.state, c2)!.level]).toEqual([3, 3])
      expect(m.call({ type: 'cursor.query', cursor: c2 })).toEqual({ ok: true, value: [{ start: 0, end: G1 }, { pa: G1, level: 3, prop: RW }] })
    })
  })

  it('holds the covered sub-tree: the guard node in Guards, the nodes below it locked without guards; drop releases all', () => {
    inModes(BOTH, (m) => {
      const pt = newPt(m)
      // two level-1 nodes under level-2 entries 0 and 1, made by a first cursor
      const c0 = open(m, pt, 0, 2 * M2)
      map(m, c0, { frame: frame(m).frame, prop: RW })
      m.call({ type: 'cursor.jump', cursor: c0, va: M2 })
      map(m, c0, { frame: frame(m).frame, prop: RW })
      m.call({ type: 'cursor.drop', cursor: c0 })
      expect(lockedNodes(m.state)).toEqual([])
      const c = open(m, pt, M2 - K4, M2 + K4, false)
      const cur = cursorAt(m.state, c)!
      const guard = cur.owner.continuations[1]!.slot
      expect(cur.guardLevel).toBe(2)
      expect(tableKeys(m.state.pt.locks)).toEqual([guard])
      const l1 = nodes(m.state).filter((n) => nodeOwnerAt(m.state, n)!.level === 1)
      expect(lockedNodes(m.state).sort()).toEqual([guard, ...l1].sort())
      expect(tableKeys(cur.locked).sort()).toEqual([guard, ...l1].sort())
      expect(m.state.pt.guards.count).toBe(1)
      m.call({ type: 'cursor.drop', cursor: c })
      expect(lockedNodes(m.state)).toEqual([])
      expect([m.state.pt.locks.count, m.state.pt.guards.count, m.state.pt.entries.count, m.state.pt.cursors.count]).toEqual([0, 0, 0, 0])
    })
  })

  it('overlapping live cursors panic (OSTD would block), state unchanged; disjoint ones coexist; dropping releases the range', () => {
    inModes(BOTH, (m) => {
      const pt = newPt(m)
      const a = open(m, pt, 0, 0x4000)
      panicsWith(m, { type: 'page_table.cursor', pageTable: pt, vaStart: 0x3000, vaEnd: 0x5000 }, 'REQ-PTCURSOR-NEW-1')
      panicsWith(m, { type: 'page_table.cursor_mut', pageTable: pt, vaStart: 0, vaEnd: 2 * M2 }, 'REQ-PTCURSOR-NEW-1')
      // disjoint but inside a's guard node (level 1): OSTD waits for that node's lock too
      panicsWith(m, { type: 'page_table.cursor', pageTable: pt, vaStart: 0x8000, vaEnd: 0x9000 }, 'REQ-PTCURSOR-NEW-1')
      // disjoint, under another level-1 node: fine
      const b = open(m, pt, M2, M2 + K4)
      m.call({ type: 'cursor.drop', cursor: a })
      const c = open(m, pt, 0x3000, 0x5000, false)
      m.call({ type: 'cursor.drop', cursor: b })
      m.call({ type: 'cursor.drop', cursor: c })
      // a guard held by code blocks too
      const root = rootSlot(m, pt)
      const { guard } = m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr: root * PAGE_SIZE })
      panicsWith(m, { type: 'page_table.cursor', pageTable: pt, vaStart: 0, vaEnd: pageSize(4) * 2 }, 'REQ-PTCURSOR-NEW-1')
      m.call({ type: 'page_table_guard.drop', guard })
      // a node of the tree marked stray: OSTD's descent gives up on it and retries for ever
      const stray = m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr: root * PAGE_SIZE }).guard
      m.call({ type: 'page_table_guard.stray_mut.write', guard: stray, value: true })
      m.call({ type: 'page_table_guard.drop', guard: stray })
      panicsWith(m, { type: 'page_table.cursor', pageTable: pt, vaStart: 0, vaEnd: pageSize(4) * 2 }, 'REQ-PTCURSOR-NEW-2')
      // below the root (a level-1 node exists under [0, 2 MiB) now): the root is not locked, creation is fine
      const e = open(m, pt, 0x3000, 0x4000, false)
      m.call({ type: 'cursor.drop', cursor: e })
      const unmark = m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr: root * PAGE_SIZE }).guard
      m.call({ type: 'page_table_guard.stray_mut.write', guard: unmark, value: false })
      m.call({ type: 'page_table_guard.drop', guard: unmark })
      // a dropped page table cannot be dropped while a cursor borrows it
      const d = open(m, pt, 0, K4)
      panicsWith(m, { type: 'page_table.drop', pageTable: pt }, 'REQ-PTCURSOR-BORROW-1')
      m.call({ type: 'cursor.drop', cursor: d })
      m.call({ type: 'page_table.drop', pageTable: pt })
    })
  })

  it('bad handles are refused with REQ-HANDLE-1', () => {
    inModes(BOTH, (m) => {
      panicsWith(m, { type: 'page_table.cursor', pageTable: 7, vaStart: 0, vaEnd: K4 }, 'REQ-HANDLE-1')
      for (const type of ['cursor.drop', 'cursor.next']) panicsWith(m, { type, cursor: 3 }, 'REQ-HANDLE-1')
      // The embedding's Ops VirtAddr / Query report their own id-existence rule (`op_pre`).
      panicsWith(m, { type: 'cursor.virt_addr', cursor: 3 }, 'REQ-EMB-VIRTADDR-1')
      panicsWith(m, { type: 'cursor.query', cursor: 3 }, 'REQ-EMB-QUERY-1')
    })
  })
})

// ---- query / next ----------------------------------------------------------------------------

describe('virt_addr, query and next (§2.5.3–5)', () => {
  it('query returns the slot at the leaf level with a clone of the item and does not move; at the end Err(InvalidVaddr)', () => {
    inModes(BOTH, (m) => {
      const pt = newPt(m)
      const c = open(m, pt, 0, 2 * M2)
      // nothing mapped: the absent level-2 entry's whole range
      expect(m.call({ type: 'cursor.query', cursor: c })).toEqual({ ok: true, value: [{ start: 0, end: M2 }, null] })
      const f = frame(m)
      m.call({ type: 'cursor.jump', cursor: c, va: 0x5000 })
      expect(map(m, c, { frame: f.frame, prop: RW })).toEqual({ ok: true, value: null })
      expect(va(m, c)).toBe(0x6000)
      const idx = frameToIndex(f.paddr)
      expect(slotOf(m.state, idx).refCount).toBe(1)
      m.call({ type: 'cursor.jump', cursor: c, va: 0x5000 })
      const r = m.call<{ ok: true; value: [object, { frame: number; prop: object }] }>({ type: 'cursor.query', cursor: c })
      expect(r.value[0]).toEqual({ start: 0x5000, end: 0x6000 })
      expect(r.value[1].prop).toEqual(RW)
      expect(tableGet(m.state.frames, r.value[1].frame)!.paddr).toBe(f.paddr)
      expect(slotOf(m.state, idx).refCount).toBe(2)
      expect(va(m, c)).toBe(0x5000)
      // an empty 4 KiB slot of the level-1 node
      m.call({ type: 'cursor.jump', cursor: c, va: 0x7000 })
      expect(m.call({ type: 'cursor.query', cursor: c })).toEqual({ ok: true, value: [{ start: 0x7000, end: 0x8000 }, null] })
      m.call({ type: 'frame.drop', frame: r.value[1].frame })
      // at the end: Err, nothing changes
      const c2 = open(m, pt, G1, G1 + K4, false)
      m.call({ type: 'cursor.next', cursor: c2 })
      const before = m.state
      expect(m.call({ type: 'cursor.query', cursor: c2 })).toEqual({ ok: false, error: { kind: 'InvalidVaddr', va: G1 + K4 } })
      expect(m.call({ type: 'cursor.next', cursor: c2 })).toBe(null)
      expect(m.state).toBe(before)
    })
  })

  it('a query inside a 2 MiB leaf returns the whole 2 MiB range (untracked)', () => {
    inModes(BOTH, (m) => {
      const pt = newPt(m, 'untracked')
      const c = open(m, pt, 0, 4 * M2)
      m.call({ type: 'cursor.jump', cursor: c, va: M2 })
      expect(map(m, c, { pa: 4 * M2, level: 2, prop: RX })).toEqual({ ok: true, value: null })
      m.call({ type: 'cursor.jump', cursor: c, va: M2 + 0x7000 })
      expect(m.call({ type: 'cursor.query', cursor: c })).toEqual({ ok: true, value: [{ start: M2, end: 2 * M2 }, { pa: 4 * M2, level: 2, prop: RX }] })
      expect(va(m, c)).toBe(M2 + 0x7000)
      // next from the middle of the leaf: the leaf, then the cursor at its end
      expect(m.call({ type: 'cursor.next', cursor: c })).toEqual([{ start: M2, end: 2 * M2 }, { pa: 4 * M2, level: 2, prop: RX }])
      expect(va(m, c)).toBe(2 * M2)
    })
  })

  it('next iterates slot by slot and yields null at the end', () => {
    inModes(INC, (m) => {
      const pt = newPt(m, 'untracked')
      const c = open(m, pt, 0, 2 * M2)
      m.call({ type: 'cursor.jump', cursor: c, va: 0x2000 })
      map(m, c, { pa: 0x10_0000, level: 1, prop: RW })
      m.call({ type: 'cursor.jump', cursor: c, va: M2 })
      map(m, c, { pa: 4 * M2, level: 2, prop: RW })
      m.call({ type: 'cursor.jump', cursor: c, va: 0 })
      const seen: string[] = []
      for (;;) {
        const r = m.call<[{ start: number; end: number }, unknown] | null>({ type: 'cursor.next', cursor: c })
        if (r === null) break
        seen.push(`${r[0].start.toString(16)}-${r[0].end.toString(16)}:${r[1] === null ? '-' : 'x'}`)
      }
      expect(seen.slice(0, 4)).toEqual(['0-1000:-', '1000-2000:-', '2000-3000:x', '3000-4000:-'])
      expect(seen.length).toBe(512 + 1)
      expect(seen[seen.length - 1]).toBe('200000-400000:x')
      expect(va(m, c)).toBe(2 * M2)
    })
  })
})

// ---- jump ------------------------------------------------------------------------------------

describe('jump (§2.5.6)', () => {
  it('unaligned panics; outside the range (the end included) is Err; backwards and from the end are fine', () => {
    inModes(BOTH, (m) => {
      const pt = newPt(m)
      for (const mut of [false, true]) {
        const c = open(m, pt, 0x10_0000, 0x10_4000, mut)
        panicsWith(m, { type: 'cursor.jump', cursor: c, va: 0x10_1001 }, 'REQ-CURSOR-JUMP-3')
        for (const bad of [0x10_4000, 0x0f_f000, 0x20_0000]) {
          const before = m.state
          expect(m.call({ type: 'cursor.jump', cursor: c, va: bad })).toEqual({ ok: false, error: { kind: 'InvalidVaddr', va: bad } })
          expect(m.state).toBe(before)
        }
        expect(m.call({ type: 'cursor.jump', cursor: c, va: 0x10_3000 })).toEqual({ ok: true, value: null })
        expect(va(m, c)).toBe(0x10_3000)
        m.call({ type: 'cursor.next', cursor: c })
        expect(va(m, c)).toBe(0x10_4000)
        expect(m.call({ type: 'cursor.jump', cursor: c, va: 0x10_0000 })).toEqual({ ok: true, value: null })
        expect(va(m, c)).toBe(0x10_0000)
        m.call({ type: 'cursor.drop', cursor: c })
      }
    })
  })
})

// ---- find_next -------------------------------------------------------------------------------

describe('find_next (§2.5.7)', () => {
  it('panics on an unaligned length or a window past the end (per cursor kind); state unchanged', () => {
    inModes(BOTH, (m) => {
      const pt = newPt(m)
      const c = open(m, pt, 0, 0x4000, false)
      panicsWith(m, { type: 'cursor.find_next', cursor: c, len: 0x800 }, 'REQ-CURSOR-FINDNEXT-4')
      panicsWith(m, { type: 'cursor.find_next', cursor: c, len: 0x5000 }, 'REQ-CURSOR-FINDNEXT-4')
      m.call({ type: 'cursor.drop', cursor: c })
      const d = open(m, pt, 0, 0x4000)
      panicsWith(m, { type: 'cursor.find_next', cursor: d, len: 0x5000 }, 'REQ-CURSORMUT-FINDNEXT-4')
    })
  })

  it('finds the first leaf, leaves the cursor there; None leaves it at or past the window end; never splits', () => {
    inModes(INC, (m) => {
      const pt = newPt(m, 'untracked')
      const c = open(m, pt, 0, 4 * M2)
      m.call({ type: 'cursor.jump', cursor: c, va: 0x9000 })
      map(m, c, { pa: 0x40_0000, level: 1, prop: RW })
      m.call({ type: 'cursor.jump', cursor: c, va: 2 * M2 })
      map(m, c, { pa: 4 * M2, level: 2, prop: RW })
      m.call({ type: 'cursor.jump', cursor: c, va: 0 })
      expect(m.call({ type: 'cursor.find_next', cursor: c, len: 0x9000 })).toBe(null)
      expect(va(m, c)).toBe(0x9000)
      m.call({ type: 'cursor.jump', cursor: c, va: 0 })
      expect(m.call({ type: 'cursor.find_next', cursor: c, len: 4 * M2 })).toBe(0x9000)
      expect(va(m, c)).toBe(0x9000)
      m.call({ type: 'cursor.next', cursor: c })
      // the next leaf is the 2 MiB one; a window ending inside it still finds it, unsplit
      const owners = m.state.pt.owners
      expect(m.call({ type: 'cursor.find_next', cursor: c, len: 2 * M2 - 0xa000 + K4 })).toBe(2 * M2)
      expect(m.state.pt.owners).toBe(owners)
      // from inside the leaf: the cursor's own address
      m.call({ type: 'cursor.jump', cursor: c, va: 2 * M2 + 0x3000 })
      expect(m.call({ type: 'cursor.find_next', cursor: c, len: K4 })).toBe(2 * M2 + 0x3000)
      // len 0 at the end: None
      m.call({ type: 'cursor.jump', cursor: c, va: 3 * M2 })
      m.call({ type: 'cursor.next', cursor: c })
      expect(m.call({ type: 'cursor.find_next', cursor: c, len: 0 })).toBe(null)
    })
  })
})

// ---- map -------------------------------------------------------------------------------------

describe('CursorMut::map (§2.5.8)', () => {
  it('maps one 4 KiB frame (user): the Frame handle is consumed, its reference moves into the PTE; the cursor advances', () => {
    inModes(BOTH, (m) => {
      const pt = newPt(m)
      const c = open(m, pt, 0, 0x4000)
      const f = frame(m)
      expect(map(m, c, { frame: f.frame, prop: RW })).toEqual({ ok: true, value: null })
      expect(tableGet(m.state.frames, f.frame)).toBe(null)
      const idx = frameToIndex(f.paddr)
      expect(slotOf(m.state, idx).refCount).toBe(1)
      expect(ownerOf(m.state, idx).pathsInPt.length).toBe(1)
      expect(m.call({ type: 'page_table.page_walk', pageTable: pt, va: 0x123 })).toEqual({ pa: f.paddr + 0x123, prop: RW })
      expect(va(m, c)).toBe(0x1000)
      // the consumed handle cannot be mapped again
      panicsWith(m, { type: 'cursor_mut.map', cursor: c, item: { frame: f.frame, prop: RW } }, 'REQ-HANDLE-1')
    })
  })

  it('an occupied slot is replaced: Err(Mapped { va, item: old }) with the old frame as a new handle; the new mapping is live', () => {
    inModes(BOTH, (m) => {
      const pt = newPt(m)
      const c = open(m, pt, 0, 0x4000)
      const a = frame(m)
      const b = frame(m)
      map(m, c, { frame: a.frame, prop: RW })
      m.call({ type: 'cursor.jump', cursor: c, va: 0 })
      const r = map(m, c, { frame: b.frame, prop: RX })
      expect(r.ok).toBe(false)
      expect(r.error).toMatchObject({ kind: 'Mapped', va: 0, item: { prop: RW } })
      const old = r.error.item.frame as number
      expect(tableGet(m.state.frames, old)!.paddr).toBe(a.paddr)
      expect(ownerOf(m.state, frameToIndex(a.paddr)).pathsInPt).toEqual([])
      expect(slotOf(m.state, frameToIndex(a.paddr)).refCount).toBe(1)
      expect(m.call({ type: 'page_table.page_walk', pageTable: pt, va: 0 })).toEqual({ pa: b.paddr, prop: RX })
      expect(va(m, c)).toBe(K4)
      // re-mapping the same frame (another handle to it) at the same place
      m.call({ type: 'cursor.jump', cursor: c, va: 0 })
      const again = m.call<{ value: { frame: number } }>({ type: 'frame.from_in_use', paddr: b.paddr }).value.frame
      const r2 = map(m, c, { frame: again, prop: RW })
      expect(r2.error).toMatchObject({ kind: 'Mapped', va: 0, item: { prop: RX } })
      expect(tableGet(m.state.frames, r2.error.item.frame)!.paddr).toBe(b.paddr)
      expect(ownerOf(m.state, frameToIndex(b.paddr)).pathsInPt.length).toBe(1)
      expect(slotOf(m.state, frameToIndex(b.paddr)).refCount).toBe(2)
    })
  })

  it('maps 2 MiB and 1 GiB pages (untracked) and splits a covering huge page', () => {
    inModes(INC, (m) => {
      const pt = newPt(m, 'untracked')
      const c = open(m, pt, 0, 2 * G1)
      expect(map(m, c, { pa: G1, level: 3, prop: RW })).toEqual({ ok: true, value: null })
      expect(va(m, c)).toBe(G1)
      expect(map(m, c, { pa: 0, level: 2, prop: RX })).toEqual({ ok: true, value: null })
      expect(va(m, c)).toBe(G1 + M2)
      // a 4 KiB page inside the 1 GiB leaf: split to 2 MiB, then to 4 KiB; the piece it replaces is returned
      m.call({ type: 'cursor.jump', cursor: c, va: 0x5000 })
      const r = map(m, c, { pa: 0x7000, level: 1, prop: RX })
      expect(r.error).toEqual({ kind: 'Mapped', va: 0x5000, item: { pa: G1 + 0x5000, level: 1, prop: RW } })
      expect(m.call({ type: 'page_table.page_walk', pageTable: pt, va: 0x5000 })).toEqual({ pa: 0x7000, prop: RX })
      expect(m.call({ type: 'page_table.page_walk', pageTable: pt, va: 0x6000 })).toEqual({ pa: G1 + 0x6000, prop: RW })
      expect(m.call({ type: 'page_table.page_walk', pageTable: pt, va: M2 + 0x10 })).toEqual({ pa: G1 + M2 + 0x10, prop: RW })
      m.call({ type: 'cursor.jump', cursor: c, va: 0 })
      expect(m.call({ type: 'cursor.query', cursor: c })).toEqual({ ok: true, value: [{ start: 0, end: K4 }, { pa: G1, level: 1, prop: RW }] })
      m.call({ type: 'cursor.jump', cursor: c, va: M2 })
      expect(m.call({ type: 'cursor.query', cursor: c })).toEqual({ ok: true, value: [{ start: M2, end: 2 * M2 }, { pa: G1 + M2, level: 2, prop: RW }] })
      // from level 1 (the query descended into the split 4 KiB node) a 2 MiB map pops back up, replacing the node
      m.call({ type: 'cursor.jump', cursor: c, va: 0x3000 })
      m.call({ type: 'cursor.query', cursor: c })
      expect(cursorAt(m.state, c)!.level).toBe(1)
      m.call({ type: 'cursor.jump', cursor: c, va: 0 })
      const r2 = map(m, c, { pa: 2 * M2, level: 2, prop: RW })
      expect(r2.error).toMatchObject({ kind: 'StrayPageTable', va: 0, len: M2, numFrames: 512 })
      expect([cursorAt(m.state, c)!.level, va(m, c)]).toEqual([2, M2])
      m.call({ type: 'page_table_node.drop', node: r2.error.pt })
    })
  })

  it('a 2 MiB page over a level-1 node returns Err(StrayPageTable) (the node stray and unlocked); dropping its handle frees it', () => {
    inModes(BOTH, (m) => {
      const pt = newPt(m, 'untracked')
      const c = open(m, pt, 0, 2 * M2)
      for (const pa of [0x1000, 0x2000, 0x3000]) map(m, c, { pa, level: 1, prop: RW })
      m.call({ type: 'cursor.jump', cursor: c, va: 0 })
      const l1 = cursorAt(m.state, c)!.owner.continuations[0]?.slot ?? nodes(m.state).find((n) => nodeOwnerAt(m.state, n)!.level === 1)!
      const r = map(m, c, { pa: 4 * M2, level: 2, prop: RW })
      expect(r.error).toMatchObject({ kind: 'StrayPageTable', va: 0, len: M2, numFrames: 3 })
      const st = slotOf(m.state, l1).storage
      expect(st).toMatchObject({ kind: 'PTNode', stray: true, lock: 0 })
      expect(tableGet(m.state.pt.nodes, r.error.pt)!.paddr).toBe(l1 * PAGE_SIZE)
      m.call({ type: 'page_table_node.drop', node: r.error.pt })
      expect(nodeOwnerAt(m.state, l1)).toBe(null)
      m.call({ type: 'cursor.drop', cursor: c })
    })
  })

  it('panics: at or past the end, level above the highest or the guard level, misaligned, past the end of the range', () => {
    inModes(BOTH, (m) => {
      const u = newPt(m, 'untracked')
      const c = open(m, u, M2, 3 * M2)
      const map1 = (cursor: number, item: object): ModelEvent => ({ type: 'cursor_mut.map', cursor, item })
      panicsWith(m, map1(c, { pa: 0, level: 4, prop: RW }), 'REQ-CURSORMUT-MAP-5')
      m.call({ type: 'cursor.jump', cursor: c, va: M2 + K4 })
      panicsWith(m, map1(c, { pa: 0, level: 2, prop: RW }), 'REQ-CURSORMUT-MAP-5')
      m.call({ type: 'cursor.jump', cursor: c, va: 2 * M2 })
      map(m, c, { pa: 0, level: 2, prop: RW })
      panicsWith(m, map1(c, { pa: 0, level: 1, prop: RW }), 'REQ-CURSORMUT-MAP-5')
      m.call({ type: 'cursor.drop', cursor: c })
      // a page past the end of the range
      const d = open(m, u, 4 * M2, 5 * M2 + K4)
      m.call({ type: 'cursor.jump', cursor: d, va: 5 * M2 })
      panicsWith(m, map1(d, { pa: 0, level: 2, prop: RW }), 'REQ-CURSORMUT-MAP-5')
      m.call({ type: 'cursor.drop', cursor: d })
      // a cursor over exactly one 2 MiB entry has a level-1 guard node: a 2 MiB page is above it
      const e = open(m, u, 8 * M2, 9 * M2)
      expect(cursorAt(m.state, e)!.guardLevel).toBe(1)
      panicsWith(m, map1(e, { pa: 0, level: 2, prop: RW }), 'REQ-CURSORMUT-MAP-5')
      // the user configuration's highest level is 2 (a raw item is no user item anyway)
      const p = newPt(m)
      const f = open(m, p, 0, K4)
      panicsWith(m, map1(f, { pa: 0, level: 1, prop: RW }), 'REQ-PTCURSOR-ITEM-1')
      panicsWith(m, map1(e, { frame: frame(m).frame, prop: RW }), 'REQ-PTCURSOR-ITEM-1')
      // a read-only cursor has no map; an unmappable property
      const g = open(m, p, M2, M2 + K4, false)
      panicsWith(m, map1(g, { frame: frame(m).frame, prop: RW }), 'REQ-PTCURSOR-KIND-1')
      panicsWith(m, map1(f, { frame: frame(m).frame, prop: { ...RW, flags: PageFlags.W } }), 'REQ-CURSORMUT-MAP-3')
      panicsWith(m, map1(e, { pa: 0x1000, level: 1, prop: { ...RW, cache: 'WriteCombining' } }), 'REQ-CURSORMUT-MAP-3')
    })
  })

  it('kernel page table: full addresses as hex, tracked items keep AVAIL1 in the PTE only', () => {
    inModes(INC, (m) => {
      const { pageTable } = m.call<{ pageTable: number }>({ type: 'page_table.new_kernel' })
      const start = '0xffff800000200000'
      const c = open(m, pageTable, start, '0xffff800000202000')
      expect(va(m, c)).toBe(start)
      const f = frame(m)
      expect(map(m, c, { frame: f.frame, prop: RW })).toEqual({ ok: true, value: null })
      expect(va(m, c)).toBe('0xffff800000201000')
      expect(m.call({ type: 'cursor.jump', cursor: c, va: start })).toEqual({ ok: true, value: null })
      const q = m.call<{ value: [object, { frame: number; prop: object }] }>({ type: 'cursor.query', cursor: c })
      expect(q.value[0]).toEqual({ start, end: '0xffff800000201000' })
      expect(q.value[1].prop).toEqual(RW)
      expect(m.call({ type: 'page_table.page_walk', pageTable, va: start })).toMatchObject({ pa: f.paddr, prop: { flags: RW.flags | PageFlags.AVAIL1 } })
      // a user-half range is outside the kernel's
      expect(m.call({ type: 'page_table.cursor', pageTable, vaStart: 0, vaEnd: K4 })).toEqual({ ok: false, error: { kind: 'InvalidVaddrRange', start: 0, end: K4 } })
    })
  })
})

describe('PTE words', () => {
  it('the PTE words and the owner tree agree after a map (INV-MATCH holds: a clean history)', () => {
    inModes(BOTH, (m) => {
      const pt = newPt(m)
      const c = open(m, pt, 0, K4)
      const f = frame(m)
      map(m, c, { frame: f.frame, prop: RW })
      const l1 = cursorAt(m.state, c)!.owner.continuations[0]!.slot
      expect(isPresent(readPte(m.state, l1, 0))).toBe(true)
      let frames = 0
      tableForEach(m.state.frames, () => void frames++)
      expect(frames).toBe(0)
    })
  })
})

describe('the guards a cursor holds are its own', () => {
  it('dropping or using one of them directly is refused (REQ-HANDLE-1), state and history unchanged; the cursor still works', () => {
    inModes(INC, (m) => {
      const pt = newPt(m)
      const c = open(m, pt, 0, 16 * K4)
      const guard = cursorAt(m.state, c)!.path.find((g) => g !== null)!
      panicsWith(m, { type: 'page_table_guard.drop', guard }, 'REQ-HANDLE-1')
      panicsWith(m, { type: 'page_table_guard.entry', guard, idx: 0 }, 'REQ-HANDLE-1')
      expect(map(m, c, { frame: frame(m).frame, prop: RW }).ok).toBe(true)
      m.call({ type: 'cursor.drop', cursor: c })
      expect(m.history.violations()).toEqual([])
    })
  })
})

// ---- take_next / protect_next / unmap ----------------------------------------------------------

type Frag = { kind: 'Mapped'; va: number; item: any } | { kind: 'StrayPageTable'; va: number; len: number; numFrames: number; pt: number }

function takeNext(m: Model, cursor: number, len: number): Frag | null {
  return m.call({ type: 'cursor_mut.take_next', cursor, len })
}

function protectNext(m: Model, cursor: number, len: number, op: object): { start: number; end: number } | null {
  return m.call({ type: 'cursor_mut.protect_next', cursor, len, ...op })
}

function unmap(m: Model, cursor: number, len: number): number {
  return m.call({ type: 'cursor_mut.unmap', cursor, len })
}

function jumpTo(m: Model, cursor: number, to: number): void {
  m.call({ type: 'cursor.jump', cursor, va: to })
}

function walk(m: Model, pageTable: number, at: number): { pa: number; prop: object } | null {
  return m.call({ type: 'page_table.page_walk', pageTable, va: at })
}

/** A user page table, a CursorMut over [0, 4 MiB) and tracked frames mapped at 0, 4K, 8K (their addresses). */
function userFrames(m: Model): { pt: number; c: number; paddrs: number[] } {
  const pt = newPt(m)
  const c = open(m, pt, 0, 2 * M2)
  const paddrs: number[] = []
  for (let i = 0; i < 3; i++) {
    const f = frame(m)
    paddrs.push(f.paddr)
    map(m, c, { frame: f.frame, prop: RW })
  }
  jumpTo(m, c, 0)
  return { pt, c, paddrs }
}

describe('CursorMut::take_next (§2.5.9, §2.5.11)', () => {
  it('user, 4 KiB: the first leaf comes out as Mapped with a new Frame handle (its reference moved out of the PTE); the cursor moves past it', () => {
    inModes(BOTH, (m) => {
      const { pt, c, paddrs } = userFrames(m)
      const idx = frameToIndex(paddrs[0]!)
      const r = takeNext(m, c, 4 * K4)!
      expect(r).toMatchObject({ kind: 'Mapped', va: 0, item: { prop: RW } })
      expect(tableGet(m.state.frames, r.kind === 'Mapped' ? r.item.frame : -1)!.paddr).toBe(paddrs[0])
      expect([slotOf(m.state, idx).refCount, ownerOf(m.state, idx).pathsInPt]).toEqual([1, []])
      // va_range() = va .. va + page_size(1): unmapped, the cursor at its end
      expect(walk(m, pt, 0)).toBe(null)
      expect(va(m, c)).toBe(K4)
      m.call({ type: 'frame.drop', frame: (r as { item: { frame: number } }).item.frame })
      expect(slotOf(m.state, idx).refCount).toBe(REF_COUNT_UNUSED)
      expect(takeNext(m, c, 3 * K4)).toMatchObject({ kind: 'Mapped', va: K4 })
      // from inside the window's empty tail: None, the cursor stops at the window end
      jumpTo(m, c, 3 * K4)
      expect(takeNext(m, c, 2 * K4)).toBe(null)
      expect(va(m, c)).toBe(5 * K4)
    })
  })

  it('None leaves the cursor exactly at the window end, where find_next may stop past it', () => {
    inModes(BOTH, (m) => {
      const pt = newPt(m)
      const c = open(m, pt, 0, 2 * M2)
      // [2M, 4M) is an absent level-2 entry of the guard node
      jumpTo(m, c, M2)
      const before = m.state.pt.owners
      expect(takeNext(m, c, K4)).toBe(null)
      expect(va(m, c)).toBe(M2 + K4)
      expect(m.state.pt.owners).toBe(before)
      jumpTo(m, c, M2)
      expect(m.call({ type: 'cursor.find_next', cursor: c, len: K4 })).toBe(null)
      expect(va(m, c)).toBe(2 * M2)
      // len 0: None, nothing moves
      jumpTo(m, c, M2)
      expect(takeNext(m, c, 0)).toBe(null)
      expect(va(m, c)).toBe(M2)
    })
  })

  it('a child node wholly inside the window at the address comes out as StrayPageTable (stray, unlocked, numFrames = its 4 KiB frames); dropping it frees the frames', () => {
    inModes(BOTH, (m) => {
      const { pt, c, paddrs } = userFrames(m)
      const l1 = nodes(m.state).find((n) => nodeOwnerAt(m.state, n)!.level === 1)!
      // up to the guard level (the level-2 node): jump out of the level-1 node and back
      jumpTo(m, c, M2)
      jumpTo(m, c, 0)
      const r = takeNext(m, c, M2)!
      expect(r).toMatchObject({ kind: 'StrayPageTable', va: 0, len: M2, numFrames: 3 })
      expect(slotOf(m.state, l1).storage).toMatchObject({ kind: 'PTNode', stray: true, lock: 0 })
      expect(tableKeys(cursorAt(m.state, c)!.locked)).not.toContain(l1)
      expect(tableGet(m.state.pt.nodes, (r as { pt: number }).pt)!.paddr).toBe(l1 * PAGE_SIZE)
      expect(va(m, c)).toBe(M2)
      for (const at of [0, K4, 2 * K4]) expect(walk(m, pt, at)).toBe(null)
      // the frames are still referenced by the detached sub-tree until its handle is dropped
      expect(paddrs.map((p) => slotOf(m.state, frameToIndex(p)).refCount)).toEqual([1, 1, 1])
      m.call({ type: 'page_table_node.drop', node: (r as { pt: number }).pt })
      expect(paddrs.map((p) => slotOf(m.state, frameToIndex(p)).refCount)).toEqual([REF_COUNT_UNUSED, REF_COUNT_UNUSED, REF_COUNT_UNUSED])
      expect(nodeOwnerAt(m.state, l1)).toBe(null)
      m.call({ type: 'cursor.drop', cursor: c })
    })
  })

  it('a cursor already inside a node (a query descended) takes its leaves one by one, not the node', () => {
    inModes(BOTH, (m) => {
      const { c } = userFrames(m)
      m.call({ type: 'cursor.query', cursor: c })
      expect(cursorAt(m.state, c)!.level).toBe(1)
      expect(takeNext(m, c, M2)).toMatchObject({ kind: 'Mapped', va: 0 })
      expect(takeNext(m, c, M2 - K4)).toMatchObject({ kind: 'Mapped', va: K4 })
    })
  })

  it('untracked: numFrames counts the level-1 frames of the sub-tree, not its huge leaves; a 1 GiB sub-tree', () => {
    inModes(INC, (m) => {
      const pt = newPt(m, 'untracked')
      const c = open(m, pt, 0, 2 * G1)
      map(m, c, { pa: 4 * M2, level: 2, prop: RW })
      jumpTo(m, c, M2 + K4)
      map(m, c, { pa: 0x1000, level: 1, prop: RW })
      map(m, c, { pa: 0x2000, level: 1, prop: RX })
      // at the guard level (3): the level-2 node under its entry 0 spans [0, 1G)
      jumpTo(m, c, G1)
      jumpTo(m, c, 0)
      const r = takeNext(m, c, G1)!
      expect(r).toMatchObject({ kind: 'StrayPageTable', va: 0, len: G1, numFrames: 2 })
      expect(va(m, c)).toBe(G1)
      m.call({ type: 'page_table_node.drop', node: (r as { pt: number }).pt })
      expect(walk(m, pt, M2 + K4)).toBe(null)
    })
  })

  it('untracked: a huge leaf partly in the window is split first; the piece at the address comes out (2 MiB and 1 GiB)', () => {
    inModes(INC, (m) => {
      const pt = newPt(m, 'untracked')
      const c = open(m, pt, 0, 2 * G1)
      jumpTo(m, c, G1)
      map(m, c, { pa: G1, level: 3, prop: RW })
      jumpTo(m, c, M2)
      map(m, c, { pa: 4 * M2, level: 2, prop: RX })
      // the cursor inside the 2 MiB leaf: split to 4 KiB, the piece at the address
      jumpTo(m, c, M2 + 2 * K4)
      expect(takeNext(m, c, K4)).toEqual({ kind: 'Mapped', va: M2 + 2 * K4, item: { pa: 4 * M2 + 2 * K4, level: 1, prop: RX } })
      expect(walk(m, pt, M2 + K4)).toEqual({ pa: 4 * M2 + K4, prop: RX })
      expect(walk(m, pt, M2 + 2 * K4)).toBe(null)
      expect(va(m, c)).toBe(M2 + 3 * K4)
      // the window ends inside the 1 GiB leaf: split to 2 MiB; the 2 MiB piece at the start fits
      jumpTo(m, c, G1)
      expect(takeNext(m, c, M2 + K4)).toEqual({ kind: 'Mapped', va: G1, item: { pa: G1, level: 2, prop: RW } })
      expect(va(m, c)).toBe(G1 + M2)
      expect(m.call({ type: 'cursor.query', cursor: c })).toEqual({ ok: true, value: [{ start: G1 + M2, end: G1 + 2 * M2 }, { pa: G1 + M2, level: 2, prop: RW }] })
      // a leaf wholly in the window comes out whole
      jumpTo(m, c, G1 + M2)
      expect(takeNext(m, c, M2)).toEqual({ kind: 'Mapped', va: G1 + M2, item: { pa: G1 + M2, level: 2, prop: RW } })
    })
  })

  it('panics like find_next (unaligned length, past the end), refuses a read-only Cursor and a dead handle; state unchanged', () => {
    inModes(BOTH, (m) => {
      const { pt, c } = userFrames(m)
      panicsWith(m, { type: 'cursor_mut.take_next', cursor: c, len: 0x800 }, 'REQ-CURSORMUT-UNMAP-1')
      panicsWith(m, { type: 'cursor_mut.take_next', cursor: c, len: 2 * M2 + K4 }, 'REQ-CURSORMUT-UNMAP-3')
      m.call({ type: 'cursor.drop', cursor: c })
      panicsWith(m, { type: 'cursor_mut.take_next', cursor: c, len: K4 }, 'REQ-HANDLE-1')
      const r = open(m, pt, 0, K4, false)
      panicsWith(m, { type: 'cursor_mut.take_next', cursor: r, len: K4 }, 'REQ-PTCURSOR-KIND-1')
    })
  })
})

describe('CursorMut::protect_next (§2.5.10)', () => {
  it('user, 4 KiB: one slot per call, op applied, the cursor past it; None when the window holds no mapping', () => {
    inModes(BOTH, (m) => {
      const { pt, c, paddrs } = userFrames(m)
      expect(protectNext(m, c, 4 * K4, { prop: RX })).toEqual({ start: 0, end: K4 })
      expect(va(m, c)).toBe(K4)
      expect(walk(m, pt, 0)).toEqual({ pa: paddrs[0], prop: RX })
      expect(walk(m, pt, K4)).toEqual({ pa: paddrs[1], prop: RW })
      // a flags edit: clear W, set X
      expect(protectNext(m, c, 3 * K4, { mask: { clear: PageFlags.W, set: PageFlags.X } })).toEqual({ start: K4, end: 2 * K4 })
      expect(walk(m, pt, K4)).toEqual({ pa: paddrs[1], prop: RX })
      expect(protectNext(m, c, 2 * K4, { prop: RX })).toEqual({ start: 2 * K4, end: 3 * K4 })
      const owners = m.state.pt.owners
      expect(protectNext(m, c, K4, { prop: RX })).toBe(null)
      expect(m.state.pt.owners).toBe(owners)
      expect(va(m, c) as number).toBeGreaterThanOrEqual(4 * K4)
      // no reference count moves
      expect(paddrs.map((p) => slotOf(m.state, frameToIndex(p)).refCount)).toEqual([1, 1, 1])
    })
  })

  it('untracked: a huge leaf wholly inside is protected whole; one not wholly inside is split (512 pieces, contiguous PAs, same property) and only the piece at the address changes', () => {
    inModes(INC, (m) => {
      const pt = newPt(m, 'untracked')
      const c = open(m, pt, 0, 2 * G1)
      map(m, c, { pa: G1, level: 3, prop: RW })
      map(m, c, { pa: 4 * M2, level: 2, prop: RW })
      // the 2 MiB leaf at 1 GiB, wholly in the window
      jumpTo(m, c, G1)
      expect(protectNext(m, c, 2 * M2, { prop: RX })).toEqual({ start: G1, end: G1 + M2 })
      expect(walk(m, pt, G1 + M2 - K4)).toEqual({ pa: 5 * M2 - K4, prop: RX })
      // the 1 GiB leaf at 0, the window [8K, 12K): split to 2 MiB, then the first 2 MiB piece to 4 KiB
      jumpTo(m, c, 2 * K4)
      expect(protectNext(m, c, K4, { prop: RX })).toEqual({ start: 2 * K4, end: 3 * K4 })
      expect(walk(m, pt, 2 * K4)).toEqual({ pa: G1 + 2 * K4, prop: RX })
      expect(walk(m, pt, 3 * K4)).toEqual({ pa: G1 + 3 * K4, prop: RW })
      expect(walk(m, pt, M2 + 5)).toEqual({ pa: G1 + M2 + 5, prop: RW })
      jumpTo(m, c, 4 * M2)
      expect(m.call({ type: 'cursor.query', cursor: c })).toEqual({ ok: true, value: [{ start: 4 * M2, end: 5 * M2 }, { pa: G1 + 4 * M2, level: 2, prop: RW }] })
    })
  })

  it('panics like find_next; an op whose result is not a PTE property panics; a read-only Cursor is refused; state unchanged', () => {
    inModes(BOTH, (m) => {
      const { pt, c } = userFrames(m)
      panicsWith(m, { type: 'cursor_mut.protect_next', cursor: c, len: 0x800, prop: RX }, 'REQ-CURSORMUT-PROTECTNEXT-4')
      panicsWith(m, { type: 'cursor_mut.protect_next', cursor: c, len: 2 * M2 + K4, prop: RX }, 'REQ-CURSORMUT-PROTECTNEXT-4')
      panicsWith(m, { type: 'cursor_mut.protect_next', cursor: c, len: K4, mask: { clear: PageFlags.R, set: 0 } }, 'REQ-CURSORMUT-PROTECTNEXT-5')
      panicsWith(m, { type: 'cursor_mut.protect_next', cursor: c, len: K4, prop: { ...RW, cache: 'WriteCombining' } }, 'REQ-CURSORMUT-PROTECTNEXT-5')
      const r = open(m, pt, G1, G1 + K4, false)
      panicsWith(m, { type: 'cursor_mut.protect_next', cursor: r, len: K4, prop: RX }, 'REQ-PTCURSOR-KIND-1')
    })
  })

  it('kernel: op applies to the PTE property, and may not drop AVAIL1 (trackedness) of a tracked item', () => {
    inModes(INC, (m) => {
      const { pageTable } = m.call<{ pageTable: number }>({ type: 'page_table.new_kernel' })
      const start = '0xffff800000200000'
      const c = open(m, pageTable, start, '0xffff800000202000')
      map(m, c, { frame: frame(m).frame, prop: RW })
      m.call({ type: 'cursor.jump', cursor: c, va: start })
      panicsWith(m, { type: 'cursor_mut.protect_next', cursor: c, len: K4, mask: { clear: PageFlags.AVAIL1, set: 0 } }, 'REQ-CURSORMUT-PROTECTNEXT-5')
      expect(protectNext(m, c, K4, { mask: { clear: PageFlags.W, set: 0 } })).toEqual({ start, end: '0xffff800000201000' })
      expect(m.call({ type: 'page_table.page_walk', pageTable, va: start })).toMatchObject({ prop: { flags: PageFlags.R | PageFlags.AVAIL1 } })
    })
  })
})

describe('CursorMut::unmap (§2.6, operations.md §10.6)', () => {
  it('user: take_next until the window is empty, dropping what it takes; returns the frames unmapped; 0 for an empty range', () => {
    inModes(BOTH, (m) => {
      const { pt, c, paddrs } = userFrames(m)
      expect(unmap(m, c, 4 * K4)).toBe(3)
      expect(va(m, c)).toBe(4 * K4)
      expect(paddrs.map((p) => slotOf(m.state, frameToIndex(p)).refCount)).toEqual([REF_COUNT_UNUSED, REF_COUNT_UNUSED, REF_COUNT_UNUSED])
      expect(walk(m, pt, K4)).toBe(null)
      expect(m.state.frames.count).toBe(0)
      expect(unmap(m, c, 4 * K4)).toBe(0)
      expect(va(m, c)).toBe(8 * K4)
    })
  })

  it('user: a whole level-1 node goes as one stray page table counting its frames, and is freed', () => {
    inModes(BOTH, (m) => {
      const { c, paddrs } = userFrames(m)
      const l1 = nodes(m.state).find((n) => nodeOwnerAt(m.state, n)!.level === 1)!
      jumpTo(m, c, M2)
      jumpTo(m, c, 0)
      const steps = m.history.length
      expect(unmap(m, c, 2 * M2)).toBe(3)
      expect(m.history.length).toBe(steps + 1)
      expect(nodeOwnerAt(m.state, l1)).toBe(null)
      expect(slotOf(m.state, l1).refCount).toBe(REF_COUNT_UNUSED)
      expect(paddrs.map((p) => slotOf(m.state, frameToIndex(p)).refCount)).toEqual([REF_COUNT_UNUSED, REF_COUNT_UNUSED, REF_COUNT_UNUSED])
      expect([va(m, c), m.state.pt.nodes.count]).toEqual([2 * M2, 1])
    })
  })

  it('untracked: a huge leaf partly unmapped counts one per piece and its other pieces stay; huge leaves inside a stray sub-tree are not counted', () => {
    inModes(INC, (m) => {
      const pt = newPt(m, 'untracked')
      const c = open(m, pt, 0, 2 * G1)
      jumpTo(m, c, M2)
      map(m, c, { pa: 4 * M2, level: 2, prop: RW })
      jumpTo(m, c, M2 + M2 / 2)
      expect(unmap(m, c, M2 / 2)).toBe(256)
      expect(walk(m, pt, M2 + K4)).toEqual({ pa: 4 * M2 + K4, prop: RW })
      expect(walk(m, pt, M2 + M2 / 2)).toBe(null)
      // the level-2 node [0, 1G): a level-1 node with 256 frames (the split's) and a 2 MiB leaf
      jumpTo(m, c, 4 * M2)
      map(m, c, { pa: 8 * M2, level: 2, prop: RW })
      jumpTo(m, c, G1)
      jumpTo(m, c, 0)
      expect(unmap(m, c, G1)).toBe(256)
      expect(walk(m, pt, 4 * M2)).toBe(null)
      expect(va(m, c)).toBe(G1)
    })
  })

  it('panics like take_next (unaligned length, past the end); a read-only Cursor is refused; state unchanged', () => {
    inModes(BOTH, (m) => {
      const { pt, c } = userFrames(m)
      panicsWith(m, { type: 'cursor_mut.unmap', cursor: c, len: K4 + 1 }, 'REQ-CURSORMUT-UNMAP-1')
      panicsWith(m, { type: 'cursor_mut.unmap', cursor: c, len: 4 * M2 }, 'REQ-CURSORMUT-UNMAP-3')
      const r = open(m, pt, G1, G1 + K4, false)
      panicsWith(m, { type: 'cursor_mut.unmap', cursor: r, len: K4 }, 'REQ-PTCURSOR-KIND-1')
    })
  })
})
