/**
 * The page-table part of a change set: which nodes (`ptNode` units) and which PTE slots
 * (`ptEntry` units, `node * 512 + index`) a step may have changed the verdict of. An entry's
 * verdict depends on its own owner record, its PTE word, its node's record, the record of the
 * child node it points to, and the slot it references (and, for a huge frame, that frame's
 * sub-page slots); each of those changes marks the entry. Entries are found from a slot through
 * the qualified paths in `paths_in_pt` (walked down from the tree's root), so nothing here scans
 * the whole state.
 */
import { NR_ENTRIES, NR_LEVELS, PAGE_SIZE } from '../arch/constants.js'
import { pathInv, pathLength } from '../model/spec/page_table.js'
import { changedPteIndices } from '../model/memory.js'
import { splitQualifiedPath, type PtNodeOwner } from '../model/page_table.js'
import { ownerOf, slotOf } from '../model/slots.js'
import type { Snapshot } from '../model/snapshot.js'
import { tableDiff, tableForEach, tableGet, tableKeys } from '../model/table.js'
import { frameToIndex, MAX_NR_PAGES } from '../arch/constants.js'
import { isPresent, ptePaddr } from '../arch/pte.js'
import { readPte } from '../model/memory.js'
import type { ChildEntryOwner } from '../model/page_table.js'
import { entriesReferring, entryHandlesByUnit, lockedEntries, referencedSlotOf } from '../model/spec/pt_tree.js'
import { emptyTable, type Table } from '../model/table.js'

export interface PtChanges {
  readonly ptNode: Set<number>
  readonly ptEntry: Set<number>
}

export function entryUnit(nodeSlot: number, idx: number): number {
  return nodeSlot * NR_ENTRIES + idx
}

export function entryOfUnit(unit: number): { node: number; idx: number } {
  return { node: Math.floor(unit / NR_ENTRIES), idx: unit % NR_ENTRIES }
}

/**
 * Which PTE slots of a snapshot are materialised: of every node record, the entries that hold
 * something — a stored ghost owner, a non-zero PTE word, or an Entry handle caching the slot — and
 * all 512 of a node whose path is malformed. Every other entry is the canonical absent owner over
 * a zero word, on which each `ptEntry` rule holds except for INV-ENTRY-4, a function of the node's
 * path alone (entry.ts `nodeInfo`), which is why such a node counts whole. A full check visits the
 * materialised entries only (like the `slot` scope, what the state holds), and an incremental one
 * evaluates a changed entry only if it is materialised after the step (otherwise its verdict is
 * empty). test/unit/full_units.test.ts evaluates every rule on the other entries of generated
 * states; the firing tests and the modes property test compare the two modes.
 */
/** Whether a node's path is well-formed (once per record object). */
const pathOkOf = new WeakMap<PtNodeOwner, boolean>()
function pathOk(node: PtNodeOwner): boolean {
  let ok = pathOkOf.get(node)
  if (ok === undefined) pathOkOf.set(node, (ok = pathInv(node.path) && pathLength(node.path) < NR_LEVELS))
  return ok
}

export class MaterialisedEntries {
  private readonly masks = new Map<number, Uint8Array | null>()

  constructor(private readonly s: Snapshot) {}

  /** The materialised entries of the node at `slot` (null: no node record there). */
  maskOf(slot: number): Uint8Array | null {
    let mask = this.masks.get(slot)
    if (mask !== undefined) return mask
    const node = tableGet(this.s.pt.owners, slot)
    if (node === null) mask = null
    else {
      mask = new Uint8Array(NR_ENTRIES)
      if (!pathOk(node)) mask.fill(1)
      else {
        tableForEach(node.children, (_c, k) => {
          if (k < NR_ENTRIES) mask![k] = 1
        })
        const page = tableGet(this.s.memory, slot)
        if (page !== null) {
          const view = new DataView(page.buffer, page.byteOffset, page.byteLength)
          const words = Math.min(NR_ENTRIES, Math.floor(page.byteLength / 8))
          for (let k = 0; k < words; k++) if (view.getUint32(8 * k, true) !== 0 || view.getUint32(8 * k + 4, true) !== 0) mask[k] = 1
        }
        for (const u of entryHandlesByUnit(this.s).keys()) if (Math.floor(u / NR_ENTRIES) === slot) mask[u - slot * NR_ENTRIES] = 1
      }
    }
    this.masks.set(slot, mask)
    return mask
  }

