/**
 * Spec functions of the page-table node and entry layer over a snapshot (state.md §2, §5–§7):
 * `EntryOwner::inv` (INV-ENTRY), `NodeOwner::inv` (INV-NODE), `match_pte` (INV-MATCH),
 * `metaregion_sound` (INV-SOUND). Each returns the failed clauses as findings under their rule
 * IDs. The checker's invariants evaluate them on the owner tree; reducers evaluate them on the
 * owners an operation `requires`.
 */
import {
  MAX_NR_PAGES,
  MAX_PADDR,
  metaAddr,
  NR_ENTRIES,
  NR_LEVELS,
  PAGE_SIZE,
  PageUsage,
  pageSize,
  REF_COUNT_MAX,
  REF_COUNT_UNIQUE,
  REF_COUNT_UNUSED,
  refCountName,
} from '../../arch/constants.js'
import { pagePropertyEquals, pagePropertyInv } from '../../arch/page_prop.js'
import { isLast, isPresent, ptePaddr, pteProp, pteToHex, type Pte } from '../../arch/pte.js'
import type { PtConfigName } from '../../arch/pt_config.js'
import { qualifiedPath, type ChildEntryOwner, type ChildValue, type EntryPosition, type LeafEntryOwner, type PtNodeOwner } from '../page_table.js'
import { isMmioPaddr, isParked, isPhysicalSlot, ownerOf, pathFromKey, pathKey, slotOf } from '../slots.js'
import type { Snapshot } from '../snapshot.js'
import { tableGet } from '../table.js'
import { finding, type Finding } from './finding.js'

/** An `EntryOwner` as the spec sees it: a leaf owner, or a node entry with its node's record. */
export type EntryOwnerView = LeafEntryOwner | ({ readonly kind: 'node'; readonly node: PtNodeOwner } & EntryPosition)

/** The owner record of the node at `slot`, or null. */
export function nodeOwnerAt(s: Snapshot, slot: number): PtNodeOwner | null {
  return tableGet(s.pt.owners, slot)
}

/** Path key of child `i` of a node whose entry is at `path`. */
export function childPath(path: string, i: number): string {
  return path === '' ? String(i) : `${path}.${i}`
}

/** Length of a path key. */
export function pathLength(path: string): number {
  return path === '' ? 0 : path.split('.').length
}

/** The canonical absent entry `i` of `node` (what a missing child record means). */
export function absentChild(node: PtNodeOwner, i: number): LeafEntryOwner {
  return { kind: 'absent', tree: node.tree, path: childPath(node.path, i), parentLevel: node.level, inScope: false }
}

/** The `EntryOwner` of entry `i` of `node`, node children resolved through their own record. */
export function childOwnerView(s: Snapshot, node: PtNodeOwner, i: number): EntryOwnerView | null {
  const c: ChildEntryOwner | null = tableGet(node.children, i)
  if (c === null) return absentChild(node, i)
  if (c.kind !== 'node') return c
  const child = nodeOwnerAt(s, c.slot)
  return child === null ? null : { kind: 'node', node: child, tree: child.tree, path: child.path, parentLevel: child.parentLevel, inScope: child.inScope }
}

/** The `EntryOwner` of the entry that holds `node` (the value of its subtree). */
export function nodeEntryView(node: PtNodeOwner): EntryOwnerView {
  return { kind: 'node', node, tree: node.tree, path: node.path, parentLevel: node.parentLevel, inScope: node.inScope }
}

/** Two Child / ChildRef values are the same (the checker's comparison of a result with the spec's value). */
export function childValuesEqual(a: ChildValue | null, b: ChildValue | null): boolean {
  if (a === null || b === null) return a === b
  if (a.kind !== b.kind) return false
  if (a.kind === 'PageTable') return a.paddr === (b as typeof a).paddr
  if (a.kind === 'Frame') {
    const f = b as typeof a
    return a.paddr === f.paddr && a.level === f.level && pagePropertyEquals(a.prop, f.prop) && a.config === f.config
  }
  return true
}

/** `meta_slot_paddr()`: the frame an entry references (node or mapped frame), else null. */
export function metaSlotPaddr(view: EntryOwnerView): number | null {
  if (view.kind === 'node') return view.node.slotIndex * PAGE_SIZE
  if (view.kind === 'frame') return view.frame.mappedPa
  return null
}

// ---- INV-ENTRY (EntryOwner::inv_base, inv) ---------------------------------------------

/** `TreePath::inv()`: every index below 512, at most 4 of them (INV-ENTRY-4). */
export function pathInv(path: string): boolean {
  if (path === '') return true
  const parts = path.split('.')
  return parts.length <= NR_LEVELS && parts.every((p) => /^\d+$/.test(p) && Number(p) < NR_ENTRIES)
}

