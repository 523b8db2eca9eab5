/**
 * Page-table nodes and guards (reducers/page_table/{node,guard}.ts): what each call returns and
 * exactly what it changes, in both checking modes without violations; bad input is a clear error
 * with the state unchanged; a tree with child nodes and tracked / untracked leaves is torn down by
 * the drop of its root, every slot back to its starting state.
 */
import { describe, expect, it } from 'vitest'
import { frameToIndex, metaAddr, NR_LEVELS, PageUsage, REF_COUNT_UNUSED } from '../../src/arch/constants.js'
import { isOstdPanic } from '../../src/arch/errors.js'
import { newUser, PageFlags } from '../../src/arch/page_prop.js'
import { newPt, pteToHex } from '../../src/arch/pte.js'
import { createModel, type Model } from '../../src/api/model.js'
import { computeChanges, type ChangeSet } from '../../src/check/changes.js'
import { Checker } from '../../src/check/checker.js'
import { defaultRegistry } from '../../src/check/rules/index.js'
import { InvalidEventError } from '../../src/log/history.js'
import { editSnapshot } from '../../src/model/edit.js'
import { genesis } from '../../src/model/genesis.js'
import { MemoryWriter, readPte, writePte } from '../../src/model/memory.js'
import { FRESH_SLOT, freshOwner, isParked, obligationsOf, ownerOf, slotOf } from '../../src/model/slots.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { tableEntries, tableGet } from '../../src/model/table.js'
import { freeStackTop } from '../../reducers/frame/allocator.js'
import type { InternalStep } from '../../reducers/types.js'
import type { PtNodeAllocResult } from '../../reducers/page_table/node.js'
import { allocIfNoneStep, checkStep, PT_MEMORY, PtBuilder, rootWithChild } from '../firing/cases/pt_node.js'
import { bothModes, panicRule } from '../util.js'

/** The non-empty parts of what changed between two snapshots. */
function changed(a: Snapshot, b: Snapshot): Record<string, number[]> {
  const c = computeChanges(a, b)
  const out: Record<string, number[]> = {}
  for (const k of ['slotCells', 'parking', 'obligations', 'memory', 'frames', 'ptNodes', 'ptGuards', 'ptEntries', 'ptChildren'] as const) {
    const set = (c as ChangeSet)[k]
    if (set.size > 0) out[k] = [...set].sort((x, y) => x - y)
  }
  const owners: number[] = []
  for (const i of new Set([...ownerKeys(a), ...ownerKeys(b)])) if (tableGet(a.pt.owners, i) !== tableGet(b.pt.owners, i)) owners.push(i)
  if (owners.length > 0) out['ptOwners'] = owners.sort((x, y) => x - y)
  const locks: number[] = []
  for (const i of new Set([...lockKeys(a), ...lockKeys(b)])) if (tableGet(a.pt.locks, i) !== tableGet(b.pt.locks, i)) locks.push(i)
  if (locks.length > 0) out['ptLocks'] = locks.sort((x, y) => x - y)
  return out
}

function ownerKeys(s: Snapshot): number[] {
  const out: number[] = []
  for (let i = 0; i < s.nrFrames; i++) if (tableGet(s.pt.owners, i) !== null) out.push(i)
  return out
}

function lockKeys(s: Snapshot): number[] {
  const out: number[] = []
  for (let i = 0; i < s.nrFrames; i++) if (tableGet(s.pt.locks, i) !== null) out.push(i)
  return out
}

function alloc(m: Model, level = 3, config = 'user'): PtNodeAllocResult {
  return m.call<PtNodeAllocResult>({ type: 'page_table_node.alloc', level, config })
}

function lock(m: Model, paddr: number): number {
  return m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr }).guard
}

/** Every violation of `s` under the whole rule set (the builder's states must be clean). */
function violationsIn(s: Snapshot): string[] {
  return new Checker(defaultRegistry(), 'full').violationsIn(s).map((v) => `${v.rule} ${v.path}: ${v.message}`)
}

/** The event types of a step's internal steps, nested as `type[...children]`. */
function shape(steps: readonly InternalStep[]): string[] {
  return steps.map((st) => (st.steps.length === 0 ? st.event.type : `${st.event.type}[${shape(st.steps).join(', ')}]`))
}

