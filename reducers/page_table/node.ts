/**
 * Page-table nodes (ostd::mm::page_table::node, seed 000; spec/operations.md §2, §4, §1.4):
 * `PageTableNode::alloc`, `PageTable::empty` (a root), `PageTableNode::level`, the drop of a
 * `PageTableNode` (`Frame::drop`) with `PageTablePageMeta::on_drop`, and the two ways a
 * `PageTableNodeRef` becomes a `PageTableGuard` (`lock`, `make_guard_unchecked`).
 *
 * State (src/model/page_table.ts, whose conventions every reducer here keeps): a node is a frame
 * whose slot has usage `PageTable` (MD-5), `PTNode` storage (its `PageTablePageMeta`, lock byte
 * included) and its 512 PTE words in the frame's memory page; a `PageTableNode` handle is
 * `pt.nodes[id] = { paddr }` and holds one reference (rc) and one obligation ([JUN] ledger); the
 * ghost `NodeOwner` is `pt.owners[slot]`; a held lock is `pt.locks[slot]` (ghost `Guards`) plus the
 * lock byte (exec) plus a `PageTableGuard` handle `pt.guards[id] = { paddr }`.
 *
 * Exec and ghost are written separately, each from its own previous value (`editNodeStorage`):
 * the lock byte, `nr_children` and `stray` live in the exec storage *and* in the ghost permission's
 * copy of it (`inner_perms.storage`, INV-SLOT-9); `nr_children` and `stray` also in the owner's
 * `meta_own` (INV-NODE-6).
 */
import { z } from 'zod'
import {
  frameToIndex,
  indexToFrame,
  metaAddr,
  NR_ENTRIES,
  NR_LEVELS,
  PageUsage,
  REF_COUNT_MAX,
  refCountName,
  validFramePaddr,
} from '../../src/arch/constants.js'
import { PageFlags } from '../../src/arch/page_prop.js'
import { isLast, isPresent, ptePaddr, pteProp, type Pte } from '../../src/arch/pte.js'
import { managedIndexRange, ptConfig, type PtConfigName } from '../../src/arch/pt_config.js'
import { editSnapshot, type Tables } from '../../src/model/edit.js'
import { readPte } from '../../src/model/memory.js'
import { handleOfRoot } from '../../src/model/pt_tables.js'
import { qualifiedPath, type ChildEntryOwner, type PtGuardHandle, type PtNodeHandle, type PtNodeOwner } from '../../src/model/page_table.js'
import { childPath, nodeOwnerAt, nodeOwnerInv } from '../../src/model/spec/page_table.js'
import { FRESH_SLOT, isParked, isPhysicalSlot, ownerOf, slotOf } from '../../src/model/slots.js'
import type { MetaSlotCells, MetaSlotStorage, Snapshot } from '../../src/model/snapshot.js'
import { emptyTable, tableForEach, tableGet, tableWith, type Table } from '../../src/model/table.js'
import type { AnyEventSpec } from '../index.js'
import { Addr, HandleId } from '../schema.js'
import { defineEvent, StepRecorder, type EventSpec, type ModelEvent, type Requirement } from '../types.js'
import { pickFrame, releaseFrame, takePick } from '../frame/allocator.js'
import { addObligation, freshId, ownerNow, patchOwner, putSlot } from '../frame/edit.js'
import { frameDrop, frameDropFailure, frameFromRawFailure } from '../frame/frame.js'
import { HANDLE_SUMMARY, keptBehindFlushFailure } from '../frame/handles.js'
import { hex, regionInvAt, tornDownCells } from '../frame/meta.js'

// ---- schemas -------------------------------------------------------------------------------

/** The configuration `C` of a page table (a type parameter in Rust). */
export const PtConfigSchema = z.enum(['user', 'kernel', 'untracked'])

// ---- reading nodes -------------------------------------------------------------------------

/** The `PageTablePageMeta` a slot's storage holds (`MetaSlotStorage::PTNode`). */
export type PtNodeStorage = Extract<MetaSlotStorage, { kind: 'PTNode' }>

/** The node metadata of a slot's cells, or null when the storage is not a node's. */
export function nodeStorage(cells: MetaSlotCells): PtNodeStorage | null {
  return cells.storage?.kind === 'PTNode' ? cells.storage : null
}

/** The exec node metadata of slot `idx`, or null. */
export function execNodeStorage(s: Snapshot, idx: number): PtNodeStorage | null {
  return nodeStorage(slotOf(s, idx))
}

export function nodeHandle(s: Snapshot, id: number): PtNodeHandle | null {
  return tableGet(s.pt.nodes, id)
}

export function guardHandle(s: Snapshot, id: number): PtGuardHandle | null {
  return tableGet(s.pt.guards, id)
}

/** Slot of a live `PageTableNode` handle, or null. */
export function nodeHandleSlot(s: Snapshot, id: number): number | null {
  const h = nodeHandle(s, id)
  return h === null ? null : frameToIndex(h.paddr)
}

/** Slot of the node a live `PageTableGuard` locks, or null. */
export function guardSlot(s: Snapshot, id: number): number | null {
  const g = guardHandle(s, id)
  return g === null ? null : frameToIndex(g.paddr)
}

/** Whether a node slot is held in its parent's PTE (the conventions: in a tree, not taken out). */
export function isInstalled(record: PtNodeOwner): boolean {
  return record.path !== '' && !record.inScope
}

// ---- references to a node slot (the conventions' accounting) ----------------------------

/**
 * Per-slot counts of a handle table, cached by table identity (tables are immutable, so a
 * table's counts never change; a step that edits the table makes a new one).
 */
