/**
 * `diff(a, b)`: what changed between two snapshots, as plain data (API.md "Model and history").
 *
 * Two views of the same change:
 * - structural: every changed leaf path of the snapshot (`metaSlots[5].refCount`,
 *   `pt.owners[3].children[0]`, `memory[5]+0x018`) with its value before and after. The walk
 *   compares by reference first (`a === b`), and walks tables with `tableDiff`, so unchanged
 *   sub-trees — shared between snapshots by construction — are skipped: the cost follows the
 *   change, not the size of the state (the same primitive the checker's change sets use,
 *   src/check/changes.ts).
 * - semantic: the change in the model's terms — mappings added / removed / changed per page table
 *   (the abstract view of src/model/pt_view.ts), frames allocated / freed, ref counts, PTE words
 *   written, page-table nodes allocated / freed / made stray, slot-owner changes (`paths_in_pt`,
 *   `raw_count`, usage, obligations), owner-tree records, cursors, readers / writers and handles.
 *
 * Everything here is read from the two snapshots only — ghost state as the snapshot records it,
 * never re-derived from PTE words (the `pte` view source is the exception the caller asks for).
 * Lists are in a stable order (ascending slot / id / VA), and values are JSON-safe (PTE words and
 * memory bytes as hex strings), so a diff can be printed, serialised and snapshotted
 * (src/log/diff_render.ts renders it as text).
 */
import equal from 'fast-deep-equal/es6/index.js'
import { indexToFrame, NR_ENTRIES, NR_LEVELS, PAGE_SIZE, pageSize, PTE_SIZE, REF_COUNT_UNUSED, type PageUsage } from '../arch/constants.js'
import { pagePropertyEquals, type PageProperty } from '../arch/page_prop.js'
import { pteToHex } from '../arch/pte.js'
import type { PtConfigName } from '../arch/pt_config.js'
import { changedPteIndices } from '../model/memory.js'
import type { ChildEntryOwner, PtNodeOwner } from '../model/page_table.js'
import type { CursorKind } from '../model/pt_cursor.js'
import { handleOfRoot } from '../model/pt_tables.js'
import { forEachMapping, pathVaddr, VA_SPAN, type Mapping, type VaRange, type ViewSource } from '../model/pt_view.js'
import { FRESH_SLOT, ownerOf } from '../model/slots.js'
import type { MetaSlot, Snapshot } from '../model/snapshot.js'
import { emptyTable, tableDiff, tableForEach, tableGet, type Table } from '../model/table.js'

// ---- result types -----------------------------------------------------------------------------

/** A JSON-safe value of the structural diff (`null` = no entry / no field). */
export type DiffValue = null | boolean | number | string | readonly DiffValue[] | { readonly [key: string]: DiffValue }

/** One changed leaf of the snapshot. */
export interface PathChange {
  readonly path: string
  readonly before: DiffValue
  readonly after: DiffValue
}

/** A mapping of a page table's view (view VA: 48 bits, no leading bits — `config` gives them). */
export interface MappingItem {
  /** The `PageTable` handle whose root holds the mapping, or null for a tree without a handle. */
  readonly pageTable: number | null
  /** Slot of the page table's root node. */
  readonly root: number
  readonly config: PtConfigName
  readonly va: number
  readonly pageSize: number
  readonly pa: number
  readonly prop: PageProperty
}

/** A mapping at the same VA and page size whose target or property changed. */
export interface MappingChange {
  readonly pageTable: number | null
  readonly root: number
  readonly config: PtConfigName
  readonly va: number
  readonly pageSize: number
  readonly before: { readonly pa: number; readonly prop: PageProperty }
  readonly after: { readonly pa: number; readonly prop: PageProperty }
}

/** A frame whose slot went from UNUSED to in use (allocated) or back (freed). */
export interface FrameLife {
  readonly slot: number
  readonly paddr: number
  /** The ref count while in use: after an allocation, before a free. */
  readonly refCount: number
  /** The ghost usage while in use. */
  readonly usage: PageUsage
  /** The kind of metadata storage while in use (`Frame`, `FrameLink`, `PTNode`), or null. */
  readonly storage: string | null
}

/** A slot in use before and after whose ref count changed. */
export interface RefCountChange {
  readonly slot: number
  readonly paddr: number
  readonly before: number
  readonly after: number
}

