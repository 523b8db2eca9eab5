/**
 * Firing cases of the composite Entry operations (seed 001; operations.md §5.6, §5.7):
 * REQ-/ENS-ENTRY-ALLOCIFNONE-* and REQ-/ENS-ENTRY-SPLIT-*.
 *
 * Preconditions: a bad argument or a corrupted initial state, refused with the rule and the state
 * unchanged. Postconditions: a faulty variant of the composite (the real reducer, then one edit of
 * its outcome) run from a clean state. Where a fault necessarily breaks several clauses — the
 * spec's clauses overlap (`self.invariants` ⊇ `metaregion_sound`, `relate_guard_perm` ⊇ the lock)
 * or an invariant states the same fact — every rule it breaks is listed.
 *
 * Splits run 512 internal steps; their variant cases run in incremental mode only (the unit test
 * test/unit/pt_composite.test.ts compares full and incremental on a faulty split).
 */
import type { Draft } from 'immer'
import { frameToIndex, PAGE_SIZE } from '../../../src/arch/constants.js'
import { PageFlags } from '../../../src/arch/page_prop.js'
import { newPage, pteToHex } from '../../../src/arch/pte.js'
import type { Model } from '../../../src/api/model.js'
import { editSnapshot } from '../../../src/model/edit.js'
import type { LeafEntryOwner } from '../../../src/model/page_table.js'
import { UNIT_META, type Snapshot } from '../../../src/model/snapshot.js'
import { tableGet } from '../../../src/model/table.js'
import { variantOf, type EventSpec, type ModelEvent, type Outcome } from '../../../reducers/types.js'
import { positionNode } from '../../../reducers/page_table/entry.js'
import { ptNodeRefLock } from '../../../reducers/page_table/node.js'
import { entryAllocIfNone, entrySplitIfMappedHuge, type CompositeResult } from '../../../reducers/page_table/entry_composite.js'
import { edit, rejected, withVariant, withVariantBothModes, type FiringCase, type FiringOutcome } from '../harness.js'
import { PtBuilder } from './pt_node.js'
import {
  allocNode,
  dropChild,
  entry,
  installNode,
  leafWithFrame,
  lockedRoot,
  recordIn,
  replace,
  RW,
  RX,
  setEntryHandle,
  setEntryOwner,
  setPteIn,
  setRecord,
  twoLevels,
  type PtNode,
} from './pt_util.js'
import { cellsOf, ownerIn, setCells, setOwner, stateWith, tableSet } from './util.js'

// ---- setups ------------------------------------------------------------------------------------

/** A locked user root and a live Entry on its absent entry 5. */
export function absentRootEntry(m: Model): { root: PtNode; e: number } {
  const root = lockedRoot(m)
  return { root, e: entry(m, root.guard!, 5) }
}

/** A locked user root with a locked level-3 node at 2, and a live Entry on root entry 2 (a node). */
function nodeRootEntry(m: Model): { root: PtNode; sub: PtNode; e: number } {
  const t = twoLevels(m)
  return { ...t, e: entry(m, t.root.guard!, 2) }
}

/** A detached, locked level-1 node and a live Entry on its absent entry 4. */
function level1Entry(m: Model): { n: PtNode; e: number } {
  const n = allocNode(m, 1)
  return { n, e: entry(m, n.guard!, 4) }
}

/** The physical address of the huge leaves the cases split. */
export const HUGE_PA = 0x20_0000

/**
 * A detached, locked level-2 node of the untracked configuration mapping a 2 MiB page at
 * `HUGE_PA` in entry 7, and a live Entry on it.
 */
export function untrackedHugeEntry(m: Model): { n: PtNode; e: number } {
  const n = allocNode(m, 2, 'untracked')
  const { child } = m.call<{ child: number }>({ type: 'child.untracked', paddr: HUGE_PA, level: 2, prop: RW, tree: n.slot, path: '7' })
  const e = entry(m, n.guard!, 7)
  dropChild(m, replace(m, e, child))
  return { n, e }
}

