/**
 * Firing cases of the entry and child layer: REQ/ENS of `PageTableGuard::entry`,
 * `Entry::{new_at, is_none, is_node, to_ref, protect, replace}`, `Child::{from_pte, into_pte}`,
 * `ChildRef::from_pte` and the model's Child events; INV-ENTRY-1..6, INV-MATCH-1..4,
 * INV-SOUND-1..3 over PTE slots and INV-CHILD-1..2 over Child values.
 *
 * States are built with events (pt_util.ts): a detached level-1 node with a frame mapped at
 * entry 3 (`leafWithFrame`), a root with a level-3 node installed at entry 2 (`twoLevels`).
 */
import type { Draft } from 'immer'
import { PageUsage, pageSize } from '../../../src/arch/constants.js'
import { newPage, newPt, pteToHex, setProp } from '../../../src/arch/pte.js'
import type { Model } from '../../../src/api/model.js'
import type { ChildValue, LeafEntryOwner } from '../../../src/model/page_table.js'
import { UNIT_META, type Snapshot } from '../../../src/model/snapshot.js'
import { tableGet } from '../../../src/model/table.js'
import { variantOf, type EventSpec, type ModelEvent, type Outcome } from '../../../reducers/types.js'
import { childDrop, childFromNode, childFromFrame, childFromPte, childIntoPte, childNone, childRefFromPte, childUntracked } from '../../../reducers/page_table/child.js'
import { entryDrop, entryIsNode, entryIsNone, entryNewAt, entryProtect, entryReplace, entryToRef, guardEntry } from '../../../reducers/page_table/entry.js'
import { corrupted, edit, rejected, withVariantBothModes, type FiringCase, type FiringOutcome } from '../harness.js'
import {
  allocNode,
  childOwnerIn,
  dropChild,
  dropEntry,
  entry,
  entryOwnerIn,
  frameChild,
  installNode,
  leafWithFrame,
  lockedRoot,
  newFrame,
  noneChild,
  positionOf,
  recordIn,
  replace,
  RW,
  RX,
  setChildOwner,
  setChildValue,
  setEntryHandle,
  setEntryOwner,
  setPteIn,
  setRecord,
  twoLevels,
  type Leaf,
  type TwoLevels,
} from './pt_util.js'
import { ownerIn, setCells, setExec, setOwner, stateWith, tableSet } from './util.js'
import { trackedHugeEntry, trackedHugeTree } from './pt_composite.js'
import { PageFlags } from '../../../src/arch/page_prop.js'

// ---- variants ------------------------------------------------------------------------------

/** A variant of `spec` that edits the real reducer's outcome. */
function after<E extends ModelEvent, R>(spec: EventSpec<E, R>, f: (s: Snapshot, e: E, out: Outcome<R>) => Outcome<R>, opts: { requires?: EventSpec<E, R>['requires'] } = {}) {
  return variantOf(spec, (s, e) => f(s, e, spec.reduce(s, e)), opts)
}

/** A variant of `spec` whose post-state is edited by `fn`. */
function editing<E extends ModelEvent, R>(spec: EventSpec<E, R>, fn: (d: Draft<Snapshot>, e: E, result: R, pre: Snapshot) => void) {
  return after(spec, (s, e, out) => ({ ...out, snapshot: edit(out.snapshot, (d) => fn(d, e, out.result, s)) }))
}

/** A variant of `spec` with another result. */
function returning<E extends ModelEvent, R>(spec: EventSpec<E, R>, fn: (r: R, s: Snapshot, e: E) => R) {
  return after(spec, (s, e, out) => ({ ...out, result: fn(out.result, s, e) }))
}

const bumpFrameCounter = (d: Draft<Snapshot>): void => {
  d.counters.frame += 1
}

// ---- setups ----------------------------------------------------------------------------------

/** A leaf and a live Entry on its entry `idx`. */
interface LeafEntry extends Leaf {
  readonly e: number
}

function leafEntry(m: Model, idx = 3): LeafEntry {
  const l = leafWithFrame(m)
  return { ...l, e: entry(m, l.n.guard!, idx) }
}

/** A locked root with a node installed at 2, and a live Entry on root entry `idx`. */
function rootEntry(m: Model, idx = 2): TwoLevels & { e: number } {
  const t = twoLevels(m)
  return { ...t, e: entry(m, t.root.guard!, idx) }
}

/** `corrupted` over a state built by `build`, edited with access to what it built. */
function corruptedOn<T>(build: (m: Model) => T, fn: (d: Draft<Snapshot>, t: T) => void): FiringOutcome {
  let t: T | undefined
  return corrupted(
    (m) => void (t = build(m)),
    (d) => fn(d, t!),
  )
}

/** `rejected` after `build`, on an initial state edited by `fn` (or unedited). */
function rejectedOn<T>(build: (m: Model) => T, event: (t: T) => ModelEvent, fn?: (d: Draft<Snapshot>, t: T) => void): FiringOutcome {
  let t: T | undefined
  const setup = (m: Model): void => void (t = build(m))
  if (fn === undefined) return rejected(setup, () => event(t!))
  return rejected(() => {}, () => event(t!), { initial: stateWith(setup, (d) => fn(d, t!)) })
}

/** `withVariantBothModes` from the state `build` makes (without the variants), then `act`. */
function variantOn<T>(variants: readonly ReturnType<typeof variantOf>[], build: (m: Model) => T, act: (m: Model, t: T) => void): FiringOutcome {
  let t: T | undefined
  return withVariantBothModes(variants, (m) => act(m, t!), {
    initial: (m) => {
      t = build(m)
      return m.state
    },
  })
}

function frameOwnerAt(d: Draft<Snapshot>, slot: number, idx: number): Extract<LeafEntryOwner, { kind: 'frame' }> {
  return entryOwnerIn(d, slot, idx) as Extract<LeafEntryOwner, { kind: 'frame' }>
}

/** nr_children of the node at `slot`: exec, the permission's copy and `meta_own`. */
function setNrChildren(d: Draft<Snapshot>, slot: number, n: number): void {
  const storage = ownerIn(d, slot).innerPerms.storage
  if (storage?.kind === 'PTNode') setCells(d, slot, { storage: { ...storage, nrChildren: n } })
  setRecord(d, slot, { metaOwn: { ...recordIn(d, slot).metaOwn, nrChildren: n } })
}


// ---- replace setups: a live Entry `e` and the new child `c` --------------------------------

/** Leaf (frame at 3), Entry on 3, a new frame child for 3. */
function replaceFrameSetup(m: Model): { e: number; c: number } {
  const l = leafEntry(m)
  return { e: l.e, c: frameChild(m, l.n, 3, RX).child }
}

/** Leaf, Entry on 4 (absent), a None child for 4. */
function replaceNoneSetup(m: Model): { e: number; c: number } {
  const l = leafEntry(m, 4)
  return { e: l.e, c: noneChild(m, l.n, 4) }
}

/** Leaf, Entry on 4 (absent), a new frame child for 4. */
function absentToFrameSetup(m: Model): { e: number; c: number } {
  const l = leafEntry(m, 4)
  return { e: l.e, c: frameChild(m, l.n, 4).child }
}