/**
 * Whether a frame mapped by a page table of `config` is tracked (ref counted). [JUN] states
 * `is_tracked == !is_mmio_paddr(mapped_pa)` (INV-ENTRY-6), which is the kernel's rule (tracked
 * RAM frames, untracked MMIO). Deviation: the user configuration tracks every item and the
 * untracked configuration none (behaviour.md §2.2: it may map any physical address), so the
 * model applies the clause per configuration; `null` (a child held by code) = the [JUN] rule.
 */
export function expectedTracked(s: Snapshot, config: PtConfigName | null, mappedPa: number): boolean {
  if (config === 'user') return true
  if (config === 'untracked') return false
  return !isMmioPaddr(s.config, mappedPa)
}

/**
 * `EntryOwner::inv_base` (INV-ENTRY-1..4, 6) of `view` at `where`. INV-ENTRY-1 in TS terms: the
 * owner's payload agrees with its variant (a frame owner has a frame and nothing else, …).
 */
export function entryInvBase(s: Snapshot, view: EntryOwnerView, where: string, config: PtConfigName | null = null): Finding[] {
  const out: Finding[] = []
  const raw = view as unknown as Record<string, unknown>
  const payload = { frame: raw['frame'] !== undefined, node: raw['node'] !== undefined }
  const wants = { frame: view.kind === 'frame', node: view.kind === 'node' }
  if (!['frame', 'node', 'absent', 'locked'].includes(view.kind) || payload.frame !== wants.frame || payload.node !== wants.node) {
    out.push(finding('INV-ENTRY-1', where, `the entry owner is not exactly one of node / frame / absent / locked (kind ${String(view.kind)}, frame ${payload.frame}, node ${payload.node})`))
    return out
  }
  if (view.kind === 'node' && view.parentLevel !== view.node.level + 1) {
    out.push(finding('INV-ENTRY-2', `${where}.parentLevel`, `a node entry's parent level is not its node's level + 1`, view.node.level + 1, view.parentLevel))
  }
  if (view.kind === 'frame') {
    const { mappedPa, size } = view.frame
    const pl = view.parentLevel
    const ok = pl >= 1 && pl < NR_LEVELS && Number.isSafeInteger(mappedPa) && mappedPa >= 0 && mappedPa % PAGE_SIZE === 0 && size === pageSize(pl) && mappedPa % size === 0 && mappedPa + size <= MAX_PADDR
    if (!ok) out.push(finding('INV-ENTRY-3', `${where}.frame`, `a frame entry at parent level ${pl} maps ${mappedPa} with size ${size} (frames: levels 1..3, aligned to their page size, below MAX_PADDR)`, { size: pl >= 1 && pl <= 3 ? pageSize(pl) : 'level 1..3' }, view.frame))
    else if (!pagePropertyInv(view.frame.prop)) out.push(finding('INV-ENTRY-3', `${where}.frame.prop`, 'the mapped property has undefined bits', 'PageProperty::inv', view.frame.prop))
    const tracked = expectedTracked(s, config, mappedPa)
    if (view.frame.isTracked !== tracked) {
      out.push(finding('INV-ENTRY-6', `${where}.frame.isTracked`, `a frame at ${mappedPa} mapped by a ${config ?? 'page'} table must have is_tracked ${tracked}`, tracked, view.frame.isTracked))
    }
  }
  if (!pathInv(view.path)) out.push(finding('INV-ENTRY-4', `${where}.path`, `the tree path ${view.path} is not a sequence of at most 4 indices below 512`))
  return out
}

/** INV-ENTRY-5: an entry owned by the tree has `in_scope == false`; a `Child` value's owner `true`. */
export function entryScope(view: EntryOwnerView, held: boolean, where: string): Finding[] {
  return view.inScope === held
    ? []
    : [finding('INV-ENTRY-5', `${where}.inScope`, held ? 'a child held by code is not marked in_scope' : 'an entry owned by the tree is marked in_scope', held, view.inScope)]
}

// ---- INV-NODE (NodeOwner::inv) -----------------------------------------------------------

