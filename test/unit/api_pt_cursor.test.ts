/**
 * The cursor facade (src/api/pt_cursor.ts, API.md "Page tables"): `pt.cursor(range)` /
 * `pt.cursorMut(range)` and the methods of `Cursor` / `CursorMut` — one event per call, handles
 * moved and handed back as OSTD moves them, kernel addresses as bigints, panics with the state
 * unchanged.
 */
import { describe, expect, it } from 'vitest'
import { PAGE_SIZE, pageSize, REF_COUNT_UNUSED } from '../../src/arch/constants.js'
import { tableGet } from '../../src/model/table.js'
import { newUser, PageFlags, type PageProperty } from '../../src/arch/page_prop.js'
import { createModel, InvalidEventError, OstdPanic, PageTable, unwrap, type Model } from '../../src/index.js'
import { slotOf } from '../../src/model/slots.js'
import { frameToIndex } from '../../src/arch/constants.js'
import { panicRule } from '../util.js'

const M2 = pageSize(2)
const RW: PageProperty = newUser(PageFlags.RW)

function userTable(m: Model): PageTable {
  return new PageTable(m, m.call<{ pageTable: number }>({ type: 'page_table.new', config: 'user' }).pageTable)
}

function lastType(m: Model): string {
  return m.history.at(m.history.length - 1).event.type
}