/** A PTE word of a page-table node that changed. */
export interface PteWrite {
  /** Slot of the node. */
  readonly node: number
  readonly paddr: number
  readonly idx: number
  /** The node's level (its owner record's, else its metadata's), or null when neither exists. */
  readonly level: number | null
  /** Exact 64-bit words, `0x` + 16 hex digits. */
  readonly before: string
  readonly after: string
}

/** A page-table node allocated or freed (its slot's metadata is a live `PTNode` after / before). */
export interface NodeLife {
  readonly slot: number
  readonly paddr: number
  readonly level: number
  readonly config: PtConfigName
}

/** A live page-table node whose `stray` flag changed. */
export interface NodeStray {
  readonly slot: number
  readonly paddr: number
  readonly before: boolean
  readonly after: boolean
}

/** A ghost slot owner whose `paths_in_pt`, `raw_count`, usage or frame obligations changed. */
export interface SlotOwnerChange {
  readonly slot: number
  readonly paddr: number
  readonly pathsAdded: readonly string[]
  readonly pathsRemoved: readonly string[]
  readonly rawCount?: { readonly before: number; readonly after: number }
  readonly usage?: { readonly before: PageUsage; readonly after: PageUsage }
  readonly obligations?: { readonly before: number; readonly after: number }
}

/** One entry of an owner-tree record that changed (`null` = the canonical absent entry). */
export interface TreeEntryChange {
  readonly idx: number
  readonly before: ChildEntryOwner | null
  readonly after: ChildEntryOwner | null
}

/** An owner-tree node record added, removed or changed. */
export interface TreeRecordChange {
  readonly slot: number
  readonly paddr: number
  readonly change: 'added' | 'removed' | 'changed'
  /** The record's tree (root slot), path and level — after the change, or before a removal. */
  readonly tree: number
  readonly path: string
  readonly level: number
  /** Fields other than the entries that changed (`inScope`, `tree`, `path`, `metaOwn`, …). */
  readonly fields: readonly string[]
  readonly entries: readonly TreeEntryChange[]
}

/** A page-table cursor created, moved (its address or level changed), dropped, or otherwise changed. */
export interface CursorChange {
  readonly id: number
  readonly change: 'created' | 'moved' | 'changed' | 'dropped'
  readonly kind: CursorKind
  readonly pageTable: number
  /** `barrier_va`, view addresses. */
  readonly range: VaRange
  /** The cursor's address and level after the change (before a drop). */
  readonly va: number
  readonly level: number
  /** For `moved` / `changed`: where it was. */
  readonly from?: { readonly va: number; readonly level: number }
}

/** A reader or writer created, advanced (its position or end changed), dropped or otherwise changed. */
export interface VmIoChange {
  readonly id: number
  readonly change: 'created' | 'advanced' | 'changed' | 'dropped'
  readonly kind: 'Reader' | 'Writer'
  readonly cursor: number
  readonly end: number
  readonly from?: { readonly cursor: number; readonly end: number }
}

/** The handle registries a diff reports. */
export type HandleRegistry = 'frames' | 'segments' | 'uniqueFrames' | 'lists' | 'pageTables' | 'ptNodes' | 'ptGuards' | 'ptEntries' | 'ptChildren'

/** A handle created, dropped (consumed) or changed. */
export interface HandleChange {
  readonly registry: HandleRegistry
  readonly id: number
  readonly change: 'created' | 'dropped' | 'changed'
  readonly before: DiffValue
  readonly after: DiffValue
}

/** The semantic part of a diff: one list per kind of change. */
export interface SemanticDiff {
  readonly mappingsAdded: readonly MappingItem[]
  readonly mappingsRemoved: readonly MappingItem[]
  readonly mappingsChanged: readonly MappingChange[]
  readonly framesAllocated: readonly FrameLife[]
  readonly framesFreed: readonly FrameLife[]
  readonly refCounts: readonly RefCountChange[]
  readonly ptesWritten: readonly PteWrite[]
  readonly nodesAllocated: readonly NodeLife[]
  readonly nodesFreed: readonly NodeLife[]
  readonly nodesStray: readonly NodeStray[]
  readonly slotOwners: readonly SlotOwnerChange[]
  readonly treeRecords: readonly TreeRecordChange[]
  readonly cursors: readonly CursorChange[]
  readonly vmIos: readonly VmIoChange[]
  readonly handles: readonly HandleChange[]
}

