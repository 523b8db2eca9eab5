/**
 * The page-table facade (src/api/page_table.ts, API.md "Page tables"): `model.pageTables.kernel()`
 * (one kernel page table, made on first use), `create('user' | 'untracked')`,
 * `createUserPageTable`, `pageWalk`, `drop`, and the boot page table (`boot()`: `mapBasePage`,
 * `protectBasePage` with an `op`, `pageWalk`, `dismiss`) — one event per call, panics with the
 * state unchanged, dropped handles refused.
 *
 * The kernel page table takes ~3,100 internal steps: tests that need one make it with incremental
 * checking (full checking re-evaluates the whole state after each internal step) or unchecked.
 * Mappings in the page tables are made with the low-level node/entry events (cursors are not in
 * the facade yet).
 */
import { describe, expect, it } from 'vitest'
import { PAGE_SIZE, REF_COUNT_UNUSED } from '../../src/arch/constants.js'
import { newUser, PageFlags, type PageProperty } from '../../src/arch/page_prop.js'
import { BootPageTable, createModel, InvalidEventError, isOk, OstdPanic, PageTable, unwrap, type Model } from '../../src/index.js'
import { ptePaddr } from '../../src/arch/pte.js'
import { readPte } from '../../src/model/memory.js'
import { slotOf } from '../../src/model/slots.js'
import { tableGet } from '../../src/model/table.js'
import { bothModes, panicRule } from '../util.js'

const MEMORY = 1 << 22
const RW: PageProperty = newUser(PageFlags.RW)
const KRW: PageProperty = { flags: PageFlags.RW, cache: 'Writeback', privFlags: 0 }

/** Event types of the history, in order. */
function types(m: Model): string[] {
  return m.history.events().map((e) => e.type)
}

function count(m: Model, type: string): number {
  return types(m).filter((t) => t === type).length
}

/** Locks the node at `paddr`; returns the guard. */
function lock(m: Model, paddr: number): number {
  return m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr }).guard
}

/** Replaces entry `idx` of the locked node with `child`; drops the old child and the entry. */
function put(m: Model, guard: number, idx: number, child: number): void {
  const { entry } = m.call<{ entry: number }>({ type: 'page_table_guard.entry', guard, idx })
  const old = m.call<{ child: number }>({ type: 'entry.replace', entry, child }).child
  m.call({ type: 'child.drop', child: old })
  m.call({ type: 'entry.drop', entry })
}

/** Installs a new node of `level` at entry `idx` of the node `guard` locks; returns its address and guard. */
function install(m: Model, guard: number, idx: number, level: number, config: 'kernel' | 'untracked'): { paddr: number; guard: number } {
  const { node, paddr } = m.call<{ node: number; paddr: number }>({ type: 'page_table_node.alloc', level, config })
  put(m, guard, idx, m.call<{ child: number }>({ type: 'child.from_node', node }).child)
  return { paddr, guard: lock(m, paddr) }
}

/** Ghost tree and path of entry `idx` of the node at `paddr`. */
function position(m: Model, paddr: number, idx: number): { tree: number; path: string } {
  const owner = tableGet(m.state.pt.owners, paddr / PAGE_SIZE)!
  return { tree: owner.tree, path: owner.path === '' ? String(idx) : `${owner.path}.${idx}` }
}

/**
 * Under the untracked level-3 node at `paddr`: a new level-2 node at entry `l3Idx`, holding an
 * untracked 2 MiB leaf `(pa, prop)` at entry `l2Idx`. Every guard is dropped.
 */
function map2M(m: Model, paddr: number, l3Idx: number, l2Idx: number, pa: number, prop: PageProperty): void {
  const l3 = lock(m, paddr)
  const l2 = install(m, l3, l3Idx, 2, 'untracked')
  const leaf = m.call<{ child: number }>({ type: 'child.untracked', paddr: pa, level: 2, prop, ...position(m, l2.paddr, l2Idx) }).child
  put(m, l2.guard, l2Idx, leaf)
  m.call({ type: 'page_table_guard.drop', guard: l2.guard })
  m.call({ type: 'page_table_guard.drop', guard: l3 })
}

