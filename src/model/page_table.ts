/**
 * Page-table state in the snapshot (state.md §2, §5–§8): the exec handles code holds (nodes,
 * guards, entries, children) and the ghost owner tree, the lock ledger (`Guards`) and the owners
 * of detached children. A page-table node itself is a frame whose slot has usage PageTable
 * (MD-5), `PTNode` storage (its `PageTablePageMeta`) and 512 PTE words in the frame's memory.
 *
 * The ghost owner tree (`OwnerSubtree`) is stored flat, one record per node: `owners[slot]` holds
 * the node's `NodeOwner`, the `EntryOwner` of the entry that holds the node (the subtree's value),
 * and the `EntryOwner`s of its 512 entries; a child node's entry is `{ kind: 'node', slot }` and
 * its fields live in that node's own record. Reducers update it explicitly — it is never rebuilt
 * from the PTE words (INV-MATCH catches the two drifting apart).
 *
 * Conventions every page-table reducer keeps (and the checker checks):
 *
 * - Trees. A record's `tree` is the slot of its tree's root node and `path` is relative to that
 *   root. `PageTableNode::alloc` makes a node that is the root of its own detached tree: `tree =`
 *   its slot, `path = ''`, `inScope = true` (held by code), `parentLevel = level + 1`
 *   (ENS-NODE-ALLOC-2). The root of a page table is tree-owned (`inScope = false`, `path = ''`,
 *   `parentLevel = 5`). Installing a node sub-tree into an entry (`Entry::replace` with
 *   `Child::PageTable`) rebases every record of the sub-tree (tree, path) and sets `inScope =
 *   false` on its top; taking one out (`replace` returning `Child::PageTable`) keeps the records
 *   where they were and sets `inScope = true` on the top.
 * - Paths in slots. `paths_in_pt` holds qualified paths (`qualifiedPath(tree, path)`). A node
 *   installed in a PTE records exactly its own path; a root records none. A tracked frame records
 *   one path per entry mapping it, inserted by the caller *before* `replace` installs it (the
 *   spec's REQ-ENTRY-REPLACE-2), and removed when the mapping's reference is released.
 * - References to a node's slot: `rc = #PageTableNode handles + #Child::PageTable values + (1 if
 *   installed in a PTE)`; `frame_obligations = #handles + #Child::PageTable values` ([JUN]:
 *   `from_pte` mints, `into_pte` redeems); `raw_count = 1 if installed in a PTE` ([APR], MD-1).
 * - References to a tracked frame a PTE maps move from the handle into the PTE: the `Frame`
 *   handle is consumed (H − 1, one obligation redeemed) and its path is inserted (P + 1): `rc` is
 *   unchanged and INV-ACCT-3 (`rc == H + P + cover + R`) still holds; `raw_count` is unchanged.
 *   A `Child::Frame` held by code keeps its path (it is counted in P). Untracked items (MMIO, the
 *   untracked configuration) hold no reference and record no path.
 * - Locks. `locks[slot]` is the ghost `Guards` set; the node's storage `lock` byte is the exec
 *   spin lock (INV-GUARD-1: byte 1 ⟺ in `locks`). A `PageTableGuard` handle holds one lock.
 */
import type { PtConfigName } from '../arch/pt_config.js'
import type { PageProperty } from '../arch/page_prop.js'
import type { Table } from './table.js'
import type { PtCursor } from './pt_cursor.js'

// ---- exec handles ------------------------------------------------------------------------

/** A `PageTableNode` (`Frame<PageTablePageMeta>`): owns one reference to the node. */
export interface PtNodeHandle {
  readonly paddr: number
}

/** A `PageTableGuard`: the node's lock is held through it (it borrows the node). */
export interface PtGuardHandle {
  readonly paddr: number
}

/** An `Entry`: one PTE slot of a locked node, with the PTE word read when it was made. */
export interface PtEntryHandle {
  /** The guard (`PageTableGuard` handle id) of the node that contains the entry. */
  readonly guard: number
  readonly idx: number
  /** The cached PTE word, as 0x-prefixed 16-digit hex (bit-exact). */
  readonly pte: string
}

/** A `Child` value held by code: taken out of a PTE (`from_pte`) or about to go in (`into_pte`). */
export type ChildValue =
  /** Owns one reference to the node (like a `PageTableNode`). */
  | { readonly kind: 'PageTable'; readonly paddr: number }
  /**
   * `config`: the page table's configuration, `Child<C>`'s type parameter — what `item_from_raw`
   * makes of the item (a tracked `Frame` or a raw untracked triple). It stays with the value when
   * the tree it was taken from (or positioned for) is gone.
   */
  | { readonly kind: 'Frame'; readonly paddr: number; readonly level: number; readonly prop: PageProperty; readonly config: PtConfigName }
  | { readonly kind: 'None' }

// ---- ghost owners ------------------------------------------------------------------------

/** The key of a tree path in `paths_in_pt`: the tree's root slot and the path (`"12:3.5.1.2"`). */
export function qualifiedPath(tree: number, path: string): string {
  return `${tree}:${path}`
}

/** The tree and path of a qualified path key. */
export function splitQualifiedPath(key: string): { tree: number; path: string } | null {
  const colon = key.indexOf(':')
  if (colon <= 0) return null
  const tree = Number(key.slice(0, colon))
  return Number.isSafeInteger(tree) && tree >= 0 ? { tree, path: key.slice(colon + 1) } : null
}