/** The categories of `SemanticDiff`, in the order the renderer prints them. */
export const SEMANTIC_CATEGORIES = [
  'mappingsAdded',
  'mappingsRemoved',
  'mappingsChanged',
  'framesAllocated',
  'framesFreed',
  'refCounts',
  'ptesWritten',
  'nodesAllocated',
  'nodesFreed',
  'nodesStray',
  'slotOwners',
  'treeRecords',
  'cursors',
  'vmIos',
  'handles',
] as const satisfies ReadonlyArray<keyof SemanticDiff>

export type SemanticCategory = (typeof SEMANTIC_CATEGORIES)[number]

export interface SnapshotDiff {
  readonly kind: 'SnapshotDiff'
  /** The two snapshots are the same object (nothing at all changed). */
  readonly identical: boolean
  readonly semantic: SemanticDiff
  /** Changed leaf paths in snapshot order (empty when `structural: false` was asked). */
  readonly structural: readonly PathChange[]
}

export interface DiffOptions {
  /** Which view the mapping changes are read from (default `ghost`: the owner tree, the spec's view). */
  readonly view?: ViewSource
  /** Compute the structural paths (default true). */
  readonly structural?: boolean
}

/** Whether a value is a `SnapshotDiff` (for serializers and matchers). */
export function isSnapshotDiff(value: unknown): value is SnapshotDiff {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'SnapshotDiff'
}

// ---- entry point --------------------------------------------------------------------------------

const EMPTY_SEMANTIC: SemanticDiff = Object.freeze({
  mappingsAdded: [],
  mappingsRemoved: [],
  mappingsChanged: [],
  framesAllocated: [],
  framesFreed: [],
  refCounts: [],
  ptesWritten: [],
  nodesAllocated: [],
  nodesFreed: [],
  nodesStray: [],
  slotOwners: [],
  treeRecords: [],
  cursors: [],
  vmIos: [],
  handles: [],
})

/** What changed from snapshot `a` to snapshot `b`. */
export function diff(a: Snapshot, b: Snapshot, options: DiffOptions = {}): SnapshotDiff {
  if (a === b) return { kind: 'SnapshotDiff', identical: true, semantic: EMPTY_SEMANTIC, structural: [] }
  const structural: PathChange[] = []
  if (options.structural !== false) walk('', a, b, structural)
  const [framesAllocated, framesFreed, refCounts, nodesAllocated, nodesFreed, nodesStray] = slotChanges(a, b)
  const { added, removed, changed } = mappingChanges(a, b, options.view ?? 'ghost')
  const semantic: SemanticDiff = {
    mappingsAdded: added,
    mappingsRemoved: removed,
    mappingsChanged: changed,
    framesAllocated,
    framesFreed,
    refCounts,
    ptesWritten: pteWrites(a, b),
    nodesAllocated,
    nodesFreed,
    nodesStray,
    slotOwners: slotOwnerChanges(a, b),
    treeRecords: treeRecordChanges(a, b),
    cursors: cursorChanges(a, b),
    vmIos: vmIoChanges(a, b),
    handles: handleChanges(a, b),
  }
  return { kind: 'SnapshotDiff', identical: false, semantic, structural }
}

/** Whether a diff records no change at all (structural or semantic). */
export function isEmptyDiff(d: SnapshotDiff): boolean {
  return d.structural.length === 0 && SEMANTIC_CATEGORIES.every((k) => d.semantic[k].length === 0)
}

// ---- structural ---------------------------------------------------------------------------------

function isTable(v: unknown): v is Table<unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const t = v as Partial<Table<unknown>>
  return typeof t.depth === 'number' && typeof t.count === 'number' && 'root' in t && Object.keys(t).length === 3
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v)
}

function isPrimitive(v: unknown): boolean {
  return v === null || (typeof v !== 'object' && typeof v !== 'function')
}

/** A path segment for an object key: `.key` (top-level keys without the dot). */
function keyPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

/**
 * Walks two versions of a value. Identical references are skipped; tables are walked by
 * `tableDiff` (shared chunks skipped); memory pages are compared word by word; plain objects key by
 * key; arrays of plain values are one leaf; other arrays element by element.
 */
