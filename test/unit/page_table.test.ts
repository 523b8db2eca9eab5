/**
 * `PageTable`s of the three configurations (reducers/page_table/page_table.ts), `page_walk`
 * (src/model/pt_walk.ts), the abstract view (src/model/pt_view.ts) and the boot page table
 * (reducers/page_table/boot_pt.ts): what each call returns and changes, without violations; the
 * kernel-half sharing of user page tables; the panics, with the state unchanged; and drops that
 * return every slot to its start state.
 *
 * The kernel page table takes ~3,100 internal steps: it is made once per test with incremental
 * checking (full checking re-evaluates the whole state after each internal step), or unchecked
 * as the start state of cheaper tests.
 */
import { describe, expect, it } from 'vitest'
import { NR_ENTRIES, PAGE_SIZE, pageSize, REF_COUNT_UNUSED } from '../../src/arch/constants.js'
import { newUser, PageFlags, type PageProperty } from '../../src/arch/page_prop.js'
import { isPresent, newPage, newPt, ptePaddr } from '../../src/arch/pte.js'
import { createModel, type Model } from '../../src/api/model.js'
import { Checker } from '../../src/check/checker.js'
import { defaultRegistry } from '../../src/check/rules/index.js'
import { editSnapshot } from '../../src/model/edit.js'
import { MemoryWriter, readPte, writePte } from '../../src/model/memory.js'
import { isSharedKernelEntry } from '../../src/model/pt_tables.js'
import { firstMappingFrom, mappingAt, mappingsIn, vaddrOf, viewOf } from '../../src/model/pt_view.js'
import { walkTrace } from '../../src/model/pt_walk.js'
import { isParked, obligationsOf, ownerOf, slotOf } from '../../src/model/slots.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { tableGet } from '../../src/model/table.js'
import type { PageTableResult } from '../../reducers/page_table/page_table.js'
import { bothModes, panicRule } from '../util.js'

const MEMORY = 1 << 22
const RW: PageProperty = newUser(PageFlags.RW)
const KRW: PageProperty = { flags: PageFlags.RW, cache: 'Writeback', privFlags: 0 }

interface Root {
  readonly pt: number
  readonly paddr: number
  readonly slot: number
  readonly guard: number
}

function newTable(m: Model, config: 'user' | 'kernel' | 'untracked'): PageTableResult {
  return m.call<PageTableResult>({ type: 'page_table.new', config })
}

function lock(m: Model, paddr: number): number {
  return m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr }).guard
}

function lockedTable(m: Model, config: 'user' | 'kernel' | 'untracked'): Root {
  const r = newTable(m, config)
  return { pt: r.pageTable, paddr: r.rootPaddr, slot: r.rootPaddr / PAGE_SIZE, guard: lock(m, r.rootPaddr) }
}

/** Replaces entry `idx` of the locked node with `child`; drops the old child and the Entry. */
function put(m: Model, guard: number, idx: number, child: number): void {
  const { entry } = m.call<{ entry: number }>({ type: 'page_table_guard.entry', guard, idx })
  const old = m.call<{ child: number }>({ type: 'entry.replace', entry, child }).child
  m.call({ type: 'child.drop', child: old })
  m.call({ type: 'entry.drop', entry })
}

/** Installs a new node of `level` at entry `idx` of the node `guard` locks; returns it locked. */
function install(m: Model, guard: number, idx: number, level: number, config: 'user' | 'kernel' | 'untracked'): { slot: number; paddr: number; guard: number } {
  const { node, paddr } = m.call<{ node: number; paddr: number }>({ type: 'page_table_node.alloc', level, config })
  const { child } = m.call<{ child: number }>({ type: 'child.from_node', node })
  put(m, guard, idx, child)
  return { slot: paddr / PAGE_SIZE, paddr, guard: lock(m, paddr) }
}

/** Maps an untracked leaf `(pa, level, prop)` at entry `idx` of the locked node (tree `tree`, path `path`). */
function mapUntracked(m: Model, node: { slot: number; guard: number }, idx: number, pa: number, level: number, prop: PageProperty = RW): void {
  const r = tableGet(m.state.pt.owners, node.slot)!
  const path = r.path === '' ? String(idx) : `${r.path}.${idx}`
  const { child } = m.call<{ child: number }>({ type: 'child.untracked', paddr: pa, level, prop, tree: r.tree, path })
  put(m, node.guard, idx, child)
}

