/**
 * The abstract view of a page table (state.md §10 `Mapping` / `PageTableView`, §7 `view_rec`): its
 * set of `Mapping`s, each a leaf `(va_range, pa_range, page_size, property)`.
 *
 * Two sources, which INV-MATCH keeps equal entry by entry:
 * - `ghost` — `PageTableOwner@`: `view_rec` over the owner tree (the spec's view). A frame entry at
 *   tree position `p` (length `k`) maps `[vaddr(p), +page_size(5 - k))` to `[mapped_pa, +size)`
 *   with the owner's property; node entries contribute their children; absent and locked
 *   entries nothing.
 * - `pte` — the PTE words in memory, as the MMU (and `page_walk`) sees them: a present last PTE at
 *   level `L` maps `page_size(L)` bytes; a present non-last PTE leads to the table at its address.
 *
 * VAs in the view are `vaddr(p)` — the 48 bits the table indices select, without
 * `C::LEADING_BITS` (so they are exact `number`s below 2^48); `vaddrOf(config, va)` gives the full
 * address (`vaddr_of::<C>(p)`). Positions are computed by the traversal from the root, as
 * `view_rec` recurses; the root's entries are restricted to `C::TOP_LEVEL_INDEX_RANGE` (for a
 * user page table this leaves out the shared kernel half, which the ghost tree does not have
 * either — src/model/pt_tables.ts).
 *
 * Efficiency: what a node contributes (its leaves and child nodes by index, `NodeLayout`) is
 * computed once per node version and shared — keyed by the node's children table (ghost) or its
 * memory page (pte), both immutable and replaced when the node changes — so unchanged nodes are
 * never decoded again, and a traversal restricted to a VA range visits only the nodes that
 * overlap it. Nothing here is evaluated per step: rules look at single entries (`entryMapping`).
 */
import { MAX_PADDR, NR_ENTRIES, NR_LEVELS, PAGE_SIZE, pageSize } from '../arch/constants.js'
import type { PageProperty } from '../arch/page_prop.js'
import { isLast, isPresent, ptePaddr, pteProp } from '../arch/pte.js'
import { managedIndexRange, ptConfig, type PtConfigName } from '../arch/pt_config.js'
import type { ChildEntryOwner, PtNodeOwner } from './page_table.js'
import { nodeOwnerAt } from './spec/page_table.js'
import type { Snapshot } from './snapshot.js'
import { lowerBound } from './sorted_list.js'
import { tableForEach, tableGet, type Table } from './table.js'

/** A half-open range of 48-bit virtual addresses (`vaddr(p)`, no leading bits). */
export interface VaRange {
  readonly start: number
  readonly end: number
}

/** A half-open range of physical addresses. */
export interface PaRange {
  readonly start: number
  readonly end: number
}

/** `Mapping` (state.md §10). */
export interface Mapping {
  readonly vaRange: VaRange
  readonly paRange: PaRange
  readonly pageSize: number
  readonly property: PageProperty
}

/** Where a view is read from: the ghost owner tree (the spec's view) or the PTE words (the MMU's). */
export type ViewSource = 'ghost' | 'pte'

/** VA space a 4-level table spans (`2^48`). */
export const VA_SPAN = 2 ** 48

// ---- addresses -------------------------------------------------------------------------------

/** `vaddr(path)`: `Σ path[k] << (12 + 9 (3 - k))` for a path key (`""`, `"3.0.511"`). */
export function pathVaddr(path: string): number {
  if (path === '') return 0
  let va = 0
  const parts = path.split('.')
  for (let k = 0; k < parts.length; k++) va += Number(parts[k]) * pageSize(NR_LEVELS - k)
  return va
}

/** `vaddr_of::<C>(p)`: a 48-bit view address with `C::LEADING_BITS` above it, as a u64. */
export function vaddrOf(config: PtConfigName, va: number): bigint {
  return BigInt(va) + (BigInt(ptConfig(config).leadingBits) << 48n)
}