function walk(path: string, x: unknown, y: unknown, out: PathChange[]): void {
  if (x === y || (x === undefined && y === null) || (x === null && y === undefined)) return
  if (x instanceof Uint8Array || y instanceof Uint8Array) {
    if ((x === null || x === undefined || x instanceof Uint8Array) && (y === null || y === undefined || y instanceof Uint8Array)) {
      memoryRuns(path, (x ?? null) as Uint8Array | null, (y ?? null) as Uint8Array | null, out)
      return
    }
  } else if (isTable(x) && isTable(y)) {
    tableDiff(x, y, (i, b, a) => walk(`${path}[${i}]`, b, a, out))
    return
  } else if (Array.isArray(x) && Array.isArray(y)) {
    if (x.every(isPrimitive) && y.every(isPrimitive)) {
      if (x.length !== y.length || x.some((v, i) => !Object.is(v, y[i]))) out.push({ path, before: toValue(x), after: toValue(y) })
      return
    }
    if (x.length === y.length) {
      for (let i = 0; i < x.length; i++) walk(`${path}[${i}]`, x[i], y[i], out)
      return
    }
  } else if (isPlainObject(x) && isPlainObject(y) && !isTable(x) && !isTable(y) && x.kind === y.kind) {
    // (objects of different variants, `kind`, are one leaf: their fields are not comparable)
    for (const k of Object.keys(y)) walk(keyPath(path, k), x[k], y[k], out)
    for (const k of Object.keys(x)) if (!(k in y)) walk(keyPath(path, k), x[k], undefined, out)
    return
  } else if (isPrimitive(x) && isPrimitive(y)) {
    if (!Object.is(x, y)) out.push({ path, before: toValue(x), after: toValue(y) })
    return
  }
  out.push({ path, before: toValue(x), after: toValue(y) })
}

/** Longest run of changed words reported word by word; a longer run is one entry with a digest. */
const MAX_WORDS_PER_RUN = 4

function wordAt(page: Uint8Array | null, i: number): bigint {
  if (page === null) return 0n
  return new DataView(page.buffer, page.byteOffset, page.byteLength).getBigUint64(i * PTE_SIZE, true)
}