function walk(m: Model, pt: number, va: number | string): unknown {
  return m.call({ type: 'page_table.page_walk', pageTable: pt, va })
}

/** Every invariant violation of a state, as `rule path` strings. */
function violationsIn(s: Snapshot): string[] {
  return new Checker(defaultRegistry(), 'full').violationsIn(s).map((v) => `${v.rule} ${v.path}`)
}

/** A slot back where genesis left it, as far as references go (usage may keep its last value). */
function atStart(s: Snapshot, idx: number): boolean {
  const o = ownerOf(s, idx)
  return (
    slotOf(s, idx).refCount === REF_COUNT_UNUSED &&
    o.innerPerms.refCount === REF_COUNT_UNUSED &&
    o.innerPerms.storage === null &&
    o.pathsInPt.length === 0 &&
    o.rawCount === 0 &&
    obligationsOf(s, idx) === 0 &&
    isParked(s, idx) &&
    tableGet(s.pt.owners, idx) === null &&
    tableGet(s.pt.locks, idx) === null
  )
}

/** No handle of any page-table registry is live. */
function noHandles(s: Snapshot): boolean {
  return [s.pt.tables, s.pt.nodes, s.pt.guards, s.pt.entries, s.pt.children, s.pt.childOwners, s.frames].every((t) => t.count === 0) && s.pt.boot === null
}

let kernelState: { snapshot: Snapshot; kernel: PageTableResult; user: PageTableResult } | null = null

/** A state with a kernel page table and one user page table sharing it (built unchecked, once). */
function kernelAndUser(): { snapshot: Snapshot; kernel: PageTableResult; user: PageTableResult } {
  if (kernelState === null) {
    const m = createModel({ check: 'off', physicalMemory: MEMORY })
    const kernel = m.call<PageTableResult>({ type: 'page_table.new_kernel' })
    const user = m.call<PageTableResult>({ type: 'page_table.create_user_page_table', pageTable: kernel.pageTable })
    kernelState = { snapshot: m.state, kernel, user }
  }
  return kernelState
}

// ---- untracked page tables: leaves of every size, page_walk, the view ------------------------

