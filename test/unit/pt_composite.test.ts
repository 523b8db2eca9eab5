/**
 * The composite Entry operations (seed 001; operations.md §5.6, §5.7): what `Entry::alloc_if_none`
 * and `Entry::split_if_mapped_huge` return, the internal steps they are made of, and exactly what
 * they change — for absent, present, huge (tracked and untracked) and small entries.
 */
import { describe, expect, it } from 'vitest'
import { frameToIndex, NR_ENTRIES, PAGE_SIZE, pageSize, PageUsage } from '../../src/arch/constants.js'
import { newPage, newPt, pteToHex } from '../../src/arch/pte.js'
import { createModel, type Model } from '../../src/api/model.js'
import { Checker } from '../../src/check/checker.js'
import { defaultRegistry } from '../../src/check/rules/index.js'
import { readPte } from '../../src/model/memory.js'
import { qualifiedPath } from '../../src/model/page_table.js'
import { childOwnerView } from '../../src/model/spec/page_table.js'
import { FRESH_SLOT, freshOwner, isParked, obligationsOf, ownerOf, slotOf } from '../../src/model/slots.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { tableGet, tableKeys } from '../../src/model/table.js'
import { variantOf, type InternalStep } from '../../reducers/types.js'
import { entrySplitIfMappedHuge } from '../../reducers/page_table/entry_composite.js'
import { entryProtect } from '../../reducers/page_table/entry.js'
import { PageFlags } from '../../src/arch/page_prop.js'
import { edit } from '../firing/harness.js'
import { HUGE_PA, TRACKED_IDX, trackedHugeEntry, trackedHugeTree, untrackedHugeEntry } from '../firing/cases/pt_composite.js'
import { allocNode, entry, installNode, leafWithFrame, lockedRoot, record, RW, setEntryOwner, setPteIn, twoLevels } from '../firing/cases/pt_util.js'
import { bothModes, panicRule } from '../util.js'

function violationsIn(s: Snapshot): string[] {
  return new Checker(defaultRegistry(), 'full').violationsIn(s).map((v) => `${v.rule} ${v.path}: ${v.message}`)
}

/** The internal steps' event types, one level deep. */
function types(steps: readonly InternalStep[]): string[] {
  return steps.map((s) => s.event.type)
}

function nrChildren(s: Snapshot, slot: number): number[] {
  const exec = slotOf(s, slot).storage
  const ghost = ownerOf(s, slot).innerPerms.storage
  return [exec?.kind === 'PTNode' ? exec.nrChildren : -1, ghost?.kind === 'PTNode' ? ghost.nrChildren : -1, record(s, slot).metaOwn.nrChildren]
}

function guardSlot(s: Snapshot, guard: number): number {
  return tableGet(s.pt.guards, guard)!.paddr / PAGE_SIZE
}

const ALLOC_STEPS = ['page_table_node.alloc', 'child.from_node', 'child.into_pte', 'page_table_node_ref.lock', 'page_table_guard.write_pte', 'page_table_guard.nr_children_mut.write']

const splitSteps = (tracked: boolean): string[] => [
  'page_table_node.alloc',
  'page_table_node_ref.lock',
  ...Array.from({ length: NR_ENTRIES }, () => (tracked ? ['meta_slot.get_from_in_use', 'page_table_guard.write_pte'] : ['page_table_guard.write_pte'])).flat(),
  'page_table_guard.nr_children_mut.write',
  'child.from_pte',
  'child.from_node',
  'child.into_pte',
  'page_table_guard.write_pte',
  'child.drop',
]

