/**
 * The owner-tree invariants (INV-TREE-1..9, INV-SOUND-4; src/check/rules/page_table/tree.ts) on a
 * forest of page tables built with events: a clean state has no violation in either checking mode,
 * each corruption is caught (the same in both modes), and the reverse index they rely on
 * (src/model/spec/pt_tree.ts) equals one rebuilt from scratch at every snapshot, however it moves.
 */
import { produce, type Draft } from 'immer'
import { describe, expect, it } from 'vitest'
import { PageUsage } from '../../src/arch/constants.js'
import { newPt, pteToHex } from '../../src/arch/pte.js'
import { Checker } from '../../src/check/checker.js'
import { defaultRegistry } from '../../src/check/rules/index.js'
import type { Violation } from '../../src/check/rule.js'
import { createModel, type Model } from '../../src/api/model.js'
import { qualifiedPath } from '../../src/model/page_table.js'
import { currentIndexOf, frameEntriesMapping, nodeEntriesNaming, rebuiltIndexOf } from '../../src/model/spec/pt_tree.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { tableGet } from '../../src/model/table.js'
import {
  allocNode,
  dropChild,
  dropEntry,
  entry,
  frameChild,
  installNode,
  leafWithFrame,
  lockedRoot,
  mapFrame,
  noneChild,
  positionOf,
  recordIn,
  replace,
  RW,
  setEntryHandle,
  setEntryOwner,
  setPteIn,
  setRecord,
  childOwnerIn,
  setChildOwner,
  type PtNode,
} from '../firing/cases/pt_util.js'
import { ownerIn, setCells, setOwner } from '../firing/cases/util.js'

const MEMORY = 1 << 22

/** What the forest holds, for the tests to aim at. */
interface Forest {
  readonly root: PtNode
  readonly l3: PtNode
  readonly l2: PtNode
  readonly l1: PtNode
  /** A level-1 node taken out of the tree (with its frames) and held as a `Child::PageTable`. */
  readonly takenSlot: number
  readonly taken: number
  /** Frames: mapped in `l1` at 0 and 511; the same frame mapped twice (l1 at 5, and 9 of `takenSlot`). */
  readonly f0: number
  readonly shared: number
  /** A detached level-1 node `PageTableNode::alloc` made, with a frame at 3 (held by its handle). */
  readonly leaf: { n: PtNode; frame: number }
  /** A tracked `Child::Frame` held by code, positioned for entry 20 of `l1`. */
  readonly heldFrame: { child: number; paddr: number }
  /** A live Entry on entry 0 of `l1`. */
  readonly live: number
  readonly kernel: { root: PtNode; sub: PtNode }
}

/** Maps `frame` (a live Frame handle, consumed) at entry `idx` of the locked level-1 node `n`. */
function mapHandle(m: Model, n: PtNode, idx: number, frame: number): void {
  const { tree, path } = positionOf(m, n, idx)
  const { child } = m.call<{ child: number }>({ type: 'child.from_frame', frame, prop: RW, tree, path, parentLevel: 1 })
  const e = entry(m, n.guard!, idx)
  dropChild(m, replace(m, e, child))
  dropEntry(m, e)
}

function forest(m: Model): Forest {
  const root = lockedRoot(m)
  const l3 = installNode(m, root, 1)
  const l2 = installNode(m, l3, 2)
  const l1 = installNode(m, l2, 3)
  const f0 = mapFrame(m, l1, 0)
  mapFrame(m, l1, 511)
  // a frame mapped at two paths (paths_in_pt holds both)
  const r = m.call<{ ok: true; value: { frame: number; paddr: number } }>({ type: 'frame_alloc.alloc_frame' })
  const clone = m.call<{ frame: number }>({ type: 'frame.clone', frame: r.value.frame }).frame
  mapHandle(m, l1, 5, r.value.frame)
  // a second level-1 node with mapped frames, then taken out of the tree and held by code
  const other = installNode(m, l2, 4)
  mapFrame(m, other, 1)
  mapHandle(m, other, 9, clone)
  m.call({ type: 'page_table_guard.drop', guard: other.guard })
  const e = entry(m, l2.guard!, 4)
  const taken = replace(m, e, noneChild(m, l2, 4))
  dropEntry(m, e)
  const leaf = leafWithFrame(m)
  const heldFrame = frameChild(m, l1, 20)
  const live = entry(m, l1.guard!, 0)
  const kroot = lockedRoot(m, 'kernel')
  const ksub = installNode(m, kroot, 300)
  mapFrame(m, installNode(m, installNode(m, ksub, 0), 0), 7)
  return { root, l3, l2, l1, takenSlot: other.slot, taken, f0, shared: r.value.paddr, leaf, heldFrame, live, kernel: { root: kroot, sub: ksub } }
}