function countsBy<T>(cache: WeakMap<object, Map<number, number>>, table: Table<T>, slotOfEntry: (v: T) => number | null): Map<number, number> {
  let counts = cache.get(table)
  if (counts === undefined) {
    counts = new Map()
    const c = counts
    tableForEach(table, (v) => {
      const slot = slotOfEntry(v)
      if (slot !== null) c.set(slot, (c.get(slot) ?? 0) + 1)
    })
    cache.set(table, counts)
  }
  return counts
}

const nodeHandleCounts = new WeakMap<object, Map<number, number>>()
const childValueCounts = new WeakMap<object, Map<number, number>>()

function slotOfPaddr(paddr: number): number | null {
  return Number.isSafeInteger(paddr) && paddr >= 0 ? frameToIndex(paddr) : null
}

/** Number of live `PageTableNode` handles to slot `idx`. */
export function nodeHandlesAt(s: Snapshot, idx: number): number {
  return countsBy(nodeHandleCounts, s.pt.nodes, (h) => slotOfPaddr(h.paddr)).get(idx) ?? 0
}

/** Number of `Child::PageTable` values held by code that own a reference to slot `idx`. */
export function childValuesAt(s: Snapshot, idx: number): number {
  return countsBy(childValueCounts, s.pt.children, (c) => (c.kind === 'PageTable' ? slotOfPaddr(c.paddr) : null)).get(idx) ?? 0
}

// ---- writing nodes -------------------------------------------------------------------------

/**
 * Applies `f` to the node metadata of slot `idx` in the exec slot and in the ghost permission's
 * copy (`inner_perms.storage`), each from its own value. A side whose storage is not a node's is
 * left alone.
 */
export function editNodeStorage(t: Tables, s: Snapshot, idx: number, f: (m: PtNodeStorage) => PtNodeStorage): void {
  const exec = t.metaSlots.get(idx) ?? FRESH_SLOT
  const em = nodeStorage(exec)
  if (em !== null) putSlot(t, idx, { ...exec, storage: f(em) })
  const owner = ownerNow(t, s, idx)
  const gm = nodeStorage(owner.innerPerms)
  if (gm !== null) t.slotOwners.set(idx, { ...owner, innerPerms: { ...owner.innerPerms, storage: f(gm) } })
}

/** Replaces fields of the owner record of the node at `idx` (as the transaction sees it). */
export function patchRecord(t: Tables, idx: number, patch: Partial<PtNodeOwner>): void {
  const r = t.ptOwners.get(idx)
  if (r !== null) t.ptOwners.set(idx, { ...r, ...patch })
}

/** `PageTablePageMeta::new(level)` in a slot: `{ nr_children 0, stray false, level, lock 0 }`. */
export function newNodeStorage(level: number, config: PtConfigName): PtNodeStorage {
  return { kind: 'PTNode', nrChildren: 0, stray: false, level, lock: 0, config }
}

/** The ghost record of a fresh node at `idx`: a tree of its own, all 512 entries absent. */
export function freshNodeRecord(idx: number, level: number, config: PtConfigName, root: boolean): PtNodeOwner {
  return {
    tree: idx,
    path: '',
    // ENS-NODE-ALLOC-2: parent_level == level + 1 and in_scope (held by code); a page table's
    // root is tree-owned with parent_level 5 (INV-TREE-3).
    parentLevel: root ? NR_LEVELS + 1 : level + 1,
    inScope: !root,
    level,
    treeLevel: NR_LEVELS - level,
    slotIndex: idx,
    metaOwn: { nrChildren: 0, stray: false },
    config,
    children: emptyTable<ChildEntryOwner>(NR_ENTRIES),
  }
}

// ---- preconditions shared by node and guard calls -----------------------------------------

/** REQ-HANDLE-1 on a `PageTableNode` handle. */
export function liveNodeHandle<E extends ModelEvent>(field: keyof E & string): Requirement<E> {
  return {
    rule: 'REQ-HANDLE-1',
    kind: 'requires',
    summary: HANDLE_SUMMARY,
    check: (s, e) => {
      const id = e[field] as number
      return nodeHandleFailure(s, id)
    },
  }
}

/** Why `PageTableNode` handle `id` cannot be taken: not live, kept by a TLB flusher, or moved into its PageTable as the root; null if it can. */
export function nodeHandleFailure(s: Snapshot, id: number): string | null {
  return nodeHandle(s, id) === null ? `PageTableNode ${String(id)} is not a live handle (dropped, moved, or never created)` : (keptBehindFlushFailure(s, 'node', id) ?? ownedByPageTableFailure(s, id))
}

/**
 * A `PageTable` owns its root through a `PageTableNode` handle (moved into it): the caller cannot
 * use that handle (REQ-HANDLE-1); `page_table.drop` releases it.
 */
export function ownedByPageTableFailure(s: Snapshot, id: number): string | null {
  const handle = nodeHandle(s, id)
  const owner = handle === null ? null : handleOfRoot(s, frameToIndex(handle.paddr))
  return owner !== null && tableGet(s.pt.tables, owner)!.root === id ? `PageTableNode ${id} is the root of PageTable ${owner}, which owns it (moved into the page table)` : null
}

/** REQ-HANDLE-1 on a `PageTableGuard` handle. */
export function liveGuardHandle<E extends ModelEvent>(field: keyof E & string): Requirement<E> {
  return {
    rule: 'REQ-HANDLE-1',
    kind: 'requires',
    summary: HANDLE_SUMMARY,
    check: (s, e) => (guardHandle(s, e[field] as number) === null ? `PageTableGuard ${String(e[field])} is not a live handle (dropped, or never created)` : null),
  }
}

/** Why `paddr` does not name a page of this machine's physical memory, or null. */
export function nodePaddrFailure(s: Snapshot, paddr: number): string | null {
  if (!validFramePaddr(paddr) || !isPhysicalSlot(s, frameToIndex(paddr))) return `${hex(paddr)} is not a page-aligned address of physical memory`
  return null
}