describe('PageTableNode::alloc', () => {
  it('returns a new handle to a zeroed node at the level, rc 1, usage PageTable, one obligation, a detached in-scope owner', () =>
    bothModes((m) => {
      const before = m.state
      const r = alloc(m, 2)
      expect(r).toEqual({ node: 0, paddr: 0 })
      expect(changed(before, m.state)).toEqual({ slotCells: [0], obligations: [0], ptNodes: [0], ptOwners: [0] })
      const cells = { refCount: 1, storage: { kind: 'PTNode', nrChildren: 0, stray: false, level: 2, lock: 0, config: 'user' }, vtablePtr: 0, inList: 0 }
      expect(slotOf(m.state, 0)).toEqual(cells)
      expect(ownerOf(m.state, 0)).toEqual({ innerPerms: cells, selfAddr: metaAddr(0), usage: PageUsage.PageTable, rawCount: 0, pathsInPt: [] })
      expect(obligationsOf(m.state, 0)).toBe(1)
      expect(tableGet(m.state.pt.nodes, 0)).toEqual({ paddr: 0 })
      expect(tableGet(m.state.pt.owners, 0)).toMatchObject({ tree: 0, path: '', parentLevel: 3, inScope: true, level: 2, treeLevel: 2, slotIndex: 0, metaOwn: { nrChildren: 0, stray: false }, config: 'user' })
      expect(tableGet(m.state.pt.owners, 0)!.children.count).toBe(0)
      expect(tableGet(m.state.memory, 0)).toBeNull()
      expect(m.state.allocator.bumpIndex).toBe(1)
      expect(m.call({ type: 'page_table_node.level', node: 0 })).toBe(2)
    }))

  it('reuses the most recently freed frame (LIFO) and zeroes it', () =>
    bothModes((m) => {
      const a = alloc(m)
      const g = lock(m, a.paddr)
      m.dispatch({ type: 'page_table_guard.write_pte', guard: g, idx: 5, pte: '0x2' }) // not present
      m.dispatch({ type: 'page_table_guard.drop', guard: g })
      m.dispatch({ type: 'page_table_node.drop', node: a.node })
      expect(freeStackTop(m.state)).toBe(0)
      const b = alloc(m, 1)
      expect(b.paddr).toBe(0)
      expect(readPte(m.state, 0, 5)).toBe(0n)
    }))

  it('rejects a root level, an index past 512 and a parent that is no node; panics without memory', () => {
    const m = createModel({ check: 'full', physicalMemory: PT_MEMORY })
    const before = m.state
    expect(panicRule(() => alloc(m, 4))).toBe('REQ-NODE-ALLOC-1')
    expect(panicRule(() => alloc(m, 0))).toBe('REQ-NODE-ALLOC-1')
    expect(panicRule(() => m.dispatch({ type: 'page_table_node.alloc', level: 1, config: 'user', parentIdx: 512 }))).toBe('REQ-NODE-ALLOC-2')
    expect(panicRule(() => m.dispatch({ type: 'page_table_node.alloc', level: 1, config: 'user', parent: 0x4000, parentIdx: 1 }))).toBe('REQ-NODE-ALLOC-4')
    expect(() => m.dispatch({ type: 'page_table_node.alloc', level: 1, config: 'arm' })).toThrow(InvalidEventError)
    expect(m.state).toBe(before)
    const tiny = createModel({ check: 'full', physicalMemory: 0x1000 })
    alloc(tiny)
    expect(panicRule(() => alloc(tiny))).toBe('REQ-NODE-ALLOCMEM-1')
  })
})

describe('the pre-announced parent PTE (ENS-NODE-ALLOC-11, MD-13)', () => {
  it('holds at the end of the enclosing alloc_if_none once the PTE is written, and not before', () => {
    // (the hand-built step names no live Entry, which entry.alloc_if_none's REQ-HANDLE-1 reports;
    // the real composite is clean: test/unit/pt_composite.test.ts)
    expect(checkStep(allocIfNoneStep(true)).rules).toEqual(['REQ-HANDLE-1'])
    expect(checkStep(allocIfNoneStep(false)).rules).toEqual(['ENS-NODE-ALLOC-11', 'REQ-HANDLE-1'])
  })

  it('is not checked after alloc itself', () =>
    bothModes((m) => {
      const root = m.call<PtNodeAllocResult>({ type: 'page_table.empty', config: 'user' })
      m.dispatch({ type: 'page_table_node.alloc', level: 3, config: 'user', parent: root.paddr, parentIdx: 5 })
      expect(readPte(m.state, 0, 5)).toBe(0n)
    }))
})

