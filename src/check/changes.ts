/**
 * What a step changed, found by comparing table chunks by reference (structural sharing makes
 * unchanged parts identical objects): the cost follows the change, not the size of the state.
 */
import { frameToIndex, MAX_PADDR, PAGE_SIZE } from '../arch/constants.js'
import type { MetaSlotCells, SegmentEntry, Snapshot } from '../model/snapshot.js'
import { tableDiff, tableForEachLeaf, tableGet, type Table } from '../model/table.js'
import { computePtChanges, entryUnit, markChildUnits, markPageTableRoots, type PtChanges } from './pt_changes.js'
import { markCursorUnits, markTreeHandles } from './pt_changes.js'

export interface ChangeSet {
  /**
   * Slots whose exec cells, ghost owner, parking, obligations or unique owner changed, or whose
   * handle / cover counts changed, and the list neighbours and ends such a change re-links
   * (`markListUnits`): the slot units an invariant must see again.
   */
  readonly slots: ReadonlySet<number>
  /** Slots whose exec cells or ghost owner changed (the `slot_owners` / `metaSlots` frame rule). */
  readonly slotCells: ReadonlySet<number>
  readonly parking: ReadonlySet<number>
  readonly obligations: ReadonlySet<number>
  readonly uniqueOwners: ReadonlySet<number>
  readonly memory: ReadonlySet<number>
  readonly frames: ReadonlySet<number>
  readonly segments: ReadonlySet<number>
  readonly uniqueFrames: ReadonlySet<number>
  /** Lists whose entry changed, and lists a changed slot is (or was) linked into. */
  readonly lists: ReadonlySet<number>
  readonly vmIos: ReadonlySet<number>
  /** Page-table handle registries. */
  readonly ptNodes: ReadonlySet<number>
  readonly ptGuards: ReadonlySet<number>
  readonly ptEntries: ReadonlySet<number>
  readonly ptChildren: ReadonlySet<number>
  /** Page-table cursors whose record, or a node their verdict reads, changed (`markCursorUnits`). */
  readonly ptCursors: ReadonlySet<number>
  /** Page-table nodes (by slot) and PTE slots (`node * 512 + index`) whose verdict may have changed. */
  readonly ptNode: ReadonlySet<number>
  readonly ptEntry: ReadonlySet<number>
}

function keysChanged<T>(before: Table<T>, after: Table<T>, into: Set<number>, onEntry?: (entry: T) => void): void {
  tableDiff(before, after, (i, b, a) => {
    into.add(i)
    if (onEntry) {
      if (b !== null) onEntry(b)
      if (a !== null) onEntry(a)
    }
  })
}

/** Every page of a segment's range (clamped to `MAX_PADDR`, so a corrupted range stays finite). */
export function segmentPages(seg: SegmentEntry): number[] {
  const out: number[] = []
  if (!Number.isSafeInteger(seg.startPaddr) || !Number.isSafeInteger(seg.endPaddr) || seg.startPaddr < 0) return out
  const end = Math.min(seg.endPaddr, MAX_PADDR)
  for (let pa = seg.startPaddr - (seg.startPaddr % PAGE_SIZE); pa < end; pa += PAGE_SIZE) out.push(frameToIndex(pa))
  return out
}