/**
 * `node.invariants(owner)` = `owner.inv() ∧ node.ptr.addr() == owner.meta_addr_self()`: the node
 * at `idx` has a ghost owner record (its `NodeOwner`), which satisfies `NodeOwner::inv`
 * (INV-NODE-1..6), and the node is live (a shared ref count).
 */
export function nodeInvariantsFailure(s: Snapshot, idx: number): string | null {
  const record = nodeOwnerAt(s, idx)
  if (record === null) return `slot ${idx} is not a page-table node (no NodeOwner)`
  const failures = nodeOwnerInv(s, record, idx, `pt.owners[${idx}]`)
  if (failures.length > 0) return `the NodeOwner of slot ${idx} breaks ${failures[0]!.rule}: ${failures[0]!.message}`
  const rc = ownerOf(s, idx).innerPerms.refCount
  if (!(rc > 0 && rc <= REF_COUNT_MAX)) return `the node at slot ${idx} is not live (rc ${refCountName(rc)})`
  return null
}

/** `regions.inv()` (locally, at the node's slot) and `owner.slot_index ∈ regions.slots`. */
export function regionsAtNodeFailure(s: Snapshot, idx: number): string | null {
  const inv = regionInvAt(s, idx)
  if (inv !== null) return inv
  return isParked(s, idx) ? null : `the slot of node ${idx} is not parked`
}

/**
 * The typed metadata permission `PointsTo<MetaSlot, Metadata<PageTablePageMeta>>` of the node at
 * `idx`: it is the node's (`self_addr == meta_addr(idx)`), initialised (node storage, vtable) and
 * well-formed (exec cells == the permission's cells).
 */
export function metaPermFailure(s: Snapshot, idx: number): string | null {
  const owner = ownerOf(s, idx)
  if (owner.selfAddr !== metaAddr(idx)) return `the permission of slot ${idx} is at ${owner.selfAddr}, not the node's meta address ${metaAddr(idx)}`
  const exec = slotOf(s, idx)
  if (nodeStorage(owner.innerPerms) === null || owner.innerPerms.vtablePtr === null) return `the metadata permission of slot ${idx} is not an initialised PageTablePageMeta`
  const inv = regionInvAt(s, idx)
  if (inv !== null) return inv
  return nodeStorage(exec) === null ? `slot ${idx} does not hold a PageTablePageMeta` : null
}

/** REQ-GUARD-LOCKED-1: the guard's node is live and its lock is held (`Guards` contains it). */
export function guardLocked<E extends ModelEvent>(field: keyof E & string): Requirement<E> {
  return {
    rule: 'REQ-GUARD-LOCKED-1',
    kind: 'requires',
    summary: "[model] A `PageTableGuard` is used only while it holds its node's lock: the node is live (it has a `NodeOwner`) and its meta address is in `Guards` (dropping the guard releases it).",
    check: (s, e) => {
      const idx = guardSlot(s, e[field] as number)
      if (idx === null) return null // REQ-HANDLE-1
      if (nodeOwnerAt(s, idx) === null) return `guard ${String(e[field])} refers to slot ${idx}, which is not a live page-table node`
      return tableGet(s.pt.locks, idx) === null ? `guard ${String(e[field])}: the lock of node ${idx} is not held` : null
    },
  }
}

// ---- allocation ----------------------------------------------------------------------------

/** REQ-NODE-ALLOCMEM-1: `alloc_frame_with(meta).expect(..)` panics when no frame is free. */
const allocMem: Requirement<ModelEvent> = {
  rule: 'REQ-NODE-ALLOCMEM-1',
  kind: 'panic',
  summary: '[model] `PageTableNode::alloc` (and `PageTable::empty`) panics when no frame is free: `alloc_frame_with(meta).expect("Failed to allocate a page table node")`.',
  check: (s) => (pickFrame(s) === null ? 'out of memory: no free frame for a page-table node ("Failed to allocate a page table node")' : null),
}

/** REQ-NODE-ALLOC-3 (`regions.inv()`), evaluated at the slot the allocator will claim. */
const allocRegions: Requirement<ModelEvent> = {
  rule: 'REQ-NODE-ALLOC-3',
  kind: 'requires',
  check: (s) => {
    const pick = pickFrame(s)
    return pick === null ? null : regionInvAt(s, pick.firstIndex)
  },
}

/**
 * Claims the frame the allocator picks as a page-table node: `alloc_frame_with(meta)` with
 * `zeroed(true)` — `get_from_unused` with `PTNode` storage, rc 1, usage `PageTable` (MD-5), the
 * page zero-filled (512 absent PTEs), one obligation minted, a new `PageTableNode` handle — and
 * the ghost owner record (`freshNodeRecord`). `at` claims that slot instead of the allocator's
 * pick (for faulty variants in tests).
 */
export function claimNode(s: Snapshot, level: number, config: PtConfigName, root: boolean, at?: number): { snapshot: Snapshot; node: number; paddr: number } {
  const pick = at === undefined ? pickFrame(s) : null
  if (at === undefined && pick === null) throw new Error('claimNode: no free frame (REQ-NODE-ALLOCMEM-1 should have panicked)')
  const idx = at ?? pick!.firstIndex
  const paddr = indexToFrame(idx)
  const cells: MetaSlotCells = { refCount: 1, storage: newNodeStorage(level, config), vtablePtr: 0, inList: 0 }
  let node = -1
  const snapshot = editSnapshot(s, (d, t) => {
    if (pick !== null) takePick(d, pick)
    putSlot(t, idx, cells)
    patchOwner(t, s, idx, { innerPerms: cells, usage: PageUsage.PageTable })
    t.memory.set(idx, null)
    node = freshId(d, 'ptNode')
    t.ptNodes.set(node, { paddr })
    addObligation(t, idx, +1)
    t.ptOwners.set(idx, freshNodeRecord(idx, level, config, root))
  })
  return { snapshot, node, paddr }
}

