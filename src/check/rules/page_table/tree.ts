/**
 * Invariants of the ghost owner tree (state.md §7: INV-TREE-1..9), INV-SOUND-4 (state.md §6.5)
 * and the INV-TREE-5 umbrella over INV-SOUND. All group B (MD-12): a composite operation breaks
 * them between its internal steps (`write_pte` before the owner tree catches up, §0) and must have
 * re-established them at the boundary of the event the user dispatched.
 *
 * The spec's tree is nested (`Node { value, level, children }`); the model's is flat
 * (src/model/page_table.ts): one record per node slot, whose `tree` / `path` give its position
 * relative to the root record of its tree, and a child entry names its node by slot. The spec's
 * `OwnerSubtree` tree level is the record's `treeLevel` (4 − level, INV-NODE-4); its absolute
 * path is the root's tree level plus the relative path. What the nested structure guarantees by
 * construction is checked here edge by edge, so that every verdict stays local to a unit:
 *
 * - INV-TREE-1 (`ptNode`, per record) — `la_inv`: a node's tree level is below 4; `children.len()
 *   == 512` (no entry beyond index 511); `value.inv()` of a page table's root, which no parent
 *   entry checks: it is owned by its tree (`!in_scope`, MD-4). The other conjuncts are reported under
 *   their own IDs on the same entries: `value.inv()` of every entry is INV-ENTRY-1..6 (`ptEntry`)
 *   and `NodeOwner::inv` INV-NODE-1..6; "each Some child has level + 1" is INV-TREE-2's edge
 *   clause; the recursion is the per-record evaluation. A tree root `PageTableNode::alloc` made
 *   (a detached sub-tree held by code) is `in_scope` by `allocated_empty_node_owner`, which
 *   contradicts `value.inv()` (spec/README.md §4 item 4): only level-4 roots are held to it.
 * - INV-TREE-2 (`ptEntry`) — the edge from a node to its entry `i`: the child exists (`Some`; a
 *   node entry's record is there), its `tree` and `path` are the node's `path.push_tail(i)`, its
 *   `parent_level` the node's level, and a child node's tree level the node's + 1. The
 *   `match_pte` conjunct is INV-MATCH-1..4 on the same unit. ("A non-node entry has no children"
 *   holds by construction: a leaf owner has no children field.)
 * - INV-TREE-3 (`ptNode`, per record) — `PageTableOwner::inv` at a root: a record with an empty
 *   path is the root of its own tree (`tree` = its slot), `parent_level == 5 − tree level` (a
 *   page table's root: 5), and no node entry holds it. `path_correct_pred` (every
 *   entry's path is its position) is INV-TREE-2 edge by edge from the root, plus, here, that every
 *   tree-owned non-root record is held by a node entry (or by a cursor: a `locked` entry whose PTE
 *   names it) — without that a record could claim a position no entry gives it. Applies to both
 *   kinds of root (a page table's, and a detached sub-tree's).
 * - INV-TREE-4 (`ptEntry`) — in a page table's root (level 4), the entries outside the
 *   configuration's `TOP_LEVEL_INDEX_RANGE` are absent owners. A detached root is below level 4,
 *   where the range does not apply (`managedIndexRange`). Only the ghost owner is checked: a user
 *   root's shared kernel half keeps its PTE words with absent owners (src/model/pt_tables.ts).
 * - INV-TREE-5 — umbrella over INV-SOUND-1..4 on tree entries (reported alongside).
 * - INV-TREE-6 (`slot`, per node slot) — `path_tracked_pred`: the slot of a tree-owned node
 *   records exactly the node's qualified path; a tree root records none (the model's convention:
 *   no PTE holds it). A node taken out of its tree (in scope, held by a `Child`) keeps its old
 *   path (ENS-ENTRY-REPLACE-12) and is INV-CHILD-2's. For a node entry this restates the
 *   `paths_in_pt` clause of INV-SOUND-1, so the two are reported together.
 * - INV-TREE-7 (`ptEntry`, per node entry) — the named slot has a node record, `usage ==
 *   PageTable` (MD-5), `rc >= 1`, and no other node entry (of any tree, detached ones included)
 *   names it.
 * - INV-TREE-8 (`slot`, per frame slot) — exactness of tracked frame paths: the qualified paths of
 *   the tracked frame owners mapping the slot (tree entries, and `Child::Frame` values held by
 *   code — counted in `P`) and the slot's `paths_in_pt` are equal as multisets. Forward: every such
 *   owner's path is recorded (at every level: the model records a huge frame's path on its head
 *   slot, which INV-SOUND-2 also demands, so restricting it to `parent_level == 1` would only hide
 *   what INV-SOUND-2 reports); converse, for `usage == Frame` slots: every recorded path is such an
 *   owner's, once. A tree entry in scope counts unless a `Child` value holds its owner (between
 *   `from_pte` and the end of `replace` both exist: one owner). The forward direction restates
 *   INV-SOUND-2's `paths_in_pt ∋ path`, so the two are reported together. The spec skips the
 *   converse for slots a huge-page split touched (upstream keeps
 *   the huge frame's stale path on the head slot); the model's split releases that path
 *   (reducers/page_table/entry_composite.ts, deviation (a)), so nothing is skipped.
 * - INV-TREE-9 (`ptEntry`) — the node's PTE words are its `children_perm`: one copy in the model
 *   (the node's memory page, state.md §0), so that half holds by construction; and every live
 *   `Entry` handle whose guard is live caches the word stored at its index.
 * - INV-SOUND-4 (`ptEntry`) — `metaregion_sound` is `true` for an owner that is neither a node nor
 *   a frame; the model checks what makes that branch legitimate: such an owner is absent or
 *   locked (the model has no `borrowed` variant) and names no slot (`meta_slot_paddr()` is None).
 *   A violation is always also an INV-ENTRY-1 violation (the variant payloads), which reports the
 *   same malformed owner structurally.
 *
 * Incremental checking: who refers to whom comes from the reverse index of src/model/spec/pt_tree.ts;
 * src/check/pt_changes.ts (`markTreeUnits`) marks the units whose verdict a step may change
 * through it, so full and incremental checking agree. Rules return nothing on units full mode
 * would not visit (no record; a slot in no slot table).
 */