function bothModes(body: (m: Model) => void): void {
  for (const check of ['full', 'incremental'] as const) {
    const m = createModel({ check, physicalMemory: MEMORY })
    body(m)
    expect(m.history.violations()).toEqual([])
    expect(new Checker(defaultRegistry(), 'full').violationsIn(m.state)).toEqual([])
  }
}

describe('a clean forest of page tables', () => {
  it('has no violation in either mode: built, the taken-out sub-tree re-installed elsewhere, then torn down', () => {
    bothModes((m) => {
      const f = forest(m)
      expect(m.history.violations()).toEqual([])
      // re-install the taken-out sub-tree at entry 6 of l2: its records and paths move
      dropEntry(m, f.live)
      const e = entry(m, f.l2.guard!, 6)
      dropChild(m, replace(m, e, f.taken))
      dropEntry(m, e)
      expect(tableGet(m.state.pt.owners, f.takenSlot)!.path).toBe('1.2.6')
      expect(m.history.violations()).toEqual([])
      // the held Child::Frame is dropped; the whole user page table and the leaf are freed
      dropChild(m, f.heldFrame.child)
      for (const n of [f.root, f.l3, f.l2, f.l1, f.leaf.n]) m.call({ type: 'page_table_guard.drop', guard: n.guard })
      m.call({ type: 'page_table_node.drop', node: f.root.node })
      m.call({ type: 'page_table_node.drop', node: f.leaf.n.node })
      expect(m.state.pt.owners.count).toBe(4) // the kernel page table's four nodes
    })
  })

  it('the reverse index names every referrer of a slot', () => {
    const m = createModel({ check: 'off', physicalMemory: MEMORY })
    const f = forest(m)
    const s = m.state
    expect(nodeEntriesNaming(s, f.l1.slot)).toEqual([f.l2.slot * 512 + 3])
    expect(nodeEntriesNaming(s, f.takenSlot)).toEqual([]) // taken out: held by a Child, in no PTE
    expect(frameEntriesMapping(s, f.shared / 0x1000)).toEqual([f.l1.slot * 512 + 5, f.takenSlot * 512 + 9])
    expect(frameEntriesMapping(s, f.f0 / 0x1000)).toEqual([f.l1.slot * 512])
  })

  it('the moved reverse index equals one rebuilt from scratch at every snapshot, in any order', () => {
    const m = createModel({ check: 'off', physicalMemory: MEMORY })
    forest(m)
    const n = m.history.length
    const order = [...Array(n + 1).keys()]
    const visits = [...order, ...order.reverse(), ...order.map((i) => (i * 37) % (n + 1))]
    for (const i of visits) {
      const s = m.history.snapshotAt(i)
      expect(currentIndexOf(s)).toEqual(rebuiltIndexOf(s))
    }
  })
})

/** The forest, built once (unchecked: the first test shows it is clean). */
let built: { state: Snapshot; f: Forest } | null = null

function base(): { state: Snapshot; f: Forest } {
  if (built === null) {
    const m = createModel({ check: 'off', physicalMemory: MEMORY })
    const f = forest(m)
    built = { state: m.state, f }
  }
  return built
}

const registry = defaultRegistry()

/** The violations of the forest corrupted by `edit`, as a step's; full and incremental must agree. */
function check(edit: (d: Draft<Snapshot>, f: Forest) => void): Violation[] {
  const { state: before, f } = base()
  const after = produce(before, (d) => edit(d, f))
  const step = { event: { type: 'test.corrupt' }, before, after, result: null, steps: [] }
  const full = new Checker(registry, 'full').check(step, 0)
  const incremental = new Checker(registry, 'incremental')
  incremental.check({ ...step, after: before }, 0)
  const inc = incremental.check(step, 1).map((v) => ({ ...v, step: 0 }))
  expect(inc).toEqual(full)
  return full
}

/** The rules reported when `edit` corrupts the forest. */
function caught(edit: (d: Draft<Snapshot>, f: Forest) => void): string[] {
  return [...new Set(check(edit).map((v) => v.rule))].sort()
}