export const PtNodeAllocEvent = z.object({
  type: z.literal('page_table_node.alloc'),
  level: z.number().int(),
  config: PtConfigSchema,
  /** Ghost (`Tracked(parent_owner)`): the node the new one will be installed in, by physical address. */
  parent: Addr.optional(),
  /** Ghost (`Ghost(idx)`): the index in `parent` where the new node will be installed. */
  parentIdx: z.number().int().nonnegative().optional(),
})
export type PtNodeAllocEvent = z.infer<typeof PtNodeAllocEvent>
export interface PtNodeAllocResult {
  readonly node: number
  readonly paddr: number
}

/**
 * `PageTableNode::alloc(level)` — a new empty node **at `level`** (MD-6), held by a fresh
 * `PageTableNode` handle: the allocator picks a frame (LIFO reuse), the slot is claimed with
 * `PageTablePageMeta::new(level)` (`nr_children 0`, `stray false`, lock 0), rc 1, usage
 * `PageTable` (MD-5), the page is zeroed (512 absent PTEs), one obligation is minted. Ghost: the
 * node's owner record, the root of a detached tree of its own (`tree` = its slot, empty path,
 * `parent_level = level + 1`, `in_scope`; all 512 entries absent). The new node is not locked.
 *
 * `parent` / `parentIdx` are the ghost arguments of the seed (`Tracked(parent_owner)`,
 * `Ghost(idx)`): where the caller will install the node. The seed ensures the parent's PTE
 * already holds `new_pt(pa)` (ENS-NODE-ALLOC-11) although nothing here writes it; MD-13 checks
 * that pre-announcement at the end of the enclosing `entry.alloc_if_none` /
 * `entry.split_if_mapped_huge`, whose internal step this is. Dispatched on its own, the
 * announcement is not checked.
 *
 * Panics (`.expect`) when no frame is free (REQ-NODE-ALLOCMEM-1).
 *
 * Requires REQ-NODE-ALLOC-1..4, REQ-NODE-ALLOCMEM-1. Owes ENS-NODE-ALLOC-1..12.
 */
export const ptNodeAlloc = defineEvent<PtNodeAllocEvent, PtNodeAllocResult>({
  type: 'page_table_node.alloc',
  doc: 'PageTableNode::alloc(level): a new empty page-table node at `level` (1..3), zeroed, rc 1, held by a new PageTableNode handle.',
  schema: PtNodeAllocEvent,
  requires: [
    {
      rule: 'REQ-NODE-ALLOC-1',
      kind: 'requires',
      check: (_s, e) => (Number.isInteger(e.level) && e.level >= 1 && e.level < NR_LEVELS ? null : `level ${e.level} is outside 1..${NR_LEVELS - 1} (a root is made by PageTable::empty)`),
    },
    {
      rule: 'REQ-NODE-ALLOC-2',
      kind: 'requires',
      check: (_s, e) => (e.parentIdx === undefined || e.parentIdx < NR_ENTRIES ? null : `the index in the parent ${e.parentIdx} is not below ${NR_ENTRIES}`),
    },
    allocRegions as Requirement<PtNodeAllocEvent>,
    {
      rule: 'REQ-NODE-ALLOC-4',
      kind: 'requires',
      check: (s, e) => {
        if (e.parent === undefined) return null
        const bad = nodePaddrFailure(s, e.parent)
        if (bad !== null) return `parent: ${bad}`
        const idx = frameToIndex(e.parent)
        const record = nodeOwnerAt(s, idx)
        if (record === null) return `the parent ${hex(e.parent)} is not a page-table node (no NodeOwner)`
        const failures = nodeOwnerInv(s, record, idx, `pt.owners[${idx}]`)
        return failures.length === 0 ? null : `the parent's NodeOwner breaks ${failures[0]!.rule}: ${failures[0]!.message}`
      },
    },
    allocMem as Requirement<PtNodeAllocEvent>,
  ],
  reduce(s, e) {
    const { snapshot, node, paddr } = claimNode(s, e.level, e.config, false)
    return { snapshot, result: { node, paddr } }
  },
})

export const PageTableEmptyEvent = z.object({ type: z.literal('page_table.empty'), config: PtConfigSchema })
export type PageTableEmptyEvent = z.infer<typeof PageTableEmptyEvent>

/**
 * `PageTable::<C>::empty()` — a page table with no mappings: a new root node at level 4
 * (upstream calls `PageTableNode::alloc(C::NR_LEVELS)`, which REQ-NODE-ALLOC-1 forbids the
 * verified `alloc`; hence an event of its own). The root is tree-owned: its record is the root
 * of its own tree with an empty path, `parent_level 5`, `in_scope false` (INV-TREE-3). All 512
 * PTEs are absent, so the entries outside `TOP_LEVEL_INDEX_RANGE` are too (INV-TREE-4). Until
 * the page-table registry exists (issue #4) the root is held by the returned `PageTableNode`.
 *
 * Requires REQ-NODE-ALLOC-3, REQ-NODE-ALLOCMEM-1. Owes ENS-PT-EMPTY-1.
 */
export const pageTableEmpty = defineEvent<PageTableEmptyEvent, PtNodeAllocResult>({
  type: 'page_table.empty',
  doc: 'PageTable::empty(): a new empty page table, i.e. a level-4 root node held by a new PageTableNode handle.',
  schema: PageTableEmptyEvent,
  requires: [allocRegions as Requirement<PageTableEmptyEvent>, allocMem as Requirement<PageTableEmptyEvent>],
  reduce(s, e) {
    const { snapshot, node, paddr } = claimNode(s, NR_LEVELS, e.config, true)
    return { snapshot, result: { node, paddr } }
  },
})

// ---- level ---------------------------------------------------------------------------------

export const PtNodeLevelEvent = z.object({ type: z.literal('page_table_node.level'), node: HandleId })
export type PtNodeLevelEvent = z.infer<typeof PtNodeLevelEvent>