describe('page_table.new and page_walk', () => {
  it('makes an empty page table of each configuration owned by a handle', () =>
    bothModes((m) => {
      for (const config of ['user', 'kernel', 'untracked'] as const) {
        const r = newTable(m, config)
        const h = tableGet(m.state.pt.tables, r.pageTable)!
        expect(h).toEqual({ config, root: expect.any(Number), rootPaddr: r.rootPaddr, sharesKernel: null })
        expect(tableGet(m.state.pt.nodes, h.root)).toEqual({ paddr: r.rootPaddr })
        expect(tableGet(m.state.pt.owners, r.rootPaddr / PAGE_SIZE)).toMatchObject({ level: 4, path: '', inScope: false, config })
        expect(walk(m, r.pageTable, 0)).toBeNull()
        expect(viewOf(m.state, r.rootPaddr / PAGE_SIZE)).toEqual([])
      }
      expect(m.state.counters.pageTable).toBe(3)
    }))

  it('walks 4 KiB, 2 MiB and 1 GiB leaves installed with entry.replace, physical address 0 included', () =>
    bothModes((m) => {
      const root = lockedTable(m, 'untracked')
      const l3 = install(m, root.guard, 0, 3, 'untracked')
      const l2 = install(m, l3.guard, 0, 2, 'untracked')
      const l1 = install(m, l2.guard, 0, 1, 'untracked')
      mapUntracked(m, l1, 1, 0, 1) // VA 0x1000 -> PA 0
      mapUntracked(m, l2, 1, 0x20_0000, 2, KRW) // VA 0x20_0000 -> 2 MiB at 0x20_0000
      mapUntracked(m, l3, 1, 0x4000_0000, 3) // VA 0x4000_0000 -> 1 GiB at 0x4000_0000
      mapUntracked(m, l3, 2, 0, 3) // VA 0x8000_0000 -> 1 GiB at 0
      expect(walk(m, root.pt, 0x1234)).toEqual({ pa: 0x234, prop: RW })
      expect(walk(m, root.pt, 0x1000)).toEqual({ pa: 0, prop: RW })
      expect(walk(m, root.pt, 0x0)).toBeNull()
      expect(walk(m, root.pt, 0x2000)).toBeNull()
      expect(walk(m, root.pt, 0x2f_f123)).toEqual({ pa: 0x2f_f123, prop: KRW })
      expect(walk(m, root.pt, 0x4123_4567)).toEqual({ pa: 0x4123_4567, prop: RW })
      expect(walk(m, root.pt, 0xbfff_ffff)).toEqual({ pa: 0x3fff_ffff, prop: RW })
      expect(walk(m, root.pt, '0x8000000000')).toBeNull() // root index 1: absent
      expect(walkTrace(m.state, root.paddr, 0x2f_f123).leaf).toMatchObject({ level: 2, leafPa: 0x20_0000 })
      expect(walkTrace(m.state, root.paddr, 0x2f_f123).steps.map((s) => s.slot)).toEqual([root.slot, l3.slot, l2.slot])
      // The view, from the owner tree and from the words, is the same four mappings in VA order.
      const view = viewOf(m.state, root.slot)
      expect(view.map((v) => [v.vaRange.start, v.paRange.start, v.pageSize])).toEqual([
        [0x1000, 0, PAGE_SIZE],
        [0x20_0000, 0x20_0000, pageSize(2)],
        [0x4000_0000, 0x4000_0000, pageSize(3)],
        [0x8000_0000, 0, pageSize(3)],
      ])
      expect(viewOf(m.state, root.slot, { source: 'pte' })).toEqual(view)
      expect(mappingAt(m.state, root.slot, 0x2f_ffff)?.vaRange).toEqual({ start: 0x20_0000, end: 0x40_0000 })
      expect(mappingAt(m.state, root.slot, 0x40_0000)).toBeNull()
      expect(firstMappingFrom(m.state, root.slot, 0x2000, 0x8000_0000)?.vaRange.start).toBe(0x20_0000)
      expect(firstMappingFrom(m.state, root.slot, 0x20_1000, 0x4000_0000)).toBeNull() // the 2 MiB leaf starts before the window
      expect(mappingsIn(m.state, root.slot, { start: 0x1fff, end: 0x20_0001 }).length).toBe(2)
      for (const g of [l1.guard, l2.guard, l3.guard, root.guard]) m.call({ type: 'page_table_guard.drop', guard: g })
    }))

  it('takes kernel addresses as hex strings and reports pa + offset', () => {
    // Kernel untracked items are MMIO (INV-ENTRY-6: is_tracked == !is_mmio_paddr).
    const m = createModel({ check: 'incremental', physicalMemory: MEMORY, mmioRanges: [[0x4000_0000, 0x8000_0000]] })
    const root = lockedTable(m, 'kernel')
    const l3 = install(m, root.guard, 511, 3, 'kernel')
    mapUntracked(m, l3, 510, 0x4000_0000, 3, KRW)
    expect(walk(m, root.pt, '0xffffffff80001234')).toEqual({ pa: 0x4000_1234, prop: KRW })
    expect(walk(m, root.pt, '0xffffffff40001234')).toBeNull()
    const [v] = viewOf(m.state, root.slot)
    expect(vaddrOf('kernel', v!.vaRange.start)).toBe(0xffff_ffff_8000_0000n)
    expect(m.history.violations()).toEqual([])
  })

  it('is a query: nothing changes; a dead handle is refused', () => {
    const m = createModel({ check: 'full', physicalMemory: MEMORY })
    const r = newTable(m, 'untracked')
    const before = m.state
    walk(m, r.pageTable, 0x1000)
    expect(m.state).toBe(before)
    expect(panicRule(() => walk(m, 7, 0))).toBe('REQ-HANDLE-1')
  })
})

// ---- the kernel page table and user page tables sharing it -----------------------------------

