/**
 * Spec functions over one meta slot: `MetaSlotOwner::inv` (INV-SLOT-1..8), `MetaSlot::wf(owner)`
 * (INV-SLOT-9) and the fixed slot address (INV-REGIONS-6). Used by the checker's invariants and
 * by reducers that must establish `regions.inv()` locally before they act.
 */
import {
  FRAME_METADATA_RANGE_BYTES,
  META_SLOT_SIZE,
  metaAddr,
  metaToFrame,
  PageUsage,
  REF_COUNT_MAX,
  REF_COUNT_UNIQUE,
  REF_COUNT_UNUSED,
  refCountName,
} from '../../arch/constants.js'
import { isMmioPaddr } from '../slots.js'
import type { MetaSlot, MetaSlotCells, MetaSlotOwner, ModelConfig } from '../snapshot.js'
import { finding, type Finding } from './finding.js'
import equal from 'fast-deep-equal/es6/index.js'

function ownerPath(idx: number, field: string): string {
  return `regions.slotOwners[${idx}].${field}`
}

/** `rc` is one of UNUSED, UNIQUE, or an integer in `0..=REF_COUNT_MAX`. */
export function isWellFormedRefCount(rc: number): boolean {
  return rc === REF_COUNT_UNUSED || rc === REF_COUNT_UNIQUE || (Number.isInteger(rc) && rc >= 0 && rc <= REF_COUNT_MAX)
}

type SlotClause = (owner: MetaSlotOwner, idx: number, config: ModelConfig) => Finding[]

/** `MetaSlotOwner::inv` (INV-SLOT-1..8), one function per clause; each returns its failures. */
export const SLOT_OWNER_CLAUSES: Readonly<Record<string, SlotClause>> = {
  'INV-SLOT-1': (owner, idx) => {
    const out: Finding[] = []
    const { refCount: rc, storage, vtablePtr, inList } = owner.innerPerms
    if (rc !== REF_COUNT_UNUSED) return out
    if (storage !== null) out.push(finding('INV-SLOT-1', ownerPath(idx, 'innerPerms.storage'), 'an UNUSED slot has initialised storage', null, storage))
    if (vtablePtr !== null) out.push(finding('INV-SLOT-1', ownerPath(idx, 'innerPerms.vtablePtr'), 'an UNUSED slot has an initialised vtable cell', null, vtablePtr))
    if (inList !== 0) out.push(finding('INV-SLOT-1', ownerPath(idx, 'innerPerms.inList'), 'an UNUSED slot is in a list', 0, inList))
    if (owner.usage !== PageUsage.MMIO && owner.pathsInPt.length !== 0) out.push(finding('INV-SLOT-1', ownerPath(idx, 'pathsInPt'), 'an UNUSED slot is referenced by page-table paths', [], owner.pathsInPt))
    if (owner.rawCount !== 0) out.push(finding('INV-SLOT-1', ownerPath(idx, 'rawCount'), 'an UNUSED slot has forgotten raw handles', 0, owner.rawCount))
    return out
  },
  'INV-SLOT-2': (owner, idx) => {
    const out: Finding[] = []
    const { refCount: rc, storage, vtablePtr, inList } = owner.innerPerms
    if (rc !== REF_COUNT_UNIQUE) return out
    if (storage === null) out.push(finding('INV-SLOT-2', ownerPath(idx, 'innerPerms.storage'), 'a UNIQUE slot has uninitialised storage', 'init', null))
    if (vtablePtr === null) out.push(finding('INV-SLOT-2', ownerPath(idx, 'innerPerms.vtablePtr'), 'a UNIQUE slot has an uninitialised vtable cell', 'init', null))
    // A frame linked into a LinkedList carries the list id in `in_list` (ostd linked_list.rs);
    // only then may it be non-zero (documented deviation from the [FEB, APR] clause).
    if (inList !== 0 && storage?.kind !== 'FrameLink') out.push(finding('INV-SLOT-2', ownerPath(idx, 'innerPerms.inList'), 'a UNIQUE slot outside any linked list has in_list != 0', 0, inList))
    if (owner.usage !== PageUsage.MMIO && owner.pathsInPt.length !== 0) out.push(finding('INV-SLOT-2', ownerPath(idx, 'pathsInPt'), 'a UNIQUE slot is referenced by page-table paths', [], owner.pathsInPt))
    return out
  },
  'INV-SLOT-3': (owner, idx) => {
    const out: Finding[] = []
    const { refCount: rc, storage, vtablePtr, inList } = owner.innerPerms
    if (!(rc > 0 && rc <= REF_COUNT_MAX)) return out
    if (vtablePtr === null) out.push(finding('INV-SLOT-3', ownerPath(idx, 'innerPerms.vtablePtr'), `a shared slot (rc ${rc}) has an uninitialised vtable cell`, 'init', null))
    if (storage === null) out.push(finding('INV-SLOT-3', ownerPath(idx, 'innerPerms.storage'), `a shared slot (rc ${rc}) has uninitialised storage`, 'init', null))
    if (inList !== 0) out.push(finding('INV-SLOT-3', ownerPath(idx, 'innerPerms.inList'), `a shared slot (rc ${rc}) is in a list`, 0, inList))
    return out
  },
  'INV-SLOT-4': (owner, idx) => {
    const rc = owner.innerPerms.refCount
    return isWellFormedRefCount(rc)
      ? []
      : [finding('INV-SLOT-4', ownerPath(idx, 'innerPerms.refCount'), `ref count ${refCountName(rc)} is neither UNUSED, UNIQUE nor in 0..=REF_COUNT_MAX`, '0..=REF_COUNT_MAX | UNIQUE | UNUSED', rc)]
  },
  'INV-SLOT-5': (owner, idx) => {
    if (owner.innerPerms.refCount !== 0) return []
    const out = [finding('INV-SLOT-5', ownerPath(idx, 'innerPerms.refCount'), 'ref count 0 (the transient "busy" state) is observed between operations', '!= 0', 0)]
    if (owner.innerPerms.inList !== 0) out.push(finding('INV-SLOT-5', ownerPath(idx, 'innerPerms.inList'), 'a busy slot is in a list', 0, owner.innerPerms.inList))
    return out
  },
  'INV-SLOT-6': (owner, idx) =>
    Number.isInteger(owner.selfAddr) && owner.selfAddr >= 0 && owner.selfAddr < FRAME_METADATA_RANGE_BYTES && owner.selfAddr % META_SLOT_SIZE === 0
      ? []
      : [finding('INV-SLOT-6', ownerPath(idx, 'selfAddr'), 'self_addr is not a 64-byte aligned address inside FRAME_METADATA_RANGE', 'aligned, in range', owner.selfAddr)],
  'INV-SLOT-7': (owner, idx) =>
    Array.isArray(owner.pathsInPt) && new Set(owner.pathsInPt).size === owner.pathsInPt.length
      ? []
      : [finding('INV-SLOT-7', ownerPath(idx, 'pathsInPt'), 'paths_in_pt is not a finite set (duplicate entries)', 'distinct paths', owner.pathsInPt)],
  'INV-SLOT-8': (owner, idx, config) => {
    const mmio = isMmioPaddr(config, metaToFrame(owner.selfAddr))
    return (owner.usage === PageUsage.MMIO) === mmio
      ? []
      : [finding('INV-SLOT-8', ownerPath(idx, 'usage'), `usage ${owner.usage} disagrees with is_mmio_paddr (${mmio})`, mmio ? 'MMIO' : 'not MMIO', owner.usage)]
  },
}