describe('Entry::alloc_if_none', () => {
  it('on an absent entry: a node one level down is installed and locked, the parent counts it; the internal steps in order', () => {
    bothModes((m) => {
      const root = lockedRoot(m)
      const e = entry(m, root.guard!, 5)
      const before = m.state
      const step = m.dispatch({ type: 'entry.alloc_if_none', entry: e })
      expect(types(step.steps)).toEqual(ALLOC_STEPS)
      const { guard } = step.result as { guard: number }
      const s = m.state
      const slot = guardSlot(s, guard)
      // a level-3 node under the level-4 root, at the entry's path, locked through the returned guard
      expect(record(s, slot)).toMatchObject({ level: 3, tree: root.slot, path: '5', parentLevel: 4, inScope: false })
      expect(tableGet(s.pt.locks, slot)).toBe(true)
      expect(slotOf(s, slot).storage).toMatchObject({ kind: 'PTNode', level: 3, nrChildren: 0, lock: 1 })
      expect(ownerOf(s, slot)).toMatchObject({ usage: PageUsage.PageTable, pathsInPt: [qualifiedPath(root.slot, '5')], rawCount: 1, innerPerms: { refCount: 1 } })
      expect(obligationsOf(s, slot)).toBe(0)
      // the parent: PTE 5 = new_pt, nr_children + 1 (exec, permission, meta_own); the Entry caches the word
      expect(readPte(s, root.slot, 5)).toBe(newPt(slot * PAGE_SIZE))
      expect(tableGet(s.pt.entries, e)!.pte).toBe(pteToHex(newPt(slot * PAGE_SIZE)))
      expect(nrChildren(before, root.slot)).toEqual([0, 0, 0])
      expect(nrChildren(s, root.slot)).toEqual([1, 1, 1])
      expect(tableGet(record(s, root.slot).children, 5)).toEqual({ kind: 'node', slot })
      // every child of the new node is absent and its PTEs are zero
      expect(record(s, slot).children.count).toBe(0)
      for (let i = 0; i < NR_ENTRIES; i++) expect(readPte(s, slot, i)).toBe(0n)
      // no PageTableNode handle or Child value is left behind
      expect(s.pt.nodes.count).toBe(before.pt.nodes.count)
      expect(s.pt.children.count).toBe(0)
    })
  })

  it('the returned guard reaches down: root -> 3 -> 2 -> 1; the level-1 entry of the page table is refused (REQ-ENTRY-ALLOCIFNONE-4)', () => {
    bothModes((m) => {
      const root = lockedRoot(m)
      let guard = root.guard!
      const levels: number[] = []
      for (let k = 0; k < 3; k++) {
        const e = entry(m, guard, 1)
        guard = m.call<{ guard: number }>({ type: 'entry.alloc_if_none', entry: e }).guard
        m.call({ type: 'entry.drop', entry: e })
        levels.push(record(m.state, guardSlot(m.state, guard)).level)
      }
      expect(levels).toEqual([3, 2, 1])
      expect(record(m.state, guardSlot(m.state, guard)).path).toBe('1.1.1')
      const e = entry(m, guard, 1)
      const before = m.state
      expect(panicRule(() => m.dispatch({ type: 'entry.alloc_if_none', entry: e }))).toBe('REQ-ENTRY-ALLOCIFNONE-4')
      expect(m.state).toBe(before)
    })
  })

  it('on a present entry: None, nothing changes (ENS-ENTRY-ALLOCIFNONE-14; OSTD returns None, it does not panic)', () => {
    bothModes((m) => {
      const t = twoLevels(m)
      const e = entry(m, t.root.guard!, 2)
      const before = m.state
      const step = m.dispatch({ type: 'entry.alloc_if_none', entry: e })
      expect(step.result).toBeNull()
      expect(step.steps).toEqual([])
      expect(m.state).toBe(before)
      const l = leafWithFrame(m)
      const e2 = entry(m, l.n.guard!, 3)
      const before2 = m.state
      expect(m.call({ type: 'entry.alloc_if_none', entry: e2 })).toBeNull()
      expect(m.state).toBe(before2)
    })
  })

  it('on an absent entry of a detached level-1 node: None, nothing changes (ENS-ENTRY-ALLOCIFNONE-15)', () => {
    bothModes((m) => {
      const n = allocNode(m, 1)
      const e = entry(m, n.guard!, 0)
      const before = m.state
      expect(m.call({ type: 'entry.alloc_if_none', entry: e })).toBeNull()
      expect(m.state).toBe(before)
    })
  })

  it('a bad Entry is refused with its rule and the state unchanged', () => {
    const m = createModel({ check: 'incremental', physicalMemory: 1 << 22 })
    const root = lockedRoot(m)
    const e = entry(m, root.guard!, 5)
    m.call({ type: 'page_table_guard.drop', guard: root.guard! })
    const before = m.state
    expect(panicRule(() => m.dispatch({ type: 'entry.alloc_if_none', entry: e }))).toBe('REQ-ENTRY-BORROW-1')
    expect(panicRule(() => m.dispatch({ type: 'entry.alloc_if_none', entry: 77 }))).toBe('REQ-HANDLE-1')
    expect(m.state).toBe(before)
  })
})