describe('new_kernel and create_user_page_table', () => {
  it('pre-allocates the 256 level-3 nodes, and a user page table shares them without references (no violations)', () => {
    const m = createModel({ check: 'incremental', physicalMemory: MEMORY })
    const kernel = m.call<PageTableResult>({ type: 'page_table.new_kernel' })
    const kslot = kernel.rootPaddr / PAGE_SIZE
    const root = tableGet(m.state.pt.owners, kslot)!
    expect(root.children.count).toBe(256)
    for (let i = 0; i < NR_ENTRIES; i++) {
      const pte = readPte(m.state, kslot, i)
      expect(isPresent(pte)).toBe(i >= 256)
      if (i >= 256) expect(tableGet(m.state.pt.owners, ptePaddr(pte) / PAGE_SIZE)).toMatchObject({ level: 3, path: String(i), tree: kslot, config: 'kernel', inScope: false })
    }
    expect(slotOf(m.state, kslot).storage).toMatchObject({ nrChildren: 256, lock: 0 })
    expect(m.state.pt.locks.count + m.state.pt.guards.count + m.state.pt.entries.count + m.state.pt.children.count).toBe(0)
    const l3 = ptePaddr(readPte(m.state, kslot, 300)) / PAGE_SIZE
    const l3Owner = ownerOf(m.state, l3)

    const user = m.call<PageTableResult>({ type: 'page_table.create_user_page_table', pageTable: kernel.pageTable })
    const uslot = user.rootPaddr / PAGE_SIZE
    expect(tableGet(m.state.pt.tables, user.pageTable)).toMatchObject({ config: 'user', sharesKernel: kernel.pageTable })
    for (let i = 0; i < NR_ENTRIES; i++) expect(readPte(m.state, uslot, i)).toBe(i < 256 ? 0n : readPte(m.state, kslot, i))
    expect(tableGet(m.state.pt.owners, uslot)!.children.count).toBe(0) // INV-TREE-4: the ghost half is absent
    expect(slotOf(m.state, uslot).storage).toMatchObject({ nrChildren: 0, lock: 0 })
    expect(ownerOf(m.state, l3)).toEqual(l3Owner) // no reference, no path for the shared node
    expect(isSharedKernelEntry(m.state, uslot, 256)).toBe(true)
    expect(isSharedKernelEntry(m.state, uslot, 255)).toBe(false)
    expect(isSharedKernelEntry(m.state, kslot, 256)).toBe(false)
    expect(m.state.pt.locks.count).toBe(0)
    expect(m.history.violations()).toEqual([])
  }, 120_000)

  it('walks a kernel mapping through the shared nodes of a user page table; the user view leaves it out', () => {
    const { snapshot, kernel, user } = kernelAndUser()
    const m = createModel({ check: 'incremental', physicalMemory: MEMORY, initial: snapshot })
    const kslot = kernel.rootPaddr / PAGE_SIZE
    const l3paddr = ptePaddr(readPte(m.state, kslot, 256))
    const l3 = { slot: l3paddr / PAGE_SIZE, guard: lock(m, l3paddr) }
    const l2 = install(m, l3.guard, 0, 2, 'kernel')
    const l1 = install(m, l2.guard, 0, 1, 'kernel')
    // A tracked kernel frame (`item_into_raw` marks it AVAIL1) at 0xffff_8000_0000_5000.
    const f = m.call<{ ok: true; value: { frame: number; paddr: number } }>({ type: 'frame_alloc.alloc_frame' }).value
    const prop = { ...KRW, flags: KRW.flags | PageFlags.AVAIL1 }
    const { child } = m.call<{ child: number }>({ type: 'child.from_frame', frame: f.frame, prop, tree: kslot, path: '256.0.0.5', parentLevel: 1 })
    put(m, l1.guard, 5, child)
    for (const g of [l1.guard, l2.guard, l3.guard]) m.call({ type: 'page_table_guard.drop', guard: g })
    expect(walk(m, kernel.pageTable, '0xffff800000005abc')).toEqual({ pa: f.paddr + 0xabc, prop })
    expect(walk(m, user.pageTable, '0xffff800000005abc')).toEqual({ pa: f.paddr + 0xabc, prop })
    expect(viewOf(m.state, user.rootPaddr / PAGE_SIZE)).toEqual([])
    expect(viewOf(m.state, user.rootPaddr / PAGE_SIZE, { source: 'pte' })).toEqual([])
    expect(viewOf(m.state, kslot).map((v) => v.vaRange.start)).toEqual([2 ** 47 + 0x5000])
    expect(m.history.violations()).toEqual([])
  })

  it('refuses a page table that is not the kernel, and panics on a kernel top level without nodes', () => {
    const m = createModel({ check: 'full', physicalMemory: MEMORY })
    const u = newTable(m, 'untracked')
    const k = newTable(m, 'kernel') // PageTable::<KernelPtConfig>::empty(): no shared nodes
    const before = m.state
    expect(panicRule(() => m.dispatch({ type: 'page_table.create_user_page_table', pageTable: u.pageTable }))).toBe('REQ-PT-CREATEUSER-1')
    expect(panicRule(() => m.dispatch({ type: 'page_table.create_user_page_table', pageTable: k.pageTable }))).toBe('REQ-PT-CREATEUSER-2')
    expect(panicRule(() => m.dispatch({ type: 'page_table.create_user_page_table', pageTable: 9 }))).toBe('REQ-HANDLE-1')
    expect(m.state).toBe(before)
  })

  it('panics without memory for the kernel nodes, leaving the state unchanged', () => {
    const m = createModel({ check: 'off', physicalMemory: 100 * PAGE_SIZE })
    const before = m.state
    expect(panicRule(() => m.dispatch({ type: 'page_table.new_kernel' }))).toBe('REQ-NODE-ALLOCMEM-1')
    expect(m.state).toBe(before)
    expect(m.history.length).toBe(0)
  })

  it('reports a word in the top half of a user root that shares no kernel (no exemption there)', () => {
    const m = createModel({ check: 'off', physicalMemory: MEMORY })
    const u = newTable(m, 'user')
    const slot = u.rootPaddr / PAGE_SIZE
    const bad = editSnapshot(m.state, (_d, t) => writePte(new MemoryWriter(t), slot, 300, newPt(0x10_0000)))
    expect(isSharedKernelEntry(bad, slot, 300)).toBe(false)
    expect(violationsIn(bad)).toEqual(expect.arrayContaining([`INV-MATCH-3 pt.owners[${slot}].children[300]`, `INV-PTMETA-2 metaSlots[${slot}].storage.nrChildren`]))
  })
})