export function computeChanges(before: Snapshot, after: Snapshot): ChangeSet {
  const slots = new Set<number>()
  const slotCells = new Set<number>()
  const parking = new Set<number>()
  const obligations = new Set<number>()
  const uniqueOwners = new Set<number>()
  const memory = new Set<number>()
  const frames = new Set<number>()
  const segments = new Set<number>()
  const uniqueFrames = new Set<number>()
  const lists = new Set<number>()
  const vmIos = new Set<number>()
  const ptNodes = new Set<number>()
  const ptGuards = new Set<number>()
  const ptEntries = new Set<number>()
  const ptChildren = new Set<number>()
  const ptCursors = new Set<number>()
  let pt: PtChanges = { ptNode: new Set(), ptEntry: new Set() }
  if (before !== after) {
    keysChanged(before.metaSlots, after.metaSlots, slotCells)
    keysChanged(before.regions.slotOwners, after.regions.slotOwners, slotCells)
    keysChanged(before.regions.unparked, after.regions.unparked, parking)
    keysChanged(before.regions.frameObligations, after.regions.frameObligations, obligations)
    keysChanged(before.uniqueOwners, after.uniqueOwners, uniqueOwners)
    keysChanged(before.memory, after.memory, memory)
    for (const set of [slotCells, parking, obligations, uniqueOwners]) for (const i of set) slots.add(i)
    keysChanged(before.frames, after.frames, frames, (e) => slots.add(frameToIndex(e.paddr)))
    keysChanged(before.uniqueFrames, after.uniqueFrames, uniqueFrames, (e) => slots.add(frameToIndex(e.paddr)))
    keysChanged(before.segments, after.segments, segments, (e) => {
      for (const i of segmentPages(e)) slots.add(i)
    })
    keysChanged(before.lists, after.lists, lists)
    keysChanged(before.vmIos, after.vmIos, vmIos)
    markListUnits(before, after, slotCells, slots, lists)
    if (before.pt !== after.pt || slotCells.size > 0 || memory.size > 0 || parking.size > 0) {
      // parking is read by INV-NODE-6 / INV-SOUND-2..3 as much as the cells are
      const slotLike = parking.size === 0 ? slotCells : new Set([...slotCells, ...parking])
      // frame slots whose mapping entries changed (INV-TREE-8), physical ones only
      const treeSlots = new Set<number>()
      pt = computePtChanges(before, after, slotLike, memory, treeSlots)
      for (const i of treeSlots) if (i < after.nrFrames) slots.add(i)
      // a handle to a node marks the node (handle counts), an owner of a child held by code its child id
      keysChanged(before.pt.nodes, after.pt.nodes, ptNodes, (e) => pt.ptNode.add(frameToIndex(e.paddr)))
      keysChanged(before.pt.guards, after.pt.guards, ptGuards, (e) => pt.ptNode.add(frameToIndex(e.paddr)))
      // an Entry handle marks the PTE slot it caches (INV-TREE-9 compares the two)
      for (const [snap, other] of [[before, after], [after, before]] as const) {
        tableDiff(snap.pt.entries, other.pt.entries, (_id, e) => {
          const g = e === null ? null : tableGet(snap.pt.guards, e.guard)
          if (e !== null && g !== null) pt.ptEntry.add(entryUnit(frameToIndex(g.paddr), e.idx))
        })
      }
      keysChanged(before.pt.entries, after.pt.entries, ptEntries)
      keysChanged(before.pt.children, after.pt.children, ptChildren, (e) => {
        if (e.kind === 'PageTable') pt.ptNode.add(frameToIndex(e.paddr))
      })
      keysChanged(before.pt.childOwners, after.pt.childOwners, ptChildren)
      // a Child whose node, mapped slot or tree record changed (INV-CHILD-1/2 read them)
      markChildUnits(before, after, new Set([...slotLike, ...pt.ptNode]), ptChildren)
      markPageTableRoots(before, after, pt)
      markTreeHandles(before, after, pt, slots)
      markCursorUnits(before, after, pt.ptNode, ptCursors, ptGuards)
      for (const slot of pt.ptNode) slots.add(slot)
    }
  }
  return { slots, slotCells, parking, obligations, uniqueOwners, memory, frames, segments, uniqueFrames, lists, vmIos, ptNodes, ptGuards, ptEntries, ptChildren, ptCursors, ...pt }
}

// ---- linked lists (INV-LIST-*) -------------------------------------------------------------
//
// A list's invariant walks its member slots, and a member's links are checked against its
// neighbours and its list's ends; a slot's `in_list` is checked against the list it names
// (INV-STORE-3, INV-LIST-2..3). So that incremental checking sees every unit whose verdict a step
// can change: a changed slot also marks the lists it is (or was) in and its neighbours (before
// and after); a changed list marks its ends; a list created, removed or renumbered marks every
// slot whose `in_list` names it (a scan of the slot tables, on those rare steps only). Only slot
// indices of physical memory are marked.