/** FNV-1a over a byte range (zeros for a missing page): a short, deterministic fingerprint. */
function fingerprint(page: Uint8Array | null, from: number, to: number): string {
  let h = 0x811c9dc5
  for (let i = from; i < to; i++) {
    h ^= page === null ? 0 : page[i]!
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h.toString(16).padStart(8, '0')
}

const hex3 = (n: number): string => `0x${n.toString(16).padStart(3, '0')}`

/** Changed 8-byte words of a page (a missing page reads as zero), as runs. */
function memoryRuns(path: string, x: Uint8Array | null, y: Uint8Array | null, out: PathChange[]): void {
  const changed = changedPteIndices(x, y)
  let r = 0
  while (r < changed.length) {
    let e = r + 1
    while (e < changed.length && changed[e] === changed[e - 1]! + 1) e++
    const i = changed[r]!
    const j = changed[e - 1]! + 1
    if (j - i <= MAX_WORDS_PER_RUN) {
      for (let k = i; k < j; k++) out.push({ path: `${path}+${hex3(k * PTE_SIZE)}`, before: pteToHex(wordAt(x, k)), after: pteToHex(wordAt(y, k)) })
    } else {
      const from = i * PTE_SIZE
      const to = j * PTE_SIZE
      const summary = (p: Uint8Array | null): string => `<${to - from} bytes, fnv ${fingerprint(p, from, to)}>`
      out.push({ path: `${path}+${hex3(from)}..${hex3(to)}`, before: summary(x), after: summary(y) })
    }
    r = e
  }
}

/** A snapshot value as JSON-safe data: tables become `{ index: value }` objects, bytes a digest. */
export function toValue(v: unknown): DiffValue {
  if (v === null || v === undefined) return null
  if (typeof v === 'bigint') return `0x${v.toString(16)}`
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v
  if (v instanceof Uint8Array) return `<${v.length} bytes, fnv ${fingerprint(v, 0, v.length)}>`
  if (Array.isArray(v)) return v.map(toValue)
  if (isTable(v)) {
    const o: Record<string, DiffValue> = {}
    tableForEach(v, (e, i) => {
      o[String(i)] = toValue(e)
    })
    return o
  }
  if (typeof v === 'object') {
    const o: Record<string, DiffValue> = {}
    for (const [k, e] of Object.entries(v)) if (e !== undefined) o[k] = toValue(e)
    return o
  }
  return String(v)
}

// ---- slots: frames, ref counts, nodes ---------------------------------------------------------

function liveNodeMeta(s: MetaSlot): { level: number; config: PtConfigName; stray: boolean } | null {
  return s.refCount !== REF_COUNT_UNUSED && s.storage?.kind === 'PTNode' ? s.storage : null
}

type SlotLists = [FrameLife[], FrameLife[], RefCountChange[], NodeLife[], NodeLife[], NodeStray[]]

/** From the exec meta slots: allocations, frees, ref-count changes, node allocations / frees / stray flags. */
function slotChanges(a: Snapshot, b: Snapshot): SlotLists {
  const lists: SlotLists = [[], [], [], [], [], []]
  const [allocated, freed, rcs, nodesIn, nodesOut, strays] = lists
  tableDiff(a.metaSlots, b.metaSlots, (slot, x0, y0) => {
    const x = x0 ?? FRESH_SLOT
    const y = y0 ?? FRESH_SLOT
    const paddr = indexToFrame(slot)
    const wasUsed = x.refCount !== REF_COUNT_UNUSED
    const isUsed = y.refCount !== REF_COUNT_UNUSED
    if (!wasUsed && isUsed) allocated.push({ slot, paddr, refCount: y.refCount, usage: ownerOf(b, slot).usage, storage: y.storage?.kind ?? null })
    else if (wasUsed && !isUsed) freed.push({ slot, paddr, refCount: x.refCount, usage: ownerOf(a, slot).usage, storage: x.storage?.kind ?? null })
    else if (wasUsed && isUsed && x.refCount !== y.refCount) rcs.push({ slot, paddr, before: x.refCount, after: y.refCount })
    const nx = liveNodeMeta(x)
    const ny = liveNodeMeta(y)
    if (nx === null && ny !== null) nodesIn.push({ slot, paddr, level: ny.level, config: ny.config })
    else if (nx !== null && ny === null) nodesOut.push({ slot, paddr, level: nx.level, config: nx.config })
    else if (nx !== null && ny !== null && nx.stray !== ny.stray) strays.push({ slot, paddr, before: nx.stray, after: ny.stray })
  })
  return lists
}

/** Whether slot `slot` is a page-table node in `s` (its metadata or the owner tree says so). */
function nodeLevelIn(s: Snapshot, slot: number): number | null {
  const r = tableGet(s.pt.owners, slot)
  if (r !== null) return r.level
  const st = (tableGet(s.metaSlots, slot) ?? FRESH_SLOT).storage
  return st?.kind === 'PTNode' ? st.level : null
}

/** PTE words that changed in the memory of page-table nodes (of either snapshot). */
function pteWrites(a: Snapshot, b: Snapshot): PteWrite[] {
  const out: PteWrite[] = []
  tableDiff(a.memory, b.memory, (slot, x, y) => {
    const level = nodeLevelIn(b, slot) ?? nodeLevelIn(a, slot)
    if (level === null) return
    for (const idx of changedPteIndices(x, y)) {
      out.push({ node: slot, paddr: indexToFrame(slot), idx, level, before: pteToHex(wordAt(x, idx)), after: pteToHex(wordAt(y, idx)) })
    }
  })
  return out
}

// ---- ghost slot owners --------------------------------------------------------------------------

function slotOwnerChanges(a: Snapshot, b: Snapshot): SlotOwnerChange[] {
  if (a.regions === b.regions) return []
  const slots = new Set<number>()
  tableDiff(a.regions.slotOwners, b.regions.slotOwners, (i) => slots.add(i))
  tableDiff(a.regions.frameObligations, b.regions.frameObligations, (i) => slots.add(i))
  const out: SlotOwnerChange[] = []
  for (const slot of [...slots].sort((p, q) => p - q)) {
    const x = ownerOf(a, slot)
    const y = ownerOf(b, slot)
    const before = new Set(x.pathsInPt)
    const after = new Set(y.pathsInPt)
    const pathsAdded = y.pathsInPt.filter((p) => !before.has(p))
    const pathsRemoved = x.pathsInPt.filter((p) => !after.has(p))
    const ox = tableGet(a.regions.frameObligations, slot) ?? 0
    const oy = tableGet(b.regions.frameObligations, slot) ?? 0
    const change: { -readonly [K in keyof SlotOwnerChange]: SlotOwnerChange[K] } = { slot, paddr: indexToFrame(slot), pathsAdded, pathsRemoved }
    if (x.rawCount !== y.rawCount) change.rawCount = { before: x.rawCount, after: y.rawCount }
    if (x.usage !== y.usage) change.usage = { before: x.usage, after: y.usage }
    if (ox !== oy) change.obligations = { before: ox, after: oy }
    if (pathsAdded.length + pathsRemoved.length > 0 || change.rawCount || change.usage || change.obligations) out.push(change)
  }
  return out
}

// ---- owner tree ---------------------------------------------------------------------------------

const RECORD_FIELDS = ['tree', 'path', 'parentLevel', 'inScope', 'level', 'treeLevel', 'slotIndex', 'config'] as const

function recordFieldsChanged(x: PtNodeOwner, y: PtNodeOwner): string[] {
  const out: string[] = RECORD_FIELDS.filter((k) => !Object.is(x[k], y[k]))
  if (x.metaOwn !== y.metaOwn && (x.metaOwn?.nrChildren !== y.metaOwn?.nrChildren || x.metaOwn?.stray !== y.metaOwn?.stray)) out.push('metaOwn')
  return out
}

function sameEntry(x: ChildEntryOwner | null, y: ChildEntryOwner | null): boolean {
  return x === y || (x !== null && y !== null && equal(x, y))
}

const noChildren = emptyTable<ChildEntryOwner>(NR_ENTRIES)

function treeRecordChanges(a: Snapshot, b: Snapshot): TreeRecordChange[] {
  const out: TreeRecordChange[] = []
  tableDiff(a.pt.owners, b.pt.owners, (slot, x, y) => {
    const r = (y ?? x)!
    const entries: TreeEntryChange[] = []
    tableDiff(x?.children ?? noChildren, y?.children ?? noChildren, (idx, cx, cy) => {
      if (!sameEntry(cx, cy)) entries.push({ idx, before: cx, after: cy })
    })
    const change = x === null ? 'added' : y === null ? 'removed' : 'changed'
    const fields = x !== null && y !== null ? recordFieldsChanged(x, y) : []
    if (change === 'changed' && fields.length === 0 && entries.length === 0) return
    out.push({ slot, paddr: indexToFrame(slot), change, tree: r.tree, path: r.path, level: r.level, fields, entries })
  })
  return out
}

// ---- mappings -----------------------------------------------------------------------------------

/** VA windows of one page table whose mappings may differ (`all` = the whole table). */
type Windows = VaRange[] | 'all'

function addWindow(map: Map<number, Windows>, root: number, w: VaRange | 'all'): void {
  const cur = map.get(root)
  if (cur === 'all') return
  if (w === 'all' || !(Number.isFinite(w.start) && Number.isFinite(w.end))) map.set(root, 'all')
  else if (cur === undefined) map.set(root, [w])
  else cur.push(w)
}

function isLevel(level: unknown): level is number {
  return typeof level === 'number' && Number.isInteger(level) && level >= 1 && level <= NR_LEVELS
}

/** The VA span of entry `idx` of a record (or of the whole record when `idx` is null). */
function recordWindow(r: PtNodeOwner, idx: number | null): VaRange | 'all' {
  if (!isLevel(r.level) || typeof r.path !== 'string') return 'all'
  if (r.path === '' && idx === null) return 'all'
  const base = pathVaddr(r.path)
  if (idx === null) return { start: base, end: base + pageSize(r.level + 1) }
  return { start: base + idx * pageSize(r.level), end: base + (idx + 1) * pageSize(r.level) }
}

/** Fields of a node record that decide where its entries' mappings are. */
const VIEW_FIELDS = ['tree', 'path', 'level', 'config'] as const

/** Marks the windows of every page table whose view a step may have changed (ghost: owner records). */
function ghostWindows(a: Snapshot, b: Snapshot, into: Map<number, Windows>): void {
  tableDiff(a.pt.owners, b.pt.owners, (_slot, x, y) => {
    // Only the record's position and its entries place mappings (`nr_children`, `in_scope` do not),
    // so a record whose position is unchanged marks just its changed entries.
    if (x !== null && y !== null && VIEW_FIELDS.every((k) => Object.is(x[k], y[k]))) {
      tableDiff(x.children ?? noChildren, y.children ?? noChildren, (idx) => {
        addWindow(into, x.tree, recordWindow(x, idx))
      })
      return
    }
    for (const r of [x, y]) if (r !== null) addWindow(into, r.tree, recordWindow(r, null))
  })
}

/** Same, for the PTE view: windows of the changed words of node pages (by their records' positions). */
function pteWindows(a: Snapshot, b: Snapshot, into: Map<number, Windows>): void {
  let unplaced = false
  tableDiff(a.memory, b.memory, (slot, x, y) => {
    const recs = [tableGet(a.pt.owners, slot), tableGet(b.pt.owners, slot)].filter((r): r is PtNodeOwner => r !== null)
    if (recs.length === 0) {
      if (nodeLevelIn(a, slot) !== null || nodeLevelIn(b, slot) !== null) unplaced = true
      return
    }
    for (let idx = 0; idx < NR_ENTRIES; idx++) {
      if (wordAt(x, idx) === wordAt(y, idx)) continue
      for (const r of recs) addWindow(into, r.tree, recordWindow(r, idx))
    }
  })
  // a node with no record changed its words: its position is unknown, so every table is re-read
  if (unplaced) for (const s of [a, b]) tableForEach(s.pt.owners, (r, slot) => r.tree === slot && addWindow(into, slot, 'all'))
}

/** Merges overlapping windows (sorted). */
function mergeWindows(ws: VaRange[]): VaRange[] {
  const sorted = [...ws].sort((p, q) => p.start - q.start)
  const out: VaRange[] = []
  for (const w of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && w.start <= last.end) out[out.length - 1] = { start: last.start, end: Math.max(last.end, w.end) }
    else out.push({ start: Math.max(0, w.start), end: Math.min(VA_SPAN, w.end) })
  }
  return out
}