describe('PageTable::empty', () => {
  it('makes a level-4 root that its tree owns (empty path, parent_level 5, not in scope)', () =>
    bothModes((m) => {
      const r = m.call<PtNodeAllocResult>({ type: 'page_table.empty', config: 'kernel' })
      expect(r).toEqual({ node: 0, paddr: 0 })
      expect(slotOf(m.state, 0).storage).toEqual({ kind: 'PTNode', nrChildren: 0, stray: false, level: NR_LEVELS, lock: 0, config: 'kernel' })
      expect(tableGet(m.state.pt.owners, 0)).toMatchObject({ tree: 0, path: '', parentLevel: 5, inScope: false, level: 4, treeLevel: 0, config: 'kernel' })
      expect(ownerOf(m.state, 0)).toMatchObject({ usage: PageUsage.PageTable, rawCount: 0, pathsInPt: [] })
    }))
})

describe('lock, make_guard_unchecked and the guard drop', () => {
  it('lock sets the lock byte, records the node in Guards and returns a guard; its drop undoes exactly that', () =>
    bothModes((m) => {
      const n = alloc(m)
      const before = m.state
      const g = lock(m, n.paddr)
      expect(g).toBe(0)
      expect(changed(before, m.state)).toEqual({ slotCells: [0], ptGuards: [0], ptLocks: [0] })
      expect(slotOf(m.state, 0).storage).toMatchObject({ lock: 1 })
      expect(ownerOf(m.state, 0).innerPerms.storage).toMatchObject({ lock: 1 })
      expect(tableGet(m.state.pt.guards, 0)).toEqual({ paddr: n.paddr })
      const locked = m.state
      m.dispatch({ type: 'page_table_guard.drop', guard: g })
      expect(changed(locked, m.state)).toEqual({ slotCells: [0], ptGuards: [0], ptLocks: [0] })
      expect(tableEntries(m.state.metaSlots)).toEqual(tableEntries(before.metaSlots))
      expect(tableEntries(m.state.regions.slotOwners)).toEqual(tableEntries(before.regions.slotOwners))
      expect(tableEntries(m.state.pt.locks)).toEqual([])
      expect(tableEntries(m.state.pt.guards)).toEqual([])
    }))

  it('locking a held lock would deadlock: a panic, state unchanged; so does a guard used after its drop', () => {
    const m = createModel({ check: 'full', physicalMemory: PT_MEMORY })
    const n = alloc(m)
    const g = lock(m, n.paddr)
    const before = m.state
    expect(panicRule(() => lock(m, n.paddr))).toBe('REQ-NODE-LOCK-2')
    expect(panicRule(() => m.dispatch({ type: 'page_table_node_ref.make_guard_unchecked', paddr: n.paddr }))).toBe('REQ-NODE-MKGUARD-2')
    expect(panicRule(() => lock(m, 0x9000))).toBe('REQ-NODE-LOCK-1')
    expect(m.state).toBe(before)
    m.dispatch({ type: 'page_table_guard.drop', guard: g })
    expect(panicRule(() => m.dispatch({ type: 'page_table_guard.write_pte', guard: g, idx: 0, pte: '0x0' }))).toBe('REQ-HANDLE-1')
    expect(panicRule(() => m.dispatch({ type: 'page_table_guard.drop', guard: g }))).toBe('REQ-HANDLE-1')
    expect(panicRule(() => m.dispatch({ type: 'page_table_node.level', node: 9 }))).toBe('REQ-HANDLE-1')
    expect(m.history.violations()).toEqual([])
  })

  it('make_guard_unchecked takes a lock whose byte a forgotten guard holds, without touching the byte', () => {
    const b = new PtBuilder()
    b.alloc(3)
    // The task holds the lock without a guard (lock byte 1, not in Guards: INV-GUARD-1 fails here).
    b.s = editSnapshot(b.s, (_d, t) => {
      for (const tab of [t.metaSlots]) {
        const c = tab.get(0)!
        tab.set(0, { ...c, storage: { ...(c.storage as object), lock: 1 } as never })
      }
      const o = t.slotOwners.get(0)!
      t.slotOwners.set(0, { ...o, innerPerms: { ...o.innerPerms, storage: { ...(o.innerPerms.storage as object), lock: 1 } as never } })
    })
    for (const check of ['full', 'incremental'] as const) {
      const m = b.model(check)
      const before = m.state
      const g = m.call<{ guard: number }>({ type: 'page_table_node_ref.make_guard_unchecked', paddr: 0 }).guard
      expect(changed(before, m.state)).toEqual({ ptGuards: [0], ptLocks: [0] })
      expect(m.history.violations()).toEqual([])
      expect(violationsIn(m.state)).toEqual([])
      m.dispatch({ type: 'page_table_guard.drop', guard: g })
      expect(slotOf(m.state, 0).storage).toMatchObject({ lock: 0 })
      expect(m.history.violations()).toEqual([])
    }
  })

  it('make_guard_unchecked on a node whose lock byte is 0 gives a guard without the lock: INV-GUARD-1', () => {
    const m = createModel({ check: 'incremental', physicalMemory: PT_MEMORY })
    alloc(m)
    const step = m.dispatch({ type: 'page_table_node_ref.make_guard_unchecked', paddr: 0 })
    expect(step.violations.map((v) => v.rule)).toEqual(['INV-GUARD-1'])
  })
})