// ---- drop ---------------------------------------------------------------------------------------

describe('page_table.drop', () => {
  it('tears an untracked tree down, every slot back to its start state', () =>
    bothModes((m) => {
      const root = lockedTable(m, 'untracked')
      const l3 = install(m, root.guard, 3, 3, 'untracked')
      const l2 = install(m, l3.guard, 7, 2, 'untracked')
      mapUntracked(m, l2, 0, 0x20_0000, 2)
      const slots = [root.slot, l3.slot, l2.slot]
      for (const g of [l2.guard, l3.guard, root.guard]) m.call({ type: 'page_table_guard.drop', guard: g })
      m.call({ type: 'page_table.drop', pageTable: root.pt })
      for (const s of slots) expect(atStart(m.state, s)).toBe(true)
      expect(noHandles(m.state)).toBe(true)
    }))

  it('a user page table with tracked frames releases them; the kernel outlives its user page tables', () => {
    const { snapshot, kernel, user } = kernelAndUser()
    const m = createModel({ check: 'incremental', physicalMemory: MEMORY, initial: snapshot })
    const uslot = user.rootPaddr / PAGE_SIZE
    const guard = lock(m, user.rootPaddr)
    const l3 = install(m, guard, 0, 3, 'user')
    const l2 = install(m, l3.guard, 0, 2, 'user')
    const l1 = install(m, l2.guard, 0, 1, 'user')
    const f = m.call<{ ok: true; value: { frame: number; paddr: number } }>({ type: 'frame_alloc.alloc_frame' }).value
    const { child } = m.call<{ child: number }>({ type: 'child.from_frame', frame: f.frame, prop: RW, tree: uslot, path: '0.0.0.5', parentLevel: 1 })
    put(m, l1.guard, 5, child)
    for (const g of [l1.guard, l2.guard, l3.guard, guard]) m.call({ type: 'page_table_guard.drop', guard: g })
    expect(walk(m, user.pageTable, 0x5abc)).toEqual({ pa: f.paddr + 0xabc, prop: RW })
    const kernelPage = tableGet(m.state.memory, kernel.rootPaddr / PAGE_SIZE)
    expect(panicRule(() => m.dispatch({ type: 'page_table.drop', pageTable: kernel.pageTable }))).toBe('REQ-PT-DROP-1')

    const userSlots = [uslot, l3.slot, l2.slot, l1.slot, f.paddr / PAGE_SIZE]
    const kernelSlots = Array.from({ length: 256 }, (_, i) => ptePaddr(readPte(m.state, kernel.rootPaddr / PAGE_SIZE, 256 + i)) / PAGE_SIZE)
    const kernelOwners = kernelSlots.map((s) => ownerOf(m.state, s))
    m.call({ type: 'page_table.drop', pageTable: user.pageTable })
    for (const s of userSlots) expect(atStart(m.state, s)).toBe(true)
    expect(kernelSlots.map((s) => ownerOf(m.state, s))).toEqual(kernelOwners)
    expect(tableGet(m.state.memory, kernel.rootPaddr / PAGE_SIZE)).toBe(kernelPage)

    m.call({ type: 'page_table.drop', pageTable: kernel.pageTable })
    for (const s of [kernel.rootPaddr / PAGE_SIZE, ...kernelSlots]) expect(atStart(m.state, s)).toBe(true)
    expect(noHandles(m.state)).toBe(true)
    expect(m.history.violations()).toEqual([])
  }, 60_000)
})