/** The root record of a page table's view in `s` (a level-4 tree root), or null. */
function viewRoot(s: Snapshot, slot: number): PtNodeOwner | null {
  const r = tableGet(s.pt.owners, slot)
  return r !== null && r.tree === slot && r.path === '' && r.level === NR_LEVELS ? r : null
}

/** The configuration of the page table rooted at `slot` in `s`: its handle's, else its record's. */
function configOf(s: Snapshot, slot: number, r: PtNodeOwner): PtConfigName {
  const id = handleOfRoot(s, slot)
  return id === null ? r.config : tableGet(s.pt.tables, id)!.config
}

/** The mappings of the table rooted at `slot` in `s` within the windows, keyed by `va:pageSize`. */
function mappingsOf(s: Snapshot, slot: number, windows: Windows, view: ViewSource): Map<string, Mapping> {
  const out = new Map<string, Mapping>()
  const r = viewRoot(s, slot)
  if (r === null) return out
  const config = configOf(s, slot, r)
  const visit = (m: Mapping): void => void out.set(`${m.vaRange.start}:${m.pageSize}`, m)
  if (windows === 'all') forEachMapping(s, slot, { source: view, config }, visit)
  else for (const w of mergeWindows(windows)) forEachMapping(s, slot, { source: view, config, range: w }, visit)
  return out
}

