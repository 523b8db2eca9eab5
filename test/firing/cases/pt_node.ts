/**
 * Firing cases of page-table nodes and guards (seed 000): REQ-/ENS-NODE-*, REQ-/ENS-GUARD-*,
 * REQ-/ENS-PTMETA-ONDROP-*, INV-PTMETA-*, INV-NODE-*, INV-GUARD-*, and the model's INV-PTACCT-1,
 * INV-PTGUARD-1, ENS-PT-EMPTY-1, ENS-NODE-DROP-*, ENS-GUARD-DROP-*, -STRAYWRITE-1, -NRCHWRITE-1,
 * REQ-NODE-ALLOCMEM-1, REQ-GUARD-LOCKED-1, REQ-PTMETA-ONDROP-6.
 *
 * `PtBuilder` builds small trees on a snapshot with the node and guard reducers plus the ghost
 * edits `Entry::replace` would make (installing a child node or mapping a frame into an absent
 * entry); the unit tests use it too.
 */
import type { Draft } from 'immer'
import { frameToIndex, NR_ENTRIES, pageSize, PAGE_SIZE, PageUsage } from '../../../src/arch/constants.js'
import { newUser, PageFlags, type PageProperty } from '../../../src/arch/page_prop.js'
import { newPage, newPt, pteToHex, type Pte } from '../../../src/arch/pte.js'
import type { PtConfigName } from '../../../src/arch/pt_config.js'
import { createModel, type Model } from '../../../src/api/model.js'
import { Checker } from '../../../src/check/checker.js'
import { defaultRegistry } from '../../../src/check/rules/index.js'
import type { Violation } from '../../../src/check/rule.js'
import { editSnapshot } from '../../../src/model/edit.js'
import { genesis } from '../../../src/model/genesis.js'
import { MemoryWriter, writePte } from '../../../src/model/memory.js'
import { qualifiedPath, type ChildEntryOwner, type PtNodeOwner } from '../../../src/model/page_table.js'
import { childPath } from '../../../src/model/spec/page_table.js'
import { slotOf } from '../../../src/model/slots.js'
import { UNIT_META, type MetaSlotCells, type Snapshot } from '../../../src/model/snapshot.js'
import { tableGet, tableWith, type Table } from '../../../src/model/table.js'
import { eventSpec, applyEvent, type InternalStep, type ModelEvent } from '../../../reducers/index.js'
import {
  claimNode,
  nodeStorage,
  pageTableEmpty,
  ptMetaOnDrop,
  ptNodeAlloc,
  ptNodeDrop,
  ptNodeLevel,
  ptNodeRefLock,
  ptNodeRefMakeGuard,
  type PtNodeAllocResult,
} from '../../../reducers/page_table/node.js'
import {
  ptGuardDrop,
  ptGuardNrChildren,
  ptGuardNrChildrenMut,
  ptGuardNrChildrenWrite,
  ptGuardReadPte,
  ptGuardStrayMut,
  ptGuardStrayWrite,
  ptGuardWritePte,
} from '../../../reducers/page_table/guard.js'
import { corrupted, edit, rejected, rejectedOn, variant, withVariantBothModes, type FiringCase, type FiringOutcome } from '../harness.js'
import { setCells, setOwner, tableSet } from './util.js'

// ---- building trees ------------------------------------------------------------------------

/** 4 MiB of memory: 1024 frames. */
export const PT_MEMORY = 1 << 22

/** Applies an event to a snapshot (preconditions checked) and returns the outcome's result. */
function step<R>(b: { s: Snapshot }, e: ModelEvent): R {
  const out = applyEvent(eventSpec(e.type)!, b.s, e)
  b.s = out.snapshot
  return out.result as R
}

/**
 * Builds page-table states on a snapshot: nodes through `page_table.empty` /
 * `page_table_node.alloc`, PTEs through `page_table_guard.write_pte` (lock, write, unlock), and
 * the ghost side of `Entry::replace` on an absent entry as explicit edits — the child's
 * reference moves from its handle into the PTE (`into_pte`), the parent's `nr_children` grows,
 * the owner tree and `paths_in_pt` record the child.
 */
export class PtBuilder {
  s: Snapshot
  constructor(s: Snapshot = genesis({ physicalMemory: PT_MEMORY })) {
    this.s = s
  }

  /** Applies any event (preconditions checked) and returns its result. */
  run<R>(e: ModelEvent): R {
    return step<R>(this, e)
  }

  empty(config: PtConfigName = 'user'): PtNodeAllocResult {
    return step(this, { type: 'page_table.empty', config })
  }

  alloc(level: number, config: PtConfigName = 'user'): PtNodeAllocResult {
    return step(this, { type: 'page_table_node.alloc', level, config })
  }

  frame(): { frame: number; paddr: number } {
    const r = step<{ ok: boolean; value: { frame: number; paddr: number } }>(this, { type: 'frame_alloc.alloc_frame', zeroed: true, meta: UNIT_META })
    return r.value
  }

  record(paddr: number): PtNodeOwner {
    return tableGet(this.s.pt.owners, frameToIndex(paddr))!
  }

  /** `write_pte` under the node's lock (locked and released around the write). */
  writePte(nodePaddr: number, idx: number, pte: Pte): void {
    const { guard } = step<{ guard: number }>(this, { type: 'page_table_node_ref.lock', paddr: nodePaddr })
    step(this, { type: 'page_table_guard.write_pte', guard, idx, pte: pteToHex(pte) })
    step(this, { type: 'page_table_guard.drop', guard })
  }

  /** The ghost side of installing a child: nr_children + 1 and the parent's record entry. */
  private addChild(t: Parameters<Parameters<typeof editSnapshot>[1]>[1], parentIdx: number, idx: number, entry: ChildEntryOwner): void {
    const parent = t.ptOwners.get(parentIdx)!
    const bump = (c: MetaSlotCells): MetaSlotCells => {
      const m = nodeStorage(c)!
      return { ...c, storage: { ...m, nrChildren: m.nrChildren + 1 } }
    }
    t.metaSlots.set(parentIdx, bump(t.metaSlots.get(parentIdx)!))
    const o = t.slotOwners.get(parentIdx)!
    t.slotOwners.set(parentIdx, { ...o, innerPerms: bump(o.innerPerms) })
    t.ptOwners.set(parentIdx, { ...parent, metaOwn: { ...parent.metaOwn, nrChildren: parent.metaOwn.nrChildren + 1 }, children: tableWith(parent.children, idx, entry) })
  }