// ---- the boot page table ---------------------------------------------------------------------------

describe('the boot page table', () => {
  it('maps base pages (allocating tables), protects them, walks them, and frees every table when dropped', () =>
    bothModes((m) => {
      const { rootPaddr } = m.call<{ rootPaddr: number }>({ type: 'boot_page_table.new' })
      expect(m.state.pt.boot).toEqual({ rootPt: rootPaddr / PAGE_SIZE, frames: [rootPaddr / PAGE_SIZE] })
      m.call({ type: 'boot_page_table.map_base_page', va: 0x40_1000, frameNumber: 0, prop: RW })
      expect(m.state.pt.boot!.frames.length).toBe(4) // root + levels 3, 2, 1
      m.call({ type: 'boot_page_table.map_base_page', va: 0x40_2000, frameNumber: 9, prop: RW })
      expect(m.state.pt.boot!.frames.length).toBe(4) // the tables exist now
      m.call({ type: 'boot_page_table.map_base_page', va: '0xffffffff80000000', frameNumber: 0x123, prop: KRW })
      expect(m.state.pt.boot!.frames.length).toBe(7)
      expect(m.call({ type: 'boot_page_table.page_walk', va: 0x40_1abc })).toEqual({ pa: 0xabc, prop: RW })
      expect(m.call({ type: 'boot_page_table.page_walk', va: '0xffffffff80000010' })).toEqual({ pa: 0x12_3010, prop: KRW })
      expect(m.call({ type: 'boot_page_table.page_walk', va: 0x40_3000 })).toBeNull()
      // The MMU's view of the boot page table (no owner tree): its three leaves, by 48-bit VA.
      const bootView = viewOf(m.state, rootPaddr / PAGE_SIZE, { source: 'pte' })
      expect(bootView.map((v) => [v.vaRange.start, v.paRange.start])).toEqual([
        [0x40_1000, 0],
        [0x40_2000, 0x9000],
        [0xffff_8000_0000, 0x12_3000],
      ])
      m.call({ type: 'boot_page_table.protect_base_page', va: 0x40_2000, mask: { clear: PageFlags.W, set: 0 } })
      expect(m.call({ type: 'boot_page_table.page_walk', va: 0x40_2000 })).toEqual({ pa: 0x9000, prop: newUser(PageFlags.R) })
      const frames = m.state.pt.boot!.frames
      for (const f of frames) expect(ownerOf(m.state, f)).toMatchObject({ rawCount: 1, innerPerms: { refCount: 1 } })
      m.call({ type: 'boot_page_table.drop' })
      for (const f of frames) expect(atStart(m.state, f)).toBe(true)
      expect(noHandles(m.state)).toBe(true)
    }))

  it('panics mapping a mapped page or protecting an unmapped one, and without memory; state unchanged', () => {
    const m = createModel({ check: 'full', physicalMemory: 4 * PAGE_SIZE })
    expect(panicRule(() => m.dispatch({ type: 'boot_page_table.page_walk', va: 0 }))).toBe('REQ-BOOTPT-LIVE-1')
    m.call({ type: 'boot_page_table.new' })
    expect(panicRule(() => m.dispatch({ type: 'boot_page_table.new' }))).toBe('REQ-BOOTPT-NEW-1')
    m.call({ type: 'boot_page_table.map_base_page', va: 0x1000, frameNumber: 1, prop: RW })
    const before = m.state
    expect(panicRule(() => m.dispatch({ type: 'boot_page_table.map_base_page', va: 0x1000, frameNumber: 2, prop: RW }))).toBe('REQ-BOOTPT-MAP-1')
    expect(panicRule(() => m.dispatch({ type: 'boot_page_table.protect_base_page', va: 0x2000, prop: RW }))).toBe('REQ-BOOTPT-PROTECT-1')
    expect(panicRule(() => m.dispatch({ type: 'boot_page_table.protect_base_page', va: 0x4000_0000, prop: RW }))).toBe('REQ-BOOTPT-PROTECT-1')
    expect(panicRule(() => m.dispatch({ type: 'boot_page_table.map_base_page', va: 0x4000_0000, frameNumber: 2, prop: RW }))).toBe('REQ-BOOTPT-ALLOC-1')
    expect(panicRule(() => m.dispatch({ type: 'boot_page_table.map_base_page', va: 0x2000, frameNumber: 0x80000, prop: RW }))).toBe('REQ-PTE-1')
    expect(panicRule(() => m.dispatch({ type: 'boot_page_table.protect_base_page', va: 0x1000, mask: { clear: PageFlags.R, set: 0 } }))).toBe('REQ-PTE-2')
    expect(m.state).toBe(before)
    expect(m.history.violations()).toEqual([])
  })

  it("adopts the firmware's mappings: 4 KiB, 2 MiB and 1 GiB leaves in tables allocated like its others", () =>
    bothModes((m) => {
      const { rootPaddr } = m.call<{ rootPaddr: number }>({
        type: 'boot_page_table.new',
        firmware: [
          { va: 0x4000_0000, paddr: 0x4000_0000, level: 3, prop: KRW },
          { va: 0x20_0000, paddr: 0x40_0000, level: 2, prop: KRW },
          { va: 0x1000, paddr: 0x1000, level: 1, prop: RW },
          { va: '0xffff800000000000', paddr: 0, level: 2, prop: KRW },
        ],
      })
      // root, the level-3 / 2 / 1 tables under VA 0, the level-3 / 2 tables under the upper-half VA
      expect(m.state.pt.boot!.frames.length).toBe(6)
      expect(m.state.pt.boot!.rootPt).toBe(rootPaddr / PAGE_SIZE)
      expect(m.call({ type: 'boot_page_table.page_walk', va: 0x4567_8000 })).toEqual({ pa: 0x4567_8000, prop: KRW })
      expect(m.call({ type: 'boot_page_table.page_walk', va: 0x23_4567 })).toEqual({ pa: 0x43_4567, prop: KRW })
      expect(m.call({ type: 'boot_page_table.page_walk', va: 0x1abc })).toEqual({ pa: 0x1abc, prop: RW })
      expect(m.call({ type: 'boot_page_table.page_walk', va: '0xffff800000012345' })).toEqual({ pa: 0x1_2345, prop: KRW })
      expect(m.call({ type: 'boot_page_table.page_walk', va: 0x2000 })).toBeNull()
      expect(walkTrace(m.state, rootPaddr, 0x4567_8000).leaf!.level).toBe(3)
      const frames = m.state.pt.boot!.frames
      m.call({ type: 'boot_page_table.drop' })
      for (const f of frames) expect(atStart(m.state, f)).toBe(true)
    }))

  it("refuses firmware mappings one table cannot hold (REQ-BOOTPT-NEW-2) or memory cannot (REQ-BOOTPT-ALLOC-1); state unchanged", () => {
    const m = createModel({ check: 'full', physicalMemory: 4 * PAGE_SIZE })
    const before = m.state
    const refuse = (firmware: unknown[]): string => panicRule(() => m.dispatch({ type: 'boot_page_table.new', firmware } as never))
    expect(refuse([{ va: 0x1000, paddr: 0x20_0000, level: 2, prop: KRW }])).toBe('REQ-BOOTPT-NEW-2') // va not 2 MiB aligned
    expect(refuse([{ va: 0x20_0000, paddr: 0x1000, level: 2, prop: KRW }])).toBe('REQ-BOOTPT-NEW-2') // paddr not 2 MiB aligned
    expect(refuse([{ va: 0x20_0000, paddr: 0, level: 2, prop: KRW }, { va: 0x3f_f000, paddr: 0, level: 1, prop: KRW }])).toBe('REQ-BOOTPT-NEW-2') // inside the 2 MiB leaf
    expect(refuse([{ va: '0xffff800000000000', paddr: 0, level: 3, prop: KRW }, { va: '0x800000000000', paddr: 0, level: 3, prop: KRW }])).toBe('REQ-BOOTPT-NEW-2') // the same 48 walked bits
    // a 4 KiB leaf needs the root and three tables; a second one far away three more: 7 > 4 frames
    expect(refuse([{ va: 0x1000, paddr: 0, level: 1, prop: KRW }, { va: '0x8000000000', paddr: 0, level: 1, prop: KRW }])).toBe('REQ-BOOTPT-ALLOC-1')
    expect(refuse([{ va: 0x20_0000, paddr: 0x1_0000_0000_0000, level: 2, prop: KRW }])).toBe('REQ-PTE-1')
    expect(m.state).toBe(before)
    m.call({ type: 'boot_page_table.new', firmware: [{ va: 0x1000, paddr: 0, level: 1, prop: KRW }] })
    expect(m.state.pt.boot!.frames.length).toBe(4)
    expect(m.history.violations()).toEqual([])
  })

  it('panics mapping a base page under a huge leaf (REQ-BOOTPT-MAP-1), and splits a huge leaf it protects down to level 1, keeping the other pages of it', () =>
    bothModes((m) => {
      m.call({ type: 'boot_page_table.new', firmware: [{ va: 0x4000_0000, paddr: 0x4000_0000, level: 3, prop: KRW }, { va: 0x20_0000, paddr: 0x40_0000, level: 2, prop: KRW }] })
      const before = m.state
      expect(panicRule(() => m.dispatch({ type: 'boot_page_table.map_base_page', va: 0x23_4000, frameNumber: 1, prop: RW }))).toBe('REQ-BOOTPT-MAP-1')
      expect(panicRule(() => m.dispatch({ type: 'boot_page_table.map_base_page', va: 0x5000_0000, frameNumber: 1, prop: RW }))).toBe('REQ-BOOTPT-MAP-1')
      expect(m.state).toBe(before)
      const root = m.state.pt.boot!.rootPt
      const l3 = walkTrace(m.state, root * PAGE_SIZE, 0x4000_0000).steps[1]!.slot
      // 2 MiB: one split
      m.call({ type: 'boot_page_table.protect_base_page', va: 0x23_4000, prop: newUser(PageFlags.R) })
      expect(m.call({ type: 'boot_page_table.page_walk', va: 0x23_4567 })).toEqual({ pa: 0x43_4567, prop: newUser(PageFlags.R) })
      expect(m.call({ type: 'boot_page_table.page_walk', va: 0x23_5567 })).toEqual({ pa: 0x43_5567, prop: KRW })
      expect(m.call({ type: 'boot_page_table.page_walk', va: 0x3f_f000 })).toEqual({ pa: 0x5f_f000, prop: KRW })
      expect(m.state.pt.boot!.frames.length).toBe(4) // root, level 3, level 2 (firmware), the split's level 1
      // 1 GiB: two splits, 2 MiB pages then 4 KiB pages
      m.call({ type: 'boot_page_table.protect_base_page', va: 0x4060_1000, mask: { clear: PageFlags.W, set: 0 } })
      expect(m.state.pt.boot!.frames.length).toBe(6)
      const trace = walkTrace(m.state, root * PAGE_SIZE, 0x4060_1000)
      expect(trace.steps.map((st) => st.level)).toEqual([4, 3, 2, 1])
      expect(trace.steps[1]!.slot).toBe(l3)
      const l2 = trace.steps[2]!.slot
      const l1 = trace.steps[3]!.slot
      expect(readPte(m.state, l2, 0)).toBe(newPage(0x4000_0000, 2, KRW))
      expect(readPte(m.state, l2, 511)).toBe(newPage(0x4000_0000 + 511 * pageSize(2), 2, KRW))
      expect(readPte(m.state, l1, 0)).toBe(newPage(0x4060_0000, 1, KRW))
      expect(m.call({ type: 'boot_page_table.page_walk', va: 0x4060_1abc })).toEqual({ pa: 0x4060_1abc, prop: { ...KRW, flags: KRW.flags & ~PageFlags.W } })
      expect(m.call({ type: 'boot_page_table.page_walk', va: 0x7fff_f000 })).toEqual({ pa: 0x7fff_f000, prop: KRW })
    }))
})