function mappingChanges(a: Snapshot, b: Snapshot, view: ViewSource): { added: MappingItem[]; removed: MappingItem[]; changed: MappingChange[] } {
  const windows = new Map<number, Windows>()
  if (view === 'ghost') ghostWindows(a, b, windows)
  else pteWindows(a, b, windows)
  // a page table handle made, dropped or re-configured: its whole view
  tableDiff(a.pt.tables, b.pt.tables, (_id, x, y) => {
    for (const h of [x, y]) if (h !== null && Number.isSafeInteger(h.rootPaddr) && h.rootPaddr >= 0) addWindow(windows, Math.floor(h.rootPaddr / PAGE_SIZE), 'all')
  })
  const added: MappingItem[] = []
  const removed: MappingItem[] = []
  const changed: MappingChange[] = []
  for (const root of [...windows.keys()].sort((p, q) => p - q)) {
    const ra = viewRoot(a, root)
    const rb = viewRoot(b, root)
    if (ra === null && rb === null) continue
    const w = windows.get(root)!
    const before = mappingsOf(a, root, ra !== null && rb !== null ? w : 'all', view)
    const after = mappingsOf(b, root, ra !== null && rb !== null ? w : 'all', view)
    const pageTable = handleOfRoot(b, root) ?? handleOfRoot(a, root)
    const config = rb !== null ? configOf(b, root, rb) : configOf(a, root, ra!)
    const item = (m: Mapping): MappingItem => ({ pageTable, root, config, va: m.vaRange.start, pageSize: m.pageSize, pa: m.paRange.start, prop: m.property })
    const local: Array<{ va: number; order: number; push: () => void }> = []
    for (const [key, m] of before) {
      const n = after.get(key)
      if (n === undefined) local.push({ va: m.vaRange.start, order: 0, push: () => removed.push(item(m)) })
      else if (n.paRange.start !== m.paRange.start || !pagePropertyEquals(n.property, m.property)) {
        local.push({
          va: m.vaRange.start,
          order: 1,
          push: () => changed.push({ pageTable, root, config, va: m.vaRange.start, pageSize: m.pageSize, before: { pa: m.paRange.start, prop: m.property }, after: { pa: n.paRange.start, prop: n.property } }),
        })
      }
    }
    for (const [key, n] of after) if (!before.has(key)) local.push({ va: n.vaRange.start, order: 2, push: () => added.push(item(n)) })
    local.sort((p, q) => p.va - q.va || p.order - q.order)
    for (const l of local) l.push()
  }
  return { added, removed, changed }
}