/** Whether two half-open ranges overlap. */
export function rangesOverlap(a: VaRange | PaRange, b: VaRange | PaRange): boolean {
  return a.start < b.end && b.start < a.end
}

/**
 * `Mapping::inv()` (INV-VIEW-1): the page size is 4 KiB, 2 MiB or 1 GiB; the PA range is one
 * page of that size, aligned, below `MAX_PADDR`; the VA range likewise, within `2^64` once the
 * configuration's leading bits are added. Returns why it fails, or null.
 */
export function mappingInvFailure(m: Mapping, config: PtConfigName): string | null {
  const ps = m.pageSize
  if (ps !== PAGE_SIZE && ps !== pageSize(2) && ps !== pageSize(3)) return `page size ${ps} is not 4 KiB, 2 MiB or 1 GiB`
  const { paRange: pa, vaRange: va } = m
  if (!(Number.isSafeInteger(pa.start) && pa.start >= 0 && pa.start % ps === 0 && pa.end % ps === 0)) return `the physical range starts at ${pa.start}, not aligned to the page size ${ps}`
  if (pa.start + ps !== pa.end || pa.end > MAX_PADDR) return `the physical range [${pa.start}, ${pa.end}) is not one page of ${ps} bytes below MAX_PADDR`
  if (!(va.start >= 0 && va.start % ps === 0 && va.end % ps === 0 && va.start + ps === va.end)) return `the virtual range [${va.start}, ${va.end}) is not one aligned page of ${ps} bytes`
  if (vaddrOf(config, va.start) + BigInt(ps) > 1n << 64n) return `the virtual range ends beyond 2^64`
  return null
}

// ---- what one node contributes ------------------------------------------------------------------

/** A leaf of a node: entry `idx` maps one page of the node's level at `pa`. */
export interface NodeLeaf {
  readonly idx: number
  readonly pa: number
  readonly prop: PageProperty
}

/** A child node of a node: entry `idx` leads to the node at `slot`. */
export interface NodeChild {
  readonly idx: number
  readonly slot: number
}

/** The leaves and child nodes of one node, each by ascending index. */
export interface NodeLayout {
  readonly leaves: readonly NodeLeaf[]
  readonly children: readonly NodeChild[]
}

const EMPTY_LAYOUT: NodeLayout = Object.freeze({ leaves: Object.freeze([]) as readonly NodeLeaf[], children: Object.freeze([]) as readonly NodeChild[] })

const ghostLayouts = new WeakMap<Table<ChildEntryOwner>, NodeLayout>()

/** The layout of a node record: its frame entries (leaves) and node entries (children). */
export function ghostLayout(node: PtNodeOwner): NodeLayout {
  let layout = ghostLayouts.get(node.children)
  if (layout === undefined) {
    const leaves: NodeLeaf[] = []
    const children: NodeChild[] = []
    tableForEach(node.children, (c, idx) => {
      if (idx >= NR_ENTRIES) return
      if (c.kind === 'frame') leaves.push({ idx, pa: c.frame.mappedPa, prop: c.frame.prop })
      else if (c.kind === 'node') children.push({ idx, slot: c.slot })
    })
    layout = leaves.length === 0 && children.length === 0 ? EMPTY_LAYOUT : { leaves, children }
    ghostLayouts.set(node.children, layout)
  }
  return layout
}

/** Per memory page, the layout it has read as a table of each level (index = level). */
const pteLayouts = new WeakMap<Uint8Array, Array<NodeLayout | undefined>>()