/**
 * Under the kernel level-3 node at `paddr`: level-2 and level-1 nodes at entries `i3`, `i2`, and a
 * new tracked frame at level-1 entry `i1` (`item_into_raw` marks it AVAIL1). Returns the frame's
 * address and the property mapped.
 */
function mapKernel4K(m: Model, paddr: number, i3: number, i2: number, i1: number): { pa: number; prop: PageProperty } {
  const l3 = lock(m, paddr)
  const l2 = install(m, l3, i3, 2, 'kernel')
  const l1 = install(m, l2.guard, i2, 1, 'kernel')
  const f = m.call<{ ok: true; value: { frame: number; paddr: number } }>({ type: 'frame_alloc.alloc_frame' }).value
  const prop = { ...KRW, flags: KRW.flags | PageFlags.AVAIL1 }
  const leaf = m.call<{ child: number }>({ type: 'child.from_frame', frame: f.frame, prop, parentLevel: 1, ...position(m, l1.paddr, i1) }).child
  put(m, l1.guard, i1, leaf)
  for (const g of [l1.guard, l2.guard, l3]) m.call({ type: 'page_table_guard.drop', guard: g })
  return { pa: f.paddr, prop }
}

/** The level-3 node a root's entry `idx` points to (its physical address). */
function childOf(m: Model, rootPaddr: number, idx: number): number {
  return ptePaddr(readPte(m.state, rootPaddr / PAGE_SIZE, idx))
}

/** The `OstdPanic` `fn` throws (fails if it does not). */
function panicOf(fn: () => unknown): OstdPanic {
  try {
    fn()
  } catch (e) {
    if (e instanceof OstdPanic) return e
    throw e
  }
  throw new Error('expected an OstdPanic')
}