/** A leaf (its frame is slot 1), then a root with an Entry on 2 (absent) and a level-3 node child. */
function replaceNodeSetup(m: Model): { e: number; c: number } {
  leafWithFrame(m)
  const root = lockedRoot(m)
  const { child } = m.call<{ child: number }>({ type: 'child.from_node', node: allocNode(m, 3, 'user', false).node! })
  return { e: entry(m, root.guard!, 2), c: child }
}

/** A root with a level-3 node at 2 (unlocked), an Entry on 2 and a None child for it. */
function nodeToNoneSetup(m: Model): { e: number; c: number } {
  const root = lockedRoot(m)
  installNode(m, root, 2, false)
  return { e: entry(m, root.guard!, 2), c: noneChild(m, root, 2) }
}

/** An untracked level-2 node with a level-1 node at 0, an Entry on 0, an untracked 2 MiB child at 0x20_0000. */
function nodeToFrameSetup(m: Model): { e: number; c: number } {
  const n = allocNode(m, 2, 'untracked')
  installNode(m, n, 0, false)
  const { child } = m.call<{ child: number }>({ type: 'child.untracked', paddr: 0x20_0000, level: 2, prop: RW, tree: n.slot, path: '0' })
  return { e: entry(m, n.guard!, 0), c: child }
}

/** The slot of the node a Child::PageTable value holds (in `s`). */
function nodeChildSlot(s: Snapshot, child: number): number {
  return (tableGet(s.pt.children, child) as { paddr: number }).paddr / 0x1000
}

/** The slot of the node `replace` returned (`r.child`), read from the pre-state's PTE. */
function oldNodeSlot(pre: Snapshot, r: { child: number }): number {
  void r
  const root = tableGet(pre.pt.owners, 0)
  return (tableGet(root!.children, 2) as { slot: number }).slot
}

const NONE_PTE_WITH_ADDR = 0x1000n

