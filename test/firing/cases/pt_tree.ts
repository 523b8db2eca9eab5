/**
 * Firing cases of the owner-tree invariants INV-TREE-1..9 (INV-TREE-5 as the umbrella of
 * INV-SOUND), INV-SOUND-4, and the two postconditions that restate invariants over the touched
 * node: ENS-GUARD-WRITEPTE-1 (`owner.inv()` after `write_pte`) and ENS-PTMETA-ONDROP-1
 * (`regions.inv()` after `on_drop`).
 *
 * States are built with events (pt_util.ts): a locked user root with a locked level-3 node at
 * entry 2 (`twoLevels`), a detached level-1 node with a frame mapped at entry 3 (`leafWithFrame`).
 * Where a fault necessarily breaks several clauses, the case lists them all (and says why).
 */
import type { Draft } from 'immer'
import { PageUsage } from '../../../src/arch/constants.js'
import { newPt, pteToHex } from '../../../src/arch/pte.js'
import type { Model } from '../../../src/api/model.js'
import { qualifiedPath } from '../../../src/model/page_table.js'
import type { Snapshot } from '../../../src/model/snapshot.js'
import { ptGuardWritePte } from '../../../reducers/page_table/guard.js'
import { guardSlot, onDropChildren, ptMetaOnDrop } from '../../../reducers/page_table/node.js'
import { corrupted, edit, variant, withVariantBothModes, type FiringCase, type FiringOutcome } from '../harness.js'
import {
  allocNode,
  entry,
  installNode,
  leafWithFrame,
  lockedRoot,
  mapFrame,
  recordIn,
  setEntryHandle,
  setEntryOwner,
  setPteIn,
  setRecord,
  twoLevels,
  type PtNode,
} from './pt_util.js'
import { ownerIn, setCells, setOwner } from './util.js'

// ---- helpers -------------------------------------------------------------------------------

/** `corrupted` on the state `build` makes, with what it returned. */
function corruptedOn<T>(build: (m: Model) => T, fn: (d: Draft<Snapshot>, t: T) => void): FiringOutcome {
  let t: T | undefined
  return corrupted(
    (m) => void (t = build(m)),
    (d) => fn(d, t!),
  )
}

/** Runs `act` (in both modes) from the state `build` makes, with the given reducer variants. */
function actOn<T>(variants: Parameters<typeof withVariantBothModes>[0], build: (m: Model) => T, act: (m: Model, t: T) => void): FiringOutcome {
  let t: T | undefined
  return withVariantBothModes(variants, (m) => act(m, t!), {
    initial: (m) => {
      t = build(m)
      return m.state
    },
  })
}

/** `nr_children := n` in the exec metadata, its permission's copy and `meta_own`. */
function setNrChildren(d: Draft<Snapshot>, slot: number, n: number): void {
  const storage = ownerIn(d, slot).innerPerms.storage
  if (storage?.kind === 'PTNode') setCells(d, slot, { storage: { ...storage, nrChildren: n } })
  setRecord(d, slot, { metaOwn: { ...recordIn(d, slot).metaOwn, nrChildren: n } })
}

/** A locked user root with a level-3, a level-2 and a level-1 node below it and a frame at 0.0.0.3. */
function chain(m: Model): { root: PtNode; l3: PtNode; l2: PtNode; l1: PtNode; frame: number } {
  const root = lockedRoot(m)
  const l3 = installNode(m, root, 0)
  const l2 = installNode(m, l3, 0)
  const l1 = installNode(m, l2, 0)
  return { root, l3, l2, l1, frame: mapFrame(m, l1, 3) }
}

// ---- the cases -----------------------------------------------------------------------------