describe('each corruption of the forest is caught', () => {
  it('INV-TREE-1: an entry beyond 511; a page table root in scope', () => {
    expect(caught((d, f) => setEntryOwner(d, f.l2.slot, 700, { kind: 'absent', tree: f.root.slot, path: '1.2.700', parentLevel: 2, inScope: false }))).toEqual(['INV-TREE-1'])
    expect(caught((d, f) => setRecord(d, f.kernel.root.slot, { inScope: true }))).toEqual(['INV-TREE-1'])
  })

  it('INV-TREE-2: a leaf owner of the taken-out sub-tree at the wrong path; a node record at the wrong position', () => {
    expect(caught((d, f) => setEntryOwner(d, f.takenSlot, 30, { kind: 'absent', tree: f.root.slot, path: '1.2.4.31', parentLevel: 1, inScope: false }))).toEqual(['INV-TREE-2'])
    expect(caught((d, f) => setRecord(d, f.l1.slot, { path: '1.2.8' }))).toContain('INV-TREE-2')
  })

  it('INV-TREE-3: a detached root with a wrong parent_level; an orphaned tree-owned node; a root held by an entry', () => {
    expect(caught((d, f) => setRecord(d, f.leaf.n.slot, { parentLevel: 3 }))).toContain('INV-TREE-3')
    expect(
      caught((d, f) => {
        setEntryOwner(d, f.kernel.root.slot, 300, null)
        setPteIn(d, f.kernel.root.slot, 300, 0n)
        const storage = ownerIn(d, f.kernel.root.slot).innerPerms.storage
        if (storage?.kind === 'PTNode') setCells(d, f.kernel.root.slot, { storage: { ...storage, nrChildren: 0 } })
        setRecord(d, f.kernel.root.slot, { metaOwn: { ...recordIn(d, f.kernel.root.slot).metaOwn, nrChildren: 0 } })
      }),
    ).toEqual(['INV-TREE-3'])
    expect(caught((d, f) => setEntryOwner(d, f.l2.slot, 7, { kind: 'node', slot: f.leaf.n.slot }))).toContain('INV-TREE-3')
  })

  it('INV-TREE-4: a non-absent owner outside the top-level range of a user root', () => {
    expect(caught((d, f) => setEntryOwner(d, f.root.slot, 400, { kind: 'locked', tree: f.root.slot, path: '400', parentLevel: 4, inScope: false }))).toContain('INV-TREE-4')
  })

  it('INV-TREE-5 is reported alongside an INV-SOUND failure of a tree entry', () => {
    const out = check((d, f) => setOwner(d, f.l3.slot, { rawCount: 0 }))
    expect(out.map((v) => v.rule)).toContain('INV-SOUND-1')
    expect(out.find((v) => v.rule === 'INV-SOUND-1')?.also).toContain('INV-TREE-5')
  })

  it('INV-TREE-6: a node slot recording a second path; a detached root recording one', () => {
    expect(caught((d, f) => setOwner(d, f.l2.slot, { pathsInPt: [...ownerIn(d, f.l2.slot).pathsInPt, qualifiedPath(f.root.slot, '9')] }))).toContain('INV-TREE-6')
    expect(caught((d, f) => setOwner(d, f.leaf.n.slot, { pathsInPt: [qualifiedPath(f.leaf.n.slot, '1')] }))).toEqual(['INV-TREE-6'])
  })

  it('INV-TREE-7: a node slot named by two entries; a node slot with a wrong usage', () => {
    expect(
      caught((d, f) => {
        setEntryOwner(d, f.l3.slot, 9, { kind: 'node', slot: f.l2.slot })
        setPteIn(d, f.l3.slot, 9, newPt(f.l2.paddr))
      }),
    ).toContain('INV-TREE-7')
    expect(caught((d, f) => setOwner(d, f.kernel.sub.slot, { usage: PageUsage.Meta }))).toContain('INV-TREE-7')
  })

  it('INV-TREE-8: a stale path on a frame mapped in the taken-out sub-tree; a held Child::Frame whose path is gone', () => {
    expect(
      caught((d, f) => {
        const idx = f.shared / 0x1000
        setOwner(d, idx, { pathsInPt: [...ownerIn(d, idx).pathsInPt, qualifiedPath(f.root.slot, '1.2.4.10')].sort() })
        setCells(d, idx, { refCount: ownerIn(d, idx).innerPerms.refCount + 1 })
      }),
    ).toEqual(['INV-TREE-8'])
    expect(caught((d, f) => setOwner(d, f.heldFrame.paddr / 0x1000, { pathsInPt: [] }))).toContain('INV-TREE-8')
  })

  it('INV-TREE-9: the live Entry caches another word', () => {
    expect(caught((d, f) => setEntryHandle(d, f.live, { pte: pteToHex(0n) }))).toEqual(['INV-TREE-9'])
  })

  it('INV-SOUND-4: a locked owner carrying a node payload', () => {
    expect(caught((d, f) => setEntryOwner(d, f.l1.slot, 40, { kind: 'locked', tree: f.root.slot, path: '1.2.3.40', parentLevel: 1, inScope: false, node: {} } as never))).toContain('INV-SOUND-4')
  })
})