  /** Whether one entry is materialised (without building its node's mask: a step asks about few). */
  has(unit: number): boolean {
    const slot = Math.floor(unit / NR_ENTRIES)
    const idx = unit - slot * NR_ENTRIES
    const mask = this.masks.get(slot)
    if (mask !== undefined) return mask?.[idx] === 1
    const node = tableGet(this.s.pt.owners, slot)
    if (node === null) return false
    if (tableGet(node.children, idx) !== null || !pathOk(node)) return true
    const page = tableGet(this.s.memory, slot)
    if (page !== null && page.byteLength >= 8 * idx + 8) {
      const view = new DataView(page.buffer, page.byteOffset, page.byteLength)
      if (view.getUint32(8 * idx, true) !== 0 || view.getUint32(8 * idx + 4, true) !== 0) return true
    }
    return entryHandlesByUnit(this.s).has(unit)
  }

  /** Every materialised entry, node by node in slot order. */
  units(): number[] {
    const out: number[] = []
    for (const slot of tableKeys(this.s.pt.owners)) {
      const mask = this.maskOf(slot)!
      for (let i = 0; i < NR_ENTRIES; i++) if (mask[i] === 1) out.push(slot * NR_ENTRIES + i)
    }
    return out
  }
}

/** The materialised PTE slots of `s` (`MaterialisedEntries`): the `ptEntry` units a full check visits. */
export function materialisedEntryUnits(s: Snapshot): number[] {
  return new MaterialisedEntries(s).units()
}

/** The node slot holding the entry at `path` of `tree` (walking down from the root), and the index. */
export function entryAt(s: Snapshot, tree: number, path: string): { node: number; idx: number } | null {
  if (path === '') return null
  const parts = path.split('.').map(Number)
  let node: PtNodeOwner | null = tableGet(s.pt.owners, tree)
  let slot = tree
  for (let k = 0; k < parts.length - 1 && node !== null; k++) {
    const c = tableGet(node.children, parts[k]!)
    if (c === null || c.kind !== 'node') return null
    slot = c.slot
    node = tableGet(s.pt.owners, slot)
  }
  const idx = parts[parts.length - 1]!
  return node === null || !Number.isInteger(idx) || idx < 0 || idx >= NR_ENTRIES ? null : { node: slot, idx }
}

/** A slot is a page-table node in `s` if its storage says so or the owner tree has a record for it. */
function isNodeSlot(s: Snapshot, idx: number): boolean {
  return slotOf(s, idx).storage?.kind === 'PTNode' || ownerOf(s, idx).innerPerms.storage?.kind === 'PTNode' || tableGet(s.pt.owners, idx) !== null
}

/**
 * Whether two records of a node agree on what its entries' verdicts read of it: everything but the
 * entries themselves and `meta_own` (`nr_children` / `stray` is read by the node's own invariants,
 * INV-NODE-1 / -6, at the `ptNode` unit; no `ptEntry` rule reads it, so a map or unmap, which
 * writes it, re-checks the entries it wrote, not all 512).
 */
function sameRecordExceptChildren(a: PtNodeOwner, b: PtNodeOwner): boolean {
  return (
    a.tree === b.tree &&
    a.path === b.path &&
    a.parentLevel === b.parentLevel &&
    a.inScope === b.inScope &&
    a.level === b.level &&
    a.treeLevel === b.treeLevel &&
    a.slotIndex === b.slotIndex &&
    a.config === b.config
  )
}