describe('model.pageTables.kernel() and create()', () => {
  it('makes the one kernel page table on first use; create("user") shares its half, walked through the user table', () => {
    const m = createModel({ check: 'incremental', physicalMemory: MEMORY })
    const kernel = m.pageTables.kernel()
    expect(kernel).toBeInstanceOf(PageTable)
    expect(kernel.config()).toBe('kernel')
    expect(types(m)).toEqual(['page_table.new_kernel'])
    const again = m.pageTables.kernel()
    expect(again.id).toBe(kernel.id)
    expect(again.rootPaddr()).toBe(kernel.rootPaddr())
    expect(m.history.length).toBe(1) // no second kernel page table

    const user = m.pageTables.create('user') // = kernel().createUserPageTable(): no new kernel
    expect(user.config()).toBe('user')
    expect(user.id).not.toBe(kernel.id)
    expect(types(m)).toEqual(['page_table.new_kernel', 'page_table.create_user_page_table'])
    expect(tableGet(m.state.pt.tables, user.id)).toMatchObject({ config: 'user', sharesKernel: kernel.id })
    const direct = kernel.createUserPageTable()
    expect(tableGet(m.state.pt.tables, direct.id)).toMatchObject({ config: 'user', sharesKernel: kernel.id })

    // A 4 KiB kernel mapping at 0xffff_8000_0060_1000 (root entry 256, then 0, 3, 1).
    const KVA = 0xffff_8000_0060_1234n
    expect(kernel.pageWalk(KVA)).toBeNull()
    expect(user.pageWalk(KVA)).toBeNull()
    const mapped = mapKernel4K(m, childOf(m, kernel.rootPaddr(), 256), 0, 3, 1)
    const hit = { pa: mapped.pa + 0x234, prop: mapped.prop }
    expect(kernel.pageWalk(KVA)).toEqual(hit)
    expect(user.pageWalk(KVA)).toEqual(hit) // through the shared level-3 node
    expect(direct.pageWalk(KVA)).toEqual(hit)
    expect(user.pageWalk(0x60_1234)).toBeNull() // the user half is the user table's own, empty
    expect(count(m, 'page_table.page_walk')).toBe(6) // one event per call
    expect(m.state.pt.locks.count).toBe(0)

    // The kernel outlives its user page tables (REQ-PT-DROP-1); a refused drop consumes nothing.
    const before = m.state
    expect(panicRule(() => kernel.drop())).toBe('REQ-PT-DROP-1')
    expect(m.state).toBe(before)
    expect(kernel.consumed).toBe(false)
    user.drop()
    direct.drop()
    expect(kernel.pageWalk(KVA)).toEqual(hit) // the shared nodes were not released with the user roots
    kernel.drop()
    expect(m.state.pt.tables.count).toBe(0)
    expect(panicRule(() => again.pageWalk(KVA))).toBe('REQ-HANDLE-1') // another handle to the dropped table
    expect(m.history.violations()).toEqual([])
  }, 60_000)

  it('finds the kernel page table in the snapshot (a model started from it, undo), and makes a new one when there is none', () => {
    const setup = createModel({ check: 'off', physicalMemory: MEMORY })
    const k = setup.pageTables.kernel()
    const m = createModel({ check: 'off', physicalMemory: MEMORY, initial: setup.state })
    expect(m.pageTables.kernel().id).toBe(k.id)
    expect(m.history.length).toBe(0)
    m.pageTables.kernel().drop()
    m.history.undo()
    expect(m.pageTables.kernel().id).toBe(k.id)
    // An empty kernel-configuration table (no shared top level) is not the kernel page table.
    const fresh = createModel({ check: 'off', physicalMemory: MEMORY })
    const empty = fresh.call<{ pageTable: number }>({ type: 'page_table.new', config: 'kernel' }).pageTable
    const kernel = fresh.pageTables.kernel()
    expect(kernel.id).not.toBe(empty)
    expect(count(fresh, 'page_table.new_kernel')).toBe(1)
    // After the kernel page table is dropped, kernel() makes another.
    kernel.drop()
    expect(fresh.pageTables.kernel().config()).toBe('kernel')
    expect(count(fresh, 'page_table.new_kernel')).toBe(2)
  }, 60_000)

  it("create('untracked') makes an empty untracked page table per call; pageWalk gives { pa, prop } or null", () =>
    bothModes((m) => {
      const a = m.pageTables.create('untracked')
      const b = m.pageTables.create('untracked')
      expect(a.id).not.toBe(b.id)
      expect([a.config(), b.config()]).toEqual(['untracked', 'untracked'])
      expect(types(m)).toEqual(['page_table.new', 'page_table.new'])
      expect(a.pageWalk(0)).toBeNull()
      // A 2 MiB leaf at VA 0x4060_0000 (root 0, level-3 node at 1, level-2 entry 3) -> 0.
      const l3 = m.call<{ node: number; paddr: number }>({ type: 'page_table_node.alloc', level: 3, config: 'untracked' })
      const root = lock(m, a.rootPaddr())
      put(m, root, 0, m.call<{ child: number }>({ type: 'child.from_node', node: l3.node }).child)
      m.call({ type: 'page_table_guard.drop', guard: root })
      map2M(m, l3.paddr, 1, 3, 0, RW)
      expect(a.pageWalk(0x4060_0000)).toEqual({ pa: 0, prop: RW }) // physical address 0 is a target
      expect(a.pageWalk(0x407f_ffffn)).toEqual({ pa: 0x1f_ffff, prop: RW }) // bigint addresses too
      expect(a.pageWalk(0x4080_0000)).toBeNull()
      expect(b.pageWalk(0x4060_0000)).toBeNull()
      expect(panicRule(() => a.createUserPageTable())).toBe('REQ-PT-CREATEUSER-1')
      a.drop()
      b.drop()
      expect(m.state.pt.tables.count + m.state.pt.nodes.count).toBe(0)
    }))

  it('refuses a dropped page table: every call throws OstdPanic, nothing dispatched, state unchanged', () => {
    const m = createModel({ check: 'full', physicalMemory: MEMORY })
    const pt = m.pageTables.create('untracked')
    pt.drop()
    expect(pt.consumed).toBe(true)
    const before = m.state
    const length = m.history.length
    for (const call of [() => pt.pageWalk(0), () => pt.drop(), () => pt.createUserPageTable(), () => pt.config(), () => pt.rootPaddr()]) {
      const p = panicOf(call)
      expect(p.rule).toBe('REQ-HANDLE-1')
      expect(p.message).toContain('PageTable')
    }
    expect(m.state).toBe(before)
    expect(m.history.length).toBe(length)
    expect(() => m.pageTables.create('kernel' as 'user')).toThrow(TypeError)
    expect(m.history.violations()).toEqual([])
  })

  it('rejects an address that is not a u64 before dispatching', () => {
    const m = createModel({ check: 'full', physicalMemory: MEMORY })
    const pt = m.pageTables.create('untracked')
    const length = m.history.length
    for (const va of [-1, 0.5, 2 ** 60, -1n, 1n << 64n]) expect(() => pt.pageWalk(va)).toThrow(InvalidEventError)
    expect(pt.pageWalk((1n << 64n) - 1n)).toBeNull()
    expect(m.history.length).toBe(length + 1)
  })
})