import equal from 'fast-deep-equal/es6/index.js'
import { frameToIndex, NR_ENTRIES, NR_LEVELS, PageUsage, REF_COUNT_MAX, refCountName } from '../../../arch/constants.js'
import { isLast, isPresent, ptePaddr, pteFromHex, pteToHex } from '../../../arch/pte.js'
import { managedIndexRange, PT_CONFIGS } from '../../../arch/pt_config.js'
import { readPte } from '../../../model/memory.js'
import { qualifiedPath, type ChildEntryOwner, type LeafEntryOwner, type PtNodeOwner } from '../../../model/page_table.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { childPath } from '../../../model/spec/page_table.js'
import { entryHandlesByUnit, frameEntriesMapping, isPageTableRoot, lockedEntries, nodeEntriesNaming } from '../../../model/spec/pt_tree.js'
import { ownerOf } from '../../../model/slots.js'
import type { Snapshot } from '../../../model/snapshot.js'
import { TABLE_CHUNK, tableForEach, tableGet, type Table, type TableNode } from '../../../model/table.js'
import type { InvRule, UmbrellaRule } from '../../rule.js'
import { ids, inv, umbrella } from '../helpers.js'

// ---- reading -------------------------------------------------------------------------------

const ownerPath = (slot: number): string => `pt.owners[${slot}]`
const entryPath = (slot: number, idx: number): string => `pt.owners[${slot}].children[${idx}]`
const slotPath = (idx: number): string => `regions.slotOwners[${idx}]`

function recordAt(s: Snapshot, slot: number): PtNodeOwner | null {
  return tableGet(s.pt.owners, slot)
}

/**
 * A node's record with its 512 stored entries as an array, computed once per snapshot and node:
 * full mode evaluates every rule on all 512 entries of every node at each boundary.
 */
let nodesFor: Snapshot | null = null
let nodes = new Map<number, { node: PtNodeOwner; children: Array<ChildEntryOwner | null> } | null>()