/**
 * `PageTableNode::level()` — reads `meta.level` through the node's typed metadata permission.
 * No state change.
 *
 * Requires REQ-HANDLE-1, REQ-NODE-LEVEL-1. Owes ENS-NODE-LEVEL-1.
 */
export const ptNodeLevel = defineEvent<PtNodeLevelEvent, number>({
  type: 'page_table_node.level',
  doc: "PageTableNode::level(): the node's level, read from its metadata.",
  schema: PtNodeLevelEvent,
  requires: [
    liveNodeHandle('node'),
    {
      rule: 'REQ-NODE-LEVEL-1',
      kind: 'requires',
      check: (s, e) => {
        const idx = nodeHandleSlot(s, e.node)
        return idx === null ? null : metaPermFailure(s, idx)
      },
    },
  ],
  reduce(s, e) {
    return { snapshot: s, result: execNodeStorage(s, nodeHandleSlot(s, e.node)!)!.level }
  },
})

// ---- drop and on_drop ----------------------------------------------------------------------

/**
 * The path a node taken out of its parent still records: `Entry::replace` keeps `paths_in_pt`
 * of the old child (ENS-ENTRY-REPLACE-12) while its record is `in_scope`; dropping the last
 * reference forgets it. Null when the node records no such path.
 */
export function staleOwnPath(s: Snapshot, idx: number): string | null {
  const r = nodeOwnerAt(s, idx)
  if (r === null || !r.inScope || r.path === '') return null
  const key = qualifiedPath(r.tree, r.path)
  return ownerOf(s, idx).pathsInPt.includes(key) ? key : null
}

/**
 * `drop_requires` (REQ-FRAME-DROP-1) for a node. Deviation (ghost): `rc == 1 ⟹ paths_in_pt == ∅`
 * is read as "no PTE holds the node": the path of a node taken out of its parent (record
 * `in_scope`, `staleOwnPath`) is tolerated and forgotten by the drop, as `on_drop` does for the
 * children (REQ-PTMETA-ONDROP-3).
 */
export function nodeDropFailure(s: Snapshot, idx: number): string | null {
  const stale = staleOwnPath(s, idx)
  if (stale === null || slotOf(s, idx).refCount !== 1) return frameDropFailure(s, idx)
  const others = ownerOf(s, idx).pathsInPt.filter((p) => p !== stale)
  if (others.length > 0) return `the last reference is dropped while mapped at ${others.join(', ')}`
  return frameDropFailure({ ...s, regions: { ...s.regions, slotOwners: tableWith(s.regions.slotOwners, idx, { ...ownerOf(s, idx), pathsInPt: [] }) } }, idx)
}

export const PtNodeDropEvent = z.object({ type: z.literal('page_table_node.drop'), node: HandleId })
export type PtNodeDropEvent = z.infer<typeof PtNodeDropEvent>

/**
 * Drop of a `PageTableNode` (`Frame<PageTablePageMeta>::drop`, operations.md §1.4): one reference
 * and one obligation are released and the handle leaves the registry. The last reference runs
 * `PageTablePageMeta::on_drop` (an internal step, `page_table_page_meta.on_drop`, which releases
 * the node's children), then tears the slot down (`drop_last_in_place`: rc UNUSED, storage and
 * vtable uninitialised, usage stays `PageTable`), removes the node's owner record, and returns
 * the frame to the allocator (LIFO).
 *
 * Model: OSTD decrements rc to 0 before `drop_last_in_place` runs `on_drop`; the model keeps the
 * slot at rc 1 while `on_drop` runs (rc 0, "busy", is never observed between steps, INV-SLOT-5)
 * and frees it in one step after. The handle and its obligation are released first, so that
 * `on_drop` sees the node referenced by nothing (REQ-PTMETA-ONDROP-6).
 *
 * Requires REQ-HANDLE-1, REQ-FRAME-DROP-1 (`drop_requires` of `Frame`, as for `frame.drop`, but
 * see `nodeDropFailure`). Owes ENS-NODE-DROP-1..2 (model: ENS-FRAME-DROP-1/2 restated for a node, whose
 * last drop changes the children's slots too).
 */
export const ptNodeDrop: EventSpec<PtNodeDropEvent, null> = defineEvent<PtNodeDropEvent, null>({
  type: 'page_table_node.drop',
  doc: 'Drop of a PageTableNode: release one reference; the last one runs on_drop (releasing the children) and frees the node.',
  schema: PtNodeDropEvent,
  requires: [
    liveNodeHandle('node'),
    {
      rule: 'REQ-FRAME-DROP-1',
      kind: 'requires',
      check: (s, e) => {
        const idx = nodeHandleSlot(s, e.node)
        return idx === null ? null : nodeDropFailure(s, idx)
      },
    },
  ],
  reduce(s, e) {
    const { paddr } = nodeHandle(s, e.node)!
    const idx = frameToIndex(paddr)
    const exec = slotOf(s, idx)
    const stale = staleOwnPath(s, idx)
    if (exec.refCount !== 1) {
      const snapshot = editSnapshot(s, (_d, t) => {
        t.ptNodes.set(e.node, null)
        addObligation(t, idx, -1)
        putSlot(t, idx, { ...exec, refCount: exec.refCount - 1 })
        const ghost = ownerOf(s, idx).innerPerms
        patchOwner(t, s, idx, { innerPerms: { ...ghost, refCount: ghost.refCount - 1 } })
      })
      return { snapshot, result: null }
    }
    const rec = new StepRecorder(s)
    // The handle is consumed: its reference is the one being dropped.
    rec.set(
      editSnapshot(s, (_d, t) => {
        t.ptNodes.set(e.node, null)
        addObligation(t, idx, -1)
        if (stale !== null) patchOwner(t, s, idx, { pathsInPt: ownerOf(s, idx).pathsInPt.filter((p) => p !== stale) })
      }),
    )
    rec.run(ptMetaOnDrop, { type: 'page_table_page_meta.on_drop', paddr })
    const cur = rec.snapshot
    const snapshot = editSnapshot(cur, (d, t) => {
      putSlot(t, idx, tornDownCells(slotOf(cur, idx)))
      patchOwner(t, cur, idx, { innerPerms: tornDownCells(ownerOf(cur, idx).innerPerms) })
      t.ptOwners.set(idx, null)
      t.ptLocks.set(idx, null)
      releaseFrame(d, t, idx)
    })
    return { snapshot, result: null, steps: rec.steps }
  },
})