  /** Installs the (empty, detached) node held by handle `node` at entry `idx` of `parent`. */
  install(parentPaddr: number, idx: number, node: number): void {
    const paddr = tableGet(this.s.pt.nodes, node)!.paddr
    this.writePte(parentPaddr, idx, newPt(paddr))
    const pIdx = frameToIndex(parentPaddr)
    const cIdx = frameToIndex(paddr)
    const parent = this.record(parentPaddr)
    const path = childPath(parent.path, idx)
    this.s = editSnapshot(this.s, (_d, t) => {
      this.addChild(t, pIdx, idx, { kind: 'node', slot: cIdx })
      t.ptOwners.set(cIdx, { ...t.ptOwners.get(cIdx)!, tree: parent.tree, path, inScope: false })
      const o = t.slotOwners.get(cIdx)!
      t.slotOwners.set(cIdx, { ...o, pathsInPt: [qualifiedPath(parent.tree, path)], rawCount: 1 })
      t.ptNodes.set(node, null)
      t.frameObligations.set(cIdx, null)
    })
  }

  /** Maps the frame of handle `frame` (tracked) at entry `idx` of the node (a leaf of the node's level). */
  mapTracked(nodePaddr: number, idx: number, frame: number, prop: PageProperty = newUser(PageFlags.RW)): void {
    const paddr = tableGet(this.s.frames, frame)!.paddr
    const node = this.record(nodePaddr)
    this.writePte(nodePaddr, idx, newPage(paddr, node.level, prop))
    const fIdx = frameToIndex(paddr)
    const path = childPath(node.path, idx)
    this.s = editSnapshot(this.s, (_d, t) => {
      this.addChild(t, frameToIndex(nodePaddr), idx, {
        kind: 'frame',
        frame: { mappedPa: paddr, size: pageSize(node.level), prop, isTracked: true },
        tree: node.tree,
        path,
        parentLevel: node.level,
        inScope: false,
      })
      const o = t.slotOwners.get(fIdx)!
      t.slotOwners.set(fIdx, { ...o, pathsInPt: [...o.pathsInPt, qualifiedPath(node.tree, path)].sort() })
      t.frames.set(frame, null)
      const fo = (t.frameObligations.get(fIdx) ?? 0) - 1
      t.frameObligations.set(fIdx, fo === 0 ? null : fo)
    })
  }

  /** Maps physical address `pa` untracked (no reference, no path) at entry `idx` of the node. */
  mapUntracked(nodePaddr: number, idx: number, pa: number, prop: PageProperty = newUser(PageFlags.RW)): void {
    const node = this.record(nodePaddr)
    this.writePte(nodePaddr, idx, newPage(pa, node.level, prop))
    this.s = editSnapshot(this.s, (_d, t) => {
      this.addChild(t, frameToIndex(nodePaddr), idx, {
        kind: 'frame',
        frame: { mappedPa: pa, size: pageSize(node.level), prop, isTracked: false },
        tree: node.tree,
        path: childPath(node.path, idx),
        parentLevel: node.level,
        inScope: false,
      })
    })
  }

  model(check: 'full' | 'incremental' = 'full', mmioRanges?: ReadonlyArray<readonly [number, number]>): Model {
    return createModel({ check, initial: this.s, physicalMemory: PT_MEMORY, ...(mmioRanges ? { mmioRanges } : {}) })
  }
}

/** A user root with a level-3 child installed at index 1. */
export function rootWithChild(): { b: PtBuilder; root: PtNodeAllocResult; child: PtNodeAllocResult } {
  const b = new PtBuilder()
  const root = b.empty('user')
  const child = b.alloc(3, 'user')
  b.install(root.paddr, 1, child.node)
  return { b, root, child }
}

/** The builder's state as the initial state of a model (for `rejected` / `withVariant`). */
function initialOf(build: () => PtBuilder): (m: Model) => Snapshot {
  return () => build().s
}

// ---- helpers -------------------------------------------------------------------------------

const nothing = (): void => {}

function allocNode(m: Model, level = 3, config: PtConfigName = 'user'): PtNodeAllocResult {
  return m.call<PtNodeAllocResult>({ type: 'page_table_node.alloc', level, config })
}

function lock(m: Model, paddr: number): number {
  return m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr }).guard
}

/** A model (4 MiB) with one level-3 node, locked: `{ m, node, guard }`. */
function lockedNode(m: Model): { node: PtNodeAllocResult; guard: number } {
  const node = allocNode(m)
  return { node, guard: lock(m, node.paddr) }
}

/** Edits both cells (exec and the permission) of a node slot's metadata in a draft. */
function setMeta(d: Draft<Snapshot>, idx: number, patch: Record<string, unknown>): void {
  const exec = tableGet(d.metaSlots as Table<MetaSlotCells>, idx)!
  setCells(d, idx, { storage: { ...(exec.storage as object), ...patch } as MetaSlotCells['storage'] })
}

function setRecord(d: Draft<Snapshot>, idx: number, patch: Partial<PtNodeOwner>): void {
  const r = tableGet(d.pt.owners as Table<PtNodeOwner>, idx)!
  tableSet(d.pt.owners, idx, { ...r, ...patch })
}

/** A state with the node at slot 0 whose lock byte is 1 but no guard holds it (a forgotten guard). */
function forgottenLock(): Snapshot {
  const b = new PtBuilder()
  const n = b.alloc(3)
  return edit(b.s, (d) => setMeta(d, frameToIndex(n.paddr), { lock: 1 }))
}

/** Checks a hand-built step in both modes (for composites the model does not define yet). */
export function checkStep(st: InternalStep): FiringOutcome {
  const registry = defaultRegistry()
  const full = new Checker(registry, 'full').check(st, 0)
  const inc = new Checker(registry, 'incremental')
  inc.check({ ...st, after: st.before, steps: [] }, 0)
  const incremental = inc.check(st, 1).map((v) => ({ ...v, step: 0 }))
  if (JSON.stringify(full) !== JSON.stringify(incremental)) throw new Error(`full and incremental disagree:\n${JSON.stringify(full)}\n${JSON.stringify(incremental)}`)
  return { rules: [...new Set(full.map((v: Violation) => v.rule))].sort(), also: [], violations: full }
}

/**
 * The alloc of `entry.alloc_if_none` (MD-13): a new level-3 node announced for PTE 5 of a user
 * root, as the internal step of a hand-built composite whose end state has the parent PTE
 * written (`install`) or not.
 */