function entryAtUnit(s: Snapshot, unit: number): { slot: number; idx: number; node: PtNodeOwner; owner: ChildEntryOwner | null } | null {
  if (nodesFor !== s) {
    nodesFor = s
    nodes = new Map()
  }
  const slot = Math.floor(unit / NR_ENTRIES)
  const idx = unit - slot * NR_ENTRIES
  let n = nodes.get(slot)
  if (n === undefined) {
    const node = recordAt(s, slot)
    if (node === null) n = null
    else {
      const children = new Array<ChildEntryOwner | null>(NR_ENTRIES).fill(null)
      tableForEach(node.children, (c, i) => {
        if (i < NR_ENTRIES) children[i] = c
      })
      n = { node, children }
    }
    nodes.set(slot, n)
  }
  return n === null ? null : { slot, idx, node: n.node, owner: n.children[idx] ?? null }
}

/** A `slot` unit full mode visits for sure (it has an entry in a slot table). */
function slotVisible(s: Snapshot, idx: number): boolean {
  return (
    tableGet(s.metaSlots, idx) !== null ||
    tableGet(s.regions.slotOwners, idx) !== null ||
    tableGet(s.regions.unparked, idx) !== null ||
    tableGet(s.regions.frameObligations, idx) !== null ||
    tableGet(s.uniqueOwners, idx) !== null
  )
}

/** Keys of `table` at or above `from` (walking only the chunks that can hold them). */
function keysFrom<T>(table: Table<T>, from: number): number[] {
  const out: number[] = []
  const walk = (node: TableNode<T>, level: number, base: number): void => {
    const span = TABLE_CHUNK ** level
    for (let k = 0; k < TABLE_CHUNK; k++) {
      const child = node[k]
      const lo = base + k * span
      if (child === null || child === undefined || lo + span <= from) continue
      if (level === 0) out.push(lo)
      else walk(child as TableNode<T>, level - 1, lo)
    }
  }
  if (table.root !== null) walk(table.root, table.depth - 1, 0)
  return out
}

// ---- INV-TREE-1 ----------------------------------------------------------------------------

function tree1(s: Snapshot, slot: number): Finding[] {
  const r = recordAt(s, slot)
  if (r === null) return []
  const rule = 'INV-TREE-1'
  const where = ownerPath(slot)
  const out: Finding[] = []
  if (!(Number.isInteger(r.treeLevel) && r.treeLevel >= 0 && r.treeLevel < NR_LEVELS)) {
    out.push(finding(rule, `${where}.treeLevel`, `a node at tree level ${r.treeLevel}: la_inv puts every node entry above the last tree level (level < 4)`, '0..=3', r.treeLevel))
  }
  const beyond = keysFrom(r.children, NR_ENTRIES)
  if (beyond.length > 0) out.push(finding(rule, `${where}.children`, `the node has entries at ${beyond.slice(0, 8).join(', ')}, beyond its ${NR_ENTRIES} (children.len() == 512)`, `indices < ${NR_ENTRIES}`, beyond))
  if (isPageTableRoot(r) && r.inScope) out.push(finding(rule, `${where}.inScope`, "a page table's root is in scope: value.inv() requires the tree to own its root", false, true))
  return out
}

// ---- INV-TREE-2 ----------------------------------------------------------------------------

function tree2(s: Snapshot, unit: number): Finding[] {
  const e = entryAtUnit(s, unit)
  if (e === null || e.owner === null) return [] // the canonical absent entry is at its position
  const rule = 'INV-TREE-2'
  const { slot, idx, node, owner } = e
  const where = entryPath(slot, idx)
  const want = { tree: node.tree, path: childPath(node.path, idx), parentLevel: node.level }
  if (owner.kind === 'node') {
    const d = recordAt(s, owner.slot)
    if (d === null) return [finding(rule, where, `node entry ${idx} names slot ${owner.slot}, which has no NodeOwner: the child is not Some`)]
    const out: Finding[] = []
    const got = { tree: d.tree, path: d.path, parentLevel: d.parentLevel }
    if (!equal(got, want)) out.push(finding(rule, where, `the node at slot ${owner.slot} held by entry ${idx} is not positioned at it (its path must be the parent's path.push_tail(${idx}), its parent_level the parent's level)`, want, got))
    if (d.treeLevel !== node.treeLevel + 1) out.push(finding(rule, `${ownerPath(owner.slot)}.treeLevel`, `the child node at entry ${idx} is at tree level ${d.treeLevel}, not its parent's + 1`, node.treeLevel + 1, d.treeLevel))
    return out
  }
  const leaf = owner as LeafEntryOwner
  const got = { tree: leaf.tree, path: leaf.path, parentLevel: leaf.parentLevel }
  return equal(got, want) ? [] : [finding(rule, where, `the ${String(leaf.kind)} owner of entry ${idx} is not positioned at it (path.push_tail(${idx}), parent_level = the node's level)`, want, got)]
}

