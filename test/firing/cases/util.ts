/** Helpers shared by the firing cases: corrupting slots in a draft, building small states. */
import { current, isDraft, type Draft } from 'immer'
import { metaAddr, PageUsage, REF_COUNT_UNIQUE } from '../../../src/arch/constants.js'
import type { Model } from '../../../src/api/model.js'
import { unwrap } from '../../../src/api/result.js'
import type { Frame } from '../../../src/api/frame.js'
import { freshOwner } from '../../../src/model/slots.js'
import { UNIT_META, type MetaSlotCells, type MetaSlotOwner, type Snapshot, type UniqueFrameOwner } from '../../../src/model/snapshot.js'
import { tableGet, tableWith, type Table } from '../../../src/model/table.js'

/** Writes entry `i` of a table inside an immer recipe (tests corrupt states with it). */
export function tableSet<T>(t: Draft<Table<T>> | Table<T>, i: number, v: T | null): void {
  const cur = (isDraft(t) ? current(t as object) : t) as Table<T>
  Object.assign(t as object, tableWith(cur, i, v))
}

export function cellsOf(d: Draft<Snapshot>, idx: number): MetaSlotCells {
  return (tableGet(d.metaSlots as Table<MetaSlotCells>, idx) ?? { refCount: -1, storage: null, vtablePtr: null, inList: 0 }) as MetaSlotCells
}

export function ownerIn(d: Draft<Snapshot>, idx: number): MetaSlotOwner {
  return (tableGet(d.regions.slotOwners as Table<MetaSlotOwner>, idx) ?? freshOwner(d.config as Snapshot['config'], idx)) as MetaSlotOwner
}

/**
 * Writes the same cells into the exec slot and the ghost owner (no INV-SLOT-9 drift), and into
 * the permission of the slot's `UniqueFrameOwner` when it has one (no INV-UNIQUE-2 drift).
 */
export function setCells(d: Draft<Snapshot>, idx: number, patch: Partial<MetaSlotCells>): void {
  const exec = { ...cellsOf(d, idx), ...patch }
  tableSet(d.metaSlots, idx, exec)
  tableSet(d.regions.slotOwners, idx, { ...ownerIn(d, idx), innerPerms: { ...ownerIn(d, idx).innerPerms, ...patch } })
  const unique = tableGet(d.uniqueOwners as Table<UniqueFrameOwner>, idx)
  if (unique !== null) tableSet(d.uniqueOwners, idx, { ...unique, innerPerms: { ...unique.innerPerms, ...patch } })
}

/** Replaces fields of the ghost owner only. */
export function setOwner(d: Draft<Snapshot>, idx: number, patch: Partial<MetaSlotOwner>): void {
  tableSet(d.regions.slotOwners, idx, { ...ownerIn(d, idx), ...patch })
}

/** Replaces exec cells only. */
export function setExec(d: Draft<Snapshot>, idx: number, patch: Partial<MetaSlotCells>): void {
  tableSet(d.metaSlots, idx, { ...cellsOf(d, idx), ...patch })
}

/** A well-formed UNIQUE slot (usage Frame), held by a seed-style un-parked owner when `unpark`. */
export function makeUnique(d: Draft<Snapshot>, idx: number, opts: { unpark?: boolean; usage?: PageUsage } = {}): void {
  setCells(d, idx, { refCount: REF_COUNT_UNIQUE, storage: { kind: 'Frame', meta: UNIT_META }, vtablePtr: 0, inList: 0 })
  setOwner(d, idx, { usage: opts.usage ?? PageUsage.Frame })
  if (opts.unpark) {
    tableSet(d.regions.unparked, idx, true)
    tableSet(d.uniqueOwners, idx, { slotIndex: idx, metaPermAddr: metaAddr(idx), innerPerms: ownerIn(d, idx).innerPerms })
  }
}

export function alloc(m: Model): Frame {
  return unwrap(m.frames.allocFrame())
}

/** A snapshot built by `setup`, then edited by `edit` (an initial state for a model). */
export function stateWith(setup: (m: Model) => void, edit: (d: Draft<Snapshot>) => void): (m: Model) => Snapshot {
  return (m) => {
    setup(m)
    return produceFrozen(m.state, edit)
  }
}

import { produce } from 'immer'
export function produceFrozen(s: Snapshot, edit: (d: Draft<Snapshot>) => void): Snapshot {
  return produce(s, edit)
}