/** A 4 KiB leaf (a level-1 node with a frame at 3) and a live Entry on it. */
function smallLeafEntry(m: Model): { n: PtNode; e: number } {
  const l = leafWithFrame(m)
  return { n: l.n, e: entry(m, l.n.guard!, 3) }
}

/** Addresses of the tracked tree: a user root, level 3 at root 0, level 2 at 0.0, the huge leaf at 0.0.9. */
export interface TrackedTree {
  readonly root: { node: number; paddr: number }
  readonly l3: number
  readonly l2: number
  /** The state after the 2 MiB segment was claimed, before the huge leaf took its reference. */
  readonly start: Snapshot
}

/** Index of the huge leaf in the level-2 node of `trackedHugeTree`. */
export const TRACKED_IDX = 9

/**
 * A user page table (4 MiB of memory) whose level-2 node maps a **tracked** 2 MiB leaf at
 * `HUGE_PA` in entry 9: a segment holds every 4 KiB page of it (so the sub-pages are in use,
 * INV-SOUND-3) and the leaf holds one more reference on its head page, recorded by its path.
 * No reducer maps a tracked huge leaf (a `Frame` is a 4 KiB page): the builder writes the PTE and
 * the ghost side of `Entry::replace` as `PtBuilder.mapTracked` does.
 */
export function trackedHugeTree(opts: { subPages?: boolean; config?: 'user' | 'kernel' } = {}): { b: PtBuilder; tree: TrackedTree } {
  const config = opts.config ?? 'user'
  const b = new PtBuilder()
  const root = b.empty(config)
  const l3 = b.alloc(3, config)
  b.install(root.paddr, 0, l3.node)
  const l2 = b.alloc(2, config)
  b.install(l3.paddr, 0, l2.node)
  if (opts.subPages !== false) b.run({ type: 'segment.from_unused', startPaddr: HUGE_PA, endPaddr: HUGE_PA + 0x20_0000, meta: UNIT_META })
  const start = b.s
  const head =
    opts.subPages === false
      ? b.run<{ ok: true; value: { frame: number } }>({ type: 'frame.from_unused', paddr: HUGE_PA, meta: UNIT_META }).value.frame
      : b.run<{ ok: true; value: { frame: number } }>({ type: 'frame.from_in_use', paddr: HUGE_PA }).value.frame
  // the kernel configuration marks a tracked leaf AVAIL1 (item_into_raw)
  b.mapTracked(l2.paddr, TRACKED_IDX, head, config === 'kernel' ? { ...RW, flags: RW.flags | PageFlags.AVAIL1 } : RW)
  return { b, tree: { root, l3: l3.paddr, l2: l2.paddr, start } }
}

/** Locks the level-2 node of a tracked tree and takes an Entry on the huge leaf. */
export function trackedHugeEntry(m: Model, tree: TrackedTree): { guard: number; e: number } {
  const { guard } = m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr: tree.l2 })
  return { guard, e: entry(m, guard, TRACKED_IDX) }
}

// ---- running ---------------------------------------------------------------------------------

/** `rejected` after `build`, on an initial state edited by `fn` (or unedited). */
function rejectedOn<T>(build: (m: Model) => T, event: (t: T) => ModelEvent, fn?: (d: Draft<Snapshot>, t: T) => void): FiringOutcome {
  let t: T | undefined
  const setup = (m: Model): void => void (t = build(m))
  if (fn === undefined) return rejected(setup, () => event(t!))
  return rejected(() => {}, () => event(t!), { initial: stateWith(setup, (d) => fn(d, t!)) })
}

type Variant = ReturnType<typeof variantOf>

/** Runs `act` with `variants` from the state `build` makes (both modes, or incremental only). */
function variantOn<T>(variants: readonly Variant[], build: (m: Model) => T, act: (m: Model, t: T) => void, mode: 'both' | 'incremental' = 'both'): FiringOutcome {
  let t: T | undefined
  const initial = (m: Model): Snapshot => {
    t = build(m)
    return m.state
  }
  return mode === 'both' ? withVariantBothModes(variants, (m) => act(m, t!), { initial }) : withVariant(variants, (m) => act(m, t!), { initial, check: 'incremental' })
}