export function computePtChanges(before: Snapshot, after: Snapshot, slotCells: ReadonlySet<number>, memory: ReadonlySet<number>, slotsOut?: Set<number>): PtChanges {
  const ptNode = new Set<number>()
  const ptEntry = new Set<number>()
  const allEntries = (node: number): void => {
    for (let i = 0; i < NR_ENTRIES; i++) ptEntry.add(entryUnit(node, i))
  }
  /** Marks the entry holding node record `r` (its parent's entry), in the snapshot `s` it belongs to. */
  const holder = (s: Snapshot, r: PtNodeOwner | null): void => {
    if (r === null) return
    const e = entryAt(s, r.tree, r.path)
    if (e !== null) ptEntry.add(entryUnit(e.node, e.idx))
  }
  /** Marks the entries that reference slot `idx` through the qualified paths it records. */
  const referencing = (s: Snapshot, idx: number, pathLength?: number): void => {
    for (const key of ownerOf(s, idx).pathsInPt) {
      const q = splitQualifiedPath(key)
      if (q === null) continue
      if (pathLength !== undefined && (q.path === '' ? 0 : q.path.split('.').length) !== pathLength) continue
      const e = entryAt(s, q.tree, q.path)
      if (e !== null) ptEntry.add(entryUnit(e.node, e.idx))
    }
  }

  tableDiff(before.pt.owners, after.pt.owners, (slot, b, a) => {
    ptNode.add(slot)
    if (b === null || a === null || !sameRecordExceptChildren(b, a)) {
      allEntries(slot)
      holder(before, b)
      holder(after, a)
    } else {
      tableDiff(b.children, a.children, (i) => ptEntry.add(entryUnit(slot, i)))
    }
  })
  tableDiff(before.pt.locks, after.pt.locks, (slot) => ptNode.add(slot))
  for (const slot of memory) {
    if (!isNodeSlot(before, slot) && !isNodeSlot(after, slot)) continue
    ptNode.add(slot)
    for (const i of changedPteIndices(tableGet(before.memory, slot), tableGet(after.memory, slot))) ptEntry.add(entryUnit(slot, i))
  }
  // the huge-frame heads already looked up, per snapshot (a wide change has 512 sub-pages per head)
  const headsSeen = [new Set<number>(), new Set<number>()] as const
  for (const slot of slotCells) {
    for (let k = 0; k < 2; k++) {
      const s = k === 0 ? before : after
      if (isNodeSlot(s, slot)) {
        ptNode.add(slot)
        holder(s, tableGet(s.pt.owners, slot))
      }
      referencing(s, slot)
      // a huge frame's sub-page: the 2 MiB and 1 GiB heads that may cover it
      const head2 = slot - (slot % (NR_ENTRIES))
      const head1 = slot - (slot % (NR_ENTRIES * NR_ENTRIES))
      const seen = headsSeen[k]
      // heads as negative keys for the 1 GiB lookups, so one set serves both sizes
      if (head2 !== slot && !seen.has(head2)) {
        seen.add(head2)
        referencing(s, head2, 3)
      }
      if (head1 !== slot && !seen.has(-1 - head1)) {
        seen.add(-1 - head1)
        referencing(s, head1, 2)
      }
    }
  }
  markTreeUnits(before, after, slotCells, memory, ptNode, ptEntry, slotsOut)
  return { ptNode, ptEntry }
}

/**
 * Marks the `Child` values held by code (ids, into `ptChildren`) whose verdict a step may have
 * changed without touching the value or its owner entry: a `Child::PageTable` whose node (slot or
 * record) is in `touched`, a `Frame` child whose mapped slot — or, for a huge frame, a sub-page
 * slot — is, and a child whose tree's root record is (its configuration decides INV-ENTRY-6).
 * Children live for the length of an operation, so there are few; both snapshots' are scanned,
 * and only when something was touched.
 */
export function markChildUnits(before: Snapshot, after: Snapshot, touched: ReadonlySet<number>, into: Set<number>): void {
  if (touched.size === 0) return
  for (const s of [before, after]) {
    if (s.pt.children.count === 0) continue
    tableForEach(s.pt.children, (c, id) => {
      if (c.kind === 'PageTable') {
        const slot = Number.isSafeInteger(c.paddr) ? Math.floor(c.paddr / PAGE_SIZE) : -1
        const r = tableGet(s.pt.owners, slot)
        if (touched.has(slot) || (r !== null && touched.has(r.tree))) into.add(id)
        return
      }
      const o = tableGet(s.pt.childOwners, id)
      if (o === null) return
      if (touched.has(o.tree)) into.add(id)
      if (o.kind !== 'frame' || !Number.isSafeInteger(o.frame.mappedPa)) return
      const first = Math.floor(o.frame.mappedPa / PAGE_SIZE)
      const n = o.parentLevel >= 1 && o.parentLevel <= 3 ? NR_ENTRIES ** (o.parentLevel - 1) : 1
      for (const t of touched) {
        if (t >= first && t < first + n) {
          into.add(id)
          break
        }
      }
    })
  }
}

/**
 * A `PageTable` handle created, dropped or edited marks its root node and every entry of its tree
 * (in both snapshots): whether a root entry is part of a shared kernel half
 * (src/model/pt_tables.ts), and whether a tree is a kernel page table's (INV-VIEW-2), depend on
 * the handle. Handles change rarely (a page table made or dropped), so the scan of the owner
 * records this needs is rare too.
 */
export function markPageTableRoots(before: Snapshot, after: Snapshot, into: PtChanges): void {
  const roots = new Set<number>()
  tableDiff(before.pt.tables, after.pt.tables, (_id, b, a) => {
    for (const h of [b, a]) {
      if (h === null || !Number.isSafeInteger(h.rootPaddr) || h.rootPaddr < 0) continue
      roots.add(Math.floor(h.rootPaddr / PAGE_SIZE))
    }
  })
  if (roots.size === 0) return
  for (const slot of roots) into.ptNode.add(slot)
  for (const s of [before, after]) {
    tableForEach(s.pt.owners, (r, slot) => {
      if (!roots.has(slot) && !roots.has(r.tree)) return
      for (let i = 0; i < NR_ENTRIES; i++) into.ptEntry.add(entryUnit(slot, i))
    })
  }
}