/** `NodeOwner::inv` (INV-NODE-1..6) of the record at `slot`. */
export function nodeOwnerInv(s: Snapshot, node: PtNodeOwner, slot: number, where: string): Finding[] {
  const out: Finding[] = []
  const m = node.metaOwn
  if (!(Number.isInteger(m?.nrChildren) && m.nrChildren >= 0 && m.nrChildren <= NR_ENTRIES && typeof m.stray === 'boolean')) {
    out.push(finding('INV-NODE-1', `${where}.metaOwn`, 'meta_own is not initialised with 0 <= nr_children <= 512', '0..=512', m))
  }
  if (!(Number.isInteger(node.level) && node.level >= 1 && node.level <= NR_LEVELS)) out.push(finding('INV-NODE-2', `${where}.level`, `node level ${node.level} is outside 1..4`, '1..=4', node.level))
  if (!isPhysicalSlot(s, node.slotIndex)) out.push(finding('INV-NODE-3', `${where}.slotIndex`, `the node's PTE array (slot ${node.slotIndex}) is not in physical memory`))
  if (node.treeLevel !== NR_LEVELS - node.level) out.push(finding('INV-NODE-4', `${where}.treeLevel`, 'tree_level != 4 - level', NR_LEVELS - node.level, node.treeLevel))
  if (node.slotIndex !== slot || !(node.slotIndex >= 0 && node.slotIndex < MAX_NR_PAGES)) out.push(finding('INV-NODE-5', `${where}.slotIndex`, `slot_index ${node.slotIndex} is not the node's own slot ${slot} below MAX_NR_PAGES`, slot, node.slotIndex))
  out.push(...metaregionSoundNode(s, node, where))
  return out
}

/** `metaregion_sound_node` (INV-NODE-6): the slot is parked and its stored cells agree with `meta_own`. */
export function metaregionSoundNode(s: Snapshot, node: PtNodeOwner, where: string): Finding[] {
  const out: Finding[] = []
  const idx = node.slotIndex
  if (!isParked(s, idx)) out.push(finding('INV-NODE-6', `regions.slots[${idx}]`, `page-table node slot ${idx} is not parked`, true, false))
  const storage = ownerOf(s, idx).innerPerms.storage
  if (storage?.kind === 'PTNode' && (storage.nrChildren !== node.metaOwn.nrChildren || storage.stray !== node.metaOwn.stray)) {
    out.push(finding('INV-NODE-6', `${where}.metaOwn`, `the stored nr_children/stray of slot ${idx} differ from meta_own`, { nrChildren: storage.nrChildren, stray: storage.stray }, node.metaOwn))
  }
  return out
}

// ---- INV-MATCH (match_pte) ---------------------------------------------------------------

/** `owner.match_pte(pte, parent_level)` (INV-MATCH-1..4). */
export function matchPte(view: EntryOwnerView, pte: Pte, parentLevel: number, where: string): Finding[] {
  const out: Finding[] = []
  const pa = ptePaddr(pte)
  const hex = pteToHex(pte)
  if (!(pa % PAGE_SIZE === 0 && pa < MAX_PADDR)) out.push(finding('INV-MATCH-1', where, `PTE ${hex} targets ${pa}, not a page below MAX_PADDR`))
  if (!isPresent(pte)) {
    if (view.kind !== 'absent') out.push(finding('INV-MATCH-2', where, `PTE ${hex} is absent but the owner is ${view.kind}`, 'absent', view.kind))
    else if (parentLevel > 1 && isLast(pte, parentLevel)) out.push(finding('INV-MATCH-2', where, `absent PTE ${hex} has the HUGE bit at level ${parentLevel}`))
  } else if (!isLast(pte, parentLevel)) {
    // A sub-tree a cursor has taken out (`locked`) still has its node PTE in the parent.
    if (view.kind === 'locked') return out
    if (view.kind !== 'node') out.push(finding('INV-MATCH-3', where, `PTE ${hex} points to a node but the owner is ${view.kind}`, 'node', view.kind))
    else if (view.node.slotIndex * PAGE_SIZE !== pa) out.push(finding('INV-MATCH-3', where, `PTE ${hex} points to ${pa}, the owner's node is at ${view.node.slotIndex * PAGE_SIZE}`, view.node.slotIndex * PAGE_SIZE, pa))
  } else {
    if (view.kind !== 'frame') out.push(finding('INV-MATCH-4', where, `PTE ${hex} maps a frame but the owner is ${view.kind}`, 'frame', view.kind))
    else if (view.frame.mappedPa !== pa || !pagePropertyEquals(view.frame.prop, pteProp(pte))) {
      out.push(finding('INV-MATCH-4', where, `PTE ${hex} maps ${pa} with ${JSON.stringify(pteProp(pte))}, the owner records ${view.frame.mappedPa} with ${JSON.stringify(view.frame.prop)}`, { mappedPa: pa, prop: pteProp(pte) }, { mappedPa: view.frame.mappedPa, prop: view.frame.prop }))
    }
  }
  return out
}

// ---- INV-SOUND (metaregion_sound) --------------------------------------------------------

function sharedRc(rc: number): boolean {
  return rc !== REF_COUNT_UNUSED && rc !== REF_COUNT_UNIQUE && rc > 0 && rc <= REF_COUNT_MAX
}