describe('guard reads and writes', () => {
  it('read_pte returns the word; write_pte changes exactly that PTE and leaks the old child (INV-PTMETA-2 until fixed)', () => {
    for (const check of ['full', 'incremental'] as const) {
      const m = createModel({ check, physicalMemory: PT_MEMORY })
      const root = m.call<PtNodeAllocResult>({ type: 'page_table.empty', config: 'user' })
      const child = alloc(m)
      const g = lock(m, root.paddr)
      expect(m.call({ type: 'page_table_guard.read_pte', guard: g, idx: 7 })).toBe('0x0000000000000000')
      const before = m.state
      const step = m.dispatch({ type: 'page_table_guard.write_pte', guard: g, idx: 7, pte: pteToHex(newPt(child.paddr)) })
      expect(changed(before, m.state)).toEqual({ memory: [0] })
      expect(readPte(m.state, 0, 7)).toBe(newPt(child.paddr))
      expect(m.call({ type: 'page_table_guard.read_pte', guard: g, idx: 7 })).toBe('0x0000000000001007')
      // nothing else follows the PTE: nr_children, ref counts, paths and the owner tree are stale
      expect(step.violations.map((v) => v.rule)).toContain('INV-PTMETA-2')
      expect(step.violations.every((v) => v.kind === 'INV')).toBe(true)
      // the same word written back to absent restores the node
      const back = m.dispatch({ type: 'page_table_guard.write_pte', guard: g, idx: 7, pte: '0x0' })
      expect(back.violations).toEqual([])
      expect(violationsIn(m.state)).toEqual([])
    }
  })

  it('reject an index past 511, a word that is no u64, and a guard whose lock is gone', () => {
    const m = createModel({ check: 'full', physicalMemory: PT_MEMORY })
    const g = lock(m, alloc(m).paddr)
    const before = m.state
    expect(panicRule(() => m.dispatch({ type: 'page_table_guard.read_pte', guard: g, idx: 512 }))).toBe('REQ-GUARD-READPTE-3')
    expect(panicRule(() => m.dispatch({ type: 'page_table_guard.write_pte', guard: g, idx: 512, pte: '0x0' }))).toBe('REQ-GUARD-WRITEPTE-3')
    for (const pte of ['0x10000000000000000', '12', '-0x1', '0xZZ', '']) {
      expect(() => m.dispatch({ type: 'page_table_guard.write_pte', guard: g, idx: 0, pte })).toThrow(InvalidEventError)
    }
    expect(() => m.dispatch({ type: 'page_table_guard.write_pte', guard: g, idx: 0, pte: 5 })).toThrow(InvalidEventError)
    expect(m.state).toBe(before)
  })

  it('nr_children, stray_mut and nr_children_mut name the cells; writes through them update metadata, permission and meta_own', () =>
    bothModes((m) => {
      const n = alloc(m)
      const g = lock(m, n.paddr)
      const before = m.state
      expect(m.call({ type: 'page_table_guard.nr_children', guard: g })).toBe(0)
      expect(m.call({ type: 'page_table_guard.stray_mut', guard: g })).toEqual({ metaAddr: metaAddr(0) })
      expect(m.call({ type: 'page_table_guard.nr_children_mut', guard: g })).toEqual({ metaAddr: metaAddr(0) })
      expect(m.state).toBe(before)
      m.dispatch({ type: 'page_table_guard.stray_mut.write', guard: g, value: true })
      expect(changed(before, m.state)).toEqual({ slotCells: [0], ptOwners: [0] })
      expect(slotOf(m.state, 0).storage).toMatchObject({ stray: true })
      expect(ownerOf(m.state, 0).innerPerms.storage).toMatchObject({ stray: true })
      expect(tableGet(m.state.pt.owners, 0)!.metaOwn).toEqual({ nrChildren: 0, stray: true })
      m.dispatch({ type: 'page_table_guard.stray_mut.write', guard: g, value: false })
      expect(tableEntries(m.state.metaSlots)).toEqual(tableEntries(before.metaSlots))
    }))

  it('a nr_children write that disagrees with the PTEs is reported at the boundary (INV-PTMETA-2)', () => {
    const m = createModel({ check: 'incremental', physicalMemory: PT_MEMORY })
    const g = lock(m, alloc(m).paddr)
    const step = m.dispatch({ type: 'page_table_guard.nr_children_mut.write', guard: g, value: 2 })
    expect(step.violations.map((v) => v.rule)).toEqual(['INV-PTMETA-2'])
    expect(m.call({ type: 'page_table_guard.nr_children', guard: g })).toBe(2)
  })
})