/** A variant of `spec` whose outcome is edited by `f`. */
function after<E extends ModelEvent, R>(spec: EventSpec<E, R>, f: (s: Snapshot, e: E, out: Outcome<R>) => Outcome<R>): Variant {
  return variantOf(spec, (s, e) => f(s, e, spec.reduce(s, e)))
}

/** A variant of `spec` whose post-state is edited by `fn` (only when the real reducer changed something). */
function editing<E extends ModelEvent>(spec: EventSpec<E, CompositeResult>, fn: (d: Draft<Snapshot>, e: NoInfer<E>, result: CompositeResult, pre: Snapshot) => void): Variant {
  return after(spec, (s, e, out) => ({ ...out, snapshot: edit(out.snapshot, (d) => fn(d, e, out.result, s)) }))
}

function returning<E extends ModelEvent>(spec: EventSpec<E, CompositeResult>, fn: (r: CompositeResult, s: Snapshot) => CompositeResult): Variant {
  return after(spec, (s, e, out) => ({ ...out, result: fn(out.result, s) }))
}

const alloc = (m: Model, t: { e: number }): void => void m.call({ type: 'entry.alloc_if_none', entry: t.e })
const split = (m: Model, t: { e: number }): void => void m.call({ type: 'entry.split_if_mapped_huge', entry: t.e })

/** The slot of the node the composite's result guard locks, in the draft. */
function newSlotIn(d: Draft<Snapshot>, r: CompositeResult): number {
  return (tableGet(d.pt.guards as never, r!.guard) as unknown as { paddr: number }).paddr / PAGE_SIZE
}

/** The slot of the entry's node and the Entry's index, from the pre-state. */
function entryPos(pre: Snapshot, e: number): { slot: number; idx: number; guard: number } {
  const h = tableGet(pre.pt.entries, e)!
  return { slot: tableGet(pre.pt.guards, h.guard)!.paddr / PAGE_SIZE, idx: h.idx, guard: h.guard }
}

/** Locks `slot` (ghost `Guards` and the lock byte of both copies), as a stray lock. */
function lockIn(d: Draft<Snapshot>, slot: number): void {
  tableSet(d.pt.locks, slot, true)
  const st = cellsOf(d, slot).storage
  if (st?.kind === 'PTNode') setCells(d, slot, { storage: { ...st, lock: 1 } })
}

/** Sets the parent's `meta_own.stray` (the NodeOwner no longer matches its stored cell: `NodeOwner::inv`). */
function strayParent(d: Draft<Snapshot>, slot: number): void {
  setRecord(d, slot, { metaOwn: { ...recordIn(d, slot).metaOwn, stray: true } })
}

/** A second, unlocked level-1 node besides `build`'s state (for stray locks). */
function withSpareNode<T>(build: (m: Model) => T): (m: Model) => T & { spare: PtNode } {
  return (m) => {
    const t = build(m)
    return { ...t, spare: allocNode(m, 1, 'user', false) }
  }
}

/** A second live guard besides `build`'s state (for an Entry that borrows the wrong one). */
function withSpareGuard<T>(build: (m: Model) => T): (m: Model) => T & { spare: PtNode } {
  return (m) => {
    const t = build(m)
    return { ...t, spare: allocNode(m, 1, 'user', true) }
  }
}

// ---- cases -------------------------------------------------------------------------------------

