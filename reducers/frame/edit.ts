/**
 * Writing slots inside an immer recipe. Exec cells and ghost owners are separate tables and are
 * written separately, as the Verus code updates the `MetaSlot` and its `MetaSlotOwner`
 * separately: nothing here derives one from the other.
 */
import type { Draft } from '../../src/model/immer.js'
import type { MetaSlot, MetaSlotOwner, Snapshot, UniqueFrameOwner } from '../../src/model/snapshot.js'
import { ownerOf } from '../../src/model/slots.js'
import { tableGet, tableSet, type Table } from '../../src/model/table.js'

export function putSlot(d: Draft<Snapshot>, idx: number, cells: MetaSlot): void {
  tableSet(d.metaSlots, idx, cells)
}

export function putOwner(d: Draft<Snapshot>, idx: number, owner: MetaSlotOwner): void {
  tableSet(d.regions.slotOwners, idx, owner)
}

/** Replaces some fields of slot `idx`'s ghost owner, reading the current value from `pre`. */
export function patchOwner(d: Draft<Snapshot>, pre: Snapshot, idx: number, patch: Partial<MetaSlotOwner>): void {
  putOwner(d, idx, { ...ownerOf(pre, idx), ...patch })
}

export function putUniqueOwner(d: Draft<Snapshot>, idx: number, owner: UniqueFrameOwner | null): void {
  tableSet(d.uniqueOwners, idx, owner)
}

/** `parked := parked ∪ {idx}` (on = true) or `parked := parked \ {idx}`. */
export function setParked(d: Draft<Snapshot>, idx: number, on: boolean): void {
  tableSet(d.regions.unparked, idx, on ? null : true)
}

/** `frame_obligations`: `mint` (+1) or `redeem` (-1) at `idx` (reads the draft, so repeated calls add up). */
export function addObligation(d: Draft<Snapshot>, idx: number, delta: number): void {
  const next = (tableGet(d.regions.frameObligations as Table<number>, idx) ?? 0) + delta
  tableSet(d.regions.frameObligations, idx, next === 0 ? null : next)
}

/** Takes the next id of a registry counter. */
export function freshId(d: Draft<Snapshot>, counter: keyof Snapshot['counters']): number {
  const id = d.counters[counter]
  d.counters[counter] = id + 1
  return id
}