// ---- INV-TREE-3 ----------------------------------------------------------------------------

/** Whether a cursor holds the node at `slot`: a `locked` entry whose PTE names it. */
function heldByCursor(s: Snapshot, slot: number): boolean {
  for (const unit of lockedEntries(s)) {
    const node = Math.floor(unit / NR_ENTRIES)
    const level = recordAt(s, node)?.level ?? 0
    const pte = readPte(s, node, unit - node * NR_ENTRIES)
    if (isPresent(pte) && !isLast(pte, level) && frameToIndex(ptePaddr(pte)) === slot) return true
  }
  return false
}

function tree3(s: Snapshot, slot: number): Finding[] {
  const r = recordAt(s, slot)
  if (r === null) return []
  const rule = 'INV-TREE-3'
  const where = ownerPath(slot)
  const out: Finding[] = []
  if (r.path === '') {
    if (r.tree !== slot) out.push(finding(rule, `${where}.tree`, `a record with an empty path is a root, but names tree ${r.tree}, not its own slot`, slot, r.tree))
    const want = NR_LEVELS + 1 - r.treeLevel
    if (r.parentLevel !== want) out.push(finding(rule, `${where}.parentLevel`, `a root at tree level ${r.treeLevel} has parent_level ${r.parentLevel} (parent_level == 5 - level; a page table's root: 5)`, want, r.parentLevel))
    const holders = nodeEntriesNaming(s, slot)
    if (holders.length > 0) out.push(finding(rule, where, `the root of tree ${slot} is held by the node entr${holders.length > 1 ? 'ies' : 'y'} ${holders.map(unitName).join(', ')}: a root is in no PTE`, [], holders.map(unitName)))
    return out
  }
  // (A non-root record may carry its own slot as `tree`: a sub-tree taken out of a page table keeps
  // the tree id of that table's root, whose slot can be freed and reused — by this very node.)
  if (!r.inScope && nodeEntriesNaming(s, slot).length === 0 && !heldByCursor(s, slot)) {
    out.push(finding(rule, where, `no node entry holds the tree-owned node at ${qualifiedPath(r.tree, r.path)}: its path is no position in its tree (path_correct_pred)`))
  }
  return out
}

function unitName(unit: number): string {
  const node = Math.floor(unit / NR_ENTRIES)
  return `${node}[${unit - node * NR_ENTRIES}]`
}

// ---- INV-TREE-4 ----------------------------------------------------------------------------

function tree4(s: Snapshot, unit: number): Finding[] {
  const e = entryAtUnit(s, unit)
  if (e === null || e.owner === null || e.owner.kind === 'absent' || !isPageTableRoot(e.node)) return []
  const config = PT_CONFIGS[e.node.config]
  if (config === undefined) return []
  const [start, end] = managedIndexRange(config, e.node.level, NR_LEVELS)
  if (e.idx >= start && e.idx < end) return []
  return [finding('INV-TREE-4', entryPath(e.slot, e.idx), `entry ${e.idx} of a ${e.node.config} page table's root is ${e.owner.kind}, outside TOP_LEVEL_INDEX_RANGE ${start}..${end} (top_level_indices_absent)`, 'absent', e.owner.kind)]
}

// ---- INV-TREE-6 ----------------------------------------------------------------------------