/** The layout of the table at `slot` read as a table of `level`: its last PTEs and table PTEs. */
export function pteLayout(s: Snapshot, slot: number, level: number): NodeLayout {
  const page = tableGet(s.memory, slot)
  if (page === null) return EMPTY_LAYOUT
  let perLevel = pteLayouts.get(page)
  if (perLevel === undefined) pteLayouts.set(page, (perLevel = []))
  let layout = perLevel[level]
  if (layout === undefined) {
    const leaves: NodeLeaf[] = []
    const children: NodeChild[] = []
    const words = new DataView(page.buffer, page.byteOffset, page.byteLength)
    for (let idx = 0; idx < NR_ENTRIES; idx++) {
      if (words.getUint32(idx * 8, true) === 0 && words.getUint32(idx * 8 + 4, true) === 0) continue
      const pte = words.getBigUint64(idx * 8, true)
      if (!isPresent(pte)) continue
      if (isLast(pte, level)) leaves.push({ idx, pa: ptePaddr(pte), prop: pteProp(pte) })
      else children.push({ idx, slot: Math.floor(ptePaddr(pte) / PAGE_SIZE) })
    }
    layout = leaves.length === 0 && children.length === 0 ? EMPTY_LAYOUT : { leaves, children }
    perLevel[level] = layout
  }
  return layout
}

// ---- traversal -----------------------------------------------------------------------------

/** Options of a traversal: the source, the VA window (default: everything) and the configuration. */
export interface ViewOptions {
  readonly source?: ViewSource
  /** Only mappings overlapping this range are visited (and only nodes overlapping it entered). */
  readonly range?: VaRange
  /** The page table's configuration: its `TOP_LEVEL_INDEX_RANGE` bounds the root (default: the root record's, else all 512). */
  readonly config?: PtConfigName
}

function mappingOf(va: number, leaf: NodeLeaf, size: number): Mapping {
  return { vaRange: { start: va, end: va + size }, paRange: { start: leaf.pa, end: leaf.pa + size }, pageSize: size, property: leaf.prop }
}

const idxOf = (x: { readonly idx: number }): number => x.idx

/**
 * Visits the mappings of the page table rooted at `rootSlot` in ascending VA order; `fn` returns
 * `false` to stop. Returns false when stopped.
 */
export function forEachMapping(s: Snapshot, rootSlot: number, opts: ViewOptions, fn: (m: Mapping) => boolean | void): boolean {
  return forEachLeaf(s, rootSlot, opts, (va, size, leaf) => fn(mappingOf(va, leaf, size)))
}

/**
 * `forEachMapping` without building the mappings: `fn(va, size, leaf)` for the leaf mapping
 * `[va, va + size)` to `leaf.pa` with `leaf.prop` (for a caller that only compares them).
 */
export function forEachLeaf(s: Snapshot, rootSlot: number, opts: ViewOptions, fn: (va: number, size: number, leaf: NodeLeaf) => boolean | void): boolean {
  const source = opts.source ?? 'ghost'
  const range = opts.range ?? { start: 0, end: VA_SPAN }
  const config = opts.config ?? nodeOwnerAt(s, rootSlot)?.config
  const [first, last] = config === undefined ? [0, NR_ENTRIES] : managedIndexRange(ptConfig(config), NR_LEVELS, NR_LEVELS)
  return visitNode(s, rootSlot, NR_LEVELS, 0, source, range, first, last, fn)
}

function visitNode(
  s: Snapshot,
  slot: number,
  level: number,
  base: number,
  source: ViewSource,
  range: VaRange,
  first: number,
  last: number,
  fn: (va: number, size: number, leaf: NodeLeaf) => boolean | void,
): boolean {
  let layout: NodeLayout
  if (source === 'ghost') {
    const node = nodeOwnerAt(s, slot)
    if (node === null) return true
    layout = ghostLayout(node)
  } else {
    layout = pteLayout(s, slot, level)
  }
  const size = pageSize(level)
  // Entries overlapping the range, within [first, last).
  const lo = Math.max(first, Math.floor(Math.max(0, range.start - base) / size))
  const hi = Math.min(last, Math.ceil(Math.max(0, range.end - base) / size))
  if (lo >= hi) return true
  const { leaves, children } = layout
  let li = lowerBound(leaves, lo, idxOf)
  let ci = lowerBound(children, lo, idxOf)
  while (true) {
    const leaf = li < leaves.length && leaves[li]!.idx < hi ? leaves[li]! : null
    const child = ci < children.length && children[ci]!.idx < hi ? children[ci]! : null
    if (leaf === null && child === null) return true
    if (leaf !== null && (child === null || leaf.idx <= child.idx)) {
      li++
      if (fn(base + leaf.idx * size, size, leaf) === false) return false
    } else {
      ci++
      // A level-1 entry is always a leaf (D-PTE); a ghost node entry below level 1 is corrupt.
      if (level > 1 && !visitNode(s, child!.slot, level - 1, base + child!.idx * size, source, range, 0, NR_ENTRIES, fn)) return false
    }
  }
}