export const PtMetaOnDropEvent = z.object({ type: z.literal('page_table_page_meta.on_drop'), paddr: Addr })
export type PtMetaOnDropEvent = z.infer<typeof PtMetaOnDropEvent>

/** A present PTE `on_drop` visits: its index, word, and what it references. */
export interface OnDropChild {
  readonly idx: number
  readonly pte: Pte
  readonly paddr: number
  readonly slot: number
  /** `!is_last(level)`: a child node (else a mapped item). */
  readonly node: boolean
  /** For items: whether the configuration tracks it (a reference counted frame). */
  readonly tracked: boolean
}

/**
 * Whether `C::item_from_raw(pa, level, prop)` yields a tracked (reference counted) item: the user
 * configuration tracks every item, the untracked configuration none, the kernel configuration
 * those whose property carries `AVAIL1` (constants.md §5: `item_into_raw` sets it for
 * `MappedItem::Tracked`).
 */
export function itemTracked(config: PtConfigName, pte: Pte): boolean {
  const items = ptConfig(config).items
  if (items === 'tracked') return true
  if (items === 'untracked') return false
  return (pteProp(pte).flags & PageFlags.AVAIL1) !== 0
}

/** The present PTEs `on_drop` walks: the managed index range of the node's level (§4 (a)1–3). */
export function onDropChildren(s: Snapshot, idx: number): OnDropChild[] {
  const meta = execNodeStorage(s, idx)
  if (meta === null) return []
  const [start, end] = managedIndexRange(ptConfig(meta.config), meta.level, NR_LEVELS)
  const out: OnDropChild[] = []
  for (let i = start; i < end; i++) {
    const pte = readPte(s, idx, i)
    if (!isPresent(pte)) continue
    const paddr = ptePaddr(pte)
    const node = !isLast(pte, meta.level)
    out.push({ idx: i, pte, paddr, slot: frameToIndex(paddr), node, tracked: node || itemTracked(meta.config, pte) })
  }
  return out
}

/** The qualified path of entry `i` of the node at `idx` (from its owner record), or null. */
function entryKey(s: Snapshot, idx: number, i: number): string | null {
  const r = nodeOwnerAt(s, idx)
  return r === null ? null : qualifiedPath(r.tree, childPath(r.path, i))
}

/**
 * `PageTablePageMeta::on_drop` — run by the drop of the last reference to a node: for each
 * present PTE in the managed index range (`TOP_LEVEL_INDEX_RANGE` at the root, else all 512):
 *
 * - a child node (`!is_last`) is revived (`Frame::from_raw`: a `PageTableNode` handle, raw_count
 *   − 1, one obligation minted) and dropped — an internal `page_table_node.drop` step, which runs
 *   the child's own `on_drop` when its count reaches 0;
 * - a mapped item (`is_last`) is restored with `C::item_from_raw` and dropped: a tracked frame's
 *   reference moves from the PTE into a `Frame` handle (its path leaves `paths_in_pt`, a handle
 *   and an obligation appear: rc unchanged), and an internal `frame.drop` step releases it (rc − 1,
 *   teardown and back to the allocator at the last reference); an untracked item holds nothing.
 *
 * The node's own PTEs, `nr_children` and `paths_in_pt` are not modified.
 *
 * Model: the PTEs are read directly from the node's page (no `VmReader` / `VmIoOwner`: the
 * reader of the seed is the node's own PTE array, REQ-PTMETA-ONDROP-1). `from_raw` and
 * `item_from_raw` are bookkeeping inside this step, not events. Deviation (ghost): the spec's
 * REQ-PTMETA-ONDROP-3 wants the caller to have cleared the children's `paths_in_pt` before
 * `on_drop`; no caller does (the node's drop has no ghost tree to do it with), so `on_drop`
 * removes each child's path — and takes the child out of the node's owner record (the entry
 * becomes absent, a child node's record `in_scope`, as `replace` does) — just before releasing it.
 *
 * Requires REQ-PTMETA-ONDROP-1..6. Owes ENS-PTMETA-ONDROP-1..3 (-1 is `regions.inv()` at the
 * slots the step touched; its reader facts have no counterpart in the model).
 */