describe('Entry::split_if_mapped_huge', () => {
  it('a tracked 2 MiB leaf becomes a level-1 node of 512 leaves: contiguous addresses, the same property, one path and one reference per 4 KiB page', () => {
    const { b, tree } = trackedHugeTree()
    expect(violationsIn(b.s)).toEqual([])
    const m = b.model('incremental')
    const { e } = trackedHugeEntry(m, tree)
    const l2 = frameToIndex(tree.l2)
    const rootSlot = frameToIndex(tree.root.paddr)
    const head = frameToIndex(HUGE_PA)
    const hugeKey = qualifiedPath(rootSlot, `0.0.${TRACKED_IDX}`)
    const before = m.state
    expect(ownerOf(before, head).pathsInPt).toEqual([hugeKey])
    expect(slotOf(before, head).refCount).toBe(2) // the segment and the huge leaf
    expect(slotOf(before, head + 1).refCount).toBe(1) // the segment
    const step = m.dispatch({ type: 'entry.split_if_mapped_huge', entry: e })
    expect(step.violations).toEqual([])
    expect(types(step.steps)).toEqual(splitSteps(true))
    const s = m.state
    const slot = guardSlot(s, (step.result as { guard: number }).guard)
    const rec = record(s, slot)
    expect(rec).toMatchObject({ level: 1, tree: rootSlot, path: `0.0.${TRACKED_IDX}`, parentLevel: 2, inScope: false, metaOwn: { nrChildren: 512 } })
    expect(tableGet(s.pt.locks, slot)).toBe(true)
    expect(readPte(s, l2, TRACKED_IDX)).toBe(newPt(slot * PAGE_SIZE))
    expect(tableGet(s.pt.entries, e)!.pte).toBe(pteToHex(newPt(slot * PAGE_SIZE)))
    expect(nrChildren(s, l2)).toEqual(nrChildren(before, l2)) // present -> present
    for (let i = 0; i < NR_ENTRIES; i++) {
      const pa = HUGE_PA + i * PAGE_SIZE
      const key = qualifiedPath(rootSlot, `0.0.${TRACKED_IDX}.${i}`)
      expect(readPte(s, slot, i)).toBe(newPage(pa, 1, RW))
      expect(childOwnerView(s, rec, i)).toEqual({ kind: 'frame', frame: { mappedPa: pa, size: PAGE_SIZE, prop: RW, isTracked: true }, tree: rootSlot, path: `0.0.${TRACKED_IDX}.${i}`, parentLevel: 1, inScope: false })
      // exactly the new leaf's path; the huge leaf's path went away with its reference
      expect(ownerOf(s, frameToIndex(pa)).pathsInPt).toEqual([key])
      // the segment's reference + the new leaf's (leaf 0 inherits the huge leaf's)
      expect(slotOf(s, frameToIndex(pa)).refCount).toBe(2)
      expect(ownerOf(s, frameToIndex(pa)).innerPerms.refCount).toBe(2)
      expect(obligationsOf(s, frameToIndex(pa))).toBe(obligationsOf(before, frameToIndex(pa)))
    }
    expect(s.frames.count).toBe(before.frames.count)
    expect(s.pt.children.count).toBe(0)
    expect(violationsIn(s)).toEqual([])
  })

  it('an untracked 1 GiB leaf becomes a level-2 node of 512 untracked 2 MiB leaves; no slot is touched', () => {
    const m = createModel({ check: 'incremental', physicalMemory: 1 << 22 })
    const n = allocNode(m, 3, 'untracked')
    const giB = pageSize(3)
    const { child } = m.call<{ child: number }>({ type: 'child.untracked', paddr: giB, level: 3, prop: RW, tree: n.slot, path: '1' })
    const e = entry(m, n.guard!, 1)
    m.call({ type: 'child.drop', child: m.call<{ child: number }>({ type: 'entry.replace', entry: e, child }).child })
    const before = m.state
    const step = m.dispatch({ type: 'entry.split_if_mapped_huge', entry: e })
    expect(step.violations).toEqual([])
    expect(types(step.steps)).toEqual(splitSteps(false))
    const s = m.state
    const slot = guardSlot(s, (step.result as { guard: number }).guard)
    const rec = record(s, slot)
    expect(rec).toMatchObject({ level: 2, tree: n.slot, path: '1', parentLevel: 3 })
    for (let i = 0; i < NR_ENTRIES; i++) {
      expect(readPte(s, slot, i)).toBe(newPage(giB + i * pageSize(2), 2, RW))
      expect(childOwnerView(s, rec, i)).toMatchObject({ kind: 'frame', frame: { mappedPa: giB + i * pageSize(2), size: pageSize(2), prop: RW, isTracked: false }, parentLevel: 2 })
    }
    // only the new node's slot changed among the slots
    const changed = new Set([...tableKeys(s.regions.slotOwners), ...tableKeys(before.regions.slotOwners)].filter((i) => ownerOf(s, i) !== ownerOf(before, i)))
    expect([...changed]).toEqual([slot])
    expect(violationsIn(s)).toEqual([])
  })

  it('a 4 KiB leaf, a node entry and an absent entry are not split: None, nothing changes', () => {
    bothModes((m) => {
      const l = leafWithFrame(m)
      const t = twoLevels(m)
      const lvl2 = installNode(m, installNode(m, lockedRoot(m), 0), 0)
      for (const [guard, idx] of [
        [l.n.guard!, 3], // a 4 KiB leaf
        [lvl2.guard!, 6], // absent, level 2
        [t.sub.guard!, 0], // absent, level 3
      ] as const) {
        const e = entry(m, guard, idx)
        const before = m.state
        const step = m.dispatch({ type: 'entry.split_if_mapped_huge', entry: e })
        expect(step.result).toBeNull()
        expect(step.steps).toEqual([])
        expect(m.state).toBe(before)
        m.call({ type: 'entry.drop', entry: e })
      }
      // a node entry below the root
      const r = lockedRoot(m)
      const l3 = installNode(m, r, 4)
      installNode(m, l3, 8, false)
      const e = entry(m, l3.guard!, 8)
      const before = m.state
      expect(m.call({ type: 'entry.split_if_mapped_huge', entry: e })).toBeNull()
      expect(m.state).toBe(before)
    })
  })

  it('a root entry is refused (REQ-ENTRY-SPLIT-3) and a tracked huge leaf with unused sub-pages too (REQ-ENTRY-SPLIT-4); the state is unchanged', () => {
    const m = createModel({ check: 'incremental', physicalMemory: 1 << 22 })
    const t = twoLevels(m)
    const e = entry(m, t.root.guard!, 2)
    const before = m.state
    expect(panicRule(() => m.dispatch({ type: 'entry.split_if_mapped_huge', entry: e }))).toBe('REQ-ENTRY-SPLIT-3')
    expect(m.state).toBe(before)
    const { b, tree } = trackedHugeTree({ subPages: false })
    const m2 = b.model('incremental')
    const { e: e2 } = trackedHugeEntry(m2, tree)
    const before2 = m2.state
    expect(panicRule(() => m2.dispatch({ type: 'entry.split_if_mapped_huge', entry: e2 }))).toBe('REQ-ENTRY-SPLIT-4')
    expect(m2.state).toBe(before2)
  })

  /** A split that maps sub-page 5 at the address of sub-page 6 (PTE and owner agree). */
  const wrongPa = variantOf(entrySplitIfMappedHuge, (s, e) => {
    const out = entrySplitIfMappedHuge.reduce(s, e)
    const slot = tableGet(out.snapshot.pt.guards, out.result!.guard)!.paddr / PAGE_SIZE
    const wrong = HUGE_PA + 6 * PAGE_SIZE
    return {
      ...out,
      snapshot: edit(out.snapshot, (d) => {
        const o = tableGet(record(out.snapshot, slot).children, 5) as { kind: 'frame'; frame: { mappedPa: number } }
        setEntryOwner(d, slot, 5, { ...o, frame: { ...o.frame, mappedPa: wrong } } as never)
        setPteIn(d, slot, 5, newPage(wrong, 1, RW))
      }),
    }
  })

  function faultyRun(check: 'full' | 'incremental'): { m: Model; index: number } {
    const m = createModel({ check, variants: [wrongPa], physicalMemory: 1 << 22 })
    lockedRoot(m)
    const t = untrackedHugeEntry(m)
    const index = m.dispatch({ type: 'entry.split_if_mapped_huge', entry: t.e }).index
    m.call({ type: 'entry.drop', entry: t.e })
    return { m, index }
  }

  describe("a kernel table's AVAIL1 (the tracked tag item_from_raw reads) and the owner's is_tracked", () => {
    const GIB = pageSize(3)
    /** A kernel-configuration level-3 node mapping an untracked (MMIO) 1 GiB leaf at index 1, and an Entry on it. */
    function mmioLeaf(variants: Parameters<typeof createModel>[0] extends infer O ? (O extends { variants?: infer V } ? V : never) : never = []): { m: Model; e: number } {
      const m = createModel({ check: 'incremental', physicalMemory: 1 << 22, mmioRanges: [[GIB, 2 * GIB]], variants })
      const n = allocNode(m, 3, 'kernel')
      const { child } = m.call<{ child: number }>({ type: 'child.untracked', paddr: GIB, level: 3, prop: RW, tree: n.slot, path: '1' })
      const e = entry(m, n.guard!, 1)
      m.call({ type: 'child.drop', child: m.call<{ child: number }>({ type: 'entry.replace', entry: e, child }).child })
      return { m, e }
    }
    const SET_AVAIL1 = { clear: 0, set: PageFlags.AVAIL1 }

    it('protect may not set AVAIL1 on an untracked leaf, nor clear it on a tracked one (REQ-ENTRY-PROTECT-2); the state is unchanged', () => {
      const { m, e } = mmioLeaf()
      const before = m.state
      expect(panicRule(() => m.dispatch({ type: 'entry.protect', entry: e, mask: SET_AVAIL1 }))).toBe('REQ-ENTRY-PROTECT-2')
      expect(m.state).toBe(before)
      // the other flags may change
      expect(m.dispatch({ type: 'entry.protect', entry: e, mask: { clear: PageFlags.W, set: 0 } }).violations).toEqual([])
      const { b, tree } = trackedHugeTree({ config: 'kernel' })
      const m2 = b.model('incremental')
      const { e: e2 } = trackedHugeEntry(m2, tree)
      const before2 = m2.state
      expect(panicRule(() => m2.dispatch({ type: 'entry.protect', entry: e2, mask: { clear: PageFlags.AVAIL1, set: 0 } }))).toBe('REQ-ENTRY-PROTECT-2')
      expect(m2.state).toBe(before2)
    })

    it('a split of an untracked leaf whose PTE reads as tracked (a protect variant set AVAIL1) panics with REQ-ENTRY-SPLIT-4 instead of taking references on MMIO slots', () => {
      const lax = variantOf(entryProtect, entryProtect.reduce, { requires: entryProtect.requires.filter((r) => r.rule !== 'REQ-ENTRY-PROTECT-2') })
      const { m, e } = mmioLeaf([lax])
      // the variant runs; the checker still reports the clause it skipped
      expect(m.dispatch({ type: 'entry.protect', entry: e, mask: SET_AVAIL1 }).violations.map((v) => v.rule)).toEqual(['REQ-ENTRY-PROTECT-2'])
      const before = m.state
      expect(panicRule(() => m.dispatch({ type: 'entry.split_if_mapped_huge', entry: e }))).toBe('REQ-ENTRY-SPLIT-4')
      expect(m.state).toBe(before)
    })
  })

  it('a split variant with a wrong physical address for one sub-page is caught by ENS-ENTRY-SPLIT-13 at the split, and only there', () => {
    const { m, index } = faultyRun('incremental')
    const v = m.history.violations()
    expect(v.map((x) => x.rule)).toEqual(['ENS-ENTRY-SPLIT-13'])
    expect(v[0]).toMatchObject({ step: index, event: 'entry.split_if_mapped_huge', path: expect.stringMatching(/\.pte\[5\]$/) })
    expect(v[0]!.internal).toBeUndefined() // a postcondition of the composite, at its boundary
  })

  it('full and incremental checking report the same violations on the faulty run', () => {
    const full = faultyRun('full').m.history.violations()
    const inc = faultyRun('incremental').m.history.violations()
    expect(full.length).toBeGreaterThan(0)
    expect(JSON.stringify(inc)).toBe(JSON.stringify(full))
  }, 30_000)

  it('dropping the root after the split returns every slot to its starting state', () => {
    const { b, tree } = trackedHugeTree()
    const m = b.model('incremental')
    const { guard: parentGuard, e } = trackedHugeEntry(m, tree)
    const { guard } = m.call<{ guard: number }>({ type: 'entry.split_if_mapped_huge', entry: e })
    const nodes = [frameToIndex(tree.root.paddr), frameToIndex(tree.l3), frameToIndex(tree.l2), guardSlot(m.state, guard)]
    m.call({ type: 'entry.drop', entry: e })
    m.call({ type: 'page_table_guard.drop', guard })
    m.call({ type: 'page_table_guard.drop', guard: parentGuard })
    m.call({ type: 'page_table_node.drop', node: tree.root.node })
    const s = m.state
    expect(m.history.violations()).toEqual([])
    const start = tree.start
    for (let i = frameToIndex(HUGE_PA); i < frameToIndex(HUGE_PA) + NR_ENTRIES; i++) {
      expect(slotOf(s, i)).toEqual(slotOf(start, i))
      expect(ownerOf(s, i)).toEqual(ownerOf(start, i))
      expect(obligationsOf(s, i)).toBe(obligationsOf(start, i))
      expect(isParked(s, i)).toBe(isParked(start, i))
    }
    for (const i of nodes) {
      expect(slotOf(s, i)).toEqual(FRESH_SLOT)
      expect(ownerOf(s, i)).toEqual({ ...freshOwner(s.config, i), usage: PageUsage.PageTable }) // drop_last_in_place keeps usage
      expect(tableGet(s.pt.owners, i)).toBeNull()
    }
    expect(s.pt.owners.count).toBe(0)
    expect(s.pt.locks.count).toBe(0)
    expect(violationsIn(s)).toEqual([])
  })
})