/** Bytes of one node page, for diagnostics. */
export const NODE_PAGE_BYTES = PAGE_SIZE

/**
 * The owner-tree invariants (src/check/rules/page_table/tree.ts) read, at a unit, data that lives
 * elsewhere: who names a node slot (INV-TREE-3 at the node, INV-TREE-7 at every naming entry),
 * the record a node entry names (INV-TREE-2 / -7 at the entry), the usage and rc of the named slot
 * (INV-TREE-7), the PTE words of `locked` entries (INV-TREE-3), and the frame owners mapping a
 * slot (INV-TREE-8 at the slot). So a step also marks: for every entry it changed and every record
 * it added, removed or moved, the node slots named before and after (`ptNode`) with every entry
 * naming them in either snapshot (`ptEntry`), and the frame slots mapped before and after
 * (`slotsOut`); for every slot whose cells or parking changed, the entries referring to it; for a
 * `locked` entry changed or whose word changed, the nodes its word names. The referrers come from
 * the reverse index of src/model/spec/pt_tree.ts, asked of each snapshot in turn.
 */
export function markTreeUnits(
  before: Snapshot,
  after: Snapshot,
  slotCells: ReadonlySet<number>,
  memory: ReadonlySet<number>,
  ptNode: Set<number>,
  ptEntry: Set<number>,
  slotsOut?: Set<number>,
): void {
  const named = new Set<number>()
  const referred = new Set<number>(slotCells)
  // Only slots a meta slot can exist for are marked (a corrupted word or entry may name any number).
  const lockedWords = (s: Snapshot, slot: number, i: number): void => {
    const pte = readPte(s, slot, i)
    const target = frameToIndex(ptePaddr(pte))
    if (isPresent(pte) && target < MAX_NR_PAGES) ptNode.add(target)
  }
  const child = (slot: number, i: number, c: ChildEntryOwner | null): void => {
    const ref = referencedSlotOf(c)
    if (ref !== null && ref.slot < MAX_NR_PAGES) {
      if (ref.kind === 'node') named.add(ref.slot)
      else slotsOut?.add(ref.slot)
    }
    if (c !== null && typeof c === 'object' && c.kind === 'locked' && i >= 0 && i < NR_ENTRIES) {
      lockedWords(before, slot, i)
      lockedWords(after, slot, i)
    }
  }
  const none = emptyTable<ChildEntryOwner>(NR_ENTRIES)
  const childrenOf = (r: PtNodeOwner | null): Table<ChildEntryOwner> => {
    const c = r === null ? null : (r as { children?: Table<ChildEntryOwner> }).children
    return c !== null && c !== undefined && typeof c === 'object' && typeof c.depth === 'number' ? c : none
  }
  tableDiff(before.pt.owners, after.pt.owners, (slot, b, a) => {
    // the entries that changed (all of them for a record added or removed)
    tableDiff(childrenOf(b), childrenOf(a), (i, x, y) => {
      child(slot, i, x)
      child(slot, i, y)
    })
    // a record added, removed or changed besides its entries: the entries naming it read it
    if (b === null || a === null || !sameRecordExceptChildren(b, a)) named.add(slot)
  })
  // a locked entry's word (INV-TREE-3 reads which node it names)
  const locked = memory.size === 0 ? [] : [...lockedEntries(before), ...lockedEntries(after)]
  for (const unit of new Set(locked)) {
    const slot = Math.floor(unit / NR_ENTRIES)
    const i = unit - slot * NR_ENTRIES
    if (!memory.has(slot) || !changedPteIndices(tableGet(before.memory, slot), tableGet(after.memory, slot)).includes(i)) continue
    lockedWords(before, slot, i)
    lockedWords(after, slot, i)
  }
  for (const slot of named) {
    ptNode.add(slot)
    referred.add(slot)
  }
  if (referred.size === 0) return
  for (const s of [before, after]) {
    for (const slot of referred) for (const u of entriesReferring(s, slot)) ptEntry.add(u)
  }
}

/**
 * Marks for the owner-tree invariants what the handle registries change: a `Child::Frame` value
 * or its owner added, removed or edited marks the slot it maps (INV-TREE-8 counts the tracked
 * `Child::Frame` owners mapping a slot), and a `PageTableGuard` added, removed or moved marks the
 * PTE slots of the Entry handles borrowing it (INV-TREE-9 compares their cached words).
 */
