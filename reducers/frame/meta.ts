/**
 * `MetaSlot` transitions shared by the frame handles (spec/operations.md §1.1–§1.3):
 * `get_from_unused`, `get_from_in_use`, `drop_last_in_place`.
 */
import { z } from 'zod'
import {
  frameToIndex,
  frameToMeta,
  type GetFrameError,
  indexToFrame,
  PAGE_SIZE,
  PageUsage,
  REF_COUNT_MAX,
  REF_COUNT_UNIQUE,
  REF_COUNT_UNUSED,
  refCountName,
  validFramePaddr,
} from '../../src/arch/constants.js'
import { editSnapshot } from '../../src/model/edit.js'
import { isMmioPaddr, isPhysicalSlot, ownerOf, slotOf } from '../../src/model/slots.js'
import type { FrameMeta, MetaSlot, Snapshot } from '../../src/model/snapshot.js'
import { localRegionInv, slotOwnerInv } from '../../src/model/spec/slot.js'
import { Addr, FrameMetaSchema } from '../schema.js'
import { defineEvent, err, ok, type Result } from '../types.js'
import { patchOwner, putSlot } from './edit.js'

/** First failing clause of `regions.inv()` at slot `idx` (the part a single-slot step relies on). */
export function regionInvAt(s: Snapshot, idx: number): string | null {
  const failures = localRegionInv(slotOf(s, idx), ownerOf(s, idx), idx, s.config)
  return failures.length === 0 ? null : `regions.inv() fails at slot ${idx}: ${failures[0]!.rule} ${failures[0]!.message}`
}

/** The address checks every `from_*` shares: `NotAligned`, then `OutOfBound` (`pa >= max_paddr`). */
export function addressError(s: Snapshot, paddr: number): GetFrameError | null {
  if (paddr % PAGE_SIZE !== 0) return 'NotAligned'
  if (!validFramePaddr(paddr) || !isPhysicalSlot(s, frameToIndex(paddr))) return 'OutOfBound'
  return null
}

/**
 * Why the CAS `UNUSED -> 0` of `get_from_unused` fails at a valid address, or null.
 *
 * Deviation: an MMIO page fails as `InUse`. The spec's canonical MMIO slot is UNUSED (state.md
 * §3.4), but claiming it would set `usage := Frame` and break INV-SLOT-8 (`usage == MMIO ⟺
 * is_mmio_paddr`) — the Verus clauses have no precondition excluding it. OSTD marks device and
 * reserved memory in use at boot, so `from_unused` on it sees an in-use slot.
 */
export function unusedCasError(s: Snapshot, idx: number): GetFrameError | null {
  if (isMmioPaddr(s.config, indexToFrame(idx))) return 'InUse'
  const rc = slotOf(s, idx).refCount
  if (rc === REF_COUNT_UNUSED) return null
  if (rc === REF_COUNT_UNIQUE) return 'Unique'
  if (rc === 0) return 'Busy'
  return 'InUse'
}

// ---- get_from_unused ---------------------------------------------------------------------

export const GetFromUnusedEvent = z.object({
  type: z.literal('meta_slot.get_from_unused'),
  paddr: Addr,
  meta: FrameMetaSchema,
  asUnique: z.boolean(),
})
export type GetFromUnusedEvent = z.infer<typeof GetFromUnusedEvent>
export type GetFromUnusedResult = Result<{ metaAddr: number }, GetFrameError>

/** The slot cells after a successful `get_from_unused`. */
export function claimedCells(meta: FrameMeta, asUnique: boolean): MetaSlot {
  return { refCount: asUnique ? REF_COUNT_UNIQUE : 1, storage: { kind: 'Frame', meta }, vtablePtr: 0, inList: 0 }
}