describe('incremental checking follows the references between units', () => {
  it('reports what full checking reports along a chain of corruptions and repairs', () => {
    const { state: start, f } = base()
    const full = new Checker(registry, 'full')
    const incremental = new Checker(registry, 'incremental')
    incremental.check({ event: { type: 'test.prime' }, before: start, after: start, result: null, steps: [] }, 0)
    const l2Entry = tableGet(start.pt.owners, f.l3.slot)!.children
    const kernelEntry = tableGet(start.pt.owners, f.kernel.root.slot)!.children
    const l1Record = tableGet(start.pt.owners, f.l1.slot)!
    const chainOf: Array<[string, (d: Draft<Snapshot>) => void, string[]]> = [
      // (the PTE stays absent: INV-MATCH-2; l2 is not at entry 9: INV-TREE-2)
      ['a second entry names l2', (d) => setEntryOwner(d, f.l3.slot, 9, { kind: 'node', slot: f.l2.slot }), ['INV-MATCH-2', 'INV-TREE-2', 'INV-TREE-7']],
      ['the second entry is gone again', (d) => setRecord(d, f.l3.slot, { children: l2Entry }), []],
      ["l2's slot has usage Meta", (d) => setOwner(d, f.l2.slot, { usage: PageUsage.Meta }), ['INV-GUARD-2', 'INV-TREE-7']],
      ["l2's usage is back", (d) => setOwner(d, f.l2.slot, { usage: PageUsage.PageTable }), []],
      ['the kernel root forgets its level-3 node', (d) => setEntryOwner(d, f.kernel.root.slot, 300, null), ['INV-MATCH-3', 'INV-TREE-3']],
      ['and remembers it', (d) => setRecord(d, f.kernel.root.slot, { children: kernelEntry }), []],
      // (its entries still say 1.2.3.k: INV-TREE-2 at the holder and at each of them)
      ['l1 claims another position', (d) => setRecord(d, f.l1.slot, { path: '1.2.8' }), ['INV-SOUND-1', 'INV-TREE-2', 'INV-TREE-6']],
      ['l1 is back at its position', (d) => setRecord(d, f.l1.slot, { path: l1Record.path }), []],
      ["a cursor holds l1 (l2's entry 3 locked)", (d) => setEntryOwner(d, f.l2.slot, 3, { kind: 'locked', tree: f.root.slot, path: '1.2.3', parentLevel: 2, inScope: false }), []],
      ["the locked entry's word no longer names l1", (d) => setPteIn(d, f.l2.slot, 3, newPt(f.leaf.n.paddr)), ['INV-TREE-3']],
      ['it names l1 again, as a node entry', (d) => {
        setPteIn(d, f.l2.slot, 3, newPt(f.l1.paddr))
        setEntryOwner(d, f.l2.slot, 3, { kind: 'node', slot: f.l1.slot })
      }, []],
      ["the held Child::Frame's owner moves to entry 21", (d) => setChildOwner(d, f.heldFrame.child, { ...childOwnerIn(d, f.heldFrame.child), path: '1.2.3.21' }), ['INV-SOUND-2', 'INV-TREE-8']],
      ['the live Entry borrows the guard of l2', (d) => setEntryHandle(d, f.live, { guard: f.l2.guard! }), ['INV-TREE-9']],
    ]
    let before = start
    chainOf.forEach(([what, edit, newly], k) => {
      const after = produce(before, edit)
      const step = { event: { type: 'test.corrupt' }, before, after, result: null, steps: [] }
      const a = full.check(step, k + 1)
      const b = incremental.check(step, k + 1)
      expect(b, what).toEqual(a)
      expect([...new Set(a.map((v) => v.rule))].sort(), what).toEqual(newly)
      before = after
    })
  })
})

describe('allocated detached nodes', () => {
  it('are roots of their own trees (in scope, parent_level = level + 1) and clean', () => {
    bothModes((m) => {
      for (const level of [1, 2, 3]) allocNode(m, level, 'user', false)
    })
  })
})
