/**
 * Writing slots inside an `editSnapshot` recipe. Exec cells and ghost owners are separate tables
 * and are written separately, as the Verus code updates the `MetaSlot` and its `MetaSlotOwner`
 * separately: nothing here derives one from the other.
 */
import type { Draft } from '../../src/model/immer.js'
import type { Tables } from '../../src/model/edit.js'
import { freshOwner } from '../../src/model/slots.js'
import type { MetaSlot, MetaSlotOwner, Snapshot, UniqueFrameOwner } from '../../src/model/snapshot.js'

export function putSlot(t: Tables, idx: number, cells: MetaSlot): void {
  t.metaSlots.set(idx, cells)
}

/** Ghost `slot_owners[idx]` as the transaction sees it (its own writes included). */
export function ownerNow(t: Tables, s: Snapshot, idx: number): MetaSlotOwner {
  return t.slotOwners.get(idx) ?? freshOwner(s.config, idx)
}

/** Replaces some fields of slot `idx`'s ghost owner. */
export function patchOwner(t: Tables, s: Snapshot, idx: number, patch: Partial<MetaSlotOwner>): void {
  t.slotOwners.set(idx, { ...ownerNow(t, s, idx), ...patch })
}

export function putUniqueOwner(t: Tables, idx: number, owner: UniqueFrameOwner | null): void {
  t.uniqueOwners.set(idx, owner)
}

/** `parked := parked ∪ {idx}` (on = true) or `parked := parked \ {idx}`. */
export function setParked(t: Tables, idx: number, on: boolean): void {
  t.unparked.set(idx, on ? null : true)
}

/** `frame_obligations`: `mint` (+1) or `redeem` (-1) at `idx`. */
export function addObligation(t: Tables, idx: number, delta: number): void {
  const next = (t.frameObligations.get(idx) ?? 0) + delta
  t.frameObligations.set(idx, next === 0 ? null : next)
}

/** Takes the next id of a registry counter. */
export function freshId(d: Draft<Snapshot>, counter: keyof Snapshot['counters']): number {
  const id = d.counters[counter]
  d.counters[counter] = id + 1
  return id
}