function linkedCells(s: Snapshot, i: number): Array<MetaSlotCells | null> {
  return [tableGet(s.metaSlots, i), tableGet(s.regions.slotOwners, i)?.innerPerms ?? null]
}

function markSlotAt(s: Snapshot, pa: number | null, into: Set<number>): void {
  if (pa === null || !Number.isSafeInteger(pa) || pa < 0) return
  const i = frameToIndex(pa)
  if (i < s.nrFrames) into.add(i)
}

/** Slots of `s` whose exec or ghost `in_list` is one of `ids`. */
function slotsNaming(s: Snapshot, ids: ReadonlySet<number>, into: Set<number>): void {
  slotsNamingIn(s.metaSlots, metaInLists, (cells) => cells?.inList, ids, into)
  slotsNamingIn(s.regions.slotOwners, ownerInLists, (owner) => owner?.innerPerms?.inList, ids, into)
}

/**
 * The `in_list` values held in each leaf chunk of a slot table (0 left out: it names no list).
 * A scan of every slot at each probe made this most of a bisection's change computation; with the
 * summaries it visits only the chunks holding a wanted id, and summarises each chunk once in its
 * lifetime (chunks are immutable once published and shared by the snapshots that hold them).
 */
const metaInLists = new WeakMap<object, ReadonlySet<unknown>>()
const ownerInLists = new WeakMap<object, ReadonlySet<unknown>>()
const NO_LISTS: ReadonlySet<unknown> = new Set()

function slotsNamingIn<T>(table: Table<T>, summaries: WeakMap<object, ReadonlySet<unknown>>, inList: (v: T) => unknown, ids: ReadonlySet<number>, into: Set<number>): void {
  tableForEachLeaf(table, (leaf, base) => {
    let held = summaries.get(leaf)
    if (held === undefined) {
      const found = new Set<unknown>()
      for (const v of leaf) {
        if (v === null || v === undefined) continue
        const x = inList(v)
        if (x !== 0) found.add(x)
      }
      held = found.size === 0 ? NO_LISTS : found
      summaries.set(leaf, held)
    }
    if (held === NO_LISTS) return
    let wanted = false
    for (const id of ids) {
      if (held.has(id)) {
        wanted = true
        break
      }
    }
    if (!wanted) return
    for (let k = 0; k < leaf.length; k++) {
      const v = leaf[k]
      if (v !== null && v !== undefined && ids.has(inList(v) as number)) into.add(base + k)
    }
  })
}

function markListUnits(before: Snapshot, after: Snapshot, slotCells: ReadonlySet<number>, slots: Set<number>, lists: Set<number>): void {
  const marked = new Set<number>()
  for (const i of slotCells) {
    for (const s of [before, after]) {
      for (const cells of linkedCells(s, i)) {
        if (cells === null) continue
        if (Number.isSafeInteger(cells.inList) && cells.inList > 0) lists.add(cells.inList - 1)
        if (cells.storage?.kind === 'FrameLink') {
          markSlotAt(s, cells.storage.prevPaddr, marked)
          markSlotAt(s, cells.storage.nextPaddr, marked)
        }
      }
    }
  }
  const renamed = new Set<number>()
  tableDiff(before.lists, after.lists, (id, b, a) => {
    if (b === null || a === null || b.listId !== a.listId) renamed.add(id + 1)
    for (const [s, e] of [[before, b], [after, a]] as const) {
      if (e === null) continue
      markSlotAt(s, e.frontPaddr, marked)
      markSlotAt(s, e.backPaddr, marked)
    }
  })
  if (renamed.size > 0) slotsNaming(after, renamed, marked)
  for (const i of marked) slots.add(i)
}
