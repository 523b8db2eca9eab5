/**
 * The ghost owner tree read as the spec's `OwnerSubtree` / `PageTableOwner` (state.md §7), over
 * the flat records of src/model/page_table.ts: which records are tree roots, and who refers to
 * whom.
 *
 * The records keep no parent pointer (a child entry names its node by slot), so the questions
 * "which node entries name slot d" (INV-TREE-3, -7) and "which frame entries map slot f"
 * (INV-TREE-8) are answered by a reverse index of the owner records' entries. It is a pure
 * function of the `pt.owners` table, kept in one module-level copy that moves from the table it
 * describes to the one asked about by diffing the two (`tableDiff` skips shared chunks), so the
 * cost follows what changed between them, not the size of the trees. Callers get copies and must
 * not hold the index across calls.
 */
import { NR_ENTRIES, NR_LEVELS, PAGE_SIZE } from '../../arch/constants.js'
import type { ChildEntryOwner, LeafEntryOwner, PtEntryHandle, PtGuardHandle, PtNodeOwner } from '../page_table.js'
import type { Snapshot } from '../snapshot.js'
import { emptyTable, tableDiff, tableForEach, tableGet, type Table } from '../table.js'

// ---- roots -----------------------------------------------------------------------------------

/**
 * A record is the root of its tree when its path is empty: a page table's root (`PageTable::empty`,
 * tree-owned, level 4) or a node `PageTableNode::alloc` made (a detached tree of its own, held by
 * code). Every other record sits at an entry of its tree (or was taken out of one, in scope).
 */
export function isTreeRoot(r: PtNodeOwner): boolean {
  return r.path === ''
}

/** The root of a whole page table: a tree root at the top level (`alloc` cannot make a level-4 node). */
export function isPageTableRoot(r: PtNodeOwner): boolean {
  return r.path === '' && r.level === NR_LEVELS
}

/** The path key of the parent entry's node (`"3.0"` for `"3.0.511"`), or null for a root. */
export function parentPathOf(path: string): string | null {
  if (path === '') return null
  const dot = path.lastIndexOf('.')
  return dot < 0 ? '' : path.slice(0, dot)
}

// ---- the reverse index of tree entries -------------------------------------------------------

/** The unit of entry `idx` of the node at `slot` (the checker's `ptEntry` unit). */
function unitOf(slot: number, idx: number): number {
  return slot * NR_ENTRIES + idx
}

/** The slot a stored child entry refers to: a node's slot, a frame's (head) slot; else null. */
export function referencedSlotOf(c: ChildEntryOwner | null): { slot: number; kind: 'node' | 'frame' } | null {
  if (c === null || typeof c !== 'object') return null
  if (c.kind === 'node') return Number.isSafeInteger(c.slot) && c.slot >= 0 ? { slot: c.slot, kind: 'node' } : null
  if (c.kind === 'frame') {
    const pa = (c as Extract<LeafEntryOwner, { kind: 'frame' }>).frame?.mappedPa
    return Number.isSafeInteger(pa) && pa >= 0 ? { slot: Math.floor(pa / PAGE_SIZE), kind: 'frame' } : null
  }
  return null
}

const EMPTY_CHILDREN: Table<ChildEntryOwner> = emptyTable(NR_ENTRIES)

/** A record's entries (an empty table for a malformed record: the index never throws). */
function childrenOf(r: PtNodeOwner | null): Table<ChildEntryOwner> {
  const c = r !== null && typeof r === 'object' ? (r as { children?: unknown }).children : undefined
  return c !== null && typeof c === 'object' && typeof (c as Table<unknown>).depth === 'number' ? (c as Table<ChildEntryOwner>) : EMPTY_CHILDREN
}

interface RefIndex {
  owners: Table<PtNodeOwner>
  /** Slot → units of the node entries naming it. */
  readonly nodeRefs: Map<number, Set<number>>
  /** Slot → units of the frame entries mapping it (a huge frame: its head slot). */
  readonly frameRefs: Map<number, Set<number>>
  /** Units of the entries a cursor holds (`locked`). */
  readonly locked: Set<number>
}

function freshIndex(): RefIndex {
  return { owners: emptyTable(), nodeRefs: new Map(), frameRefs: new Map(), locked: new Set() }
}

let index: RefIndex = freshIndex()

function edit(map: Map<number, Set<number>>, slot: number, unit: number, add: boolean): void {
  let units = map.get(slot)
  if (add) {
    if (units === undefined) map.set(slot, (units = new Set()))
    units.add(unit)
  } else if (units !== undefined) {
    units.delete(unit)
    if (units.size === 0) map.delete(slot)
  }
}

/** Adds (or removes) what entry `idx` of the record at `slot` contributes to the index. */
function account(ix: RefIndex, slot: number, idx: number, c: ChildEntryOwner | null, add: boolean): void {
  // Keys beyond the 512 entries are INV-TREE-1's; they are no entry (their unit would alias another node's).
  if (c === null || !(idx >= 0 && idx < NR_ENTRIES)) return
  const unit = unitOf(slot, idx)
  const ref = referencedSlotOf(c)
  if (ref !== null) edit(ref.kind === 'node' ? ix.nodeRefs : ix.frameRefs, ref.slot, unit, add)
  if (typeof c === 'object' && c.kind === 'locked') {
    if (add) ix.locked.add(unit)
    else ix.locked.delete(unit)
  }
}