describe('model.pageTables.boot()', () => {
  it('maps, protects with an op, walks and dismisses the boot page table, one event per call', () =>
    bothModes((m) => {
      const boot = m.pageTables.boot()
      expect(boot).toBeInstanceOf(BootPageTable)
      expect(m.pageTables.boot().id).toBe(boot.id) // one boot page table
      expect(boot.id).toBe(m.state.pt.boot!.rootPt * PAGE_SIZE)
      boot.mapBasePage(0x40_1000, 0, RW)
      boot.mapBasePage(0x40_2000, 9, RW)
      boot.mapBasePage(0xffff_ffff_8000_0000n, 0x123, KRW)
      expect(boot.pageWalk(0x40_1abc)).toEqual({ pa: 0xabc, prop: RW })
      expect(boot.pageWalk(0xffff_ffff_8000_0010n)).toEqual({ pa: 0x12_3010, prop: KRW })
      expect(boot.pageWalk(0x40_3000)).toBeNull()

      const seen: PageProperty[] = []
      boot.protectBasePage(0x40_2000, (p) => {
        seen.push(p)
        return { ...p, flags: p.flags & ~PageFlags.W }
      })
      expect(seen).toEqual([RW]) // op is called once, with the current property
      expect(boot.pageWalk(0x40_2000)).toEqual({ pa: 0x9000, prop: newUser(PageFlags.R) })
      expect(boot.pageWalk(0x40_1000)).toEqual({ pa: 0, prop: RW })
      expect(m.history.events().at(-3)).toEqual({ type: 'boot_page_table.protect_base_page', va: 0x40_2000, prop: newUser(PageFlags.R) })
      expect(types(m)).toEqual([
        'boot_page_table.new',
        ...Array(3).fill('boot_page_table.map_base_page'),
        ...Array(3).fill('boot_page_table.page_walk'),
        'boot_page_table.protect_base_page',
        ...Array(2).fill('boot_page_table.page_walk'),
      ])

      const frames = m.state.pt.boot!.frames
      boot.dismiss()
      expect(m.state.pt.boot).toBeNull()
      for (const f of frames) expect(slotOf(m.state, f).refCount).toBe(REF_COUNT_UNUSED)
      expect(panicRule(() => boot.pageWalk(0))).toBe('REQ-HANDLE-1')
      const next = m.pageTables.boot() // made anew
      expect(next.pageWalk(0x40_1000)).toBeNull()
      if (next.id !== boot.id) expect(panicRule(() => boot.mapBasePage(0, 1, RW))).toBe('REQ-HANDLE-1')
    }))

  it("adopts the firmware's mappings when it is made, with upper-half addresses as bigints; later firmware is a TypeError", () =>
    bothModes((m) => {
      const boot = m.pageTables.boot({ firmware: [{ va: 0xffff_8000_0000_0000n, paddr: 0, level: 3, prop: KRW }, { va: 0x20_0000, paddr: 0x40_0000, level: 2, prop: RW }] })
      expect(m.history.events().at(-1)).toEqual({
        type: 'boot_page_table.new',
        firmware: [
          { va: '0xffff800000000000', paddr: 0, level: 3, prop: KRW },
          { va: 0x20_0000, paddr: 0x40_0000, level: 2, prop: RW },
        ],
      })
      expect(boot.pageWalk(0xffff_8000_1234_5678n)).toEqual({ pa: 0x1234_5678, prop: KRW })
      boot.protectBasePage(0x20_1000, (p) => ({ ...p, flags: p.flags & ~PageFlags.W }))
      expect(boot.pageWalk(0x20_1000)).toEqual({ pa: 0x40_1000, prop: newUser(PageFlags.R) })
      expect(boot.pageWalk(0x20_2000)).toEqual({ pa: 0x40_2000, prop: RW })
      expect(() => m.pageTables.boot({ firmware: [] })).toThrow(/exists already/)
      expect(m.pageTables.boot().id).toBe(boot.id)
    }))

  it('panics on a double map and on protecting an unmapped page (op not called); state unchanged', () => {
    const m = createModel({ check: 'full', physicalMemory: MEMORY })
    const boot = m.pageTables.boot()
    boot.mapBasePage(0x1000, 1, RW)
    const before = m.state
    const length = m.history.length
    expect(panicRule(() => boot.mapBasePage(0x1000, 2, RW))).toBe('REQ-BOOTPT-MAP-1')
    let called = 0
    const op = (p: PageProperty): PageProperty => {
      called++
      return p
    }
    expect(panicRule(() => boot.protectBasePage(0x2000, op))).toBe('REQ-BOOTPT-PROTECT-1') // absent level-1 PTE
    expect(panicRule(() => boot.protectBasePage(0x4000_0000, op))).toBe('REQ-BOOTPT-PROTECT-1') // absent table
    expect(called).toBe(0)
    expect(panicRule(() => boot.protectBasePage(0x1000, (p) => ({ ...p, flags: p.flags & ~PageFlags.R })))).toBe('REQ-PTE-2')
    expect(m.state).toBe(before)
    expect(m.history.length).toBe(length)
    expect(boot.pageWalk(0x1000)).toEqual({ pa: 0x1000, prop: RW })
    expect(boot.consumed).toBe(false)
    expect(m.history.violations()).toEqual([])
  })

  it('a boot page table that is gone (undone) panics with REQ-BOOTPT-LIVE-1', () => {
    const m = createModel({ check: 'full', physicalMemory: MEMORY })
    const boot = m.pageTables.boot()
    m.history.undo()
    expect(m.state.pt.boot).toBeNull()
    expect(panicRule(() => boot.pageWalk(0))).toBe('REQ-BOOTPT-LIVE-1')
    expect(panicRule(() => boot.protectBasePage(0, (p) => p))).toBe('REQ-BOOTPT-LIVE-1')
    expect(panicRule(() => boot.mapBasePage(0, 1, RW))).toBe('REQ-BOOTPT-LIVE-1')
  })

  it('works next to frames allocated through the facade', () => {
    const m = createModel({ check: 'full', physicalMemory: MEMORY })
    const frame = unwrap(m.frames.allocFrame())
    const boot = m.pageTables.boot()
    boot.mapBasePage(0x1000, frame.startPaddr() / PAGE_SIZE, KRW)
    expect(boot.pageWalk(0x1008)).toEqual({ pa: frame.startPaddr() + 8, prop: KRW })
    expect(isOk(frame.writeVal(0, 'u64', 1n))).toBe(true)
    frame.drop()
    boot.dismiss()
    expect(m.history.violations()).toEqual([])
  })
})