export const ptEntryCases: FiringCase[] = [
  // ======== invariants over PTE slots ==========================================================
  {
    rule: 'INV-ENTRY-1',
    title: 'a frame entry owner that also carries a node payload',
    run: () => corruptedOn(leafWithFrame, (d, l) => setEntryOwner(d, l.n.slot, 3, { ...frameOwnerAt(d, l.n.slot, 3), node: {} } as never)),
  },
  {
    rule: 'INV-ENTRY-2',
    title: "a node entry whose node record's parent level is not its level + 1",
    expect: ['INV-ENTRY-2', 'INV-TREE-2'],
    run: () => corruptedOn(twoLevels, (d, t) => setRecord(d, t.sub.slot, { parentLevel: 3 })),
  },
  {
    rule: 'INV-ENTRY-3',
    title: 'a frame entry owner whose size is not the page size of its level',
    run: () => corruptedOn(leafWithFrame, (d, l) => setEntryOwner(d, l.n.slot, 3, { ...frameOwnerAt(d, l.n.slot, 3), frame: { ...frameOwnerAt(d, l.n.slot, 3).frame, size: 0x2000 } })),
  },
  {
    rule: 'INV-ENTRY-4',
    title: 'an absent entry owner whose path has an index past 511',
    expect: ['INV-ENTRY-4', 'INV-TREE-2'],
    run: () => corruptedOn(leafWithFrame, (d, l) => setEntryOwner(d, l.n.slot, 4, { kind: 'absent', tree: l.n.slot, path: '4.999', parentLevel: 1, inScope: false })),
  },
  {
    rule: 'INV-ENTRY-5',
    title: 'an entry owned by the tree marked in_scope',
    run: () => corruptedOn(leafWithFrame, (d, l) => setEntryOwner(d, l.n.slot, 4, { kind: 'absent', tree: l.n.slot, path: '4', parentLevel: 1, inScope: true })),
  },
  {
    rule: 'INV-ENTRY-6',
    title: 'a frame of a user page table recorded as untracked',
    expect: ['INV-ENTRY-6', 'INV-TREE-8'],
    run: () => corruptedOn(leafWithFrame, (d, l) => setEntryOwner(d, l.n.slot, 3, { ...frameOwnerAt(d, l.n.slot, 3), frame: { ...frameOwnerAt(d, l.n.slot, 3).frame, isTracked: false } })),
  },
  {
    rule: 'INV-MATCH-1',
    title: 'a non-present PTE whose address bits are beyond MAX_PADDR',
    run: () => corruptedOn(leafWithFrame, (d, l) => setPteIn(d, l.n.slot, 4, 0x8000_0000n)),
  },
  {
    rule: 'INV-MATCH-2',
    title: 'an absent PTE with the HUGE bit at level 4',
    run: () => corruptedOn(twoLevels, (d, t) => setPteIn(d, t.root.slot, 5, 0x80n)),
  },
  {
    rule: 'INV-MATCH-3',
    title: 'a node PTE that points to another node than its owner',
    run: () => corruptedOn(twoLevels, (d, t) => setPteIn(d, t.root.slot, 2, newPt(t.sub.paddr + 0x1000))),
  },
  {
    rule: 'INV-MATCH-4',
    title: 'a leaf PTE whose property differs from its owner',
    run: () => corruptedOn(leafWithFrame, (d, l) => setPteIn(d, l.n.slot, 3, newPage(l.frame, 1, RX))),
  },
  {
    rule: 'INV-SOUND-1',
    title: 'a node inside a tree whose raw_count is 0 (INV-PTACCT-1 states the same [APR] count)',
    expect: ['INV-PTACCT-1', 'INV-SOUND-1'],
    run: () => corruptedOn(twoLevels, (d, t) => setOwner(d, t.sub.slot, { rawCount: 0 })),
  },
  {
    rule: 'INV-SOUND-2',
    title: 'a mapped frame whose slot records another path instead of the entry',
    expect: ['INV-SOUND-2', 'INV-TREE-8'],
    run: () => corruptedOn(leafWithFrame, (d, l) => setOwner(d, l.frame / 0x1000, { pathsInPt: [`${l.n.slot}:7`] })),
  },
  {
    rule: 'INV-SOUND-3',
    title: 'a tracked 2 MiB frame whose sub-pages are not in use',
    run: () =>
      corruptedOn(
        (m) => allocNode(m, 2),
        (d, n) => {
          const pa = 0x20_0000
          const idx = pa / 0x1000
          setCells(d, idx, { refCount: 1, storage: { kind: 'Frame', meta: UNIT_META }, vtablePtr: 0 })
          setOwner(d, idx, { usage: PageUsage.Frame, pathsInPt: [`${n.slot}:0`] })
          setEntryOwner(d, n.slot, 0, { kind: 'frame', frame: { mappedPa: pa, size: pageSize(2), prop: RW, isTracked: true }, tree: n.slot, path: '0', parentLevel: 2, inScope: false })
          setPteIn(d, n.slot, 0, newPage(pa, 2, RW))
          setNrChildren(d, n.slot, 1)
        },
      ),
  },
  // ======== invariants over Child values =======================================================
  {
    rule: 'INV-CHILD-1',
    title: "a Child::Frame whose owner records another property (Child::wf)",
    run: () =>
      corruptedOn(
        (m) => frameChild(m, allocNode(m, 1), 0),
        (d, c) => setChildOwner(d, c.child, { ...childOwnerIn(d, c.child), frame: { ...(childOwnerIn(d, c.child) as Extract<LeafEntryOwner, { kind: 'frame' }>).frame, prop: RX } } as LeafEntryOwner),
      ),
  },
  {
    rule: 'INV-CHILD-1',
    title: 'a Child value without a ghost owner',
    run: () => corruptedOn((m) => noneChild(m, allocNode(m, 1), 0), (d, c) => setChildOwner(d, c, null)),
  },
  {
    rule: 'INV-CHILD-2',
    title: "a Child held by code whose owner is not in scope (reported as INV-ENTRY-5)",
    expect: ['INV-ENTRY-5'],
    run: () => corruptedOn((m) => noneChild(m, allocNode(m, 1), 0), (d, c) => setChildOwner(d, c, { ...childOwnerIn(d, c), inScope: false })),
  },
  {
    rule: 'INV-CHILD-2',
    title: "a Child::Frame whose frame does not record the child's path (reported as INV-SOUND-2)",
    expect: ['INV-SOUND-2', 'INV-TREE-8'],
    run: () =>
      corruptedOn(
        (m) => frameChild(m, allocNode(m, 1), 0),
        (d, c) => setOwner(d, c.paddr / 0x1000, { pathsInPt: ['0:9'] }),
      ),
  },
  {
    rule: 'INV-ENTRY-3',
    title: 'a Child::Frame owner whose size is wrong (INV-CHILD-1 reports inv_base as INV-ENTRY-3)',
    run: () =>
      corruptedOn(
        (m) => frameChild(m, allocNode(m, 1), 0),
        (d, c) => setChildOwner(d, c.child, { ...childOwnerIn(d, c.child), frame: { ...(childOwnerIn(d, c.child) as Extract<LeafEntryOwner, { kind: 'frame' }>).frame, size: 0x2000 } } as LeafEntryOwner),
      ),
  },
  // ======== PageTableGuard::entry / Entry::new_at: preconditions =============================
  {
    rule: 'REQ-GUARD-ENTRY-6',
    title: 'entry(512) panics (idx >= nr_subpage_per_huge)',
    run: () => rejectedOn(leafWithFrame, (l) => ({ type: 'page_table_guard.entry', guard: l.n.guard!, idx: 512 })),
  },
  {
    rule: 'REQ-HANDLE-1',
    title: 'entry of a guard that was never created',
    run: () => rejectedOn(leafWithFrame, () => ({ type: 'page_table_guard.entry', guard: 42, idx: 0 })),
  },
  {
    rule: 'REQ-ENTRY-UNIQUE-1',
    title: 'a second Entry of a guard while the first is live',
    run: () => rejectedOn(leafEntry, (l) => ({ type: 'page_table_guard.entry', guard: l.n.guard!, idx: 4 })),
  },
  {
    rule: 'REQ-GUARD-ENTRY-3',
    title: "entry through a guard whose node's lock is not in Guards",
    run: () => rejectedOn(leafWithFrame, (l) => ({ type: 'page_table_guard.entry', guard: l.n.guard!, idx: 3 }), (d, l) => tableSet(d.pt.locks, l.n.slot, null)),
  },
  {
    rule: 'REQ-GUARD-ENTRY-1',
    title: "entry of a node whose NodeOwner breaks its invariant (tree_level)",
    run: () => rejectedOn(leafWithFrame, (l) => ({ type: 'page_table_guard.entry', guard: l.n.guard!, idx: 3 }), (d, l) => setRecord(d, l.n.slot, { treeLevel: 1 })),
  },
  {
    rule: 'REQ-GUARD-ENTRY-5',
    title: "entry of a node whose slot's exec cells drifted from the owner (regions.inv())",
    run: () => rejectedOn(leafWithFrame, (l) => ({ type: 'page_table_guard.entry', guard: l.n.guard!, idx: 3 }), (d, l) => setExec(d, l.n.slot, { vtablePtr: 7 })),
  },
  {
    rule: 'REQ-GUARD-ENTRY-2',
    title: 'entry whose owner is in scope (taken out of the tree)',
    run: () => rejectedOn(leafWithFrame, (l) => ({ type: 'page_table_guard.entry', guard: l.n.guard!, idx: 4 }), (d, l) => setEntryOwner(d, l.n.slot, 4, { kind: 'absent', tree: l.n.slot, path: '4', parentLevel: 1, inScope: true })),
  },
  {
    rule: 'REQ-GUARD-ENTRY-4',
    title: 'entry whose owner does not match the stored PTE',
    run: () => rejectedOn(leafWithFrame, (l) => ({ type: 'page_table_guard.entry', guard: l.n.guard!, idx: 3 }), (d, l) => setPteIn(d, l.n.slot, 3, newPage(l.frame, 1, RX))),
  },
  {
    rule: 'REQ-ENTRY-NEWAT-3',
    title: 'Entry::new_at with idx 512',
    run: () => rejectedOn(leafWithFrame, (l) => ({ type: 'entry.new_at', guard: l.n.guard!, idx: 512 })),
  },
  {
    rule: 'REQ-ENTRY-NEWAT-2',
    title: "Entry::new_at through a guard whose node's lock is not held",
    run: () => rejectedOn(leafWithFrame, (l) => ({ type: 'entry.new_at', guard: l.n.guard!, idx: 3 }), (d, l) => tableSet(d.pt.locks, l.n.slot, null)),
  },
  {
    rule: 'REQ-ENTRY-NEWAT-1',
    title: 'Entry::new_at on an in-scope owner',
    run: () => rejectedOn(leafWithFrame, (l) => ({ type: 'entry.new_at', guard: l.n.guard!, idx: 4 }), (d, l) => setEntryOwner(d, l.n.slot, 4, { kind: 'absent', tree: l.n.slot, path: '4', parentLevel: 1, inScope: true })),
  },
  {
    rule: 'REQ-ENTRY-NEWAT-4',
    title: 'Entry::new_at where the owner does not match the PTE',
    run: () => rejectedOn(leafWithFrame, (l) => ({ type: 'entry.new_at', guard: l.n.guard!, idx: 4 }), (d, l) => setPteIn(d, l.n.slot, 4, newPage(0x40_0000, 1, RW))),
  },
  // ======== PageTableGuard::entry / Entry::new_at / drop: postconditions ======================
  {
    rule: 'ENS-GUARD-ENTRY-1',
    title: 'entry returns an Entry caching a word the node does not store',
    expect: ['ENS-GUARD-ENTRY-1', 'INV-TREE-9'],
    run: () => variantOn([editing(guardEntry, (d, _e, r) => setEntryHandle(d, r.entry, { pte: pteToHex(0x1000n) }))], leafWithFrame, (m, l) => void entry(m, l.n.guard!, 3)),
  },
  {
    rule: 'ENS-GUARD-ENTRY-2',
    title: 'entry returns an Entry for another index',
    run: () => variantOn([editing(guardEntry, (d, e, r) => setEntryHandle(d, r.entry, { idx: e.idx + 1 }))], leafWithFrame, (m, l) => void entry(m, l.n.guard!, 5)),
  },
  {
    rule: 'ENS-GUARD-ENTRY-3',
    title: 'entry changes something besides making the Entry',
    run: () => variantOn([editing(guardEntry, bumpFrameCounter)], leafWithFrame, (m, l) => void entry(m, l.n.guard!, 5)),
  },
  {
    rule: 'ENS-ENTRY-NEWAT-1',
    title: 'Entry::new_at caches a wrong word',
    expect: ['ENS-ENTRY-NEWAT-1', 'INV-TREE-9'],
    run: () => variantOn([editing(entryNewAt, (d, _e, r) => setEntryHandle(d, r.entry, { pte: pteToHex(0x1000n) }))], leafWithFrame, (m, l) => void m.call({ type: 'entry.new_at', guard: l.n.guard!, idx: 3 })),
  },
  {
    rule: 'ENS-ENTRY-NEWAT-2',
    title: 'Entry::new_at changes something besides making the Entry',
    run: () => variantOn([editing(entryNewAt, bumpFrameCounter)], leafWithFrame, (m, l) => void m.call({ type: 'entry.new_at', guard: l.n.guard!, idx: 3 })),
  },
  {
    rule: 'ENS-ENTRY-DROP-1',
    title: 'dropping an Entry leaves it registered',
    run: () => variantOn([variantOf(entryDrop, (s) => ({ snapshot: s, result: null }))], leafEntry, (m, l) => dropEntry(m, l.e)),
  },
  // ======== is_none / is_node / to_ref ==========================================================
  {
    rule: 'REQ-ENTRY-BORROW-1',
    title: 'is_none of an Entry whose guard was dropped',
    run: () => rejected(() => {}, (m) => {
      const l = leafEntry(m)
      m.call({ type: 'page_table_guard.drop', guard: l.n.guard! })
      return { type: 'entry.is_none', entry: l.e }
    }),
  },
  {
    rule: 'REQ-HANDLE-1',
    title: 'is_node of an Entry that was dropped',
    run: () => rejected(() => {}, (m) => {
      const l = leafEntry(m)
      dropEntry(m, l.e)
      return { type: 'entry.is_node', entry: l.e }
    }),
  },
  {
    rule: 'REQ-ENTRY-ISNONE-1',
    title: 'is_none of an Entry whose cached word does not match its owner',
    run: () => rejectedOn(leafEntry, (l) => ({ type: 'entry.is_none', entry: l.e }), (d, l) => setEntryHandle(d, l.e, { pte: pteToHex(0n) })),
  },
  {
    rule: 'REQ-ENTRY-ISNODE-1',
    title: 'is_node of an Entry whose cached word does not match its owner',
    run: () => rejectedOn(leafEntry, (l) => ({ type: 'entry.is_node', entry: l.e }), (d, l) => setEntryHandle(d, l.e, { pte: pteToHex(0n) })),
  },
  {
    rule: 'REQ-ENTRY-ISNODE-2',
    title: "is_node when the parent's lock is not held (the guard does not relate to the parent)",
    run: () => rejectedOn(leafEntry, (l) => ({ type: 'entry.is_node', entry: l.e }), (d, l) => tableSet(d.pt.locks, l.n.slot, null)),
  },
  {
    rule: 'ENS-ENTRY-ISNONE-1',
    title: 'is_none answers true for a mapped entry',
    run: () => variantOn([returning(entryIsNone, () => true)], leafEntry, (m, l) => void m.call({ type: 'entry.is_none', entry: l.e })),
  },
  {
    rule: 'ENS-ENTRY-ISNODE-1',
    title: 'is_node answers true for a frame entry',
    run: () => variantOn([returning(entryIsNode, () => true)], leafEntry, (m, l) => void m.call({ type: 'entry.is_node', entry: l.e })),
  },
  {
    rule: 'REQ-ENTRY-TOREF-3',
    title: 'to_ref of an in-scope owner',
    run: () => rejectedOn((m) => leafEntry(m, 4), (l) => ({ type: 'entry.to_ref', entry: l.e }), (d, l) => setEntryOwner(d, l.n.slot, 4, { kind: 'absent', tree: l.n.slot, path: '4', parentLevel: 1, inScope: true })),
  },
  {
    rule: 'REQ-ENTRY-TOREF-1',
    title: 'to_ref of an Entry whose cached word does not match its owner',
    run: () => rejectedOn(leafEntry, (l) => ({ type: 'entry.to_ref', entry: l.e }), (d, l) => setEntryHandle(d, l.e, { pte: pteToHex(0n) })),
  },
  {
    rule: 'REQ-ENTRY-TOREF-2',
    title: 'to_ref when the stored PTE no longer matches the owner (node_matching)',
    run: () => rejectedOn(leafEntry, (l) => ({ type: 'entry.to_ref', entry: l.e }), (d, l) => setPteIn(d, l.n.slot, 3, 0n)),
  },
  {
    rule: 'ENS-ENTRY-TOREF-1',
    title: 'to_ref returns None for a mapped frame',
    run: () => variantOn([returning(entryToRef, () => ({ kind: 'None' }))], leafEntry, (m, l) => void m.call({ type: 'entry.to_ref', entry: l.e })),
  },
  {
    rule: 'ENS-ENTRY-TOREF-2',
    title: "to_ref changes a slot owner (the mapped frame's raw_count)",
    expect: ['ENS-ENTRY-TOREF-2', 'INV-ACCT-3'],
    run: () => variantOn([editing(entryToRef, (d) => setOwner(d, 1, { rawCount: ownerIn(d, 1).rawCount + 1 }))], leafEntry, (m, l) => void m.call({ type: 'entry.to_ref', entry: l.e })),
  },
  {
    rule: 'ENS-ENTRY-TOREF-3',
    title: 'to_ref un-parks a slot',
    expect: ['ENS-ENTRY-TOREF-3', 'INV-REGIONS-5', 'INV-STORE-2'],
    run: () => variantOn([editing(entryToRef, (d) => tableSet(d.regions.unparked, 40, true))], leafEntry, (m, l) => void m.call({ type: 'entry.to_ref', entry: l.e })),
  },
  {
    rule: 'ENS-ENTRY-TOREF-4',
    title: "to_ref leaves a slot whose exec cells drift from its owner (regions.inv())",
    expect: ['ENS-ENTRY-TOREF-3', 'ENS-ENTRY-TOREF-4', 'INV-SLOT-9'],
    run: () => variantOn([editing(entryToRef, (d) => setExec(d, 1, { vtablePtr: 5 }))], leafEntry, (m, l) => void m.call({ type: 'entry.to_ref', entry: l.e })),
  },
  {
    rule: 'REQ-CHILDREF-FROMPTE-1',
    title: "ChildRef::from_pte at a level other than the owner's parent level",
    run: () => rejectedOn(leafWithFrame, (l) => ({ type: 'child_ref.from_pte', pte: pteToHex(newPage(l.frame, 1, RW)), level: 2, node: l.n.slot, idx: 3 })),
  },
  {
    rule: 'ENS-CHILDREF-FROMPTE-1',
    title: 'ChildRef::from_pte returns another frame',
    run: () =>
      variantOn([returning(childRefFromPte, (r) => ({ ...r, paddr: 0x9000 }) as never)], leafWithFrame, (m, l) =>
        void m.call({ type: 'child_ref.from_pte', pte: pteToHex(newPage(l.frame, 1, RW)), level: 1, node: l.n.slot, idx: 3 }),
      ),
  },
  // ======== protect ===============================================================================
  {
    rule: 'REQ-ENTRY-PROTECT-1',
    title: 'protect of an Entry whose cached word does not match its owner',
    run: () => rejectedOn(leafEntry, (l) => ({ type: 'entry.protect', entry: l.e, prop: RX }), (d, l) => setEntryHandle(d, l.e, { pte: pteToHex(0n) })),
  },
  {
    rule: 'REQ-ENTRY-PROTECT-3',
    title: 'protect of a node entry',
    run: () => rejectedOn(rootEntry, (t) => ({ type: 'entry.protect', entry: t.e, prop: RX })),
  },
  {
    rule: 'REQ-ENTRY-PROTECT-2',
    title: 'protect with a property the PTE cannot encode (WriteCombining)',
    run: () => rejectedOn(leafEntry, (l) => ({ type: 'entry.protect', entry: l.e, prop: { ...RX, cache: 'WriteCombining' } })),
  },
  {
    rule: 'REQ-ENTRY-PROTECT-2',
    title: "protect that clears AVAIL1 of a tracked kernel leaf (op changes the item's trackedness)",
    run: () => {
      const { b, tree } = trackedHugeTree({ config: 'kernel' })
      return rejected(() => {}, (m) => ({ type: 'entry.protect', entry: trackedHugeEntry(m, tree).e, mask: { clear: PageFlags.AVAIL1, set: 0 } }), { initial: () => b.s })
    },
  },
  {
    rule: 'ENS-ENTRY-PROTECT-1',
    title: 'protect leaves the cached word stale',
    expect: ['ENS-ENTRY-PROTECT-1', 'ENS-ENTRY-PROTECT-5', 'INV-TREE-9'],
    run: () => variantOn([editing(entryProtect, (d, e, _r, pre) => setEntryHandle(d, e.entry, { pte: tableGet(pre.pt.entries, e.entry)!.pte }))], leafEntry, (m, l) => void m.call({ type: 'entry.protect', entry: l.e, prop: RX })),
  },
  {
    rule: 'ENS-ENTRY-PROTECT-2',
    title: 'protect also writes another PTE of the parent',
    run: () => variantOn([editing(entryProtect, (d) => setPteIn(d, 0, 7, NONE_PTE_WITH_ADDR))], leafEntry, (m, l) => void m.call({ type: 'entry.protect', entry: l.e, prop: RX })),
  },
  {
    rule: 'ENS-ENTRY-PROTECT-3',
    title: "protect changes the owner's size",
    expect: ['ENS-ENTRY-PROTECT-3', 'INV-ENTRY-3'],
    run: () => variantOn([editing(entryProtect, (d) => setEntryOwner(d, 0, 3, { ...frameOwnerAt(d, 0, 3), frame: { ...frameOwnerAt(d, 0, 3).frame, size: 0x2000 } }))], leafEntry, (m, l) => void m.call({ type: 'entry.protect', entry: l.e, prop: RX })),
  },
  {
    rule: 'ENS-ENTRY-PROTECT-4',
    title: "protect leaves the owner's property as it was",
    expect: ['ENS-ENTRY-PROTECT-4', 'INV-MATCH-4'],
    run: () => variantOn([editing(entryProtect, (d) => setEntryOwner(d, 0, 3, { ...frameOwnerAt(d, 0, 3), frame: { ...frameOwnerAt(d, 0, 3).frame, prop: RW } }))], leafEntry, (m, l) => void m.call({ type: 'entry.protect', entry: l.e, prop: RX })),
  },
  {
    rule: 'ENS-ENTRY-PROTECT-5',
    title: 'protect changes something besides the PTE, the Entry and the owner',
    run: () => variantOn([editing(entryProtect, bumpFrameCounter)], leafEntry, (m, l) => void m.call({ type: 'entry.protect', entry: l.e, prop: RX })),
  },
  // ======== replace: preconditions ===============================================================
  {
    rule: 'REQ-ENTRY-REPLACE-6',
    title: 'replace with a node child of the wrong level panics',
    run: () =>
      rejectedOn(
        (m) => {
          const root = lockedRoot(m)
          const { child } = m.call<{ child: number }>({ type: 'child.from_node', node: allocNode(m, 2, 'user', false).node! })
          return { e: entry(m, root.guard!, 0), child }
        },
        (t) => ({ type: 'entry.replace', entry: t.e, child: t.child }),
      ),
  },
  {
    rule: 'REQ-ENTRY-REPLACE-6',
    title: 'replace with a frame child of the wrong level panics (a 4 KiB frame into a level-2 node)',
    run: () =>
      rejectedOn(
        (m) => {
          const n = allocNode(m, 2)
          const f = newFrame(m)
          const { child } = m.call<{ child: number }>({ type: 'child.from_frame', frame: f.frame, prop: RW, tree: n.slot, path: '0', parentLevel: 1 })
          return { e: entry(m, n.guard!, 0), child }
        },
        (t) => ({ type: 'entry.replace', entry: t.e, child: t.child }),
      ),
  },
  {
    rule: 'REQ-ENTRY-REPLACE-4',
    title: 'replace with a child positioned for another entry',
    run: () => rejectedOn((m) => ({ ...leafEntry(m), child: noneChild(m, allocNode(m, 1), 3) }), (t) => ({ type: 'entry.replace', entry: t.e, child: t.child })),
  },
  {
    rule: 'REQ-HANDLE-1',
    title: 'replace with a Child that was dropped',
    run: () =>
      rejectedOn(
        (m) => {
          const l = leafEntry(m, 4)
          const c = noneChild(m, l.n, 4)
          dropChild(m, c)
          return { ...l, c }
        },
        (t) => ({ type: 'entry.replace', entry: t.e, child: t.c }),
      ),
  },
  {
    rule: 'REQ-ENTRY-REPLACE-5',
    title: 'replace of an entry whose owner is in scope',
    run: () =>
      rejectedOn(
        (m) => {
          const l = leafEntry(m, 4)
          return { ...l, c: noneChild(m, l.n, 4) }
        },
        (t) => ({ type: 'entry.replace', entry: t.e, child: t.c }),
        (d, t) => setEntryOwner(d, t.n.slot, 4, { kind: 'absent', tree: t.n.slot, path: '4', parentLevel: 1, inScope: true }),
      ),
  },
  {
    rule: 'REQ-ENTRY-REPLACE-1',
    title: 'replace through an Entry whose cached word does not match its owner',
    run: () =>
      rejectedOn(
        (m) => {
          const l = leafEntry(m)
          return { ...l, c: noneChild(m, l.n, 3) }
        },
        (t) => ({ type: 'entry.replace', entry: t.e, child: t.c }),
        (d, t) => setEntryHandle(d, t.e, { pte: pteToHex(0n) }),
      ),
  },
  {
    rule: 'REQ-ENTRY-REPLACE-3',
    title: 'replace when the stored PTE no longer matches the owner (node_matching)',
    run: () =>
      rejectedOn(
        (m) => {
          const l = leafEntry(m)
          return { ...l, c: noneChild(m, l.n, 3) }
        },
        (t) => ({ type: 'entry.replace', entry: t.e, child: t.c }),
        (d, t) => setPteIn(d, t.n.slot, 3, newPage(t.frame, 1, RX)),
      ),
  },
  {
    rule: 'REQ-ENTRY-REPLACE-2',
    title: "replace with a Child whose frame does not record its path (Child::invariants)",
    run: () =>
      rejectedOn(
        (m) => {
          const l = leafEntry(m, 4)
          return { ...l, c: frameChild(m, l.n, 4) }
        },
        (t) => ({ type: 'entry.replace', entry: t.e, child: t.c.child }),
        (d, t) => setOwner(d, t.c.paddr / 0x1000, { pathsInPt: ['0:9'] }),
      ),
  },
  // ======== replace: postconditions ==============================================================
  {
    rule: 'ENS-ENTRY-REPLACE-1',
    title: "replace leaves the Entry's cached word stale",
    expect: ['ENS-ENTRY-REPLACE-1', 'ENS-ENTRY-REPLACE-17', 'INV-TREE-9'],
    run: () =>
      variantOn([editing(entryReplace, (d, e, _r, pre) => setEntryHandle(d, e.entry, { pte: tableGet(pre.pt.entries, e.entry)!.pte }))], absentToFrameSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-2',
    title: 'replace returns another id than the old child (which is then an unexplained Child, and the id has no owner)',
    expect: ['ENS-ENTRY-REPLACE-11', 'ENS-ENTRY-REPLACE-2', 'ENS-ENTRY-REPLACE-5'],
    run: () => variantOn([returning(entryReplace, () => ({ child: 999 }))], replaceFrameSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-3',
    title: "replace releases the parent's lock (the guard no longer relates to the parent)",
    expect: ['ENS-ENTRY-REPLACE-11', 'ENS-ENTRY-REPLACE-3', 'INV-GUARD-1', 'INV-PTGUARD-1'],
    run: () => variantOn([editing(entryReplace, (d, e, _r, pre) => tableSet(d.pt.locks, tableGet(pre.pt.guards, tableGet(pre.pt.entries, e.entry)!.guard)!.paddr / 0x1000, null))], replaceFrameSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-4',
    title: "replace moves the Entry to another index",
    run: () => variantOn([editing(entryReplace, (d, e) => setEntryHandle(d, e.entry, { idx: 9 }))], replaceNoneSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-5',
    title: 'replace returns the old child with an owner not in scope',
    expect: ['ENS-ENTRY-REPLACE-5', 'INV-ENTRY-5'],
    run: () => variantOn([editing(entryReplace, (d, _e, r) => setChildOwner(d, r.child, { ...childOwnerIn(d, r.child), inScope: false }))], replaceFrameSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-6',
    title: 'replace leaves the new owner in scope in the tree',
    expect: ['ENS-ENTRY-REPLACE-6', 'INV-ENTRY-5'],
    run: () => variantOn([editing(entryReplace, (d) => setEntryOwner(d, 0, 3, { ...frameOwnerAt(d, 0, 3), inScope: true }))], replaceFrameSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-7',
    title: 'replace (absent -> node) changes the raw_count of an unrelated mapped frame',
    expect: ['ENS-ENTRY-REPLACE-7', 'ENS-ENTRY-REPLACE-19', 'INV-ACCT-3'],
    run: () => variantOn([editing(entryReplace, (d, _e, _r, pre) => setOwner(d, 1, { rawCount: (tableGet(pre.regions.slotOwners, 1)?.rawCount ?? 0) + 1 }))], replaceNodeSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-8',
    title: "replace (node -> untracked frame) changes the new frame's slot",
    expect: ['ENS-ENTRY-REPLACE-19', 'ENS-ENTRY-REPLACE-8', 'INV-SLOT-1'],
    run: () => variantOn([editing(entryReplace, (d) => setOwner(d, 0x20_0000 / 0x1000, { rawCount: 1 }))], nodeToFrameSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-9',
    title: "replace (frame -> frame) changes the old frame's raw_count",
    expect: ['ENS-ENTRY-REPLACE-14', 'ENS-ENTRY-REPLACE-19', 'ENS-ENTRY-REPLACE-9', 'INV-ACCT-3'],
    run: () => variantOn([editing(entryReplace, (d, _e, _r, pre) => setOwner(d, 1, { rawCount: (tableGet(pre.regions.slotOwners, 1)?.rawCount ?? 0) + 1 }))], replaceFrameSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-10',
    title: 'replace installs a node whose slot records no path',
    expect: ['ENS-ENTRY-REPLACE-10', 'INV-SOUND-1', 'INV-TREE-6'],
    run: () => variantOn([editing(entryReplace, (d, e, _r, pre) => setOwner(d, nodeChildSlot(pre, e.child), { pathsInPt: [] }))], replaceNodeSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-11',
    title: 'replace also writes another PTE of the parent',
    run: () => variantOn([editing(entryReplace, (d) => setPteIn(d, 0, 7, NONE_PTE_WITH_ADDR))], replaceFrameSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-12',
    title: "replace (node -> absent) adds a path to the old node's slot",
    expect: ['ENS-ENTRY-REPLACE-12', 'INV-SOUND-1'],
    run: () => variantOn([editing(entryReplace, (d, _e, r, pre) => setOwner(d, oldNodeSlot(pre, r), { pathsInPt: [...ownerIn(d, oldNodeSlot(pre, r)).pathsInPt, '0:7'] }))], nodeToNoneSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-13',
    title: "replace (node -> absent) un-parks the old node's slot",
    expect: ['ENS-ENTRY-REPLACE-13', 'INV-NODE-6', 'INV-REGIONS-5', 'INV-STORE-2'],
    run: () => variantOn([editing(entryReplace, (d, _e, r, pre) => tableSet(d.regions.unparked, oldNodeSlot(pre, r), true))], nodeToNoneSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-14',
    title: "replace (frame -> frame) changes a cell of the old frame's slot (vtable, exec and ghost alike)",
    run: () => variantOn([editing(entryReplace, (d) => setCells(d, 1, { vtablePtr: 1 }))], replaceFrameSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-15',
    title: "replace (absent -> frame) changes the permission of the new frame's slot",
    expect: ['ENS-ENTRY-REPLACE-14', 'ENS-ENTRY-REPLACE-15'],
    run: () => variantOn([editing(entryReplace, (d, e, _r, pre) => setCells(d, (tableGet(pre.pt.children, e.child) as { paddr: number }).paddr / 0x1000, { vtablePtr: 1 }))], absentToFrameSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-16',
    title: 'a replace without its panic check installs a 4 KiB frame into a level-2 node',
    expect: ['ENS-ENTRY-REPLACE-16', 'ENS-ENTRY-REPLACE-3', 'INV-MATCH-3', 'INV-TREE-2', 'REQ-ENTRY-REPLACE-4', 'REQ-ENTRY-REPLACE-6'],
    run: () =>
      variantOn(
        [after(entryReplace, (_s, _e, out) => out, { requires: [] })],
        (m) => {
          const n = allocNode(m, 2)
          const f = newFrame(m)
          const { child } = m.call<{ child: number }>({ type: 'child.from_frame', frame: f.frame, prop: RW, tree: n.slot, path: '0', parentLevel: 1 })
          return { e: entry(m, n.guard!, 0), c: child }
        },
        (m, t) => void replace(m, t.e, t.c),
      ),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-17',
    title: 'replace writes a word that is not into_pte(new child) (an ignored bit set)',
    run: () =>
      variantOn(
        [
          editing(entryReplace, (d, e, _r, pre) => {
            const c = tableGet(pre.pt.children, e.child) as Extract<ChildValue, { kind: 'Frame' }>
            const w = newPage(c.paddr, 1, c.prop) | 0x200n
            setPteIn(d, 0, 3, w)
            setEntryHandle(d, e.entry, { pte: pteToHex(w) })
          }),
        ],
        replaceFrameSetup,
        (m, t) => void replace(m, t.e, t.c),
      ),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-18',
    title: "replace (absent -> frame) leaves meta_own.nr_children behind the exec cell",
    expect: ['ENS-ENTRY-REPLACE-18', 'INV-NODE-6'],
    run: () => variantOn([editing(entryReplace, (d) => setRecord(d, 0, { metaOwn: { ...recordIn(d, 0).metaOwn, nrChildren: recordIn(d, 0).metaOwn.nrChildren - 1 } }))], absentToFrameSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-ENTRY-REPLACE-19',
    title: "replace (absent -> node) also takes a reference to the node (rc + 1)",
    expect: ['ENS-ENTRY-REPLACE-19', 'INV-PTACCT-1'],
    run: () => variantOn([editing(entryReplace, (d, e, _r, pre) => setCells(d, nodeChildSlot(pre, e.child), { refCount: 2 }))], replaceNodeSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  // ======== Child::from_pte / Child::into_pte (internal steps of replace) =====================
  {
    rule: 'REQ-CHILD-FROMPTE-1',
    title: 'Child::from_pte of a word the owner does not match',
    run: () => rejectedOn(leafWithFrame, (l) => ({ type: 'child.from_pte', pte: pteToHex(newPage(l.frame, 1, RX)), level: 1, node: l.n.slot, idx: 3 })),
  },
  {
    rule: 'REQ-CHILD-FROMPTE-2',
    title: "Child::from_pte at a level other than the owner's parent level",
    run: () => rejectedOn(leafWithFrame, (l) => ({ type: 'child.from_pte', pte: pteToHex(0n), level: 2, node: l.n.slot, idx: 4 })),
  },
  {
    rule: 'ENS-CHILD-FROMPTE-1',
    title: 'from_pte (in replace) returns a child of another property',
    expect: ['ENS-CHILD-FROMPTE-1', 'ENS-ENTRY-REPLACE-2', 'INV-CHILD-1'],
    run: () => variantOn([editing(childFromPte, (d, _e, r) => setChildValue(d, r.child, { kind: 'Frame', paddr: 0x1000, level: 1, prop: RX, config: 'user' }))], replaceFrameSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-CHILD-FROMPTE-2',
    title: 'from_pte (in replace) hands out an owner with another path',
    expect: ['ENS-CHILD-FROMPTE-2', 'ENS-ENTRY-REPLACE-5', 'INV-SOUND-2', 'INV-TREE-8'],
    run: () => variantOn([editing(childFromPte, (d, _e, r) => setChildOwner(d, r.child, { ...childOwnerIn(d, r.child), path: '5' }))], replaceFrameSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-CHILD-FROMPTE-3',
    title: 'from_pte (in replace, node -> absent) mints no obligation for the node it revives',
    expect: ['ENS-CHILD-FROMPTE-3', 'ENS-ENTRY-REPLACE-19', 'INV-PTACCT-1'],
    run: () => variantOn([editing(childFromPte, (d, e) => tableSet(d.regions.frameObligations, Number(BigInt(e.pte) & 0xffff_ffff_f000n) / 0x1000, null))], nodeToNoneSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'REQ-CHILD-INTOPTE-1',
    title: 'Child::into_pte of a child whose owner is not in scope',
    run: () => rejectedOn((m) => noneChild(m, allocNode(m, 1), 0), (c) => ({ type: 'child.into_pte', child: c }), (d, c) => setChildOwner(d, c, { ...childOwnerIn(d, c), inScope: false })),
  },
  {
    rule: 'ENS-CHILD-INTOPTE-1',
    title: "into_pte returns a word the child's owner does not match",
    expect: ['ENS-CHILD-INTOPTE-1', 'INV-TREE-8'],
    run: () => variantOn([returning(childIntoPte, (r) => ({ ...r, pte: pteToHex(setProp(BigInt(r.pte), RX)) }))], (m) => frameChild(m, allocNode(m, 1), 0), (m, c) => void m.call({ type: 'child.into_pte', child: c.child })),
  },
  {
    rule: 'ENS-CHILD-INTOPTE-2',
    title: 'into_pte hands back an owner still in scope',
    expect: ['ENS-CHILD-INTOPTE-1', 'ENS-CHILD-INTOPTE-2', 'INV-TREE-8'],
    run: () => variantOn([returning(childIntoPte, (r) => ({ ...r, owner: { ...r.owner!, inScope: true } }))], (m) => frameChild(m, allocNode(m, 1), 0), (m, c) => void m.call({ type: 'child.into_pte', child: c.child })),
  },
  {
    rule: 'ENS-CHILD-INTOPTE-3',
    title: 'into_pte (in replace, absent -> node) redeems no obligation for the node it forgets',
    expect: ['ENS-CHILD-INTOPTE-3', 'ENS-ENTRY-REPLACE-19', 'INV-PTACCT-1'],
    run: () => variantOn([editing(childIntoPte, (d, e, _r, pre) => tableSet(d.regions.frameObligations, nodeChildSlot(pre, e.child), 1))], replaceNodeSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  {
    rule: 'ENS-CHILD-INTOPTE-4',
    title: 'into_pte (in replace) of a node child returns a word that is not new_pt(paddr)',
    expect: ['ENS-CHILD-INTOPTE-4', 'ENS-ENTRY-REPLACE-17'],
    run: () => variantOn([returning(childIntoPte, (r) => ({ ...r, pte: pteToHex(BigInt(r.pte) & ~0x2n) }))], replaceNodeSetup, (m, t) => void replace(m, t.e, t.c)),
  },
  // ======== the model's Child events ===========================================================
  {
    rule: 'REQ-CHILD-POS-1',
    title: 'child.none at an empty path',
    run: () => rejectedOn((m) => allocNode(m, 1), (n) => ({ type: 'child.none', tree: n.slot, path: '', parentLevel: 1 })),
  },
  {
    rule: 'REQ-CHILD-FROMNODE-1',
    title: "child.from_node of a page table's root (owned by its tree)",
    run: () => rejectedOn((m) => lockedRoot(m), (r) => ({ type: 'child.from_node', node: r.node! })),
  },
  {
    rule: 'REQ-CHILD-FROMFRAME-1',
    title: 'child.from_frame positioned at parent level 2 (a Frame is a level-1 item)',
    run: () => rejectedOn((m) => ({ n: allocNode(m, 2), f: newFrame(m) }), (t) => ({ type: 'child.from_frame', frame: t.f.frame, prop: RW, tree: t.n.slot, path: '0', parentLevel: 2 })),
  },
  {
    rule: 'REQ-CHILD-FROMFRAME-1',
    title: 'child.from_frame at a path its slot already records (the frame is mapped there)',
    run: () =>
      rejectedOn(
        (m) => {
          const l = leafWithFrame(m)
          const clone = m.call<{ ok: true; value: { frame: number } }>({ type: 'frame.from_in_use', paddr: l.frame }).value.frame
          return { ...l, clone }
        },
        (t) => ({ type: 'child.from_frame', frame: t.clone, prop: RW, tree: t.n.slot, path: '3', parentLevel: 1 }),
      ),
  },
  {
    rule: 'REQ-CHILD-FROMFRAME-1',
    title: 'child.from_frame positioned in an untracked page table (its items are raw triples)',
    run: () => rejectedOn((m) => ({ n: allocNode(m, 1, 'untracked'), f: newFrame(m) }), (t) => ({ type: 'child.from_frame', frame: t.f.frame, prop: RW, tree: t.n.slot, path: '0', parentLevel: 1 })),
  },
  {
    rule: 'REQ-CHILD-FROMFRAME-1',
    title: "child.from_frame positioned in a tree named by an installed node's slot (not a root record)",
    run: () => rejectedOn((m) => ({ t: twoLevels(m), f: newFrame(m) }), (x) => ({ type: 'child.from_frame', frame: x.f.frame, prop: RW, tree: x.t.sub.slot, path: '0', parentLevel: 1 })),
  },
  {
    rule: 'REQ-CHILD-UNTRACKED-1',
    title: "child.untracked positioned in a tree named by an installed node's slot (not a root record)",
    run: () => rejectedOn((m) => installNode(m, allocNode(m, 2, 'untracked'), 0), (sub) => ({ type: 'child.untracked', paddr: 0x20_0000, level: 1, prop: RW, tree: sub.slot, path: '0' })),
  },
  {
    rule: 'REQ-CHILD-UNTRACKED-1',
    title: 'child.untracked positioned in a user page table (its items are tracked Frames)',
    run: () => rejectedOn((m) => allocNode(m, 1), (n) => ({ type: 'child.untracked', paddr: 0x20_0000, level: 1, prop: RW, tree: n.slot, path: '0' })),
  },
  {
    rule: 'REQ-CHILD-UNTRACKED-1',
    title: 'child.untracked of a 2 MiB item at a 4 KiB-aligned address',
    run: () => rejectedOn((m) => allocNode(m, 2, 'untracked'), (n) => ({ type: 'child.untracked', paddr: 0x1000, level: 2, prop: RW, tree: n.slot, path: '0' })),
  },
  {
    rule: 'REQ-CHILD-DROP-1',
    title: 'dropping a Child::Frame whose frame does not record its path (its reference is not there)',
    run: () => rejectedOn((m) => frameChild(m, allocNode(m, 1), 0), (c) => ({ type: 'child.drop', child: c.child }), (d, c) => setOwner(d, c.paddr / 0x1000, { pathsInPt: ['0:9'] })),
  },
  {
    rule: 'ENS-CHILD-NONE-1',
    title: 'child.none changes something besides the new child',
    run: () => variantOn([editing(childNone, bumpFrameCounter)], (m) => allocNode(m, 1), (m, n) => void noneChild(m, n, 0)),
  },
  {
    rule: 'ENS-CHILD-FROMNODE-1',
    title: 'child.from_node keeps the PageTableNode handle',
    expect: ['ENS-CHILD-FROMNODE-1', 'INV-PTACCT-1'],
    run: () => variantOn([editing(childFromNode, (d, e, _r, pre) => tableSet(d.pt.nodes, e.node, tableGet(pre.pt.nodes, e.node)))], (m) => allocNode(m, 1, 'user', false), (m, n) => void m.call({ type: 'child.from_node', node: n.node! })),
  },
  {
    rule: 'ENS-CHILD-FROMFRAME-1',
    title: 'child.from_frame also takes a reference (rc + 1)',
    expect: ['ENS-CHILD-FROMFRAME-1', 'INV-ACCT-3'],
    run: () =>
      variantOn([editing(childFromFrame, (d, e, _r, pre) => setCells(d, tableGet(pre.frames, e.frame)!.paddr / 0x1000, { refCount: 2 }))], (m) => ({ n: allocNode(m, 1), f: newFrame(m) }), (m, t) =>
        void m.call({ type: 'child.from_frame', frame: t.f.frame, prop: RW, ...positionOf(m, t.n, 0) }),
      ),
  },
  {
    rule: 'ENS-CHILD-UNTRACKED-1',
    title: 'child.untracked records the item as tracked (which then is neither in use nor recording the path)',
    expect: ['ENS-CHILD-UNTRACKED-1', 'INV-ENTRY-6', 'INV-SOUND-2', 'INV-SOUND-3'],
    run: () =>
      variantOn([editing(childUntracked, (d, _e, r) => setChildOwner(d, r.child, { ...childOwnerIn(d, r.child), frame: { ...(childOwnerIn(d, r.child) as Extract<LeafEntryOwner, { kind: 'frame' }>).frame, isTracked: true } } as LeafEntryOwner))], (m) => allocNode(m, 2, 'untracked'), (m, n) =>
        void m.call({ type: 'child.untracked', paddr: 0x20_0000, level: 2, prop: RW, tree: n.slot, path: '0' }),
      ),
  },
  {
    rule: 'ENS-CHILD-DROP-1',
    title: 'dropping a Child::None leaves it registered',
    run: () => variantOn([variantOf(childDrop, (s) => ({ snapshot: s, result: null }))], (m) => noneChild(m, allocNode(m, 1), 0), (m, c) => dropChild(m, c)),
  },
  {
    rule: 'ENS-CHILD-DROP-2',
    title: "dropping a tracked Child::Frame (of a frame with a second handle) keeps its path",
    expect: ['ENS-CHILD-DROP-2', 'INV-ACCT-3', 'INV-TREE-8'],
    run: () =>
      variantOn(
        [editing(childDrop, (d, e, _r, pre) => {
          const o = tableGet(pre.pt.childOwners, e.child) as Extract<LeafEntryOwner, { kind: 'frame' }>
          setOwner(d, o.frame.mappedPa / 0x1000, { pathsInPt: [`${o.tree}:${o.path}`] })
        })],
        (m) => {
          const c = frameChild(m, allocNode(m, 1), 0)
          m.call({ type: 'frame.from_in_use', paddr: c.paddr })
          return c
        },
        (m, c) => dropChild(m, c.child),
      ),
  },
  {
    rule: 'ENS-CHILD-DROP-3',
    title: 'dropping a Child::PageTable releases nothing (the node leaks)',
    expect: ['ENS-CHILD-DROP-3', 'INV-PTACCT-1'],
    run: () => variantOn([variantOf(childDrop, (s, e) => ({ snapshot: edit(s, (d) => setChildValue(d, e.child, null)), result: null }))], (m) => m.call<{ child: number }>({ type: 'child.from_node', node: allocNode(m, 1, 'user', false).node! }).child, (m, c) => dropChild(m, c)),
  },
]