/** The whole view (every mapping, ascending VA) of the page table rooted at `rootSlot`. */
export function viewOf(s: Snapshot, rootSlot: number, opts: ViewOptions = {}): Mapping[] {
  const out: Mapping[] = []
  forEachMapping(s, rootSlot, opts, (m) => void out.push(m))
  return out
}

/** The mappings overlapping `range`, ascending. */
export function mappingsIn(s: Snapshot, rootSlot: number, range: VaRange, opts: Omit<ViewOptions, 'range'> = {}): Mapping[] {
  return viewOf(s, rootSlot, { ...opts, range })
}

/**
 * `query_mapping()` at `va` (state.md §10, `present()` / `query_item_spec`): the mapping whose VA
 * range contains `va` (a 48-bit view address), or null. Descends one node per level.
 */
export function mappingAt(s: Snapshot, rootSlot: number, va: number, opts: Omit<ViewOptions, 'range'> = {}): Mapping | null {
  if (!(va >= 0 && va < VA_SPAN)) return null
  let found: Mapping | null = null
  forEachMapping(s, rootSlot, { ...opts, range: { start: va, end: va + 1 } }, (m) => {
    found = m
    return false
  })
  return found
}

/**
 * `find_next_impl_spec(len)` over a page table: the mapping with the lowest start in
 * `[from, to)` (a mapping that starts before `from` does not count), or null.
 */
export function firstMappingFrom(s: Snapshot, rootSlot: number, from: number, to: number, opts: Omit<ViewOptions, 'range'> = {}): Mapping | null {
  let found: Mapping | null = null
  forEachMapping(s, rootSlot, { ...opts, range: { start: from, end: to } }, (m) => {
    if (m.vaRange.start < from) return true
    found = m
    return false
  })
  return found
}

// ---- single entries (for the rules) ------------------------------------------------------------

/**
 * The mapping a frame entry of a node record contributes to its page table's view: entry `idx`
 * of `node` at the node's position (`vaddr(node.path ++ [idx])`, one page of `page_size(level)`),
 * or null when the entry is not a frame. Meaningful for records positioned as in a page table
 * (path length `4 - level`, `positionedAsInPageTable`).
 */
export function entryMapping(node: PtNodeOwner, idx: number): Mapping | null {
  const c = tableGet(node.children, idx)
  if (c === null || c.kind !== 'frame') return null
  const size = pageSize(node.level)
  const va = pathVaddr(node.path) + idx * size
  return mappingOf(va, { idx, pa: c.frame.mappedPa, prop: c.frame.prop }, size)
}

/**
 * Whether a node record sits where a node of its level sits in a page table (its path from the
 * root has `4 - level` indices), so that its entries' view positions are page positions. A
 * detached sub-tree (`PageTableNode::alloc`, path `""` below level 4) is not part of a page
 * table's view until it is installed.
 */
export function positionedAsInPageTable(node: PtNodeOwner): boolean {
  if (!(Number.isInteger(node.level) && node.level >= 1 && node.level <= NR_LEVELS)) return false
  const depth = node.path === '' ? 0 : node.path.split('.').length
  return depth === NR_LEVELS - node.level
}