function tree6(s: Snapshot, idx: number): Finding[] {
  if (!slotVisible(s, idx)) return []
  const r = recordAt(s, idx)
  // A node taken out of its tree and held by code keeps its old path (INV-CHILD-2's).
  if (r === null || (r.inScope && r.path !== '')) return []
  const want = r.path === '' ? [] : [qualifiedPath(r.tree, r.path)]
  const got = ownerOf(s, idx).pathsInPt
  return equal(got, want)
    ? []
    : [finding('INV-TREE-6', `${slotPath(idx)}.pathsInPt`, r.path === '' ? `the root of tree ${r.tree} records page-table paths (no PTE holds a root)` : `node slot ${idx} does not record exactly its path ${want[0]} (path_tracked_pred)`, want, got)]
}

// ---- INV-TREE-7 ----------------------------------------------------------------------------

function tree7(s: Snapshot, unit: number): Finding[] {
  const e = entryAtUnit(s, unit)
  if (e === null || e.owner === null || e.owner.kind !== 'node') return []
  const rule = 'INV-TREE-7'
  const d = e.owner.slot
  const where = entryPath(e.slot, e.idx)
  const out: Finding[] = []
  if (recordAt(s, d) === null) out.push(finding(rule, where, `node entry ${e.idx} names slot ${d}, which has no node record`))
  const o = ownerOf(s, d)
  if (o.usage !== PageUsage.PageTable) out.push(finding(rule, `${where} @ ${slotPath(d)}.usage`, `the node slot ${d} has usage ${o.usage}, not PageTable (MD-5)`, PageUsage.PageTable, o.usage))
  const rc = o.innerPerms.refCount
  if (!(rc >= 1 && rc <= REF_COUNT_MAX)) out.push(finding(rule, `${where} @ ${slotPath(d)}.innerPerms.refCount`, `the node slot ${d} has rc ${refCountName(rc)}, not >= 1`, '1..=MAX', rc))
  const others = nodeEntriesNaming(s, d).filter((u) => u !== unit)
  if (others.length > 0) out.push(finding(rule, where, `slot ${d} is also the node of entr${others.length > 1 ? 'ies' : 'y'} ${others.map(unitName).join(', ')}: distinct node entries occupy distinct slots`, [unitName(unit)], [unitName(unit), ...others.map(unitName)]))
  return out
}

// ---- INV-TREE-8 ----------------------------------------------------------------------------

/** Child::Frame owners held by code, by mapped slot: their qualified paths (cached per table pair). */
let childFramesFor: { children: Table<unknown>; owners: Table<unknown>; bySlot: Map<number, string[]> } | null = null

function childFramePaths(s: Snapshot, slot: number): string[] {
  if (childFramesFor === null || childFramesFor.children !== s.pt.children || childFramesFor.owners !== s.pt.childOwners) {
    const bySlot = new Map<number, string[]>()
    tableForEach(s.pt.childOwners, (o, id) => {
      if (o.kind !== 'frame' || !o.frame.isTracked || tableGet(s.pt.children, id)?.kind !== 'Frame') return
      const pa = o.frame.mappedPa
      if (!Number.isSafeInteger(pa) || pa < 0) return
      const at = frameToIndex(pa)
      bySlot.set(at, [...(bySlot.get(at) ?? []), qualifiedPath(o.tree, o.path)])
    })
    childFramesFor = { children: s.pt.children, owners: s.pt.childOwners, bySlot }
  }
  return childFramesFor.bySlot.get(slot) ?? []
}

function counts(keys: readonly string[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const k of keys) out.set(k, (out.get(k) ?? 0) + 1)
  return out
}

