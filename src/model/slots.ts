/**
 * Reading meta slots and their ghost owners from a snapshot. A slot with no table entry is the
 * canonical fresh slot of state.md §3.4 (UNUSED, uninitialised, parked, usage Unused or MMIO).
 */
import {
  frameToIndex,
  indexToFrame,
  metaAddr,
  PageUsage,
  REF_COUNT_UNUSED,
} from '../arch/constants.js'
import type { MetaSlot, MetaSlotOwner, ModelConfig, Snapshot, UniqueFrameOwner } from './snapshot.js'
import { tableGet, tableHas } from './table.js'

export const FRESH_SLOT: MetaSlot = Object.freeze({
  refCount: REF_COUNT_UNUSED,
  storage: null,
  vtablePtr: null,
  inList: 0,
})

/** `is_mmio_paddr(pa)`: a configuration parameter (state.md §3.2). */
export function isMmioPaddr(config: ModelConfig, pa: number): boolean {
  for (const [start, end] of config.mmioRanges) if (pa >= start && pa < end) return true
  return false
}

/** Canonical owners are built once per (config, slot) and shared (they are frozen). */
const freshOwners = new WeakMap<ModelConfig, Array<MetaSlotOwner | undefined>>()
const NO_PATHS: readonly string[] = Object.freeze([])

/** The canonical fresh owner of slot `idx`. */
export function freshOwner(config: ModelConfig, idx: number): MetaSlotOwner {
  let cache = freshOwners.get(config)
  if (cache === undefined) freshOwners.set(config, (cache = []))
  let owner = idx < 1 << 22 ? cache[idx] : undefined
  if (owner === undefined) {
    owner = Object.freeze({
      innerPerms: FRESH_SLOT,
      selfAddr: metaAddr(idx),
      usage: isMmioPaddr(config, indexToFrame(idx)) ? PageUsage.MMIO : PageUsage.Unused,
      rawCount: 0,
      pathsInPt: NO_PATHS,
    })
    if (idx < 1 << 22) cache[idx] = owner
  }
  return owner
}

/** Exec `MetaSlot` of slot `idx`. */
export function slotOf(s: Snapshot, idx: number): MetaSlot {
  return tableGet(s.metaSlots, idx) ?? FRESH_SLOT
}

/** Ghost `slot_owners[idx]`. */
export function ownerOf(s: Snapshot, idx: number): MetaSlotOwner {
  return tableGet(s.regions.slotOwners, idx) ?? freshOwner(s.config, idx)
}

/** `rc(idx)` as the ghost owner records it. */
export function rcOf(s: Snapshot, idx: number): number {
  return ownerOf(s, idx).innerPerms.refCount
}

/** `idx ∈ dom(regions.slots)` (MD-2). */
export function isParked(s: Snapshot, idx: number): boolean {
  return !tableHas(s.regions.unparked, idx)
}

/** `regions.frame_obligations.count(idx)`. */
export function obligationsOf(s: Snapshot, idx: number): number {
  return tableGet(s.regions.frameObligations, idx) ?? 0
}

export function uniqueOwnerOf(s: Snapshot, idx: number): UniqueFrameOwner | null {
  return tableGet(s.uniqueOwners, idx)
}

/** Whether slot `idx` is a frame of this machine's physical memory. */
export function isPhysicalSlot(s: Snapshot, idx: number): boolean {
  return Number.isInteger(idx) && idx >= 0 && idx < s.nrFrames
}

export function slotIndexOf(pa: number): number {
  return frameToIndex(pa)
}

/** Key of a tree path in `paths_in_pt` (`[3, 0, 511]` → `"3.0.511"`; the root is `""`). */
export function pathKey(path: readonly number[]): string {
  return path.join('.')
}

export function pathFromKey(key: string): number[] {
  return key === '' ? [] : key.split('.').map(Number)
}
