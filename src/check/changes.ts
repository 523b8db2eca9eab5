/**
 * What a step changed, found by comparing table chunks by reference (structural sharing makes
 * unchanged parts identical objects): the cost follows the change, not the size of the state.
 */
import { frameToIndex, MAX_PADDR, PAGE_SIZE } from '../arch/constants.js'
import type { SegmentEntry, Snapshot } from '../model/snapshot.js'
import { tableDiff, type Table } from '../model/table.js'

export interface ChangeSet {
  /** Slots whose exec cells, ghost owner, parking, obligations or unique owner changed, or whose handle / cover counts changed. */
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
  readonly lists: ReadonlySet<number>
  readonly vmIos: ReadonlySet<number>
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
  }
  return { slots, slotCells, parking, obligations, uniqueOwners, memory, frames, segments, uniqueFrames, lists, vmIos }
}