export const ptMetaOnDrop: EventSpec<PtMetaOnDropEvent, null> = defineEvent<PtMetaOnDropEvent, null>({
  type: 'page_table_page_meta.on_drop',
  doc: "PageTablePageMeta::on_drop: release every child of a node being freed (child nodes recursively, tracked frames' references).",
  schema: PtMetaOnDropEvent,
  requires: [
    {
      rule: 'REQ-PTMETA-ONDROP-1',
      kind: 'requires',
      check: (s, e) => {
        const bad = nodePaddrFailure(s, e.paddr)
        if (bad !== null) return bad
        const idx = frameToIndex(e.paddr)
        return execNodeStorage(s, idx) === null ? `slot ${idx} holds no PageTablePageMeta: there is no PTE array to walk` : null
      },
    },
    // Walk coverage and uniqueness first: the per-child clauses rely on them.
    {
      rule: 'REQ-PTMETA-ONDROP-4',
      kind: 'requires',
      check: (s, e) => {
        if (nodePaddrFailure(s, e.paddr) !== null) return null
        for (const c of onDropChildren(s, frameToIndex(e.paddr))) {
          if (c.node && (!isPhysicalSlot(s, c.slot) || !isParked(s, c.slot))) return `PTE ${c.idx} points to a child node at ${hex(c.paddr)}, which is not a parked slot`
        }
        return null
      },
    },
    {
      rule: 'REQ-PTMETA-ONDROP-5',
      kind: 'requires',
      check: (s, e) => {
        if (nodePaddrFailure(s, e.paddr) !== null) return null
        const seen = new Map<number, number>()
        for (const c of onDropChildren(s, frameToIndex(e.paddr))) {
          if (!c.node) continue
          const other = seen.get(c.paddr)
          if (other !== undefined) return `PTEs ${other} and ${c.idx} both point to the child node at ${hex(c.paddr)}`
          seen.set(c.paddr, c.idx)
        }
        return null
      },
    },
    {
      rule: 'REQ-PTMETA-ONDROP-2',
      kind: 'requires',
      check: (s, e) => {
        if (nodePaddrFailure(s, e.paddr) !== null) return null
        const idx = frameToIndex(e.paddr)
        for (const i of [idx, ...onDropChildren(s, idx).map((c) => c.slot)]) {
          if (!isPhysicalSlot(s, i)) continue // REQ-PTMETA-ONDROP-4
          const inv = regionInvAt(s, i)
          if (inv !== null) return inv
        }
        return null
      },
    },
    {
      rule: 'REQ-PTMETA-ONDROP-3',
      kind: 'requires',
      check: (s, e) => {
        if (nodePaddrFailure(s, e.paddr) !== null) return null
        const idx = frameToIndex(e.paddr)
        for (const c of onDropChildren(s, idx)) {
          if (!c.node || !isPhysicalSlot(s, c.slot)) continue
          const fromRaw = frameFromRawFailure(s, c.paddr)
          if (fromRaw !== null) return `child node at PTE ${c.idx}: ${fromRaw}`
          const o = ownerOf(s, c.slot)
          const rc = o.innerPerms.refCount
          if (!(rc > 0 && rc <= REF_COUNT_MAX)) return `child node at PTE ${c.idx} (slot ${c.slot}) has rc ${refCountName(rc)}`
          if (o.usage !== PageUsage.PageTable || execNodeStorage(s, c.slot) === null) return `PTE ${c.idx} points to slot ${c.slot}, which is not a page-table node (usage ${o.usage})`
          if (rc === 1) {
            if (o.innerPerms.storage === null || o.innerPerms.inList !== 0) return `child node at PTE ${c.idx} (slot ${c.slot}): the last reference has no metadata or is in a list`
            const own = entryKey(s, idx, c.idx)
            const stray = o.pathsInPt.filter((p) => p !== own)
            if (stray.length > 0) return `child node at PTE ${c.idx} (slot ${c.slot}) is still referenced from ${stray.join(', ')}`
          }
        }
        return null
      },
    },
    {
      rule: 'REQ-PTMETA-ONDROP-6',
      kind: 'requires',
      summary:
        "[model] `on_drop` runs only inside the drop of a node's last reference: the node has its owner record, rc 1, and nothing else refers to it — no `PageTableNode` handle, no `Child::PageTable` value, no parent PTE (`paths_in_pt` empty), no lock held (no `PageTableGuard` borrows it).",
      check: (s, e) => {
        if (nodePaddrFailure(s, e.paddr) !== null) return null
        const idx = frameToIndex(e.paddr)
        if (nodeOwnerAt(s, idx) === null) return `slot ${idx} has no NodeOwner`
        const o = ownerOf(s, idx)
        if (o.innerPerms.refCount !== 1) return `the node at slot ${idx} has rc ${refCountName(o.innerPerms.refCount)}, not the last reference`
        const h = nodeHandlesAt(s, idx)
        if (h > 0) return `${h} PageTableNode handle(s) still refer to node ${idx}`
        const c = childValuesAt(s, idx)
        if (c > 0) return `${c} Child::PageTable value(s) still refer to node ${idx}`
        if (o.pathsInPt.length > 0) return `node ${idx} is still installed at ${o.pathsInPt.join(', ')}`
        if (tableGet(s.pt.locks, idx) !== null || (execNodeStorage(s, idx)?.lock ?? 0) !== 0) return `node ${idx} is locked`
        return null
      },
    },
  ],
  reduce(s, e) {
    const idx = frameToIndex(e.paddr)
    const rec = new StepRecorder(s)
    for (const c of onDropChildren(s, idx)) {
      if (!c.node && !c.tracked) continue // an untracked item: item_from_raw holds nothing to drop
      const cur = rec.snapshot
      const key = entryKey(cur, idx, c.idx)
      let handle = -1
      rec.set(
        editSnapshot(cur, (d, t) => {
          // Ghost: take the child out of the node's owner record and forget its path here.
          const parent = t.ptOwners.get(idx)
          if (parent !== null) {
            const children = parent.children
            if (tableGet(children, c.idx) !== null) {
              patchRecord(t, idx, { children: tableWith(children, c.idx, null) })
            }
          }
          const o = ownerNow(t, cur, c.slot)
          if (key !== null && o.pathsInPt.includes(key)) t.slotOwners.set(c.slot, { ...o, pathsInPt: o.pathsInPt.filter((p) => p !== key) })
          if (c.node) {
            // Frame::from_raw(paddr): a PageTableNode handle, raw_count − 1 ([APR]), one obligation minted ([JUN]).
            patchRecord(t, c.slot, { inScope: true })
            handle = freshId(d, 'ptNode')
            t.ptNodes.set(handle, { paddr: c.paddr })
            addObligation(t, c.slot, +1)
            const now = ownerNow(t, cur, c.slot)
            t.slotOwners.set(c.slot, { ...now, rawCount: now.rawCount - 1 })
          } else {
            // C::item_from_raw(paddr, level, prop) of a tracked item: the PTE's reference becomes a Frame.
            handle = freshId(d, 'frame')
            t.frames.set(handle, { paddr: c.paddr })
            addObligation(t, c.slot, +1)
          }
        }),
      )
      if (c.node) rec.run(ptNodeDrop, { type: 'page_table_node.drop', node: handle })
      else rec.run(frameDrop, { type: 'frame.drop', frame: handle })
    }
    return { snapshot: rec.snapshot, result: null, steps: rec.steps }
  },
})