/** `FrameEntryOwner` (state.md §6.1). */
export interface FrameEntryOwner {
  readonly mappedPa: number
  readonly size: number
  readonly prop: PageProperty
  /** [JUN] `is_tracked == !is_mmio_paddr(mapped_pa)` (INV-ENTRY-6). */
  readonly isTracked: boolean
}

/**
 * Fields every `EntryOwner` has: its position and whether code holds it (`in_scope`, MD-4).
 *
 * A `TreePath` is relative to the root of its tree, and several trees exist at once (one per page
 * table, and detached sub-trees). `paths_in_pt` records *qualified* paths, `tree:path`
 * (`qualifiedPath`), so that a frame mapped at the same path of two page tables counts twice —
 * Deviation: upstream's `paths_in_pt: Set<TreePath>` would collapse them and break the
 * accounting equation (`P = |paths_in_pt|`) for shared frames (e.g. after fork).
 */
export interface EntryPosition {
  /** The slot of the root node of the entry's tree (for a detached sub-tree, its own root). */
  readonly tree: number
  /** `TreePath` key (`pathKey`): child indices from the root of the tree. */
  readonly path: string
  /** PT level of the node that contains the entry (`5 - path length`). */
  readonly parentLevel: number
  /** true ⟺ the child has been taken out of the tree and is held by code as a `Child`. */
  readonly inScope: boolean
}

/** A non-node `EntryOwner` (frame, absent, or a sub-tree held by a cursor — `locked`). */
export type LeafEntryOwner =
  | ({ readonly kind: 'frame'; readonly frame: FrameEntryOwner } & EntryPosition)
  | ({ readonly kind: 'absent' } & EntryPosition)
  | ({ readonly kind: 'locked' } & EntryPosition)

/** An entry of a node, in its owner record: a leaf owner, or a pointer to a child node's record. */
export type ChildEntryOwner = LeafEntryOwner | { readonly kind: 'node'; readonly slot: number }

/** `PageMetaOwner`: the ghost cells of `nr_children` and `stray`. */
export interface PageMetaOwner {
  readonly nrChildren: number
  readonly stray: boolean
}

/** One node of the ghost owner tree (see the module comment). */
export interface PtNodeOwner extends EntryPosition {
  // NodeOwner (state.md §5.2)
  readonly level: number
  readonly treeLevel: number
  readonly slotIndex: number
  readonly metaOwn: PageMetaOwner
  /** The page table's configuration (the type parameter `C`). */
  readonly config: PtConfigName
  /** The 512 entries' owners; no entry = the canonical absent entry at that index. */
  readonly children: Table<ChildEntryOwner>
}

/**
 * A `PageTable<C>` handle (`PageTable { root: PageTableNode<C> }`, state.md §5.1): it owns its root
 * node through the `PageTableNode` handle `root` (in `pt.nodes`), so the root's reference is
 * counted like any node handle's. Counter `pageTable`.
 */
export interface PageTableHandle {
  readonly config: PtConfigName
  /** The `PageTableNode` handle (an id of `pt.nodes`) through which the page table owns its root. */
  readonly root: number
  /** `root_paddr()`: the physical address of the root node. */
  readonly rootPaddr: number
  /**
   * For a user page table made by `create_user_page_table`: the kernel page table (handle id)
   * whose top-level entries 256..512 its root shares — PTE words copied raw, no reference taken,
   * no ghost entries (INV-TREE-4; the model's INV-PTSHARE-1 checks the words). Otherwise null.
   */
  readonly sharesKernel: number | null
}

/**
 * `BootPageTable` (ostd::mm::page_table::boot_pt): a page table outside the metadata-tracked
 * page-table machinery. Its tables are plain frames (`alloc_frame().into_raw()`, usage Frame,
 * rc 1, raw_count 1) recorded in `frames` for deallocation; it has no owner tree, no locks and
 * no `nr_children`. Frame numbers are `paddr / PAGE_SIZE`, as OSTD keeps them.
 */
export interface BootPageTableState {
  /** Frame number of the root table. */
  readonly rootPt: number
  /** Frame numbers of every table frame the boot page table allocated (the root first). */
  readonly frames: readonly number[]
}

export interface PageTableState {
  /** `PageTable` handles (src/model/pt_tables.ts reads them). */
  readonly tables: Table<PageTableHandle>
  /** The boot page table, once made (reducers/page_table/boot_pt.ts). */
  readonly boot: BootPageTableState | null
  readonly nodes: Table<PtNodeHandle>
  readonly guards: Table<PtGuardHandle>
  readonly entries: Table<PtEntryHandle>
  readonly children: Table<ChildValue>
  /** Ghost: the owner tree, one record per node slot. */
  readonly owners: Table<PtNodeOwner>
  /** Ghost: owners of the `Frame` / `None` children held by code, by child id (node children's are in `owners`). */
  readonly childOwners: Table<LeafEntryOwner>
  /** Ghost `Guards` ([JUN] set): node slots whose lock is held (meta address = `meta_addr(slot)`). */
  readonly locks: Table<true>
  /** Live page-table cursors (src/model/pt_cursor.ts), counter `ptCursor`. */
  readonly cursors: Table<PtCursor>
}