/**
 * `entry.metaregion_sound(regions)` (INV-SOUND-1..3). Absent and locked entries are trivially sound
 * (INV-SOUND-4). The node clause's `metaregion_sound_node` part is INV-NODE-6.
 */
export function metaregionSound(s: Snapshot, view: EntryOwnerView, where: string): Finding[] {
  const out: Finding[] = []
  if (view.kind === 'node') {
    const idx = view.node.slotIndex
    const o = ownerOf(s, idx)
    const rc = slotOf(s, idx).refCount
    if (!sharedRc(o.innerPerms.refCount)) out.push(finding('INV-SOUND-1', `regions.slotOwners[${idx}].innerPerms.refCount`, `node slot ${idx} has rc ${refCountName(o.innerPerms.refCount)}, not a shared count`, '1..=MAX', rc))
    if (o.selfAddr !== metaAddr(idx)) out.push(finding('INV-SOUND-1', `regions.slotOwners[${idx}].selfAddr`, `node slot ${idx}'s self_addr is not its meta address`, metaAddr(idx), o.selfAddr))
    const key = qualifiedPath(view.tree, view.path)
    // A node that is the root of its own tree (held by code or a page table's root) is in no PTE.
    const want = view.path === '' ? [] : [key]
    if (!(o.pathsInPt.length === want.length && (want.length === 0 || o.pathsInPt[0] === key))) {
      out.push(finding('INV-SOUND-1', `regions.slotOwners[${idx}].pathsInPt`, `node slot ${idx}'s paths_in_pt is not {${want.join('')}} (a node has exactly one parent)`, want, o.pathsInPt))
    }
    // [APR] a node inside a tree was forgotten into its parent PTE exactly once; a node held by
    // code (in_scope) or the root of a tree (held by its page table, in no PTE) was not.
    const raw = view.inScope || view.path === '' ? 0 : 1
    if (o.rawCount !== raw) out.push(finding('INV-SOUND-1', `regions.slotOwners[${idx}].rawCount`, `[APR] node slot ${idx} ${raw === 1 ? 'inside a tree' : 'outside any PTE'} has raw_count ${o.rawCount}`, raw, o.rawCount))
  } else if (view.kind === 'frame') {
    const pa = view.frame.mappedPa
    const idx = Math.floor(pa / PAGE_SIZE)
    const o = ownerOf(s, idx)
    // Untracked items (MMIO, the untracked configuration) hold no reference and record no path.
    // Deviation: nor do they need their slot parked. The untracked configuration maps any physical
    // address (behaviour.md §2.2), RAM a UniqueFrame holds included; for an MMIO item of the
    // kernel configuration the clause holds by construction (an MMIO slot is never un-parked).
    if (view.frame.isTracked) {
      if (!isParked(s, idx)) out.push(finding('INV-SOUND-2', `regions.slots[${idx}]`, `mapped frame slot ${idx} is not parked`, true, false))
      if (o.usage !== PageUsage.MMIO && !sharedRc(o.innerPerms.refCount)) {
        out.push(finding('INV-SOUND-2', `regions.slotOwners[${idx}].innerPerms.refCount`, `mapped frame slot ${idx} has rc ${refCountName(o.innerPerms.refCount)}`, '1..=MAX', o.innerPerms.refCount))
      }
      const key = qualifiedPath(view.tree, view.path)
      if (!o.pathsInPt.includes(key)) out.push(finding('INV-SOUND-2', `regions.slotOwners[${idx}].pathsInPt`, `mapped frame slot ${idx} does not record the path ${key}`, `∋ ${key}`, o.pathsInPt))
      if (view.parentLevel > 1) out.push(...frameSubPagesValid(s, view, where))
    }
  }
  return out
}

/** `frame_sub_pages_valid` (INV-SOUND-3): every sub-page of a huge frame is parked and, unless MMIO, in use. */
export function frameSubPagesValid(s: Snapshot, view: EntryOwnerView, where: string): Finding[] {
  if (view.kind !== 'frame') return []
  const n = pageSize(view.parentLevel) / PAGE_SIZE
  const first = view.frame.mappedPa / PAGE_SIZE
  for (let j = 1; j < n; j++) {
    const idx = first + j
    const o = ownerOf(s, idx)
    if (!isParked(s, idx) || (o.usage !== PageUsage.MMIO && !sharedRc(o.innerPerms.refCount))) {
      return [finding('INV-SOUND-3', `${where}.frame`, `sub-page ${j} (slot ${idx}) of the huge frame at ${view.frame.mappedPa} is ${isParked(s, idx) ? `rc ${refCountName(o.innerPerms.refCount)}` : 'not parked'}`)]
    }
  }
  return []
}

export { pathKey, pathFromKey }