// ---- lock / make_guard_unchecked -----------------------------------------------------------

export const PtNodeRefLockEvent = z.object({ type: z.literal('page_table_node_ref.lock'), paddr: Addr })
export type PtNodeRefLockEvent = z.infer<typeof PtNodeRefLockEvent>
export const PtNodeRefMakeGuardEvent = z.object({ type: z.literal('page_table_node_ref.make_guard_unchecked'), paddr: Addr })
export type PtNodeRefMakeGuardEvent = z.infer<typeof PtNodeRefMakeGuardEvent>
export interface PtGuardResult {
  readonly guard: number
}

/** `self.invariants(owner)` for a `PageTableNodeRef` named by its physical address. */
function nodeRefFailure(s: Snapshot, paddr: number): string | null {
  return nodePaddrFailure(s, paddr) ?? nodeInvariantsFailure(s, frameToIndex(paddr))
}

/**
 * `PageTableNodeRef::lock(rcu_guard)` — spins until the CAS `lock: 0 -> 1` succeeds and returns
 * a `PageTableGuard`. The model never blocks: locking a node whose lock is already held (by a
 * guard of this model, or a forgotten one: lock byte 1) would spin forever, and panics instead
 * (REQ-NODE-LOCK-2), state unchanged. On success: lock byte 1 (exec cell and its permission),
 * `Guards += node`, a new guard handle.
 *
 * Requires REQ-NODE-LOCK-1, REQ-NODE-LOCK-2. Owes ENS-NODE-LOCK-1..4.
 */
export const ptNodeRefLock = defineEvent<PtNodeRefLockEvent, PtGuardResult>({
  type: 'page_table_node_ref.lock',
  doc: "PageTableNodeRef::lock: take the node's spin lock (lock byte 0 -> 1) and return a PageTableGuard.",
  schema: PtNodeRefLockEvent,
  requires: [
    { rule: 'REQ-NODE-LOCK-1', kind: 'requires', check: (s, e) => nodeRefFailure(s, e.paddr) },
    {
      rule: 'REQ-NODE-LOCK-2',
      kind: 'panic',
      check: (s, e) => {
        if (nodePaddrFailure(s, e.paddr) !== null) return null
        const idx = frameToIndex(e.paddr)
        if (tableGet(s.pt.locks, idx) !== null) return `deadlock: the lock of node ${idx} is already held by this task`
        if ((execNodeStorage(s, idx)?.lock ?? 0) !== 0) return `deadlock: the lock byte of node ${idx} is already 1 (a forgotten guard holds it)`
        return null
      },
    },
  ],
  reduce(s, e) {
    const idx = frameToIndex(e.paddr)
    let guard = -1
    const snapshot = editSnapshot(s, (d, t) => {
      editNodeStorage(t, s, idx, (m) => ({ ...m, lock: 1 }))
      t.ptLocks.set(idx, true)
      guard = freshId(d, 'ptGuard')
      t.ptGuards.set(guard, { paddr: e.paddr })
    })
    return { snapshot, result: { guard } }
  },
})

/**
 * `PageTableNodeRef::make_guard_unchecked(rcu_guard)` (unsafe) — a `PageTableGuard` for a node
 * whose lock this task logically holds already: ghost `Guards += node` and a guard handle; the
 * lock byte is not touched. Called on a node whose lock byte is 0, the guard holds no lock:
 * INV-GUARD-1 reports it ("the caller is responsible for the lock byte already being 1").
 *
 * Requires REQ-NODE-MKGUARD-1, REQ-NODE-MKGUARD-2. Owes ENS-NODE-MKGUARD-1..3.
 */
export const ptNodeRefMakeGuard = defineEvent<PtNodeRefMakeGuardEvent, PtGuardResult>({
  type: 'page_table_node_ref.make_guard_unchecked',
  doc: 'PageTableNodeRef::make_guard_unchecked: a PageTableGuard for a node whose lock the task already holds (the lock byte is not touched).',
  schema: PtNodeRefMakeGuardEvent,
  requires: [
    { rule: 'REQ-NODE-MKGUARD-1', kind: 'requires', check: (s, e) => nodeRefFailure(s, e.paddr) },
    {
      rule: 'REQ-NODE-MKGUARD-2',
      kind: 'requires',
      check: (s, e) => {
        if (nodePaddrFailure(s, e.paddr) !== null) return null
        const idx = frameToIndex(e.paddr)
        return tableGet(s.pt.locks, idx) === null ? null : `Guards already holds node ${idx} (a second guard for a held lock)`
      },
    },
  ],
  reduce(s, e) {
    const idx = frameToIndex(e.paddr)
    let guard = -1
    const snapshot = editSnapshot(s, (d, t) => {
      t.ptLocks.set(idx, true)
      guard = freshId(d, 'ptGuard')
      t.ptGuards.set(guard, { paddr: e.paddr })
    })
    return { snapshot, result: { guard } }
  },
})

export const ptNodeEvents: readonly AnyEventSpec[] = [
  ptNodeAlloc,
  pageTableEmpty,
  ptNodeLevel,
  ptNodeDrop,
  ptMetaOnDrop,
  ptNodeRefLock,
  ptNodeRefMakeGuard,
] as unknown as readonly AnyEventSpec[]