describe('a tree built with write_pte and the ghost edits of Entry::replace', () => {
  it('is clean under every rule', () => {
    const { b, root, child } = rootWithChild()
    expect(violationsIn(b.s)).toEqual([])
    expect(slotOf(b.s, 0).storage).toMatchObject({ nrChildren: 1 })
    expect(readPte(b.s, 0, 1)).toBe(newPt(child.paddr))
    expect(ownerOf(b.s, 1)).toMatchObject({ rawCount: 1, pathsInPt: ['0:1'], innerPerms: { refCount: 1 } })
    expect(obligationsOf(b.s, 1)).toBe(0)
    expect(tableGet(b.s.pt.owners, 1)).toMatchObject({ tree: root.paddr / 0x1000, path: '1', inScope: false, parentLevel: 4, level: 3 })
  })
})

describe('the drop of a root tears the whole tree down', () => {
  const MMIO: ReadonlyArray<readonly [number, number]> = [[0x30_0000, 0x40_0000]]

  /**
   * A kernel page table: root (slot 0) → [300] level 3 → [1] level 2 → [2] level 1 with a tracked
   * frame at [0] (AVAIL1), the same frame again at [3] (rc 2), an untracked MMIO page at [1], and
   * a second level-1 node at [4] of the level-2 node with a tracked frame at [511].
   */
  function kernelTree(): { b: PtBuilder; slots: number[]; frames: number[] } {
    const b = new PtBuilder(genesis({ physicalMemory: PT_MEMORY, mmioRanges: MMIO }))
    const root = b.empty('kernel')
    const l3 = b.alloc(3, 'kernel')
    b.install(root.paddr, 300, l3.node)
    const l2 = b.alloc(2, 'kernel')
    b.install(l3.paddr, 1, l2.node)
    const l1 = b.alloc(1, 'kernel')
    b.install(l2.paddr, 2, l1.node)
    const l1b = b.alloc(1, 'kernel')
    b.install(l2.paddr, 4, l1b.node)
    const tracked = { ...newUser(PageFlags.RW), flags: PageFlags.RW | PageFlags.AVAIL1 }
    const f = b.frame()
    const f2 = b.run<{ frame: number }>({ type: 'frame.clone', frame: f.frame })
    b.mapTracked(l1.paddr, 0, f.frame, tracked)
    b.mapTracked(l1.paddr, 3, f2.frame, tracked)
    b.mapUntracked(l1.paddr, 1, 0x30_0000, newUser(PageFlags.RW))
    const g = b.frame()
    b.mapTracked(l1b.paddr, 511, g.frame, tracked)
    return { b, slots: [root, l3, l2, l1, l1b].map((n) => frameToIndex(n.paddr)), frames: [frameToIndex(f.paddr), frameToIndex(g.paddr)] }
  }

  it('releases every child node and tracked frame, leaves the MMIO page alone, and frees every slot', () => {
    const { b, slots, frames } = kernelTree()
    expect(violationsIn(b.s)).toEqual([])
    expect(ownerOf(b.s, frames[0]!)).toMatchObject({ innerPerms: { refCount: 2 }, pathsInPt: ['0:300.1.2.0', '0:300.1.2.3'] })
    for (const check of ['full', 'incremental'] as const) {
      const m = b.model(check, MMIO)
      const before = m.state
      const step = m.dispatch({ type: 'page_table_node.drop', node: 0 })
      expect(step.violations).toEqual([])
      // the walk: root on_drop → level 3 → level 2 → the two level-1 nodes and their frames
      expect(shape(step.steps)).toEqual([
        'page_table_page_meta.on_drop[page_table_node.drop[page_table_page_meta.on_drop[page_table_node.drop[page_table_page_meta.on_drop[' +
          'page_table_node.drop[page_table_page_meta.on_drop[frame.drop, frame.drop]], ' +
          'page_table_node.drop[page_table_page_meta.on_drop[frame.drop]]]]]]]',
      ])
      const s = m.state
      for (const i of [...slots, ...frames]) {
        expect(slotOf(s, i)).toEqual(FRESH_SLOT)
        // usage is not reset by drop_last_in_place (ENS-META-DROPLAST-1)
        expect(ownerOf(s, i)).toEqual({ ...freshOwner(s.config, i), usage: slots.includes(i) ? PageUsage.PageTable : PageUsage.Frame })
        expect(obligationsOf(s, i)).toBe(0)
        expect(isParked(s, i)).toBe(true)
        expect(tableGet(s.pt.owners, i)).toBeNull()
      }
      // the MMIO page was never referenced
      expect(ownerOf(s, 0x300)).toBe(ownerOf(before, 0x300))
      expect(s.pt.nodes.count).toBe(0)
      expect(s.pt.owners.count).toBe(0)
      expect(s.frames.count).toBe(0)
      expect(s.regions.frameObligations.count).toBe(0)
      // the frames went back to the allocator, the root last (LIFO)
      expect(freeStackTop(s)).toBe(slots[0])
      expect(s.allocator.freeStackLen).toBe(slots.length + frames.length)
      expect(violationsIn(s)).toEqual([])
    }
  })

  it('a user root: a frame mapped by the table and held by a handle survives with rc 1', () => {
    const b = new PtBuilder()
    const root = b.empty('user')
    const l3 = b.alloc(3)
    b.install(root.paddr, 0, l3.node)
    const l2 = b.alloc(2)
    b.install(l3.paddr, 0, l2.node)
    const l1 = b.alloc(1)
    b.install(l2.paddr, 0, l1.node)
    const f = b.frame()
    const kept = b.run<{ frame: number }>({ type: 'frame.clone', frame: f.frame })
    b.mapTracked(l1.paddr, 9, f.frame)
    expect(violationsIn(b.s)).toEqual([])
    for (const check of ['full', 'incremental'] as const) {
      const m = b.model(check)
      const step = m.dispatch({ type: 'page_table_node.drop', node: root.node })
      expect(step.violations).toEqual([])
      const idx = frameToIndex(f.paddr)
      expect(ownerOf(m.state, idx)).toMatchObject({ innerPerms: { refCount: 1 }, pathsInPt: [] })
      expect(tableGet(m.state.frames, kept.frame)).toEqual({ paddr: f.paddr })
      m.dispatch({ type: 'frame.drop', frame: kept.frame })
      expect(slotOf(m.state, idx).refCount).toBe(REF_COUNT_UNUSED)
      expect(m.history.violations()).toEqual([])
    }
  })

  it('a child node another handle still holds survives the drop of its parent, taken out of the tree', () => {
    const { b, child } = rootWithChild()
    const c = frameToIndex(child.paddr)
    // a second reference to the installed child, held by a PageTableNode handle
    b.s = editSnapshot(b.s, (d, t) => {
      t.metaSlots.set(c, { ...t.metaSlots.get(c)!, refCount: 2 })
      const o = t.slotOwners.get(c)!
      t.slotOwners.set(c, { ...o, innerPerms: { ...o.innerPerms, refCount: 2 } })
      t.ptNodes.set(9, { paddr: child.paddr })
      t.frameObligations.set(c, 1)
      d.counters.ptNode = 10
    })
    expect(violationsIn(b.s)).toEqual([])
    for (const check of ['full', 'incremental'] as const) {
      const m = b.model(check)
      const step = m.dispatch({ type: 'page_table_node.drop', node: 0 })
      expect(step.violations).toEqual([])
      expect(ownerOf(m.state, c)).toMatchObject({ innerPerms: { refCount: 1 }, rawCount: 0, pathsInPt: [] })
      expect(tableGet(m.state.pt.owners, c)).toMatchObject({ inScope: true, path: '1' })
      m.dispatch({ type: 'page_table_node.drop', node: 9 })
      expect(slotOf(m.state, c)).toEqual(FRESH_SLOT)
      expect(m.history.violations()).toEqual([])
    }
  })

  it("composes with Entry::replace: install, take out again, drop the taken-out node, drop the root", () =>
    bothModes((m) => {
      const root = m.call<PtNodeAllocResult>({ type: 'page_table.empty', config: 'user' })
      const child = alloc(m)
      const g = lock(m, root.paddr)
      const entry = m.call<{ entry: number }>({ type: 'page_table_guard.entry', guard: g, idx: 7 }).entry
      const node = m.call<{ child: number }>({ type: 'child.from_node', node: child.node }).child
      const none = m.call<{ child: number }>({ type: 'entry.replace', entry, child: node }).child
      m.dispatch({ type: 'child.drop', child: none })
      m.dispatch({ type: 'entry.drop', entry })
      expect(slotOf(m.state, 0).storage).toMatchObject({ nrChildren: 1 })
      expect(ownerOf(m.state, 1)).toMatchObject({ rawCount: 1, pathsInPt: ['0:7'] })
      const e2 = m.call<{ entry: number }>({ type: 'page_table_guard.entry', guard: g, idx: 7 }).entry
      const absent = m.call<{ child: number }>({ type: 'child.none', tree: 0, path: '7', parentLevel: 4 }).child
      const taken = m.call<{ child: number }>({ type: 'entry.replace', entry: e2, child: absent }).child
      m.dispatch({ type: 'entry.drop', entry: e2 })
      // the taken-out node still records its old path (ENS-ENTRY-REPLACE-12); its last drop forgets it
      const step = m.dispatch({ type: 'child.drop', child: taken })
      expect(shape(step.steps)).toEqual(['page_table_node.drop[page_table_page_meta.on_drop]'])
      expect(slotOf(m.state, 1)).toEqual(FRESH_SLOT)
      m.dispatch({ type: 'page_table_guard.drop', guard: g })
      m.dispatch({ type: 'page_table_node.drop', node: root.node })
      expect(m.state.pt.owners.count + m.state.pt.nodes.count + m.state.regions.frameObligations.count).toBe(0)
    }))

  it('panics (state unchanged) when the walk finds a child node no forgotten reference accounts for', () => {
    const { b, child } = rootWithChild()
    const bad = editSnapshot(b.s, (_d, t) => {
      const i = frameToIndex(child.paddr)
      t.slotOwners.set(i, { ...t.slotOwners.get(i)!, rawCount: 0 })
    })
    const m = createModel({ check: 'full', initial: bad })
    let rule = ''
    try {
      m.dispatch({ type: 'page_table_node.drop', node: 0 })
    } catch (e) {
      if (isOstdPanic(e)) rule = e.rule
    }
    expect(rule).toBe('REQ-PTMETA-ONDROP-3')
    expect(m.state).toBe(bad)
    expect(m.history.length).toBe(0)
  })

  it('on_drop cannot be called while a handle still holds the node', () => {
    const m = createModel({ check: 'full', physicalMemory: PT_MEMORY })
    alloc(m)
    expect(panicRule(() => m.dispatch({ type: 'page_table_page_meta.on_drop', paddr: 0 }))).toBe('REQ-PTMETA-ONDROP-6')
  })

  it('walks only the root entries of TOP_LEVEL_INDEX_RANGE (a user root leaves entry 300 alone)', () => {
    const b = new PtBuilder()
    const root = b.empty('user')
    const other = b.alloc(3)
    // A PTE at index 300 of a user root (TOP_LEVEL_INDEX_RANGE = 0..256): not the table's to release.
    b.s = editSnapshot(b.s, (_d, t) => writePte(new MemoryWriter(t), frameToIndex(root.paddr), 300, newPt(other.paddr)))
    for (const check of ['full', 'incremental'] as const) {
      const m = b.model(check)
      const before = m.state
      const step = m.dispatch({ type: 'page_table_node.drop', node: root.node })
      expect(step.steps.map((st) => [st.event.type, st.steps.length])).toEqual([['page_table_page_meta.on_drop', 0]])
      expect(ownerOf(m.state, frameToIndex(other.paddr))).toBe(ownerOf(before, frameToIndex(other.paddr)))
      expect(step.violations).toEqual([])
    }
  })
})