/** `MetaSlotOwner::inv` for slot `idx`: INV-SLOT-1..8, one finding per failed clause. */
export function slotOwnerInv(owner: MetaSlotOwner, idx: number, config: ModelConfig): Finding[] {
  const out: Finding[] = []
  for (const clause of Object.values(SLOT_OWNER_CLAUSES)) out.push(...clause(owner, idx, config))
  return out
}

/** INV-SLOT-9: the exec cells of slot `idx` equal the ghost owner's `inner_perms`. */
export function slotWf(exec: MetaSlot, owner: MetaSlotOwner, idx: number): Finding[] {
  const out: Finding[] = []
  const ghost: MetaSlotCells = owner.innerPerms
  for (const field of ['refCount', 'storage', 'vtablePtr', 'inList'] as const) {
    if (!equal(exec[field], ghost[field])) {
      out.push(finding('INV-SLOT-9', `metaSlots[${idx}].${field}`, `exec ${field} differs from the ghost owner's inner_perms`, ghost[field], exec[field]))
    }
  }
  return out
}

/** INV-REGIONS-6: `slot_owners[i].self_addr == meta_addr(i)`. */
export function slotAddrFixed(owner: MetaSlotOwner, idx: number): Finding[] {
  return owner.selfAddr === metaAddr(idx)
    ? []
    : [finding('INV-REGIONS-6', ownerPath(idx, 'selfAddr'), `self_addr of slot ${idx} moved`, metaAddr(idx), owner.selfAddr)]
}

/** `MetaSlotOwner::inv() ∧ MetaSlot::wf(owner)` for one slot: the local part of `regions.inv()`. */
export function localRegionInv(exec: MetaSlot, owner: MetaSlotOwner, idx: number, config: ModelConfig): Finding[] {
  return [...slotOwnerInv(owner, idx, config), ...slotWf(exec, owner, idx), ...slotAddrFixed(owner, idx)]
}