export const ptTreeCases: FiringCase[] = [
  // ---- INV-TREE-1 ----
  {
    rule: 'INV-TREE-1',
    title: 'a node record with an entry at index 600 (children.len() == 512)',
    run: () => corruptedOn(twoLevels, (d, t) => setEntryOwner(d, t.sub.slot, 600, { kind: 'absent', tree: t.root.slot, path: '2.600', parentLevel: 3, inScope: false })),
  },
  {
    rule: 'INV-TREE-1',
    title: "a page table's root in scope (value.inv() requires the tree to own it)",
    run: () => corruptedOn(twoLevels, (d, t) => setRecord(d, t.root.slot, { inScope: true })),
  },
  // ---- INV-TREE-2 ----
  {
    rule: 'INV-TREE-2',
    title: "an absent entry owner stored with another entry's path",
    run: () => corruptedOn(leafWithFrame, (d, l) => setEntryOwner(d, l.n.slot, 5, { kind: 'absent', tree: l.n.slot, path: '6', parentLevel: 1, inScope: false })),
  },
  {
    rule: 'INV-TREE-2',
    title: "a child node whose tree level is not its parent's + 1 (INV-NODE-4 reports the same record)",
    expect: ['INV-NODE-4', 'INV-TREE-2'],
    run: () => corruptedOn(twoLevels, (d, t) => setRecord(d, t.sub.slot, { treeLevel: 2 })),
  },
  // ---- INV-TREE-3 ----
  {
    rule: 'INV-TREE-3',
    title: "a page table's root whose parent_level is not 5",
    run: () => corruptedOn(twoLevels, (d, t) => setRecord(d, t.root.slot, { parentLevel: 4 })),
  },
  {
    rule: 'INV-TREE-3',
    title: 'a tree-owned node that no entry holds (its parent entry emptied, PTE and nr_children included)',
    run: () =>
      corruptedOn(twoLevels, (d, t) => {
        setEntryOwner(d, t.root.slot, 2, null)
        setPteIn(d, t.root.slot, 2, 0n)
        setNrChildren(d, t.root.slot, 0)
      }),
  },
  // ---- INV-TREE-4 ----
  {
    rule: 'INV-TREE-4',
    title: "Entry::replace installs a node at entry 300 of a user page table's root (outside TOP_LEVEL_INDEX_RANGE 0..256)",
    run: () => actOn([], (m) => lockedRoot(m), (m, root) => void installNode(m, root, 300, false)),
  },
  {
    rule: 'INV-TREE-4',
    title: "Entry::replace installs a node at entry 5 of the kernel page table's root (outside 256..512)",
    run: () => actOn([], (m) => lockedRoot(m, 'kernel'), (m, root) => void installNode(m, root, 5, false)),
  },
  // ---- INV-TREE-5 (umbrella) ----
  {
    rule: 'INV-TREE-5',
    title: 'a tree entry breaking INV-SOUND-1 (a node with raw_count 0) is reported as INV-TREE-5 too',
    expect: ['INV-PTACCT-1', 'INV-SOUND-1'],
    expectAlso: ['INV-TREE-5'],
    run: () => corruptedOn(twoLevels, (d, t) => setOwner(d, t.sub.slot, { rawCount: 0 })),
  },
  // ---- INV-TREE-6 ----
  {
    rule: 'INV-TREE-6',
    title: "a page table's root whose slot records a path (no PTE holds a root)",
    run: () => corruptedOn(twoLevels, (d, t) => setOwner(d, t.root.slot, { pathsInPt: [qualifiedPath(t.root.slot, '9')] })),
  },
  {
    rule: 'INV-TREE-6',
    title: "an installed node whose slot records another path (INV-SOUND-1's paths_in_pt clause says the same)",
    expect: ['INV-SOUND-1', 'INV-TREE-6'],
    expectAlso: ['INV-TREE-5'],
    run: () => corruptedOn(twoLevels, (d, t) => setOwner(d, t.sub.slot, { pathsInPt: [qualifiedPath(t.root.slot, '9')] })),
  },
  // ---- INV-TREE-7 ----
  {
    rule: 'INV-TREE-7',
    title: 'two node entries of the root name the same node (the second is not at its position: INV-TREE-2)',
    expect: ['INV-TREE-2', 'INV-TREE-7'],
    run: () =>
      corruptedOn(twoLevels, (d, t) => {
        setEntryOwner(d, t.root.slot, 5, { kind: 'node', slot: t.sub.slot })
        setPteIn(d, t.root.slot, 5, newPt(t.sub.paddr))
        setNrChildren(d, t.root.slot, 2)
      }),
  },
  {
    rule: 'INV-TREE-7',
    title: 'a node entry naming a slot whose usage is not PageTable',
    run: () =>
      corruptedOn(
        (m) => {
          const root = lockedRoot(m)
          return { root, sub: installNode(m, root, 2, false) }
        },
        (d, t) => setOwner(d, t.sub.slot, { usage: PageUsage.Kernel }),
      ),
  },
  // ---- INV-TREE-8 ----
  {
    rule: 'INV-TREE-8',
    title: 'a mapped frame whose slot also records a path no frame entry has (rc counts it: no accounting failure)',
    run: () =>
      corruptedOn(chain, (d, t) => {
        const idx = t.frame / 0x1000
        setOwner(d, idx, { pathsInPt: [...ownerIn(d, idx).pathsInPt, qualifiedPath(t.root.slot, '0.0.0.9')].sort() })
        setCells(d, idx, { refCount: ownerIn(d, idx).innerPerms.refCount + 1 })
      }),
  },
  {
    rule: 'INV-TREE-8',
    title: "a mapped frame whose slot lost the entry's path (INV-SOUND-2's clause; nothing holds the frame: INV-ACCT-2)",
    expect: ['INV-ACCT-2', 'INV-SOUND-2', 'INV-TREE-8'],
    expectAlso: ['INV-TREE-5'],
    run: () => corruptedOn(chain, (d, t) => setOwner(d, t.frame / 0x1000, { pathsInPt: [] })),
  },
  // ---- INV-TREE-9 ----
  {
    rule: 'INV-TREE-9',
    title: 'a live Entry caching a word its node does not store',
    run: () =>
      corruptedOn(
        (m) => {
          const l = leafWithFrame(m)
          return { l, e: entry(m, l.n.guard!, 3) }
        },
        (d, t) => setEntryHandle(d, t.e, { pte: pteToHex(0n) }),
      ),
  },
  // ---- INV-SOUND-4 ----
  {
    rule: 'INV-SOUND-4',
    title: 'an absent entry owner carrying a frame payload (INV-ENTRY-1 reports the same malformed owner)',
    expect: ['INV-ENTRY-1', 'INV-SOUND-4'],
    expectAlso: ['INV-TREE-5'],
    run: () =>
      corruptedOn(leafWithFrame, (d, l) =>
        setEntryOwner(d, l.n.slot, 7, { kind: 'absent', tree: l.n.slot, path: '7', parentLevel: 1, inScope: false, frame: { mappedPa: l.frame, size: 0x1000, prop: { flags: 3, cache: 'Writeback', privFlags: 0 }, isTracked: true } } as never),
      ),
  },
  // ---- ENS-GUARD-WRITEPTE-1 ----
  {
    rule: 'ENS-GUARD-WRITEPTE-1',
    title: "write_pte also changes meta_own's nr_children (NodeOwner::inv breaks: INV-NODE-6; the record changed: -2)",
    expect: ['ENS-GUARD-WRITEPTE-1', 'ENS-GUARD-WRITEPTE-2', 'INV-NODE-6'],
    run: () =>
      actOn(
        [
          variant(ptGuardWritePte, (s, e) => {
            const o = ptGuardWritePte.reduce(s, e)
            const slot = guardSlot(s, e.guard)!
            return { ...o, snapshot: edit(o.snapshot, (d) => setRecord(d, slot, { metaOwn: { ...recordIn(d, slot).metaOwn, nrChildren: 7 } })) }
          }),
        ],
        (m) => allocNode(m, 1),
        (m, n) => void m.dispatch({ type: 'page_table_guard.write_pte', guard: n.guard!, idx: 4, pte: pteToHex(0n) }),
      ),
  },
  // ---- ENS-PTMETA-ONDROP-1 ----
  {
    rule: 'ENS-PTMETA-ONDROP-1',
    title: "on_drop leaves a released frame's slot in a list while UNUSED (INV-SLOT-1 after the step; in_list names no list: INV-STORE-3)",
    expect: ['ENS-PTMETA-ONDROP-1', 'INV-SLOT-1', 'INV-STORE-3'],
    run: () =>
      actOn(
        [
          variant(ptMetaOnDrop, (s, e) => {
            const frames = onDropChildren(s, e.paddr / 0x1000).filter((c) => !c.node)
            const o = ptMetaOnDrop.reduce(s, e)
            return { ...o, snapshot: edit(o.snapshot, (d) => frames.forEach((c) => setCells(d, c.slot, { inList: 9 }))) }
          }),
        ],
        (m) => {
          const l = leafWithFrame(m)
          m.dispatch({ type: 'page_table_guard.drop', guard: l.n.guard! })
          return l
        },
        (m, l) => void m.dispatch({ type: 'page_table_node.drop', node: l.n.node! }),
      ),
  },
]