describe('pt.cursor / pt.cursorMut', () => {
  it('one event per call; a frame is moved into the page table and comes back from take_next', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const pt = userTable(m)
    const c = unwrap(pt.cursorMut({ start: 0, end: 4 * M2 }))
    expect(lastType(m)).toBe('page_table.cursor_mut')
    const frame = unwrap(m.frames.allocFrame())
    const pa = frame.startPaddr()
    expect(c.map({ frame, prop: RW })).toEqual({ ok: true, value: null })
    expect(frame.consumed).toBe(true)
    expect(() => frame.startPaddr()).toThrow(OstdPanic)
    expect(c.virtAddr()).toBe(PAGE_SIZE)
    expect(unwrap(c.jump(0))).toBeNull()
    const [range, item] = unwrap(c.query())
    expect(range).toEqual({ start: 0, end: PAGE_SIZE })
    expect(item !== null && 'frame' in item && item.frame.startPaddr()).toBe(pa)
    expect(slotOf(m.state, frameToIndex(pa)).refCount).toBe(2) // the page table's and the query's clone
    if (item !== null && 'frame' in item) item.frame.drop()
    const frag = c.takeNext(4 * M2)
    expect(frag?.kind).toBe('Mapped')
    if (frag?.kind === 'Mapped' && 'frame' in frag.item) {
      expect(frag.va).toBe(0)
      expect(frag.item.frame.startPaddr()).toBe(pa)
      frag.item.frame.drop()
    }
    expect(c.findNext(4 * M2 - PAGE_SIZE)).toBeNull()
    c.drop()
    expect(lastType(m)).toBe('cursor.drop')
    expect(m.history.violations()).toEqual([])
  })

  it('protectNext calls op once with the property of the leaf it will protect; none in the window: op not called', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const pt = m.pageTables.create('untracked')
    const c = unwrap(pt.cursorMut({ start: 0, end: 4 * M2 }))
    expect(c.map({ pa: M2, level: 2, prop: RW })).toEqual({ ok: true, value: null })
    unwrap(c.jump(PAGE_SIZE))
    const seen: PageProperty[] = []
    const range = c.protectNext(PAGE_SIZE, (p) => {
      seen.push(p)
      return { ...p, flags: PageFlags.R }
    })
    expect(seen).toEqual([RW])
    expect(range).toEqual({ start: PAGE_SIZE, end: 2 * PAGE_SIZE }) // the 2 MiB leaf split; one 4 KiB piece protected
    expect(pt.pageWalk(PAGE_SIZE)).toEqual({ pa: M2 + PAGE_SIZE, prop: { ...RW, flags: PageFlags.R } })
    expect(pt.pageWalk(0)?.prop).toEqual(RW)
    unwrap(c.jump(M2))
    expect(c.protectNext(M2, () => { throw new Error('not called') })).toBeNull()
    c.drop()
    expect(m.history.violations()).toEqual([])
  })

  it('a StrayPageTable fragment hands over the sub-tree node; dropping it frees the sub-tree', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const pt = m.pageTables.create('untracked')
    const c = unwrap(pt.cursorMut({ start: 0, end: 4 * M2 }))
    c.map({ pa: 0, level: 1, prop: RW })
    c.map({ pa: PAGE_SIZE, level: 1, prop: RW })
    // jump(0) keeps the cursor in the level-1 node (OSTD's jump pops only as far as needed): a
    // take_next from there sees the leaves one by one. From another node the jump pops to level 2.
    unwrap(c.jump(2 * M2))
    unwrap(c.jump(0))
    const frag = c.takeNext(M2)
    expect(frag).toMatchObject({ kind: 'StrayPageTable', va: 0, len: M2, numFrames: 2 })
    if (frag?.kind !== 'StrayPageTable') throw new Error('expected a stray page table')
    expect(frag.pt.level()).toBe(1)
    const nodePaddr = tableGet(m.state.pt.nodes, frag.pt.id)!.paddr
    expect(slotOf(m.state, frameToIndex(nodePaddr)).refCount).toBe(1)
    frag.pt.drop()
    expect(lastType(m)).toBe('page_table_node.drop')
    expect(slotOf(m.state, frameToIndex(nodePaddr)).refCount).toBe(REF_COUNT_UNUSED)
    c.drop()
    expect(m.history.violations()).toEqual([])
  })

  it('jumping from the end position is allowed, also when the range ends where the guard node ends (behaviour.md §2.5.6)', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const pt = m.pageTables.create('untracked')
    const c = unwrap(pt.cursorMut({ start: 2 * M2, end: 3 * M2 })) // guard node: the level-1 node of [4 MiB, 6 MiB)
    expect(c.findNext(M2)).toBeNull()
    expect(c.virtAddr()).toBe(3 * M2)
    expect(unwrap(c.jump(2 * M2))).toBeNull()
    expect(c.virtAddr()).toBe(2 * M2)
    expect(c.jump(3 * M2)).toMatchObject({ ok: false, error: { kind: 'InvalidVaddr' } })
    c.drop()
    expect(m.history.violations()).toEqual([])
  })

  it('creation errors in OSTD order; overlapping cursors and bad lengths panic; bad addresses are refused before dispatch', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const pt = userTable(m)
    expect(pt.cursor({ start: M2, end: M2 })).toMatchObject({ ok: false, error: { kind: 'InvalidVaddrRange' } })
    expect(pt.cursor({ start: 1, end: M2 })).toMatchObject({ ok: false, error: { kind: 'UnalignedVaddr' } })
    const c = unwrap(pt.cursorMut({ start: 0, end: M2 }))
    const before = m.state
    expect(panicRule(() => pt.cursor({ start: 0, end: PAGE_SIZE }))).toMatch(/^REQ-/)
    expect(() => c.takeNext(100)).toThrow(OstdPanic)
    expect(() => c.findNext(2 * M2)).toThrow(OstdPanic)
    expect(() => c.jump(3)).toThrow(OstdPanic)
    expect(() => pt.cursor({ start: -4096, end: 0 })).toThrow(InvalidEventError)
    expect(m.state).toBe(before)
    c.drop()
    expect(() => c.virtAddr()).toThrow(OstdPanic)
  })

  it('kernel addresses come back as bigints', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const kpt = new PageTable(m, m.call<{ pageTable: number }>({ type: 'page_table.new', config: 'kernel' }).pageTable)
    const start = 0xffff_8000_0000_0000n
    const c = unwrap(kpt.cursor({ start, end: start + BigInt(M2) }))
    expect(c.virtAddr()).toBe(start)
    const [range, item] = unwrap(c.query())
    expect(range.start).toBe(start)
    expect(item).toBeNull()
    c.drop()
  })
})