function tree8(s: Snapshot, idx: number): Finding[] {
  if (!slotVisible(s, idx)) return []
  const rule = 'INV-TREE-8'
  // The tracked frame owners mapping the slot: Child::Frame values, and tree entries — an entry in
  // scope counts unless a Child value holds its owner (`from_pte` leaves it in the tree, in scope,
  // until `replace` puts the new owner there: one owner, not two).
  const children = childFramePaths(s, idx)
  const held: string[] = [...children]
  for (const unit of frameEntriesMapping(s, idx)) {
    const c = entryAtUnit(s, unit)?.owner
    if (c?.kind !== 'frame' || !c.frame.isTracked) continue
    const key = qualifiedPath(c.tree, c.path)
    if (!c.inScope || !children.includes(key)) held.push(key)
  }
  const o = ownerOf(s, idx)
  const recorded = counts(o.pathsInPt)
  const mapped = counts(held)
  const out: Finding[] = []
  for (const [key, n] of mapped) {
    const m = recorded.get(key) ?? 0
    if (m < n) out.push(finding(rule, `${slotPath(idx)}.pathsInPt{${key}}`, `${n} tracked frame owner(s) at ${key} map slot ${idx}, which records the path ${m} time(s)`, n, m))
  }
  if (o.usage === PageUsage.Frame) {
    for (const [key, m] of recorded) {
      const n = mapped.get(key) ?? 0
      if (m > n) out.push(finding(rule, `${slotPath(idx)}.pathsInPt{${key}}`, `frame slot ${idx} records the path ${key} ${m} time(s), but ${n} live tracked frame owner(s) there map it`, n, m))
    }
  }
  return out
}

// ---- INV-TREE-9 ----------------------------------------------------------------------------

function tree9(s: Snapshot, unit: number): Finding[] {
  const ids = entryHandlesByUnit(s).get(unit) ?? []
  if (ids.length === 0) return []
  const slot = Math.floor(unit / NR_ENTRIES)
  if (recordAt(s, slot) === null) return []
  const idx = unit - slot * NR_ENTRIES
  const stored = readPte(s, slot, idx)
  const out: Finding[] = []
  for (const id of ids) {
    const e = tableGet(s.pt.entries, id)!
    if (pteFromHex(e.pte) !== stored) out.push(finding('INV-TREE-9', `pt.entries[${id}].pte`, `Entry ${id} caches ${e.pte} for PTE ${idx} of node ${slot}, which stores ${pteToHex(stored)}`, pteToHex(stored), e.pte))
  }
  return out
}

// ---- INV-SOUND-4 ---------------------------------------------------------------------------

function sound4(s: Snapshot, unit: number): Finding[] {
  const e = entryAtUnit(s, unit)
  const owner = e?.owner ?? null
  if (e === null || owner === null || owner.kind === 'node' || owner.kind === 'frame') return []
  const where = entryPath(e.slot, e.idx)
  if (owner.kind !== 'absent' && owner.kind !== 'locked') {
    return [finding('INV-SOUND-4', `${where}.kind`, `an owner of kind ${String((owner as { kind: unknown }).kind)} takes metaregion_sound's trivial branch, which is only for absent, locked (and borrowed) entries`, 'absent | locked', (owner as { kind: unknown }).kind)]
  }
  const raw = owner as unknown as Record<string, unknown>
  const payload = ['frame', 'node', 'slot'].filter((k) => raw[k] !== undefined)
  return payload.length === 0
    ? []
    : [finding('INV-SOUND-4', where, `the ${owner.kind} entry carries a ${payload.join(' / ')} payload: it names a meta slot (meta_slot_paddr() is Some), so it is not trivially sound`, 'no payload', payload)]
}

// ---- the rules -----------------------------------------------------------------------------

export const ptTreeInvariants: InvRule[] = [
  inv('INV-TREE-1', 'B', 'ptNode', tree1),
  inv('INV-TREE-2', 'B', 'ptEntry', tree2),
  inv('INV-TREE-3', 'B', 'ptNode', tree3),
  inv('INV-TREE-4', 'B', 'ptEntry', tree4),
  inv('INV-TREE-6', 'B', 'slot', tree6),
  inv('INV-TREE-7', 'B', 'ptEntry', tree7),
  inv('INV-TREE-8', 'B', 'slot', tree8),
  inv('INV-TREE-9', 'B', 'ptEntry', tree9),
  inv('INV-SOUND-4', 'B', 'ptEntry', sound4),
]

export const ptTreeUmbrellas: UmbrellaRule[] = [
  // Every entry of an owner tree (a `ptEntry` unit) is `metaregion_sound`; Child values are not tree entries.
  umbrella('INV-TREE-5', ids('INV-SOUND', 1, 4), { scope: 'ptEntry', when: () => true }),
]

export const ptTreeRules: ReadonlyArray<InvRule | UmbrellaRule> = [...ptTreeInvariants, ...ptTreeUmbrellas]