function moveIndex(ix: RefIndex, owners: Table<PtNodeOwner>): void {
  tableDiff(ix.owners, owners, (slot, b, a) => {
    const cb = childrenOf(b)
    const ca = childrenOf(a)
    tableDiff(cb, ca, (i, x, y) => {
      account(ix, slot, i, x, false)
      account(ix, slot, i, y, true)
    })
  })
  ix.owners = owners
}

/** The index, describing `s.pt.owners`. */
function indexFor(s: Snapshot): RefIndex {
  if (index.owners !== s.pt.owners) {
    try {
      moveIndex(index, s.pt.owners)
    } catch {
      // A malformed table the diff cannot walk: start over from nothing (the same result), and
      // leave an empty, consistent index behind if even that fails.
      index = freshIndex()
      try {
        moveIndex(index, s.pt.owners)
      } catch (e) {
        index = freshIndex()
        throw e
      }
    }
  }
  return index
}

function sorted(units: Set<number> | undefined): number[] {
  return units === undefined ? [] : [...units].sort((a, b) => a - b)
}

/** Units (`node * 512 + idx`) of the node entries, in every tree, that name slot `slot`. */
export function nodeEntriesNaming(s: Snapshot, slot: number): number[] {
  return sorted(indexFor(s).nodeRefs.get(slot))
}

/** Units of the frame entries, in every tree, that map slot `slot` (as their head slot). */
export function frameEntriesMapping(s: Snapshot, slot: number): number[] {
  return sorted(indexFor(s).frameRefs.get(slot))
}

/** Units of the entries a cursor holds (`locked`), in every tree. */
export function lockedEntries(s: Snapshot): number[] {
  return sorted(indexFor(s).locked)
}

/** Every tree entry referring to `slot` (node or frame), for change marking. */
export function entriesReferring(s: Snapshot, slot: number): number[] {
  const ix = indexFor(s)
  return [...sorted(ix.nodeRefs.get(slot)), ...sorted(ix.frameRefs.get(slot))]
}

/** The index built from scratch (tests compare it with the moved one). */
export function rebuiltIndexOf(s: Snapshot): { nodeRefs: Map<number, number[]>; frameRefs: Map<number, number[]>; locked: number[] } {
  const ix = freshIndex()
  tableForEach(s.pt.owners, (r, slot) => tableForEach(childrenOf(r), (c, i) => account(ix, slot, i, c, true)))
  const flat = (m: Map<number, Set<number>>): Map<number, number[]> => new Map([...m].sort((a, b) => a[0] - b[0]).map(([k, v]) => [k, sorted(v)]))
  return { nodeRefs: flat(ix.nodeRefs), frameRefs: flat(ix.frameRefs), locked: sorted(ix.locked) }
}

/** The moved index at `s`, in the same shape as `rebuiltIndexOf`. */
export function currentIndexOf(s: Snapshot): { nodeRefs: Map<number, number[]>; frameRefs: Map<number, number[]>; locked: number[] } {
  const ix = indexFor(s)
  const flat = (m: Map<number, Set<number>>): Map<number, number[]> => new Map([...m].sort((a, b) => a[0] - b[0]).map(([k, v]) => [k, sorted(v)]))
  return { nodeRefs: flat(ix.nodeRefs), frameRefs: flat(ix.frameRefs), locked: sorted(ix.locked) }
}

// ---- Entry handles by PTE slot -----------------------------------------------------------------

let entriesFor: { entries: Table<PtEntryHandle>; guards: Table<PtGuardHandle>; byUnit: Map<number, number[]> } | null = null

/**
 * Live Entry handles by the PTE slot they cache (unit `node slot * 512 + idx`), for those whose
 * guard is live and whose index is in range: an Entry whose guard was dropped borrows nothing any
 * more (only `entry.drop` is allowed). Read by INV-TREE-9 and by the full check's choice of PTE
 * slots (`MaterialisedEntries`); cached per pair of tables.
 */
export function entryHandlesByUnit(s: Snapshot): ReadonlyMap<number, readonly number[]> {
  if (entriesFor === null || entriesFor.entries !== s.pt.entries || entriesFor.guards !== s.pt.guards) {
    const byUnit = new Map<number, number[]>()
    tableForEach(s.pt.entries, (e, id) => {
      const g = tableGet(s.pt.guards, e.guard)
      if (g === null || !Number.isSafeInteger(g.paddr) || g.paddr < 0 || !(Number.isInteger(e.idx) && e.idx >= 0 && e.idx < NR_ENTRIES)) return
      const u = Math.floor(g.paddr / PAGE_SIZE) * NR_ENTRIES + e.idx
      byUnit.set(u, [...(byUnit.get(u) ?? []), id])
    })
    entriesFor = { entries: s.pt.entries, guards: s.pt.guards, byUnit }
  }
  return entriesFor.byUnit
}
