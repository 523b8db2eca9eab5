/**
 * Invariants of the abstract view of a page table (state.md §10; src/model/pt_view.ts), over the
 * owner tree's frame entries (scope `ptEntry`, unit `slot * 512 + idx`):
 *
 * - INV-VIEW-1 (group A) — `Mapping::inv()` of the mapping the entry contributes to its page
 *   table's view (`view_rec`): page size 4 KiB / 2 MiB / 1 GiB, PA and VA ranges one aligned page,
 *   below `MAX_PADDR` and `2^64`. The page size and VA come from the entry's *position* (a node
 *   record positioned as in a page table: path length `4 - level`), the PA from its owner — so a
 *   frame owner whose size or alignment does not fit where it sits is caught here even when its
 *   own fields agree with each other.
 * - INV-VIEW-2 (group B) — `PageTableView::inv()`'s disjointness. VA-disjointness holds by
 *   construction: view VAs are tree positions, and two leaves of a tree are at positions neither
 *   of which is a prefix of the other. PA-disjointness is, per MD-8, a property of kernel page
 *   tables only: a tracked frame mapped by a kernel `PageTable` (the tree of a registered kernel
 *   handle — a bare kernel-configuration tree made with `page_table.empty` is no page table's
 *   view) is mapped at no other position of the same tree (its slot's `paths_in_pt` holds no
 *   other path of that tree). Limitation: untracked kernel
 *   items record no path, and finding an overlap among them needs a per-tree PA index the
 *   checker does not keep; they are not checked. The clause "every mapping `inv()`" is INV-VIEW-1.
 *
 * Detached sub-trees (a node held by code, path `""` below level 4) are not part of any page
 * table's view and are skipped until they are installed. INV-VIEW-3 (`CursorView::inv`) belongs
 * to the cursors. Each unit's verdict depends on its node record (path, level, the entry's owner)
 * and, for INV-VIEW-2, on the mapped slot's `paths_in_pt` and the handle of its tree's root —
 * exactly what marks the unit in incremental mode (src/check/pt_changes.ts; a changed handle
 * marks every entry of its tree, `markPageTableRoots`).
 */
import { NR_ENTRIES } from '../../../arch/constants.js'
import { qualifiedPath, splitQualifiedPath, type PtNodeOwner } from '../../../model/page_table.js'
import { handleOfRoot } from '../../../model/pt_tables.js'
import { entryMapping, mappingInvFailure, positionedAsInPageTable, type Mapping } from '../../../model/pt_view.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { childPath, nodeOwnerAt } from '../../../model/spec/page_table.js'
import { ownerOf } from '../../../model/slots.js'
import type { Snapshot } from '../../../model/snapshot.js'
import { tableGet } from '../../../model/table.js'
import type { InvRule } from '../../rule.js'
import { inv } from '../helpers.js'

/** A frame entry of a page table's tree, with the mapping it contributes. */
interface ViewEntry {
  readonly slot: number
  readonly idx: number
  readonly node: PtNodeOwner
  readonly mapping: Mapping
  readonly where: string
}

/** Whether a record is positioned as in a page table, once per record object. */
const positioned = new WeakMap<PtNodeOwner, boolean>()

function viewEntry(s: Snapshot, unit: number): ViewEntry | null {
  const slot = Math.floor(unit / NR_ENTRIES)
  const idx = unit - slot * NR_ENTRIES
  const node = nodeOwnerAt(s, slot)
  if (node === null) return null
  const c = tableGet(node.children, idx)
  if (c === null || c.kind !== 'frame') return null
  let ok = positioned.get(node)
  if (ok === undefined) positioned.set(node, (ok = positionedAsInPageTable(node)))
  if (!ok) return null
  return { slot, idx, node, mapping: entryMapping(node, idx)!, where: `pt.owners[${slot}].children[${idx}]` }
}

/** Whether the tree rooted at `tree` is a kernel `PageTable`'s (a registered handle's root). */
function isKernelPageTable(s: Snapshot, tree: number): boolean {
  const id = handleOfRoot(s, tree)
  return id !== null && tableGet(s.pt.tables, id)!.config === 'kernel'
}

function mappingInv(s: Snapshot, unit: number): Finding[] {
  const v = viewEntry(s, unit)
  if (v === null) return []
  const failure = mappingInvFailure(v.mapping, v.node.config)
  return failure === null ? [] : [finding('INV-VIEW-1', v.where, `the mapping of this entry breaks Mapping::inv: ${failure}`, { pageSize: v.mapping.pageSize, aligned: true }, v.mapping)]
}

function paDisjoint(s: Snapshot, unit: number): Finding[] {
  const v = viewEntry(s, unit)
  if (v === null || v.node.config !== 'kernel' || !isKernelPageTable(s, v.node.tree)) return []
  const c = tableGet(v.node.children, v.idx)
  if (c === null || c.kind !== 'frame' || !c.frame.isTracked) return []
  const own = qualifiedPath(v.node.tree, childPath(v.node.path, v.idx))
  const frameSlot = Math.floor(c.frame.mappedPa / 0x1000)
  const others = ownerOf(s, frameSlot).pathsInPt.filter((p) => p !== own && splitQualifiedPath(p)?.tree === v.node.tree)
  return others.length === 0
    ? []
    : [finding('INV-VIEW-2', v.where, `the kernel page table maps the frame at ${c.frame.mappedPa} here and at ${others.join(', ')}: its mappings are not PA-disjoint (MD-8)`, [own], [own, ...others])]
}

export const ptViewRules: InvRule[] = [inv('INV-VIEW-1', 'A', 'ptEntry', mappingInv), inv('INV-VIEW-2', 'B', 'ptEntry', paDisjoint)]
