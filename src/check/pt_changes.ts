/**
 * The page-table part of a change set: which nodes (`ptNode` units) and which PTE slots
 * (`ptEntry` units, `node * 512 + index`) a step may have changed the verdict of. An entry's
 * verdict depends on its own owner record, its PTE word, its node's record, the record of the
 * child node it points to, and the slot it references (and, for a huge frame, that frame's
 * sub-page slots); each of those changes marks the entry. Entries are found from a slot through
 * the qualified paths in `paths_in_pt` (walked down from the tree's root), so nothing here scans
 * the whole state.
 */
import { NR_ENTRIES, PAGE_SIZE } from '../arch/constants.js'
import { changedPteIndices } from '../model/memory.js'
import { splitQualifiedPath, type PtNodeOwner } from '../model/page_table.js'
import { ownerOf, slotOf } from '../model/slots.js'
import type { Snapshot } from '../model/snapshot.js'
import { tableDiff, tableForEach, tableGet } from '../model/table.js'

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

function sameRecordExceptChildren(a: PtNodeOwner, b: PtNodeOwner): boolean {
  return (
    a.tree === b.tree &&
    a.path === b.path &&
    a.parentLevel === b.parentLevel &&
    a.inScope === b.inScope &&
    a.level === b.level &&
    a.treeLevel === b.treeLevel &&
    a.slotIndex === b.slotIndex &&
    a.metaOwn === b.metaOwn &&
    a.config === b.config
  )
}

export function computePtChanges(before: Snapshot, after: Snapshot, slotCells: ReadonlySet<number>, memory: ReadonlySet<number>): PtChanges {
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
  for (const slot of slotCells) {
    for (const s of [before, after]) {
      if (isNodeSlot(s, slot)) {
        ptNode.add(slot)
        holder(s, tableGet(s.pt.owners, slot))
      }
      referencing(s, slot)
      // a huge frame's sub-page: the 2 MiB and 1 GiB heads that may cover it
      const head2 = slot - (slot % (NR_ENTRIES))
      const head1 = slot - (slot % (NR_ENTRIES * NR_ENTRIES))
      if (head2 !== slot) referencing(s, head2, 3)
      if (head1 !== slot) referencing(s, head1, 2)
    }
  }
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

/** Bytes of one node page, for diagnostics. */
export const NODE_PAGE_BYTES = PAGE_SIZE