/**
 * `MetaSlot::get_from_unused(paddr, metadata, as_unique)` — claims an unused slot.
 *
 * Errors (`Err`, state unchanged): `NotAligned`, `OutOfBound`, then the failed CAS `UNUSED -> 0`:
 * `Unique`, `Busy`, `InUse`. On success writes the metadata and the vtable cell, stores `1` (or
 * `REF_COUNT_UNIQUE`), ghost `usage := Frame`. Parking is the caller's business.
 *
 * Requires REQ-META-GETUNUSED-1. Owes ENS-META-GETUNUSED-1..4, ENS-META-GETUNUSED-6 (model: which
 * `Err`; an MMIO page is `InUse`, see `unusedCasError`).
 */
export const getFromUnused = defineEvent<GetFromUnusedEvent, GetFromUnusedResult>({
  type: 'meta_slot.get_from_unused',
  doc: 'MetaSlot::get_from_unused: claim an UNUSED slot with the given metadata (rc 1, or UNIQUE).',
  schema: GetFromUnusedEvent,
  requires: [
    {
      rule: 'REQ-META-GETUNUSED-1',
      kind: 'requires',
      check: (s, e) => (addressError(s, e.paddr) === null ? regionInvAt(s, frameToIndex(e.paddr)) : null),
    },
  ],
  reduce(s, e) {
    const error = addressError(s, e.paddr) ?? unusedCasError(s, frameToIndex(e.paddr))
    if (error !== null) return { snapshot: s, result: err(error) }
    const idx = frameToIndex(e.paddr)
    const cells = claimedCells(e.meta, e.asUnique)
    const snapshot = editSnapshot(s, (_d, t) => {
      putSlot(t, idx, cells)
      patchOwner(t, s, idx, { innerPerms: cells, usage: PageUsage.Frame })
    })
    return { snapshot, result: ok({ metaAddr: frameToMeta(e.paddr) }) }
  },
})

// ---- get_from_in_use ---------------------------------------------------------------------

export const GetFromInUseEvent = z.object({ type: z.literal('meta_slot.get_from_in_use'), paddr: Addr })
export type GetFromInUseEvent = z.infer<typeof GetFromInUseEvent>
export type GetFromInUseResult = Result<{ metaAddr: number }, GetFrameError>

/** Why `get_from_in_use` fails at a valid address (before the increment), or null. */
export function inUseError(s: Snapshot, idx: number): GetFrameError | null {
  const rc = slotOf(s, idx).refCount
  if (rc === REF_COUNT_UNUSED) return 'Unused'
  if (rc === REF_COUNT_UNIQUE) return 'Unique'
  if (rc === 0) return 'Busy'
  return null
}

/**
 * `MetaSlot::get_from_in_use(paddr)` — takes one more reference to a slot in use.
 *
 * Errors (`Err`, state unchanged): `NotAligned`, `OutOfBound`, `Unused`, `Unique`, `Busy`.
 * Panics when `rc >= REF_COUNT_MAX` (REQ-META-GETINUSE-2). On success `rc += 1`, nothing else.
 *
 * Requires REQ-META-GETINUSE-1, REQ-META-GETINUSE-2. Owes ENS-META-GETINUSE-1..2 and
 * ENS-META-GETINUSE-3 (model: which `Err`).
 */