export function markTreeHandles(before: Snapshot, after: Snapshot, into: PtChanges, slots: Set<number>): void {
  const childIds = new Set<number>()
  tableDiff(before.pt.children, after.pt.children, (id) => childIds.add(id))
  tableDiff(before.pt.childOwners, after.pt.childOwners, (id) => childIds.add(id))
  const guardIds = new Set<number>()
  tableDiff(before.pt.guards, after.pt.guards, (id) => guardIds.add(id))
  for (const s of [before, after]) {
    for (const id of childIds) {
      const o = tableGet(s.pt.childOwners, id)
      const ref = o === null ? null : referencedSlotOf(o)
      if (ref !== null && ref.slot < s.nrFrames) slots.add(ref.slot)
    }
    if (guardIds.size === 0) continue
    tableForEach(s.pt.entries, (e) => {
      const g = guardIds.has(e.guard) ? tableGet(s.pt.guards, e.guard) : null
      if (g !== null && Number.isSafeInteger(g.paddr) && g.paddr >= 0 && Number.isInteger(e.idx) && e.idx >= 0 && e.idx < NR_ENTRIES) into.ptEntry.add(entryUnit(frameToIndex(g.paddr), e.idx))
    })
  }
}

/**
 * Page-table cursors (src/model/pt_cursor.ts): a cursor created, dropped or edited marks its unit
 * and the nodes whose lock its range lock gained or lost (`ptNode`: INV-GUARD-1 and INV-PTCURSOR-1
 * read the range locks); a cursor whose verdict reads a node the step marked — a continuation's
 * node (its record, PTE words, lock, guard) or a node it holds — is marked too. Cursors are few;
 * both snapshots' are scanned, only when something page-table related changed.
 */
export function markCursorUnits(before: Snapshot, after: Snapshot, ptNode: Set<number>, into: Set<number>, guards: ReadonlySet<number> = new Set()): void {
  if (before.pt.cursors.count === 0 && after.pt.cursors.count === 0) return
  const none = emptyTable<true>()
  // a cursor whose page table handle or one of whose guard handles changed (its verdicts read them)
  const tables = new Set<number>()
  if (before.pt.tables !== after.pt.tables) tableDiff(before.pt.tables, after.pt.tables, (id) => tables.add(id))
  if (tables.size > 0 || guards.size > 0) {
    for (const s of [before, after]) {
      tableForEach(s.pt.cursors, (c, id) => {
        const named = Array.isArray(c.path) && c.path.some((g) => g !== null && guards.has(g))
        const conts = Array.isArray(c.owner?.continuations) ? c.owner.continuations : []
        if (!named && !tables.has(c.pageTable) && !conts.some((k) => k !== null && k !== undefined && k.guard !== null && guards.has(k.guard))) return
        into.add(id)
        if (tables.has(c.pageTable) && c.locked !== undefined) tableForEach(c.locked, (_v, slot) => ptNode.add(slot))
      })
    }
  }
  tableDiff(before.pt.cursors, after.pt.cursors, (id, b, a) => {
    into.add(id)
    // what a held node's verdict reads of its cursor (INV-PTCURSOR-1): all of them when it changed
    const same = b !== null && a !== null && b.pageTable === a.pageTable && b.owner?.guardLevel === a.owner?.guardLevel && b.owner?.prefix === a.owner?.prefix && b.barrierVa?.start === a.barrierVa?.start && b.barrierVa?.end === a.barrierVa?.end
    if (same) tableDiff(b.locked ?? none, a.locked ?? none, (slot) => ptNode.add(slot))
    else for (const c of [b, a]) if (c?.locked !== undefined) tableForEach(c.locked, (_v, slot) => ptNode.add(slot))
  })
  if (ptNode.size === 0) return
  for (const s of [before, after]) {
    tableForEach(s.pt.cursors, (c, id) => {
      if (into.has(id)) return
      const conts = Array.isArray(c.owner?.continuations) ? c.owner.continuations : []
      for (const k of conts) {
        if (k !== null && k !== undefined && ptNode.has(k.slot)) {
          into.add(id)
          return
        }
      }
      if (c.locked === undefined) return
      if (ptNode.size <= c.locked.count) {
        for (const slot of ptNode) {
          if (tableGet(c.locked, slot) !== null) {
            into.add(id)
            return
          }
        }
      } else {
        tableForEach(c.locked, (_v, slot) => {
          if (ptNode.has(slot)) into.add(id)
        })
      }
    })
  }
}