// ---- cursors, readers / writers, handles ----------------------------------------------------

function cursorChanges(a: Snapshot, b: Snapshot): CursorChange[] {
  const out: CursorChange[] = []
  tableDiff(a.pt.cursors, b.pt.cursors, (id, x, y) => {
    const c = (y ?? x)!
    const base = { id, kind: c.kind, pageTable: c.pageTable, range: { start: c.barrierVa.start, end: c.barrierVa.end }, va: c.va, level: c.level }
    if (x === null) out.push({ ...base, change: 'created' })
    else if (y === null) out.push({ ...base, change: 'dropped' })
    else if (x.va !== y.va || x.level !== y.level) out.push({ ...base, change: 'moved', from: { va: x.va, level: x.level } })
    else if (!equal(x, y)) out.push({ ...base, change: 'changed', from: { va: x.va, level: x.level } })
  })
  return out
}

function vmIoChanges(a: Snapshot, b: Snapshot): VmIoChange[] {
  const out: VmIoChange[] = []
  tableDiff(a.vmIos, b.vmIos, (id, x, y) => {
    const e = (y ?? x)!
    const base = { id, kind: e.kind, cursor: e.cursor, end: e.end }
    if (x === null) out.push({ ...base, change: 'created' })
    else if (y === null) out.push({ ...base, change: 'dropped' })
    else if (x.cursor !== y.cursor || x.end !== y.end) out.push({ ...base, change: 'advanced', from: { cursor: x.cursor, end: x.end } })
    else if (!equal(x, y)) out.push({ ...base, change: 'changed', from: { cursor: x.cursor, end: x.end } })
  })
  return out
}

function handleChanges(a: Snapshot, b: Snapshot): HandleChange[] {
  const out: HandleChange[] = []
  const registries: ReadonlyArray<[HandleRegistry, (s: Snapshot) => Table<unknown>]> = [
    ['frames', (s) => s.frames],
    ['segments', (s) => s.segments],
    ['uniqueFrames', (s) => s.uniqueFrames],
    ['lists', (s) => s.lists],
    ['pageTables', (s) => s.pt.tables],
    ['ptNodes', (s) => s.pt.nodes],
    ['ptGuards', (s) => s.pt.guards],
    ['ptEntries', (s) => s.pt.entries],
    ['ptChildren', (s) => s.pt.children],
  ]
  for (const [registry, get] of registries) {
    tableDiff(get(a), get(b), (id, x, y) => {
      if (x !== null && y !== null && equal(x, y)) return
      out.push({ registry, id, change: x === null ? 'created' : y === null ? 'dropped' : 'changed', before: toValue(x), after: toValue(y) })
    })
  }
  return out
}