export const ptCompositeCases: FiringCase[] = [
  // ======== alloc_if_none: preconditions ========================================================
  {
    rule: 'REQ-ENTRY-ALLOCIFNONE-1',
    title: 'alloc_if_none through an Entry whose cached word does not match its owner (self.invariants)',
    run: () => rejectedOn(absentRootEntry, (t) => ({ type: 'entry.alloc_if_none', entry: t.e }), (d, t) => setEntryHandle(d, t.e, { pte: pteToHex(newPage(0x5000, 1, RW)) })),
  },
  {
    rule: 'REQ-ENTRY-ALLOCIFNONE-2',
    title: "alloc_if_none on a node entry whose sub-tree holds an in-scope owner (owner.inv() of the sub-tree)",
    run: () =>
      rejectedOn(
        nodeRootEntry,
        (t) => ({ type: 'entry.alloc_if_none', entry: t.e }),
        (d, t) => setEntryOwner(d, t.sub.slot, 5, { kind: 'absent', tree: t.root.slot, path: '2.5', parentLevel: 3, inScope: true }),
      ),
  },
  {
    rule: 'REQ-ENTRY-ALLOCIFNONE-3',
    title: 'alloc_if_none when the stored PTE no longer matches the owner (node_matching)',
    run: () => rejectedOn(absentRootEntry, (t) => ({ type: 'entry.alloc_if_none', entry: t.e }), (d, t) => setPteIn(d, t.root.slot, 5, newPage(0x4000_0000, 3, RW))),
  },
  {
    rule: 'REQ-ENTRY-ALLOCIFNONE-4',
    title: 'alloc_if_none on an entry of a level-1 node of a page table (tree level 4)',
    run: () =>
      rejectedOn(
        (m) => {
          const root = lockedRoot(m)
          const l1 = installNode(m, installNode(m, installNode(m, root, 0), 0), 0)
          return { e: entry(m, l1.guard!, 0) }
        },
        (t) => ({ type: 'entry.alloc_if_none', entry: t.e }),
      ),
  },
  {
    rule: 'REQ-HANDLE-1',
    title: 'alloc_if_none through an Entry that was dropped',
    run: () =>
      rejectedOn(
        (m) => {
          const t = absentRootEntry(m)
          m.call({ type: 'entry.drop', entry: t.e })
          return t
        },
        (t) => ({ type: 'entry.alloc_if_none', entry: t.e }),
      ),
  },
  // ======== alloc_if_none: postconditions ======================================================
  {
    rule: 'ENS-ENTRY-ALLOCIFNONE-1',
    title: "alloc_if_none leaves the Entry's cached word absent (self.wf(owner'))",
    expect: ['ENS-ENTRY-ALLOCIFNONE-1', 'INV-TREE-9'],
    run: () => variantOn([editing(entryAllocIfNone, (d, e: { entry: number }, _r, pre) => setEntryHandle(d, e.entry, { pte: tableGet(pre.pt.entries, e.entry)!.pte }))], absentRootEntry, alloc),
  },
  {
    rule: 'ENS-ENTRY-ALLOCIFNONE-2',
    title: 'alloc_if_none makes the Entry borrow another guard (parent_perms_preserved)',
    expect: ['ENS-ENTRY-ALLOCIFNONE-2', 'INV-TREE-9'],
    run: () => variantOn([editing(entryAllocIfNone, (d, e: { entry: number }, _r, pre) => setEntryHandle(d, e.entry, { guard: entryPos(pre, e.entry).guard + 1 }))], withSpareGuard(absentRootEntry), alloc),
  },
  {
    rule: 'ENS-ENTRY-ALLOCIFNONE-3',
    title: 'alloc_if_none moves the Entry to another index',
    expect: ['ENS-ENTRY-ALLOCIFNONE-3', 'INV-TREE-9'],
    run: () => variantOn([editing(entryAllocIfNone, (d, e: { entry: number }) => setEntryHandle(d, e.entry, { idx: 9 }))], absentRootEntry, alloc),
  },
  {
    rule: 'ENS-ENTRY-ALLOCIFNONE-4',
    title: 'alloc_if_none also locks an unrelated node',
    run: () => variantOn([editing(entryAllocIfNone, (d, _e, _r, pre) => lockIn(d, [...Array(8).keys()].find((i) => tableGet(pre.pt.owners, i) !== null && tableGet(pre.pt.locks, i) === null)!))], withSpareNode(absentRootEntry), alloc),
  },
  {
    rule: 'ENS-ENTRY-ALLOCIFNONE-5',
    title: "alloc_if_none leaves the parent's NodeOwner out of step with its stored stray flag (node_matching: parent.inv())",
    expect: ['ENS-ENTRY-ALLOCIFNONE-5', 'INV-NODE-6'],
    run: () => variantOn([editing(entryAllocIfNone, (d, e: { entry: number }, _r, pre) => strayParent(d, entryPos(pre, e.entry).slot))], absentRootEntry, alloc),
  },
  {
    rule: 'ENS-ENTRY-ALLOCIFNONE-6',
    title: "alloc_if_none returns the parent's guard instead of the new node's",
    run: () => variantOn([returning(entryAllocIfNone, (_r, s) => ({ guard: tableGet(s.pt.entries, 0)!.guard }))], absentRootEntry, alloc),
  },
  {
    rule: 'ENS-ENTRY-ALLOCIFNONE-7',
    title: "alloc_if_none positions the new node's owner at another path",
    expect: ['ENS-ENTRY-ALLOCIFNONE-7', 'INV-TREE-2'],
    run: () =>
      variantOn(
        [
          after(entryAllocIfNone, (_s, _e, out) => {
            const slot = tableGet(out.snapshot.pt.guards, out.result!.guard)!.paddr / PAGE_SIZE
            const tree = tableGet(out.snapshot.pt.owners, slot)!.tree
            return { ...out, snapshot: editSnapshot(out.snapshot, (_d, t) => positionNode(t, out.snapshot, slot, tree, '9')) }
          }),
        ],
        absentRootEntry,
        alloc,
      ),
  },
  {
    rule: 'ENS-ENTRY-ALLOCIFNONE-8',
    title: 'alloc_if_none leaves the new node unlocked in Guards (its guard then holds no lock)',
    expect: ['ENS-ENTRY-ALLOCIFNONE-6', 'ENS-ENTRY-ALLOCIFNONE-8', 'INV-GUARD-1', 'INV-PTGUARD-1'],
    run: () => variantOn([editing(entryAllocIfNone, (d, _e, r) => tableSet(d.pt.locks, newSlotIn(d, r), null))], absentRootEntry, alloc),
  },
  {
    rule: 'ENS-ENTRY-ALLOCIFNONE-9',
    title: "alloc_if_none changes the raw_count of an unrelated mapped frame (metaregion_sound_neq_preserved)",
    expect: ['ENS-ENTRY-ALLOCIFNONE-13', 'ENS-ENTRY-ALLOCIFNONE-9', 'INV-ACCT-3'],
    run: () =>
      variantOn(
        [editing(entryAllocIfNone, (d) => setOwner(d, 1, { rawCount: ownerIn(d, 1).rawCount + 1 }))],
        (m) => {
          leafWithFrame(m)
          return absentRootEntry(m)
        },
        alloc,
      ),
  },
  {
    rule: 'ENS-ENTRY-ALLOCIFNONE-10',
    title: 'alloc_if_none allocates the node on a slot that was not parked (with a lock that does not check it)',
    // every clause that needs the node slot parked fails with it; the checker still reports the
    // real lock's REQ-NODE-LOCK-1 on that internal step
    expect: ['ENS-CHILD-INTOPTE-3', 'ENS-ENTRY-ALLOCIFNONE-10', 'ENS-ENTRY-ALLOCIFNONE-5', 'ENS-NODE-ALLOC-8', 'ENS-NODE-ALLOC-9', 'INV-NODE-6', 'REQ-NODE-LOCK-1'],
    run: () =>
      // The real lock refuses a node whose slot is not parked (REQ-NODE-LOCK-1): a variant that
      // skips its preconditions lets the composite reach its end.
      withVariantBothModes([variantOf(ptNodeRefLock, ptNodeRefLock.reduce, { requires: [] })], (m) => void m.call({ type: 'entry.alloc_if_none', entry: 0 }), {
        initial: stateWith(
          (m) => void absentRootEntry(m),
          (d) => tableSet(d.regions.unparked, 1, true),
        ),
      }),
  },
  {
    rule: 'ENS-ENTRY-ALLOCIFNONE-11',
    title: "alloc_if_none leaves a stale extra path in the new node's slot (path_tracked_pred)",
    expect: ['ENS-ENTRY-ALLOCIFNONE-1', 'ENS-ENTRY-ALLOCIFNONE-11', 'ENS-ENTRY-ALLOCIFNONE-16', 'ENS-ENTRY-ALLOCIFNONE-9', 'INV-SOUND-1', 'INV-TREE-6'],
    run: () => variantOn([editing(entryAllocIfNone, (d, _e, r) => setOwner(d, newSlotIn(d, r), { pathsInPt: [...ownerIn(d, newSlotIn(d, r)).pathsInPt, '0:77'] }))], absentRootEntry, alloc),
  },
  {
    rule: 'ENS-ENTRY-ALLOCIFNONE-12',
    title: "alloc_if_none's new node has a child owner that is not absent",
    expect: ['ENS-ENTRY-ALLOCIFNONE-12', 'INV-MATCH-2'],
    run: () =>
      variantOn(
        [
          editing(entryAllocIfNone, (d, _e, r) => {
            const slot = newSlotIn(d, r)
            const rec = recordIn(d, slot)
            setEntryOwner(d, slot, 0, { kind: 'locked', tree: rec.tree, path: `${rec.path}.0`, parentLevel: rec.level, inScope: false })
          }),
        ],
        absentRootEntry,
        alloc,
      ),
  },
  {
    rule: 'ENS-ENTRY-ALLOCIFNONE-13',
    title: "alloc_if_none rewrites the metadata of an unrelated frame (slot_owners unchanged but the new node's)",
    run: () =>
      variantOn(
        [editing(entryAllocIfNone, (d) => setCells(d, 1, { storage: { kind: 'Frame', meta: { ...UNIT_META, value: 7 } } }))],
        (m) => {
          m.call({ type: 'frame_alloc.alloc_frame' })
          m.call({ type: 'frame_alloc.alloc_frame' })
          return absentRootEntry(m)
        },
        alloc,
      ),
  },
  {
    rule: 'ENS-ENTRY-ALLOCIFNONE-14',
    title: 'alloc_if_none on a present entry returns Some',
    run: () => variantOn([returning(entryAllocIfNone, () => ({ guard: 0 }))], nodeRootEntry, alloc),
  },
  {
    rule: 'ENS-ENTRY-ALLOCIFNONE-15',
    title: 'alloc_if_none on an absent entry of a level-1 node changes the state',
    run: () => variantOn([after(entryAllocIfNone, (_s, _e, out) => ({ ...out, snapshot: edit(out.snapshot, (d) => void (d.counters.ptChild += 1)) }))], level1Entry, alloc),
  },
  {
    rule: 'ENS-ENTRY-ALLOCIFNONE-16',
    title: "alloc_if_none counts the new child twice in the parent's nr_children",
    expect: ['ENS-ENTRY-ALLOCIFNONE-16', 'INV-PTMETA-2'],
    run: () =>
      variantOn(
        [
          editing(entryAllocIfNone, (d, e: { entry: number }, _r, pre) => {
            const slot = entryPos(pre, e.entry).slot
            const st = cellsOf(d, slot).storage
            if (st?.kind === 'PTNode') setCells(d, slot, { storage: { ...st, nrChildren: st.nrChildren + 1 } })
            setRecord(d, slot, { metaOwn: { ...recordIn(d, slot).metaOwn, nrChildren: recordIn(d, slot).metaOwn.nrChildren + 1 } })
          }),
        ],
        absentRootEntry,
        alloc,
      ),
  },
  // ======== split_if_mapped_huge: preconditions =================================================
  {
    rule: 'REQ-ENTRY-SPLIT-1',
    title: 'split through an Entry whose cached word does not match its owner (self.wf)',
    run: () => rejectedOn(untrackedHugeEntry, (t) => ({ type: 'entry.split_if_mapped_huge', entry: t.e }), (d, t) => setEntryHandle(d, t.e, { pte: pteToHex(newPage(HUGE_PA, 2, RX)) })),
  },
  {
    rule: 'REQ-ENTRY-SPLIT-2',
    title: "split through a guard whose node's lock is not in Guards (relate_guard_perm)",
    run: () => rejectedOn(untrackedHugeEntry, (t) => ({ type: 'entry.split_if_mapped_huge', entry: t.e }), (d, t) => tableSet(d.pt.locks, t.n.slot, null)),
  },
  {
    rule: 'REQ-ENTRY-SPLIT-3',
    title: 'split of a root entry (parent.level == NR_LEVELS)',
    run: () => rejectedOn(nodeRootEntry, (t) => ({ type: 'entry.split_if_mapped_huge', entry: t.e })),
  },
  {
    rule: 'REQ-ENTRY-SPLIT-4',
    title: 'split of a tracked 2 MiB leaf whose sub-pages are not in use',
    run: () => {
      const { b, tree } = trackedHugeTree({ subPages: false })
      return rejected(() => {}, (m) => ({ type: 'entry.split_if_mapped_huge', entry: trackedHugeEntry(m, tree).e }), { initial: () => b.s })
    },
  },
  // ======== split_if_mapped_huge: postconditions ================================================
  {
    rule: 'ENS-ENTRY-SPLIT-1',
    title: 'split returns None although it split the huge leaf',
    expect: ['ENS-ENTRY-SPLIT-1', 'ENS-ENTRY-SPLIT-3'],
    run: () => variantOn([returning(entrySplitIfMappedHuge, () => null)], untrackedHugeEntry, split, 'incremental'),
  },
  {
    rule: 'ENS-ENTRY-SPLIT-2',
    title: 'split makes the Entry borrow another guard',
    expect: ['ENS-ENTRY-SPLIT-2', 'INV-TREE-9'],
    run: () => variantOn([editing(entrySplitIfMappedHuge, (d, e: { entry: number }, _r, pre) => setEntryHandle(d, e.entry, { guard: entryPos(pre, e.entry).guard + 1 }))], withSpareGuard(untrackedHugeEntry), split, 'incremental'),
  },
  {
    rule: 'ENS-ENTRY-SPLIT-3',
    title: "split returns the parent's guard instead of the new node's",
    run: () => variantOn([returning(entrySplitIfMappedHuge, (_r, s) => ({ guard: tableGet(s.pt.entries, 0)!.guard }))], untrackedHugeEntry, split, 'incremental'),
  },
  {
    rule: 'ENS-ENTRY-SPLIT-4',
    title: "split gives one new leaf's owner another property",
    expect: ['ENS-ENTRY-SPLIT-4', 'INV-MATCH-4'],
    run: () =>
      variantOn(
        [
          editing(entrySplitIfMappedHuge, (d, _e, r) => {
            const slot = newSlotIn(d, r)
            const o = tableGet(recordIn(d, slot).children, 5) as Extract<LeafEntryOwner, { kind: 'frame' }>
            setEntryOwner(d, slot, 5, { ...o, frame: { ...o.frame, prop: RX } })
          }),
        ],
        untrackedHugeEntry,
        split,
        'incremental',
      ),
  },
  {
    rule: 'ENS-ENTRY-SPLIT-5',
    title: "split positions the new node's owner at another path",
    expect: ['ENS-ENTRY-SPLIT-5', 'INV-TREE-2'],
    run: () =>
      variantOn(
        [
          after(entrySplitIfMappedHuge, (_s, _e, out) => {
            const slot = tableGet(out.snapshot.pt.guards, out.result!.guard)!.paddr / PAGE_SIZE
            const tree = tableGet(out.snapshot.pt.owners, slot)!.tree
            return { ...out, snapshot: editSnapshot(out.snapshot, (_d, t) => positionNode(t, out.snapshot, slot, tree, '9')) }
          }),
        ],
        untrackedHugeEntry,
        split,
        'incremental',
      ),
  },
  {
    rule: 'ENS-ENTRY-SPLIT-6',
    title: "a tracked split leaves one new leaf's path out of its frame's paths_in_pt (metaregion_sound of the new sub-tree)",
    expect: ['ENS-ENTRY-SPLIT-13', 'ENS-ENTRY-SPLIT-6', 'INV-ACCT-3', 'INV-SOUND-2', 'INV-TREE-8'],
    run: () => {
      const { b, tree } = trackedHugeTree()
      const slot3 = frameToIndex(HUGE_PA) + 3
      return withVariant(
        [editing(entrySplitIfMappedHuge, (d) => setOwner(d, slot3, { pathsInPt: [] }))],
        (m) => void m.call({ type: 'entry.split_if_mapped_huge', entry: trackedHugeEntry(m, tree).e }),
        { initial: () => b.s, check: 'incremental' },
      )
    },
  },
  {
    rule: 'ENS-ENTRY-SPLIT-7',
    title: "split leaves the parent's NodeOwner out of step with its stored stray flag (node_matching)",
    expect: ['ENS-ENTRY-SPLIT-11', 'ENS-ENTRY-SPLIT-7', 'INV-NODE-6'],
    run: () => variantOn([editing(entrySplitIfMappedHuge, (d, e: { entry: number }, _r, pre) => strayParent(d, entryPos(pre, e.entry).slot))], untrackedHugeEntry, split, 'incremental'),
  },
  {
    rule: 'ENS-ENTRY-SPLIT-8',
    title: "split rewrites the metadata of an unrelated frame (slot_owners unchanged, as corrected)",
    run: () =>
      variantOn(
        [editing(entrySplitIfMappedHuge, (d) => setCells(d, 1, { storage: { kind: 'Frame', meta: { ...UNIT_META, value: 7 } } }))],
        (m) => {
          m.call({ type: 'frame_alloc.alloc_frame' })
          m.call({ type: 'frame_alloc.alloc_frame' })
          return untrackedHugeEntry(m)
        },
        split,
        'incremental',
      ),
  },
  {
    rule: 'ENS-ENTRY-SPLIT-9',
    title: 'split of a 4 KiB leaf returns Some',
    run: () => variantOn([returning(entrySplitIfMappedHuge, () => ({ guard: 0 }))], smallLeafEntry, split),
  },
  {
    rule: 'ENS-ENTRY-SPLIT-10',
    title: "split leaves a new leaf's owner at the wrong path (owner'.inv() of the sub-tree)",
    expect: ['ENS-ENTRY-SPLIT-10', 'INV-TREE-2'],
    run: () =>
      variantOn(
        [
          editing(entrySplitIfMappedHuge, (d, _e, r) => {
            const slot = newSlotIn(d, r)
            const o = tableGet(recordIn(d, slot).children, 4) as LeafEntryOwner
            setEntryOwner(d, slot, 4, { ...o, path: `${recordIn(d, slot).path}.40` })
          }),
        ],
        untrackedHugeEntry,
        split,
        'incremental',
      ),
  },
  {
    rule: 'ENS-ENTRY-SPLIT-11',
    title: "split leaves the new node's slot with an uninitialised vtable cell (regions.inv())",
    expect: ['ENS-ENTRY-SPLIT-11', 'INV-SLOT-3'],
    run: () => variantOn([editing(entrySplitIfMappedHuge, (d, _e, r) => setCells(d, newSlotIn(d, r), { vtablePtr: null }))], untrackedHugeEntry, split, 'incremental'),
  },
  {
    rule: 'ENS-ENTRY-SPLIT-12',
    title: 'split also locks an unrelated node',
    run: () =>
      variantOn(
        [editing(entrySplitIfMappedHuge, (d, _e, _r, pre) => lockIn(d, [...Array(8).keys()].find((i) => tableGet(pre.pt.owners, i) !== null && tableGet(pre.pt.locks, i) === null)!))],
        withSpareNode(untrackedHugeEntry),
        split,
        'incremental',
      ),
  },
  {
    rule: 'ENS-ENTRY-SPLIT-13',
    title: 'split maps one sub-page at a wrong physical address (PTE and owner agree)',
    run: () =>
      variantOn(
        [
          editing(entrySplitIfMappedHuge, (d, _e, r) => {
            const slot = newSlotIn(d, r)
            const wrong = HUGE_PA + 6 * PAGE_SIZE
            const o = tableGet(recordIn(d, slot).children, 5) as Extract<LeafEntryOwner, { kind: 'frame' }>
            setEntryOwner(d, slot, 5, { ...o, frame: { ...o.frame, mappedPa: wrong } })
            setPteIn(d, slot, 5, newPage(wrong, 1, RW))
          }),
        ],
        untrackedHugeEntry,
        split,
        'incremental',
      ),
  },
]