export const getFromInUse = defineEvent<GetFromInUseEvent, GetFromInUseResult>({
  type: 'meta_slot.get_from_in_use',
  doc: 'MetaSlot::get_from_in_use: take one more reference to a slot in use (rc + 1).',
  schema: GetFromInUseEvent,
  requires: [
    {
      rule: 'REQ-META-GETINUSE-1',
      kind: 'requires',
      check: (s, e) => (addressError(s, e.paddr) === null ? regionInvAt(s, frameToIndex(e.paddr)) : null),
    },
    {
      rule: 'REQ-META-GETINUSE-2',
      kind: 'panic',
      check: (s, e) => {
        if (addressError(s, e.paddr) !== null) return null
        const rc = slotOf(s, frameToIndex(e.paddr)).refCount
        return rc >= REF_COUNT_MAX ? `ref count of ${hex(e.paddr)} would overflow (rc ${refCountName(rc)} >= REF_COUNT_MAX)` : null
      },
    },
  ],
  reduce(s, e) {
    const error = addressError(s, e.paddr) ?? inUseError(s, frameToIndex(e.paddr))
    if (error !== null) return { snapshot: s, result: err(error) }
    const idx = frameToIndex(e.paddr)
    const cells = { ...slotOf(s, idx), refCount: slotOf(s, idx).refCount + 1 }
    const snapshot = editSnapshot(s, (_d, t) => {
      putSlot(t, idx, cells)
      patchOwner(t, s, idx, { innerPerms: cells })
    })
    return { snapshot, result: ok({ metaAddr: frameToMeta(e.paddr) }) }
  },
})

// ---- drop_last_in_place ------------------------------------------------------------------

export const DropLastInPlaceEvent = z.object({ type: z.literal('meta_slot.drop_last_in_place'), paddr: Addr })
export type DropLastInPlaceEvent = z.infer<typeof DropLastInPlaceEvent>

/** Cells of a slot torn down to UNUSED (`in_list` kept, as ENS-META-DROPLAST-1 says). */
export function tornDownCells(cells: MetaSlot): MetaSlot {
  return { refCount: REF_COUNT_UNUSED, storage: null, vtablePtr: null, inList: cells.inList }
}

/**
 * `MetaSlot::drop_last_in_place()` — drops the metadata of the last reference and frees the slot:
 * `rc := UNUSED`, storage and vtable uninitialised; `in_list`, `self_addr`, `usage` (not reset!)
 * and `paths_in_pt` unchanged.
 *
 * Requires REQ-META-DROPLAST-1, REQ-META-DROPLAST-2. Owes ENS-META-DROPLAST-1.
 */
export const dropLastInPlace = defineEvent<DropLastInPlaceEvent, null>({
  type: 'meta_slot.drop_last_in_place',
  doc: 'MetaSlot::drop_last_in_place: drop the metadata of the last reference; the slot becomes UNUSED.',
  schema: DropLastInPlaceEvent,
  requires: [
    {
      rule: 'REQ-META-DROPLAST-1',
      kind: 'requires',
      check: (s, e) => {
        if (!validFramePaddr(e.paddr)) return `${hex(e.paddr)} is not a valid frame address`
        const idx = frameToIndex(e.paddr)
        const failures = slotOwnerInv(ownerOf(s, idx), idx, s.config)
        return failures.length === 0 ? null : `slot owner ${idx} breaks ${failures[0]!.rule}: ${failures[0]!.message}`
      },
    },
    {
      rule: 'REQ-META-DROPLAST-2',
      kind: 'requires',
      check: (s, e) => {
        const owner = ownerOf(s, frameToIndex(e.paddr))
        const { refCount: rc, storage, inList } = owner.innerPerms
        if (rc !== 0 && rc !== REF_COUNT_UNIQUE) return `rc is ${refCountName(rc)}, not 0 or UNIQUE`
        if (storage === null) return 'the metadata is not initialised'
        if (inList !== 0) return `the frame is still in list ${inList}`
        if (owner.pathsInPt.length !== 0) return `the frame is still mapped at ${owner.pathsInPt.join(', ')}`
        return null
      },
    },
  ],
  reduce(s, e) {
    const idx = frameToIndex(e.paddr)
    const cells = tornDownCells(slotOf(s, idx))
    const snapshot = editSnapshot(s, (_d, t) => {
      putSlot(t, idx, cells)
      patchOwner(t, s, idx, { innerPerms: tornDownCells(ownerOf(s, idx).innerPerms) })
    })
    return { snapshot, result: null }
  },
})

export function hex(n: number): string {
  return Number.isSafeInteger(n) && n >= 0 ? '0x' + n.toString(16) : String(n)
}