export function allocIfNoneStep(install: boolean): InternalStep {
  const b = new PtBuilder()
  const root = b.empty('user')
  const before = b.s
  const e = { type: 'page_table_node.alloc', level: 3, config: 'user', parent: root.paddr, parentIdx: 5 } as const
  const out = applyEvent(ptNodeAlloc, before, e)
  const alloc: InternalStep = { event: e, before, after: out.snapshot, result: out.result, steps: [] }
  b.s = out.snapshot
  if (install) b.install(root.paddr, 5, out.result.node)
  return { event: { type: 'entry.alloc_if_none', entry: 0 }, before, after: b.s, result: null, steps: [alloc] }
}

// ---- the cases -----------------------------------------------------------------------------

const USER = { type: 'page_table_node.alloc', level: 3, config: 'user' } as const

export const ptNodeCases: FiringCase[] = [
  // ---- REQ: alloc / empty / level ---------------------------------------------------------
  { rule: 'REQ-NODE-ALLOC-1', title: 'alloc of a level-4 node (a root)', run: () => rejected(nothing, () => ({ ...USER, level: 4 })) },
  { rule: 'REQ-NODE-ALLOC-2', title: 'alloc announced for parent index 512', run: () => rejected(nothing, () => ({ ...USER, parentIdx: 512 })) },
  {
    rule: 'REQ-NODE-ALLOC-3',
    title: 'alloc while the slot the allocator picks breaks regions.inv()',
    run: () => rejected(nothing, () => USER, { initial: (m) => edit(m.state, (d) => setOwner(d, 0, { rawCount: 1 })) }),
  },
  {
    rule: 'REQ-NODE-ALLOC-4',
    title: 'alloc announced for a parent that is not a node',
    run: () => rejected(nothing, () => ({ ...USER, parent: 0x5000, parentIdx: 0 })),
  },
  {
    rule: 'REQ-NODE-ALLOCMEM-1',
    title: 'alloc with no free frame panics (.expect)',
    run: () => {
      const m = createModel({ check: 'full', physicalMemory: 2 * PAGE_SIZE })
      allocNode(m)
      allocNode(m)
      return rejectedOn(m, USER)
    },
  },
  {
    rule: 'REQ-NODE-ALLOCMEM-1',
    title: 'PageTable::empty with no free frame panics',
    run: () => rejectedOn(createModel({ check: 'full', physicalMemory: PAGE_SIZE, initial: editSnapshot(genesis({ physicalMemory: PAGE_SIZE }), (d) => void (d.allocator.bumpIndex = 1)) }), { type: 'page_table.empty', config: 'user' }),
  },
  { rule: 'REQ-HANDLE-1', title: 'level() of a dropped PageTableNode', run: () => rejected(nothing, () => ({ type: 'page_table_node.level', node: 3 })) },
  {
    rule: 'REQ-NODE-LEVEL-1',
    title: "level() when the node's slot holds no PageTablePageMeta",
    run: () =>
      rejected(nothing, () => ({ type: 'page_table_node.level', node: 0 }), {
        initial: initialOf(() => {
          const b = new PtBuilder()
          b.alloc(3)
          b.s = edit(b.s, (d) => setCells(d, 0, { storage: { kind: 'Frame', meta: UNIT_META } }))
          return b
        }),
      }),
  },
  // ---- REQ: drop / on_drop --------------------------------------------------------------
  {
    rule: 'REQ-FRAME-DROP-1',
    title: 'dropping a PageTableNode whose obligation is gone',
    run: () =>
      rejected(nothing, () => ({ type: 'page_table_node.drop', node: 0 }), {
        initial: initialOf(() => {
          const b = new PtBuilder()
          b.alloc(3)
          b.s = edit(b.s, (d) => tableSet(d.regions.frameObligations, 0, null))
          return b
        }),
      }),
  },
  { rule: 'REQ-PTMETA-ONDROP-1', title: 'on_drop of a frame that is no page-table node', run: () => rejected(nothing, () => ({ type: 'page_table_page_meta.on_drop', paddr: 0x5000 })) },
  {
    rule: 'REQ-PTMETA-ONDROP-4',
    title: 'the last drop of a root whose PTE points to a child node outside physical memory',
    run: () =>
      rejected(nothing, () => ({ type: 'page_table_node.drop', node: 0 }), {
        initial: initialOf(() => {
          const b = new PtBuilder()
          b.empty('user')
          b.s = editSnapshot(b.s, (_d, t) => writePte(new MemoryWriter(t), 0, 7, newPt(0x7000_0000)))
          return b
        }),
      }),
  },
  {
    rule: 'REQ-PTMETA-ONDROP-5',
    title: 'the last drop of a root two of whose PTEs point to the same child node',
    run: () =>
      rejected(nothing, () => ({ type: 'page_table_node.drop', node: 0 }), {
        initial: initialOf(() => {
          const { b, child } = rootWithChild()
          b.s = editSnapshot(b.s, (_d, t) => writePte(new MemoryWriter(t), 0, 2, newPt(child.paddr)))
          return b
        }),
      }),
  },
  {
    rule: 'REQ-PTMETA-ONDROP-2',
    title: "the last drop of a root whose child's slot breaks regions.inv()",
    run: () =>
      rejected(nothing, () => ({ type: 'page_table_node.drop', node: 0 }), {
        initial: initialOf(() => {
          const { b, child } = rootWithChild()
          b.s = edit(b.s, (d) => tableSet(d.metaSlots, frameToIndex(child.paddr), { ...slotOf(b.s, frameToIndex(child.paddr)), refCount: 2 }))
          return b
        }),
      }),
  },
  {
    rule: 'REQ-PTMETA-ONDROP-3',
    title: 'the last drop of a root whose child node has no forgotten reference (raw_count 0)',
    run: () =>
      rejected(nothing, () => ({ type: 'page_table_node.drop', node: 0 }), {
        initial: initialOf(() => {
          const { b, child } = rootWithChild()
          b.s = edit(b.s, (d) => setOwner(d, frameToIndex(child.paddr), { rawCount: 0 }))
          return b
        }),
      }),
  },
  {
    rule: 'REQ-PTMETA-ONDROP-6',
    title: 'on_drop of a node a PageTableNode handle still holds',
    run: () => rejected((m) => void allocNode(m), () => ({ type: 'page_table_page_meta.on_drop', paddr: 0 })),
  },
  // ---- REQ: lock / make_guard_unchecked ----------------------------------------------------
  { rule: 'REQ-NODE-LOCK-1', title: 'lock of a frame that is no page-table node', run: () => rejected(nothing, () => ({ type: 'page_table_node_ref.lock', paddr: 0x3000 })) },
  {
    rule: 'REQ-NODE-LOCK-2',
    title: 'locking a node this task already holds would deadlock',
    run: () => rejected((m) => void lockedNode(m), () => ({ type: 'page_table_node_ref.lock', paddr: 0 })),
  },
  {
    rule: 'REQ-NODE-LOCK-2',
    title: 'locking a node whose lock byte a forgotten guard holds would deadlock',
    run: () => rejected(nothing, () => ({ type: 'page_table_node_ref.lock', paddr: 0 }), { initial: forgottenLock }),
  },
  { rule: 'REQ-NODE-MKGUARD-1', title: 'make_guard_unchecked of a frame that is no node', run: () => rejected(nothing, () => ({ type: 'page_table_node_ref.make_guard_unchecked', paddr: 0x3000 })) },
  {
    rule: 'REQ-NODE-MKGUARD-2',
    title: 'make_guard_unchecked for a lock Guards already holds',
    run: () => rejected((m) => void lockedNode(m), () => ({ type: 'page_table_node_ref.make_guard_unchecked', paddr: 0 })),
  },
  // ---- REQ: guards ----------------------------------------------------------------------
  { rule: 'REQ-HANDLE-1', title: 'read_pte through a dropped guard', run: () => rejected(nothing, () => ({ type: 'page_table_guard.read_pte', guard: 0, idx: 0 })) },
  {
    rule: 'REQ-GUARD-LOCKED-1',
    title: 'a guard whose lock Guards no longer holds',
    run: () =>
      rejected((m) => void lockedNode(m), () => ({ type: 'page_table_guard.nr_children', guard: 0 }), {
        initial: (m) => edit(m.state, (d) => {
          tableSet(d.pt.locks, 0, null)
          setMeta(d, 0, { lock: 0 })
        }),
      }),
  },
  {
    rule: 'REQ-GUARD-NRCHILDREN-1',
    title: "nr_children when the node's meta_own disagrees with its metadata",
    run: () => rejected((m) => void lockedNode(m), () => ({ type: 'page_table_guard.nr_children', guard: 0 }), { initial: (m) => edit(m.state, (d) => setRecord(d, 0, { metaOwn: { nrChildren: 0, stray: true } })) }),
  },
  {
    rule: 'REQ-GUARD-STRAYMUT-1',
    title: "stray_mut when the node's metadata permission is not well-formed",
    run: () => rejected((m) => void lockedNode(m), () => ({ type: 'page_table_guard.stray_mut', guard: 0 }), { initial: (m) => edit(m.state, (d) => tableSet(d.metaSlots, 0, { ...slotOf(m.state, 0), vtablePtr: 1 })) }),
  },
  {
    rule: 'REQ-GUARD-NRCHMUT-1',
    title: "nr_children_mut when the node's metadata permission is not well-formed",
    run: () => rejected((m) => void lockedNode(m), () => ({ type: 'page_table_guard.nr_children_mut.write', guard: 0, value: 1 }), { initial: (m) => edit(m.state, (d) => tableSet(d.metaSlots, 0, { ...slotOf(m.state, 0), vtablePtr: 1 })) }),
  },
  {
    rule: 'REQ-GUARD-READPTE-1',
    title: "read_pte when the node's owner breaks NodeOwner::inv",
    run: () => rejected((m) => void lockedNode(m), () => ({ type: 'page_table_guard.read_pte', guard: 0, idx: 0 }), { initial: (m) => edit(m.state, (d) => setRecord(d, 0, { treeLevel: 3 })) }),
  },
  {
    rule: 'REQ-GUARD-READPTE-2',
    title: "read_pte when the node's slot breaks regions.inv()",
    run: () => rejected((m) => void lockedNode(m), () => ({ type: 'page_table_guard.read_pte', guard: 0, idx: 0 }), { initial: (m) => edit(m.state, (d) => tableSet(d.metaSlots, 0, { ...slotOf(m.state, 0), refCount: 2 })) }),
  },
  { rule: 'REQ-GUARD-READPTE-3', title: 'read_pte at index 512', run: () => rejected((m) => void lockedNode(m), () => ({ type: 'page_table_guard.read_pte', guard: 0, idx: NR_ENTRIES })) },
  {
    rule: 'REQ-GUARD-WRITEPTE-1',
    title: "write_pte when the node's owner breaks NodeOwner::inv",
    run: () => rejected((m) => void lockedNode(m), () => ({ type: 'page_table_guard.write_pte', guard: 0, idx: 0, pte: '0x0' }), { initial: (m) => edit(m.state, (d) => setRecord(d, 0, { slotIndex: 9 })) }),
  },
  {
    rule: 'REQ-GUARD-WRITEPTE-2',
    title: "write_pte when the node's slot breaks regions.inv()",
    run: () => rejected((m) => void lockedNode(m), () => ({ type: 'page_table_guard.write_pte', guard: 0, idx: 0, pte: '0x0' }), { initial: (m) => edit(m.state, (d) => tableSet(d.metaSlots, 0, { ...slotOf(m.state, 0), refCount: 2 })) }),
  },
  { rule: 'REQ-GUARD-WRITEPTE-3', title: 'write_pte at index 600', run: () => rejected((m) => void lockedNode(m), () => ({ type: 'page_table_guard.write_pte', guard: 0, idx: 600, pte: '0x0' })) },

  // ---- INV --------------------------------------------------------------------------------
  {
    rule: 'INV-PTMETA-1',
    title: 'nr_children 600 (metadata, permission and meta_own agree)',
    expect: ['INV-NODE-1', 'INV-PTMETA-1', 'INV-PTMETA-2'],
    run: () =>
      corrupted((m) => void allocNode(m), (d) => {
        setMeta(d, 0, { nrChildren: 600 })
        setRecord(d, 0, { metaOwn: { nrChildren: 600, stray: false } })
      }),
  },
  {
    rule: 'INV-PTMETA-2',
    title: 'nr_children 1 while every PTE is absent',
    run: () =>
      corrupted((m) => void allocNode(m), (d) => {
        setMeta(d, 0, { nrChildren: 1 })
        setRecord(d, 0, { metaOwn: { nrChildren: 1, stray: false } })
      }),
  },
  { rule: 'INV-PTMETA-3', title: "the metadata's level differs from the NodeOwner's", run: () => corrupted((m) => void allocNode(m), (d) => setMeta(d, 0, { level: 2 })) },
  { rule: 'INV-PTMETA-3', title: 'node metadata without a NodeOwner', run: () => corrupted((m) => void allocNode(m), (d) => tableSet(d.pt.owners, 0, null)), expect: ['INV-PTACCT-1', 'INV-PTMETA-3'] },
  { rule: 'INV-NODE-1', title: 'meta_own.stray is not a bool', expect: ['INV-NODE-1', 'INV-NODE-6'], run: () => corrupted((m) => void allocNode(m), (d) => setRecord(d, 0, { metaOwn: { nrChildren: 0, stray: 'no' as unknown as boolean } })) },
  { rule: 'INV-NODE-2', title: 'a node at level 0', expect: ['INV-NODE-2', 'INV-NODE-4', 'INV-PTMETA-3'], run: () => corrupted((m) => void allocNode(m), (d) => setRecord(d, 0, { level: 0 })) },
  {
    rule: 'INV-NODE-3',
    title: "a NodeOwner whose PTE array is outside physical memory",
    expect: ['INV-NODE-3', 'INV-NODE-5'],
    run: () => corrupted((m) => void allocNode(m), (d) => setRecord(d, 0, { slotIndex: 5000 }), { physicalMemory: PT_MEMORY }),
  },
  { rule: 'INV-NODE-4', title: 'tree_level != 4 - level', expect: ['INV-NODE-4', 'INV-TREE-3'], run: () => corrupted((m) => void allocNode(m), (d) => setRecord(d, 0, { treeLevel: 2 })) },
  { rule: 'INV-NODE-5', title: "slot_index is another slot's", run: () => corrupted((m) => void allocNode(m), (d) => setRecord(d, 0, { slotIndex: 9 })) },
  { rule: 'INV-NODE-6', title: 'meta_own disagrees with the stored metadata', run: () => corrupted((m) => void allocNode(m), (d) => setRecord(d, 0, { metaOwn: { nrChildren: 0, stray: true } })) },
  {
    rule: 'INV-NODE-6',
    title: 'a node slot that is not parked',
    expect: ['INV-NODE-6', 'INV-REGIONS-5', 'INV-STORE-2'],
    run: () => corrupted((m) => void allocNode(m), (d) => tableSet(d.regions.unparked, 0, true)),
  },
  {
    rule: 'INV-GUARD-1',
    title: 'make_guard_unchecked on a node whose lock byte is 0: a guard without the lock',
    run: () => withVariantBothModes([], (m) => m.dispatch({ type: 'page_table_node_ref.make_guard_unchecked', paddr: allocNode(m).paddr })),
  },
  { rule: 'INV-GUARD-2', title: 'Guards holds a free slot', run: () => corrupted(nothing, (d) => tableSet(d.pt.locks, 30, true)) },
  {
    rule: 'INV-PTGUARD-1',
    title: 'two guards lock the same node',
    run: () => corrupted((m) => void lockedNode(m), (d) => tableSet(d.pt.guards, 7, { paddr: 0 })),
  },
  {
    rule: 'INV-PTACCT-1',
    title: 'a detached node counts a forgotten reference',
    run: () => corrupted((m) => void allocNode(m), (d) => setOwner(d, 0, { rawCount: 1 })),
  },
  {
    rule: 'INV-PTACCT-1',
    title: 'a node whose rc counts a reference nothing holds',
    run: () => corrupted((m) => void allocNode(m), (d) => setCells(d, 0, { refCount: 2 })),
  },

  // ---- ENS: alloc ---------------------------------------------------------------------------
  {
    rule: 'ENS-NODE-ALLOC-1',
    title: "alloc corrupts the announced parent's NodeOwner",
    expect: ['ENS-NODE-ALLOC-1', 'INV-NODE-4', 'INV-TREE-3'],
    run: () =>
      withVariantBothModes(
        [variant(ptNodeAlloc, (s, e) => {
          const o = ptNodeAlloc.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setRecord(d, 0, { treeLevel: 3 })) }
        })],
        (m) => {
          m.dispatch({ type: 'page_table.empty', config: 'user' })
          m.dispatch({ ...USER, parent: 0, parentIdx: 3 })
        },
      ),
  },
  {
    rule: 'ENS-NODE-ALLOC-2',
    title: 'alloc makes a tree-owned (not in_scope) node',
    run: () =>
      withVariantBothModes(
        [variant(ptNodeAlloc, (s, e) => {
          const o = ptNodeAlloc.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setRecord(d, frameToIndex(o.result.paddr), { inScope: false })) }
        })],
        (m) => m.dispatch(USER),
      ),
  },
  {
    rule: 'ENS-NODE-ALLOC-3',
    title: 'alloc makes a node whose child entry is a node',
    // (the entry names a slot without a NodeOwner: not an EntryOwner at all)
    expect: ['ENS-NODE-ALLOC-3', 'INV-ENTRY-1', 'INV-TREE-2', 'INV-TREE-7'],
    run: () =>
      withVariantBothModes(
        [variant(ptNodeAlloc, (s, e) => {
          const o = ptNodeAlloc.reduce(s, e)
          const idx = frameToIndex(o.result.paddr)
          return { ...o, snapshot: edit(o.snapshot, (d) => setRecord(d, idx, { children: tableWith(tableGet(o.snapshot.pt.owners, idx)!.children, 4, { kind: 'node', slot: 40 }) })) }
        })],
        (m) => m.dispatch(USER),
      ),
  },
  {
    rule: 'ENS-NODE-ALLOC-4',
    title: 'alloc returns the id of another handle',
    run: () =>
      withVariantBothModes(
        [variant(ptNodeAlloc, (s, e) => {
          const o = ptNodeAlloc.reduce(s, e)
          return { ...o, result: { ...o.result, node: o.result.node + 5 } }
        })],
        (m) => m.dispatch(USER),
      ),
  },
  {
    rule: 'ENS-NODE-ALLOC-5',
    title: 'alloc leaves the new node in Guards',
    expect: ['ENS-NODE-ALLOC-5', 'INV-GUARD-1'],
    run: () =>
      withVariantBothModes(
        [variant(ptNodeAlloc, (s, e) => {
          const o = ptNodeAlloc.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => tableSet(d.pt.locks, frameToIndex(o.result.paddr), true)) }
        })],
        (m) => m.dispatch(USER),
      ),
  },
  {
    rule: 'ENS-NODE-ALLOC-6',
    title: 'alloc touches another slot',
    run: () =>
      withVariantBothModes(
        [variant(ptNodeAlloc, (s, e) => {
          const o = ptNodeAlloc.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 9, { usage: PageUsage.Reserved })) }
        })],
        (m) => m.dispatch(USER),
      ),
  },
  {
    rule: 'ENS-NODE-ALLOC-6',
    title: 'alloc leaves the allocator where it was (the never-used mark not advanced)',
    run: () =>
      withVariantBothModes(
        [variant(ptNodeAlloc, (s, e) => {
          const o = ptNodeAlloc.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => void (d.allocator.bumpIndex = s.allocator.bumpIndex)) }
        })],
        (m) => m.dispatch(USER),
      ),
  },
  {
    rule: 'ENS-NODE-ALLOC-6',
    title: 'alloc claims a free frame that is not the allocator policy pick',
    run: () =>
      withVariantBothModes(
        [variant(ptNodeAlloc, (s, e) => {
          const { snapshot, node, paddr } = claimNode(s, e.level, e.config, false, s.allocator.bumpIndex + 1)
          return { snapshot, result: { node, paddr } }
        })],
        (m) => m.dispatch(USER),
      ),
  },
  {
    rule: 'ENS-NODE-ALLOC-7',
    title: 'alloc mints two obligations',
    expect: ['ENS-NODE-ALLOC-7', 'INV-PTACCT-1'],
    run: () =>
      withVariantBothModes(
        [variant(ptNodeAlloc, (s, e) => {
          const o = ptNodeAlloc.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => tableSet(d.regions.frameObligations, frameToIndex(o.result.paddr), 2)) }
        })],
        (m) => m.dispatch(USER),
      ),
  },
  {
    rule: 'ENS-NODE-ALLOC-8',
    title: 'alloc claims an MMIO page',
    // not the allocator's pick either (ENS-NODE-ALLOC-6's allocator clause)
    expect: ['ENS-NODE-ALLOC-6', 'ENS-NODE-ALLOC-8', 'INV-SLOT-8'],
    run: () =>
      withVariantBothModes(
        [variant(ptNodeAlloc, (s, e) => {
          const { snapshot, node, paddr } = claimNode(s, e.level, e.config, false, 0x40)
          return { snapshot, result: { node, paddr } }
        })],
        (m) => m.dispatch(USER),
        { initial: () => genesis({ physicalMemory: PT_MEMORY, mmioRanges: [[0x40000, 0x50000]] }) },
      ),
  },
  {
    rule: 'ENS-NODE-ALLOC-9',
    title: 'alloc leaves a forgotten reference at the new node',
    expect: ['ENS-NODE-ALLOC-12', 'ENS-NODE-ALLOC-9', 'INV-PTACCT-1'],
    run: () =>
      withVariantBothModes(
        [variant(ptNodeAlloc, (s, e) => {
          const o = ptNodeAlloc.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, frameToIndex(o.result.paddr), { rawCount: 1 })) }
        })],
        (m) => m.dispatch(USER),
      ),
  },
  {
    rule: 'ENS-NODE-ALLOC-10',
    title: "alloc's owner names another slot, so new_pt(pa) does not match it",
    expect: ['ENS-NODE-ALLOC-10', 'ENS-NODE-ALLOC-2', 'ENS-NODE-ALLOC-4', 'ENS-NODE-ALLOC-9', 'INV-NODE-5'],
    run: () =>
      withVariantBothModes(
        [variant(ptNodeAlloc, (s, e) => {
          const o = ptNodeAlloc.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setRecord(d, frameToIndex(o.result.paddr), { slotIndex: 9 })) }
        })],
        (m) => m.dispatch(USER),
      ),
  },
  {
    rule: 'ENS-NODE-ALLOC-11',
    title: 'alloc_if_none ends without the parent PTE alloc announced (hand-built composite)',
    // The hand-built step names no live Entry: entry.alloc_if_none's REQ-HANDLE-1 reports that too.
    expect: ['ENS-NODE-ALLOC-11', 'REQ-HANDLE-1'],
    run: () => checkStep(allocIfNoneStep(false)),
  },
  {
    rule: 'ENS-NODE-ALLOC-12',
    title: 'alloc hands out a page that is not zeroed',
    run: () =>
      withVariantBothModes(
        [variant(ptNodeAlloc, (s, e) => {
          const o = ptNodeAlloc.reduce(s, e)
          return { ...o, snapshot: editSnapshot(o.snapshot, (_d, t) => writePte(new MemoryWriter(t), frameToIndex(o.result.paddr), 9, 0x2n)) }
        })],
        (m) => m.dispatch(USER),
      ),
  },
  {
    rule: 'ENS-PT-EMPTY-1',
    title: 'PageTable::empty makes a root that is in_scope',
    expect: ['ENS-PT-EMPTY-1', 'INV-TREE-1'],
    run: () =>
      withVariantBothModes(
        [variant(pageTableEmpty, (s, e) => {
          const o = pageTableEmpty.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setRecord(d, frameToIndex(o.result.paddr), { inScope: true })) }
        })],
        (m) => m.dispatch({ type: 'page_table.empty', config: 'kernel' }),
      ),
  },
  {
    rule: 'ENS-PT-EMPTY-1',
    title: 'PageTable::empty leaves the allocator where it was',
    run: () =>
      withVariantBothModes(
        [variant(pageTableEmpty, (s, e) => {
          const o = pageTableEmpty.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => void (d.allocator.bumpIndex = s.allocator.bumpIndex)) }
        })],
        (m) => m.dispatch({ type: 'page_table.empty', config: 'kernel' }),
      ),
  },
  {
    rule: 'ENS-NODE-LEVEL-1',
    title: 'level() returns another level',
    run: () =>
      withVariantBothModes([variant(ptNodeLevel, (s, e) => ({ snapshot: s, result: ptNodeLevel.reduce(s, e).result + 1 }))], (m) => {
        allocNode(m, 2)
        m.dispatch({ type: 'page_table_node.level', node: 0 })
      }),
  },

  // ---- ENS: drop / on_drop ------------------------------------------------------------------
  {
    rule: 'ENS-NODE-DROP-1',
    title: 'the last drop of a node does not return the frame to the allocator',
    run: () =>
      withVariantBothModes(
        [variant(ptNodeDrop, (s, e) => {
          const o = ptNodeDrop.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => void (d.allocator.freeStackLen -= 1)) }
        })],
        (m) => m.dispatch({ type: 'page_table_node.drop', node: allocNode(m).node }),
      ),
  },
  {
    rule: 'ENS-NODE-DROP-1',
    title: 'dropping one of two references touches another slot',
    run: () =>
      withVariantBothModes(
        [variant(ptNodeDrop, (s, e) => {
          const o = ptNodeDrop.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 9, { usage: PageUsage.Reserved })) }
        })],
        (m) => {
          allocNode(m)
          m.dispatch({ type: 'page_table_node.drop', node: 0 })
        },
        {
          initial: initialOf(() => {
            const b = new PtBuilder()
            b.alloc(3)
            b.s = edit(b.s, (d) => {
              setCells(d, 0, { refCount: 2 })
              tableSet(d.pt.nodes, 1, { paddr: 0 })
              tableSet(d.regions.frameObligations, 0, 2)
              d.counters.ptNode = 2
            })
            return b
          }),
        },
      ),
  },
  {
    rule: 'ENS-NODE-DROP-2',
    title: "the last drop of a node keeps the handle's obligation",
    expect: ['ENS-NODE-DROP-2', 'INV-PTACCT-1'],
    run: () =>
      withVariantBothModes(
        [variant(ptNodeDrop, (s, e) => {
          const idx = frameToIndex(tableGet(s.pt.nodes, e.node)!.paddr)
          const o = ptNodeDrop.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => tableSet(d.regions.frameObligations, idx, 1)) }
        })],
        (m) => m.dispatch({ type: 'page_table_node.drop', node: allocNode(m).node }),
      ),
  },
  {
    rule: 'ENS-PTMETA-ONDROP-2',
    title: 'on_drop un-parks a slot',
    expect: ['ENS-NODE-DROP-1', 'ENS-PTMETA-ONDROP-1', 'ENS-PTMETA-ONDROP-2', 'INV-REGIONS-5', 'INV-STORE-2'],
    run: () =>
      withVariantBothModes(
        [variant(ptMetaOnDrop, (s, e) => {
          const o = ptMetaOnDrop.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => tableSet(d.regions.unparked, 20, true)) }
        })],
        (m) => m.dispatch({ type: 'page_table_node.drop', node: allocNode(m).node }),
      ),
  },
  {
    rule: 'ENS-PTMETA-ONDROP-3',
    title: 'on_drop forgets to release the child node',
    expect: ['ENS-PTMETA-ONDROP-3', 'INV-TREE-3'],
    run: () =>
      withVariantBothModes([variant(ptMetaOnDrop, (s) => ({ snapshot: s, result: null }))], (m) => m.dispatch({ type: 'page_table_node.drop', node: 0 }), {
        initial: initialOf(() => rootWithChild().b),
      }),
  },

  // ---- ENS: lock / make_guard_unchecked ------------------------------------------------------
  {
    rule: 'ENS-NODE-LOCK-1',
    title: 'lock sets the lock byte but does not record the lock in Guards',
    expect: ['ENS-NODE-LOCK-1', 'INV-GUARD-1', 'INV-PTGUARD-1'],
    run: () =>
      withVariantBothModes(
        [variant(ptNodeRefLock, (s, e) => {
          const o = ptNodeRefLock.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => tableSet(d.pt.locks, frameToIndex(e.paddr), null)) }
        })],
        (m) => void lock(m, allocNode(m).paddr),
      ),
  },
  {
    rule: 'ENS-NODE-LOCK-2',
    title: 'lock also records another node in Guards',
    expect: ['ENS-NODE-LOCK-2', 'INV-GUARD-2'],
    run: () =>
      withVariantBothModes(
        [variant(ptNodeRefLock, (s, e) => {
          const o = ptNodeRefLock.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => tableSet(d.pt.locks, 30, true)) }
        })],
        (m) => void lock(m, allocNode(m).paddr),
      ),
  },
  {
    rule: 'ENS-NODE-LOCK-3',
    title: 'lock returns a guard id that does not exist',
    run: () =>
      withVariantBothModes([variant(ptNodeRefLock, (s, e) => ({ ...ptNodeRefLock.reduce(s, e), result: { guard: 9 } }))], (m) => void m.dispatch({ type: 'page_table_node_ref.lock', paddr: allocNode(m).paddr })),
  },
  {
    rule: 'ENS-NODE-LOCK-4',
    title: 'lock records the lock in Guards but leaves the lock byte 0',
    expect: ['ENS-NODE-LOCK-4', 'INV-GUARD-1'],
    run: () =>
      withVariantBothModes(
        [variant(ptNodeRefLock, (s, e) => {
          const o = ptNodeRefLock.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setMeta(d, frameToIndex(e.paddr), { lock: 0 })) }
        })],
        (m) => void lock(m, allocNode(m).paddr),
      ),
  },
  {
    rule: 'ENS-NODE-MKGUARD-1',
    title: 'make_guard_unchecked does not record the lock in Guards',
    expect: ['ENS-NODE-MKGUARD-1', 'INV-PTGUARD-1'],
    run: () =>
      withVariantBothModes(
        [variant(ptNodeRefMakeGuard, (s, e) => {
          const o = ptNodeRefMakeGuard.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => tableSet(d.pt.locks, frameToIndex(e.paddr), null)) }
        })],
        (m) => m.dispatch({ type: 'page_table_node_ref.make_guard_unchecked', paddr: 0 }),
        { initial: forgottenLock },
      ),
  },
  {
    rule: 'ENS-NODE-MKGUARD-2',
    title: 'make_guard_unchecked also records another node in Guards',
    expect: ['ENS-NODE-MKGUARD-2', 'INV-GUARD-2'],
    run: () =>
      withVariantBothModes(
        [variant(ptNodeRefMakeGuard, (s, e) => {
          const o = ptNodeRefMakeGuard.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => tableSet(d.pt.locks, 30, true)) }
        })],
        (m) => m.dispatch({ type: 'page_table_node_ref.make_guard_unchecked', paddr: 0 }),
        { initial: forgottenLock },
      ),
  },
  {
    rule: 'ENS-NODE-MKGUARD-3',
    title: 'make_guard_unchecked touches the lock byte',
    // (INV-GUARD-1 at the node already fails before the call: byte 1, not in Guards)
    run: () =>
      withVariantBothModes(
        [variant(ptNodeRefMakeGuard, (s, e) => {
          const o = ptNodeRefMakeGuard.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setMeta(d, frameToIndex(e.paddr), { lock: 0 })) }
        })],
        (m) => m.dispatch({ type: 'page_table_node_ref.make_guard_unchecked', paddr: 0 }),
        { initial: forgottenLock },
      ),
  },

  // ---- ENS: guards --------------------------------------------------------------------------
  {
    rule: 'ENS-GUARD-DROP-1',
    title: 'dropping a guard leaves the lock byte 1',
    expect: ['ENS-GUARD-DROP-1', 'INV-GUARD-1'],
    run: () =>
      withVariantBothModes(
        [variant(ptGuardDrop, (s, e) => {
          const o = ptGuardDrop.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setMeta(d, 0, { lock: 1 })) }
        })],
        (m) => m.dispatch({ type: 'page_table_guard.drop', guard: lockedNode(m).guard }),
      ),
  },
  {
    rule: 'ENS-GUARD-DROP-2',
    title: 'dropping a guard touches another slot',
    run: () =>
      withVariantBothModes(
        [variant(ptGuardDrop, (s, e) => {
          const o = ptGuardDrop.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 9, { usage: PageUsage.Reserved })) }
        })],
        (m) => m.dispatch({ type: 'page_table_guard.drop', guard: lockedNode(m).guard }),
      ),
  },
  {
    rule: 'ENS-GUARD-NRCHILDREN-1',
    title: 'nr_children returns a wrong count',
    run: () => withVariantBothModes([variant(ptGuardNrChildren, (s) => ({ snapshot: s, result: 7 }))], (m) => m.dispatch({ type: 'page_table_guard.nr_children', guard: lockedNode(m).guard })),
  },
  {
    rule: 'ENS-GUARD-STRAYMUT-1',
    title: "stray_mut returns another node's cell",
    run: () => withVariantBothModes([variant(ptGuardStrayMut, (s) => ({ snapshot: s, result: { metaAddr: 64 * 9 } }))], (m) => m.dispatch({ type: 'page_table_guard.stray_mut', guard: lockedNode(m).guard })),
  },
  {
    rule: 'ENS-GUARD-STRAYMUT-2',
    title: 'stray_mut changes the state',
    run: () =>
      withVariantBothModes(
        [variant(ptGuardStrayMut, (s, e) => ({ ...ptGuardStrayMut.reduce(s, e), snapshot: edit(s, (d) => setOwner(d, 9, { usage: PageUsage.Reserved })) }))],
        (m) => m.dispatch({ type: 'page_table_guard.stray_mut', guard: lockedNode(m).guard }),
      ),
  },
  {
    rule: 'ENS-GUARD-STRAYWRITE-1',
    title: 'a write through stray_mut updates meta_own only',
    expect: ['ENS-GUARD-STRAYWRITE-1', 'INV-NODE-6'],
    run: () =>
      withVariantBothModes(
        [variant(ptGuardStrayWrite, (s) => ({ snapshot: edit(s, (d) => setRecord(d, 0, { metaOwn: { nrChildren: 0, stray: true } })), result: null }))],
        (m) => m.dispatch({ type: 'page_table_guard.stray_mut.write', guard: lockedNode(m).guard, value: true }),
      ),
  },
  {
    rule: 'ENS-GUARD-READPTE-1',
    title: 'read_pte returns another word',
    run: () => withVariantBothModes([variant(ptGuardReadPte, (s) => ({ snapshot: s, result: '0x0000000000000001' }))], (m) => m.dispatch({ type: 'page_table_guard.read_pte', guard: lockedNode(m).guard, idx: 3 })),
  },
  {
    rule: 'ENS-GUARD-WRITEPTE-2',
    title: 'write_pte also touches another slot',
    run: () =>
      withVariantBothModes(
        [variant(ptGuardWritePte, (s, e) => {
          const o = ptGuardWritePte.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 9, { usage: PageUsage.Reserved })) }
        })],
        (m) => m.dispatch({ type: 'page_table_guard.write_pte', guard: lockedNode(m).guard, idx: 3, pte: '0x2' }),
      ),
  },
  {
    rule: 'ENS-GUARD-WRITEPTE-3',
    title: 'write_pte writes a second PTE',
    run: () =>
      withVariantBothModes(
        [variant(ptGuardWritePte, (s, e) => {
          const o = ptGuardWritePte.reduce(s, e)
          return { ...o, snapshot: editSnapshot(o.snapshot, (_d, t) => writePte(new MemoryWriter(t), 0, e.idx + 1, 0x2n)) }
        })],
        (m) => m.dispatch({ type: 'page_table_guard.write_pte', guard: lockedNode(m).guard, idx: 3, pte: '0x2' }),
      ),
  },
  {
    rule: 'ENS-GUARD-WRITEPTE-4',
    title: 'write_pte makes a second guard for the node',
    expect: ['ENS-GUARD-WRITEPTE-4', 'INV-PTGUARD-1'],
    run: () =>
      withVariantBothModes(
        [variant(ptGuardWritePte, (s, e) => {
          const o = ptGuardWritePte.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => tableSet(d.pt.guards, 5, { paddr: 0 })) }
        })],
        (m) => m.dispatch({ type: 'page_table_guard.write_pte', guard: lockedNode(m).guard, idx: 3, pte: '0x2' }),
      ),
  },
  {
    rule: 'ENS-GUARD-NRCHMUT-1',
    title: "nr_children_mut returns another node's cell",
    run: () => withVariantBothModes([variant(ptGuardNrChildrenMut, (s) => ({ snapshot: s, result: { metaAddr: 64 * 9 } }))], (m) => m.dispatch({ type: 'page_table_guard.nr_children_mut', guard: lockedNode(m).guard })),
  },
  {
    rule: 'ENS-GUARD-NRCHMUT-2',
    title: 'nr_children_mut changes the state',
    run: () =>
      withVariantBothModes(
        [variant(ptGuardNrChildrenMut, (s, e) => ({ ...ptGuardNrChildrenMut.reduce(s, e), snapshot: edit(s, (d) => setOwner(d, 9, { usage: PageUsage.Reserved })) }))],
        (m) => m.dispatch({ type: 'page_table_guard.nr_children_mut', guard: lockedNode(m).guard }),
      ),
  },
  {
    rule: 'ENS-GUARD-NRCHWRITE-1',
    title: 'a write through nr_children_mut updates the exec cell only',
    expect: ['ENS-GUARD-NRCHWRITE-1', 'INV-PTMETA-2', 'INV-SLOT-9'],
    run: () =>
      withVariantBothModes(
        [variant(ptGuardNrChildrenWrite, (s, e) => ({ snapshot: edit(s, (d) => tableSet(d.metaSlots, 0, { ...slotOf(s, 0), storage: { ...nodeStorage(slotOf(s, 0))!, nrChildren: e.value } })), result: null }))],
        (m) => m.dispatch({ type: 'page_table_guard.nr_children_mut.write', guard: lockedNode(m).guard, value: 3 }),
      ),
  },
]
