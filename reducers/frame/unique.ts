/**
 * `UniqueFrame<M>` (ostd::mm::frame::unique; seed 003, spec/operations.md §6, §11.26–§11.27):
 * the exclusive frame handle of the [FEB] seed profile.
 *
 * Model (MD-2, seed profile): a live `UniqueFrame`, a forgotten one (`into_raw`) and one linked
 * into a `LinkedList` all hold the slot's permission — the slot is un-parked
 * (`regions.unparked[idx]`) and its `UniqueFrameOwner` (`{ slotIndex, metaPermAddr, innerPerms }`)
 * is in `Snapshot.uniqueOwners[idx]`. A live handle is `Snapshot.uniqueFrames[id] = { paddr }`.
 * The owner's `innerPerms` are the cell values its permission holds; they are written explicitly
 * beside the exec cells and the slot owner's copy (`editHeldCells`), never derived from them.
 *
 * Quirk kept from the seed (operations.md §6.7): `drop` leaves `usage == Frame`, so a later
 * `from_unused` on that slot fails REQ-UNIQUE-FROMUNUSED-2. The allocator may still hand the
 * frame out as a shared `Frame` (it only asks for `rc == UNUSED`).
 */
import { z } from 'zod'
import {
  frameToIndex,
  frameToMeta,
  type GetFrameError,
  MAX_PADDR,
  metaAddr,
  PAGE_SIZE,
  PageUsage,
  REF_COUNT_UNIQUE,
  REF_COUNT_UNUSED,
  refCountName,
} from '../../src/arch/constants.js'
import { editSnapshot, type Tables } from '../../src/model/edit.js'
import { FRESH_SLOT, isParked, ownerOf, slotOf, uniqueOwnerOf } from '../../src/model/slots.js'
import type { FrameMeta, JsonValue, MetaSlotCells, Snapshot, UniqueFrameOwner } from '../../src/model/snapshot.js'
import { Addr, FrameMetaSchema, HandleId, Json } from '../schema.js'
import { defineEvent, err, ok, StepRecorder, type Requirement, type Result } from '../types.js'
import { releaseFrame } from './allocator.js'
import { addObligation, freshId, ownerNow, patchOwner, putSlot, putUniqueOwner, setParked } from './edit.js'
import { frameEntry, frameIdx, liveHandle, uniqueEntry } from './handles.js'
import { addressError, dropLastInPlace, getFromUnused, hex, regionInvAt } from './meta.js'

// ---- owners and the cells they hold --------------------------------------------------------

/** `UniqueFrameOwner::inv()` for the owner of slot `idx`: the first failing clause, or null. */
export function uniqueOwnerInvFailure(owner: UniqueFrameOwner, idx: number): string | null {
  if (owner.slotIndex !== idx) return `the UniqueFrameOwner of slot ${idx} records slot_index ${owner.slotIndex}`
  if (owner.metaPermAddr !== metaAddr(owner.slotIndex)) return `meta_perm.addr() ${owner.metaPermAddr} != meta_addr(${owner.slotIndex}) ${metaAddr(owner.slotIndex)}`
  if (owner.innerPerms.storage === null || owner.innerPerms.vtablePtr === null) return `the meta_perm of slot ${idx} is not initialised`
  return null
}

/** A fresh owner for slot `idx` holding a permission with cells `cells` (`from_unused_owner`). */
export function newUniqueOwner(idx: number, cells: MetaSlotCells): UniqueFrameOwner {
  return { slotIndex: idx, metaPermAddr: metaAddr(idx), innerPerms: cells }
}

/**
 * Applies `f` to the cells of slot `idx` everywhere they are held: the exec slot, the ghost slot
 * owner's `inner_perms` and, when a `UniqueFrameOwner` holds the slot, its permission's
 * `inner_perms`. Each is computed from its own previous value (a write through `meta_mut` updates
 * the cell and the permission that authorises it; nothing is copied from one to the other).
 */
export function editHeldCells(t: Tables, s: Snapshot, idx: number, f: (cells: MetaSlotCells) => MetaSlotCells): void {
  putSlot(t, idx, f(t.metaSlots.get(idx) ?? FRESH_SLOT))
  const owner = ownerNow(t, s, idx)
  t.slotOwners.set(idx, { ...owner, innerPerms: f(owner.innerPerms) })
  const unique = t.uniqueOwners.get(idx)
  if (unique !== null) t.uniqueOwners.set(idx, { ...unique, innerPerms: f(unique.innerPerms) })
}

/** The metadata a frame slot's storage holds (`Frame` or `FrameLink`), or null. */
export function storedMeta(cells: MetaSlotCells): FrameMeta | null {
  const st = cells.storage
  return st !== null && (st.kind === 'Frame' || st.kind === 'FrameLink') ? st.meta : null
}

// ---- preconditions -------------------------------------------------------------------------

/** `self.wf(owner) ∧ owner.inv()` for the live handle `id` (null when it holds). */
export function uniqueWfFailure(s: Snapshot, id: number): string | null {
  const entry = uniqueEntry(s, id)
  if (entry === null) return `UniqueFrame ${id} is not a live handle (dropped, moved, or never created)`
  const idx = frameToIndex(entry.paddr)
  const owner = uniqueOwnerOf(s, idx)
  if (owner === null) return `no UniqueFrameOwner holds slot ${idx} of UniqueFrame ${id}`
  const inv = uniqueOwnerInvFailure(owner, idx)
  if (inv !== null) return inv
  if (owner.metaPermAddr !== frameToMeta(entry.paddr)) return `UniqueFrame ${id} points at ${frameToMeta(entry.paddr)}, its owner's meta_perm at ${owner.metaPermAddr}`
  return null
}

/** The slot of a handle that passed `uniqueWfFailure` (null when the handle is gone). */
function liveIdx(s: Snapshot, id: number): number | null {
  const entry = uniqueEntry(s, id)
  return entry === null ? null : frameToIndex(entry.paddr)
}

/** `self.wf(owner)`, `owner.inv()` (and, with `regions`, `regions.inv()` at the slot) under `rule`. */
function uniqueWf<E extends { unique: number }>(rule: string, opts: { regions?: boolean } = {}): Requirement<E & { type: string }> {
  return {
    rule,
    kind: 'requires',
    check: (s, e) => {
      const wf = uniqueWfFailure(s, e.unique)
      if (wf !== null || opts.regions !== true) return wf
      return regionInvAt(s, liveIdx(s, e.unique)!)
    },
  }
}

/** A requirement on the slot of a live handle (skipped when the handle is gone: an earlier rule reports that). */
function onUniqueSlot<E extends { unique: number }>(rule: string, check: (s: Snapshot, idx: number) => string | null): Requirement<E & { type: string }> {
  return {
    rule,
    kind: 'requires',
    check: (s, e) => {
      const idx = liveIdx(s, e.unique)
      return idx === null ? null : check(s, idx)
    },
  }
}

// ---- from_unused ---------------------------------------------------------------------------

export const UniqueFromUnusedEvent = z.object({ type: z.literal('unique_frame.from_unused'), paddr: Addr, meta: FrameMetaSchema })
export type UniqueFromUnusedEvent = z.infer<typeof UniqueFromUnusedEvent>
export type UniqueHandleResult = Result<{ unique: number; paddr: number }, GetFrameError>

/**
 * `UniqueFrame::from_unused(paddr, metadata)` — `get_from_unused(paddr, metadata, as_unique =
 * true)` (internal step); on `Ok` the owner is built (`from_unused_owner`): the slot permission
 * leaves `regions.slots` (un-parked), the `UniqueFrameOwner` holds it, and a new handle is
 * registered. A misaligned or out-of-range `paddr` returns `Err` (`NotAligned` / `OutOfBound`);
 * the preconditions only apply to a valid `paddr`. A slot used before (even freed) has
 * `usage == Frame` and fails REQ-UNIQUE-FROMUNUSED-2 (the seed's one-shot quirk).
 *
 * Requires REQ-UNIQUE-FROMUNUSED-1..3 (and REQ-META-GETUNUSED-1 in the internal step).
 * Owes ENS-UNIQUE-FROMUNUSED-1..4.
 */
export const uniqueFromUnused = defineEvent<UniqueFromUnusedEvent, UniqueHandleResult>({
  type: 'unique_frame.from_unused',
  doc: 'UniqueFrame::from_unused: an exclusive handle on a never-used slot (rc UNIQUE), its permission un-parked.',
  schema: UniqueFromUnusedEvent,
  requires: [
    {
      rule: 'REQ-UNIQUE-FROMUNUSED-1',
      kind: 'requires',
      check: (s, e) => (addressError(s, e.paddr) === null && !isParked(s, frameToIndex(e.paddr)) ? `slot ${frameToIndex(e.paddr)} of ${hex(e.paddr)} is not parked (its permission is held elsewhere)` : null),
    },
    {
      rule: 'REQ-UNIQUE-FROMUNUSED-2',
      kind: 'requires',
      check: (s, e) => {
        if (addressError(s, e.paddr) !== null) return null
        const usage = ownerOf(s, frameToIndex(e.paddr)).usage
        return usage === PageUsage.Unused ? null : `slot ${frameToIndex(e.paddr)} of ${hex(e.paddr)} has usage ${usage}, not Unused${usage === PageUsage.MMIO ? ' (device memory)' : ' (a slot used once keeps usage Frame)'}`
      },
    },
    {
      rule: 'REQ-UNIQUE-FROMUNUSED-3',
      kind: 'requires',
      check: (s, e) => (addressError(s, e.paddr) === null ? regionInvAt(s, frameToIndex(e.paddr)) : null),
    },
  ],
  reduce(s, e) {
    const rec = new StepRecorder(s)
    const claimed = rec.run(getFromUnused, { type: 'meta_slot.get_from_unused', paddr: e.paddr, meta: e.meta, asUnique: true })
    if (!claimed.ok) return { snapshot: s, result: claimed, steps: rec.steps }
    const idx = frameToIndex(e.paddr)
    const mid = rec.snapshot
    let unique = -1
    const snapshot = editSnapshot(mid, (d, t) => {
      // `from_unused_owner`: the permission get_from_unused returned moves into the owner.
      setParked(t, idx, false)
      putUniqueOwner(t, idx, newUniqueOwner(idx, ownerOf(mid, idx).innerPerms))
      unique = freshId(d, 'unique')
      t.uniqueFrames.set(unique, { paddr: e.paddr })
    })
    return { snapshot, result: ok({ unique, paddr: e.paddr }), steps: rec.steps }
  },
})

// ---- transmute / repurpose -----------------------------------------------------------------

export const UniqueTransmuteEvent = z.object({ type: z.literal('unique_frame.transmute'), unique: HandleId })
export type UniqueTransmuteEvent = z.infer<typeof UniqueTransmuteEvent>

/**
 * `UniqueFrame::transmute::<M1>()` — reinterprets the handle with another metadata type; no
 * runtime effect (the seed body is `unimplemented!()`, [intended]). The same handle id is
 * returned (the API consumes the old object).
 *
 * Requires REQ-HANDLE-1. Owes ENS-UNIQUE-TRANSMUTE-1.
 */
export const uniqueTransmute = defineEvent<UniqueTransmuteEvent, { unique: number }>({
  type: 'unique_frame.transmute',
  doc: 'UniqueFrame::transmute: the same frame under another metadata type (no state change).',
  schema: UniqueTransmuteEvent,
  requires: [liveHandle('REQ-HANDLE-1', 'uniqueFrames', 'unique')],
  reduce: (s, e) => ({ snapshot: s, result: { unique: e.unique } }),
})

export const UniqueRepurposeEvent = z.object({ type: z.literal('unique_frame.repurpose'), unique: HandleId, meta: FrameMetaSchema })
export type UniqueRepurposeEvent = z.infer<typeof UniqueRepurposeEvent>

/**
 * `UniqueFrame::repurpose::<M1>(metadata)` — drops the old metadata in place
 * (`drop_meta_in_place`) and writes the new one ([intended]: the seed has the write commented
 * out and two `admit()`s): the cells keep `rc == UNIQUE`, storage := `metadata`, vtable
 * initialised, in the exec slot, the slot owner and the owner's permission. Same handle id.
 *
 * Requires REQ-UNIQUE-REPURPOSE-1..3. Owes ENS-UNIQUE-REPURPOSE-1, -2, -4 (-3, `regions.inv()`,
 * is the INV-SLOT / INV-REGIONS invariants, checked after every step).
 */
export const uniqueRepurpose = defineEvent<UniqueRepurposeEvent, { unique: number }>({
  type: 'unique_frame.repurpose',
  doc: 'UniqueFrame::repurpose: replace the metadata of an exclusive frame (same handle).',
  schema: UniqueRepurposeEvent,
  requires: [
    uniqueWf('REQ-UNIQUE-REPURPOSE-1'),
    onUniqueSlot('REQ-UNIQUE-REPURPOSE-2', (s, idx) => {
      const rc = ownerOf(s, idx).innerPerms.refCount
      return rc === REF_COUNT_UNIQUE ? null : `slot ${idx} has rc ${refCountName(rc)}, not UNIQUE`
    }),
    onUniqueSlot('REQ-UNIQUE-REPURPOSE-3', (s, idx) => regionInvAt(s, idx)),
  ],
  reduce(s, e) {
    const idx = frameToIndex(uniqueEntry(s, e.unique)!.paddr)
    const snapshot = editSnapshot(s, (_d, t) => {
      editHeldCells(t, s, idx, (c) => ({ ...c, storage: { kind: 'Frame', meta: e.meta }, vtablePtr: 0 }))
    })
    return { snapshot, result: { unique: e.unique } }
  },
})

// ---- meta / meta_mut / start_paddr / level / size ---------------------------------------

const HandleOnly = <T extends string>(type: T) => z.object({ type: z.literal(type), unique: HandleId })

export const UniqueMetaEvent = HandleOnly('unique_frame.meta')
export type UniqueMetaEvent = z.infer<typeof UniqueMetaEvent>

/**
 * `UniqueFrame::meta()` — the metadata the owner's permission holds
 * (`owner.meta_perm.value().metadata`). No state change.
 *
 * Requires REQ-UNIQUE-META-1. Owes ENS-UNIQUE-META-1.
 */
export const uniqueMeta = defineEvent<UniqueMetaEvent, FrameMeta>({
  type: 'unique_frame.meta',
  doc: 'UniqueFrame::meta: the frame metadata (no state change).',
  schema: UniqueMetaEvent,
  requires: [uniqueWf('REQ-UNIQUE-META-1')],
  reduce(s, e) {
    const idx = frameToIndex(uniqueEntry(s, e.unique)!.paddr)
    return { snapshot: s, result: storedMeta(uniqueOwnerOf(s, idx)!.innerPerms)! }
  },
})

export const UniqueMetaMutEvent = HandleOnly('unique_frame.meta_mut')
export type UniqueMetaMutEvent = z.infer<typeof UniqueMetaMutEvent>

/**
 * `UniqueFrame::meta_mut()` — a pointer to the metadata in the slot (`ReprPtr`, address
 * `self.ptr.addr()` = `frame_to_meta(paddr)`). Writes through it are `unique_frame.meta_mut.write`.
 *
 * Requires REQ-UNIQUE-METAMUT-1. Owes ENS-UNIQUE-METAMUT-1.
 */
export const uniqueMetaMut = defineEvent<UniqueMetaMutEvent, { metaAddr: number }>({
  type: 'unique_frame.meta_mut',
  doc: 'UniqueFrame::meta_mut: a pointer to the frame metadata (no state change).',
  schema: UniqueMetaMutEvent,
  requires: [uniqueWf('REQ-UNIQUE-METAMUT-1')],
  reduce: (s, e) => ({ snapshot: s, result: { metaAddr: frameToMeta(uniqueEntry(s, e.unique)!.paddr) } }),
})

export const UniqueMetaWriteEvent = z.object({ type: z.literal('unique_frame.meta_mut.write'), unique: HandleId, value: Json })
export type UniqueMetaWriteEvent = z.infer<typeof UniqueMetaWriteEvent>

/**
 * A write through `meta_mut()`: the metadata's value := `value` (its type unchanged), in the exec
 * cell, the slot owner's copy and the owner's permission (exclusive access: nothing else changes).
 *
 * Requires REQ-UNIQUE-METAMUT-1 (the owner authorises the write). Owes ENS-UNIQUE-METAWRITE-1.
 */
export const uniqueMetaWrite = defineEvent<UniqueMetaWriteEvent, null>({
  type: 'unique_frame.meta_mut.write',
  doc: 'Write through UniqueFrame::meta_mut: set the value of the frame metadata.',
  schema: UniqueMetaWriteEvent,
  requires: [uniqueWf('REQ-UNIQUE-METAMUT-1')],
  reduce(s, e) {
    const idx = frameToIndex(uniqueEntry(s, e.unique)!.paddr)
    const snapshot = editSnapshot(s, (_d, t) => editHeldCells(t, s, idx, (c) => withMetaValue(c, e.value)))
    return { snapshot, result: null }
  },
})

function withMetaValue(cells: MetaSlotCells, value: JsonValue): MetaSlotCells {
  const st = cells.storage
  if (st === null || st.kind === 'PTNode') return cells
  return { ...cells, storage: { ...st, meta: { ...st.meta, value } } }
}

export const UniqueStartPaddrEvent = HandleOnly('unique_frame.start_paddr')
export type UniqueStartPaddrEvent = z.infer<typeof UniqueStartPaddrEvent>

/** `UniqueFrame::start_paddr()` = `meta_to_frame(self.ptr.addr())`. Requires REQ-UNIQUE-STARTPADDR-1. Owes ENS-UNIQUE-STARTPADDR-1. */
export const uniqueStartPaddr = defineEvent<UniqueStartPaddrEvent, number>({
  type: 'unique_frame.start_paddr',
  doc: 'UniqueFrame::start_paddr: the physical address of the frame.',
  schema: UniqueStartPaddrEvent,
  requires: [uniqueWf('REQ-UNIQUE-STARTPADDR-1')],
  reduce: (s, e) => ({ snapshot: s, result: uniqueEntry(s, e.unique)!.paddr }),
})

export const UniqueLevelEvent = HandleOnly('unique_frame.level')
export type UniqueLevelEvent = z.infer<typeof UniqueLevelEvent>

/** `UniqueFrame::level()` — always 1 (a `const fn`). Requires REQ-HANDLE-1. Owes ENS-UNIQUE-LEVEL-1. */
export const uniqueLevel = defineEvent<UniqueLevelEvent, number>({
  type: 'unique_frame.level',
  doc: 'UniqueFrame::level: the paging level of the frame (always 1).',
  schema: UniqueLevelEvent,
  requires: [liveHandle('REQ-HANDLE-1', 'uniqueFrames', 'unique')],
  reduce: (s) => ({ snapshot: s, result: 1 }),
})

export const UniqueSizeEvent = HandleOnly('unique_frame.size')
export type UniqueSizeEvent = z.infer<typeof UniqueSizeEvent>

/** `UniqueFrame::size()` — always `PAGE_SIZE` (a `const fn`). Requires REQ-HANDLE-1. Owes ENS-UNIQUE-SIZE-1. */
export const uniqueSize = defineEvent<UniqueSizeEvent, number>({
  type: 'unique_frame.size',
  doc: 'UniqueFrame::size: the size of the frame in bytes (always PAGE_SIZE).',
  schema: UniqueSizeEvent,
  requires: [liveHandle('REQ-HANDLE-1', 'uniqueFrames', 'unique')],
  reduce: (s) => ({ snapshot: s, result: PAGE_SIZE }),
})

// ---- into_raw / from_raw -------------------------------------------------------------------

export const UniqueIntoRawEvent = HandleOnly('unique_frame.into_raw')
export type UniqueIntoRawEvent = z.infer<typeof UniqueIntoRawEvent>

/**
 * `UniqueFrame::into_raw()` — forgets the handle (`ManuallyDrop::new`): the handle leaves the
 * registry, the owner keeps the permission (the slot stays un-parked) for the later `from_raw`,
 * ghost `raw_count := 1`. Returns the physical address.
 *
 * Requires REQ-UNIQUE-INTORAW-2 (checked first: it includes the handle's liveness), -1, -3.
 * Owes ENS-UNIQUE-INTORAW-1..4.
 */
export const uniqueIntoRaw = defineEvent<UniqueIntoRawEvent, number>({
  type: 'unique_frame.into_raw',
  doc: 'UniqueFrame::into_raw: forget the handle, keeping the owner; returns the physical address.',
  schema: UniqueIntoRawEvent,
  requires: [
    uniqueWf('REQ-UNIQUE-INTORAW-2', { regions: true }),
    onUniqueSlot('REQ-UNIQUE-INTORAW-1', (s, idx) => (ownerOf(s, idx).rawCount === 0 ? null : `slot ${idx} already has raw_count ${ownerOf(s, idx).rawCount}`)),
    onUniqueSlot('REQ-UNIQUE-INTORAW-3', (s, idx) => (ownerOf(s, idx).innerPerms.refCount === REF_COUNT_UNUSED ? `slot ${idx} is UNUSED` : null)),
  ],
  reduce(s, e) {
    const { paddr } = uniqueEntry(s, e.unique)!
    const idx = frameToIndex(paddr)
    const snapshot = editSnapshot(s, (_d, t) => {
      t.uniqueFrames.set(e.unique, null)
      patchOwner(t, s, idx, { rawCount: 1 })
    })
    return { snapshot, result: paddr }
  },
})

export const UniqueFromRawEvent = z.object({ type: z.literal('unique_frame.from_raw'), paddr: Addr })
export type UniqueFromRawEvent = z.infer<typeof UniqueFromRawEvent>

/**
 * `UniqueFrame::from_raw(paddr)` (`pub(crate)`, unsafe) — revives a frame forgotten by `into_raw`:
 * a new handle, ghost `raw_count -= 1`; the owner (the permission the caller supplies, i.e. the
 * one `into_raw` left in `uniqueOwners`) is unchanged.
 *
 * Requires REQ-UNIQUE-FROMRAW-1..4, and the model's REQ-LIST-FROMRAW-1: a frame linked into a
 * `LinkedList` was forgotten by the list (`insert_before` calls `into_raw`); only the list's
 * `take_current` may revive it. Owes ENS-UNIQUE-FROMRAW-1..3.
 */
export const uniqueFromRaw = defineEvent<UniqueFromRawEvent, { unique: number }>({
  type: 'unique_frame.from_raw',
  doc: 'UniqueFrame::from_raw: turn a frame forgotten by into_raw back into a handle.',
  schema: UniqueFromRawEvent,
  requires: [
    {
      rule: 'REQ-UNIQUE-FROMRAW-1',
      kind: 'requires',
      check: (_s, e) => (e.paddr < MAX_PADDR && e.paddr % PAGE_SIZE === 0 ? null : `${hex(e.paddr)} is not a page-aligned address below MAX_PADDR`),
    },
    {
      rule: 'REQ-UNIQUE-FROMRAW-2',
      kind: 'requires',
      check: (s, e) => {
        const idx = frameToIndex(e.paddr)
        const raw = ownerOf(s, idx).rawCount
        return regionInvAt(s, idx) ?? (raw > 0 ? null : `slot ${idx} has raw_count ${raw}: ${hex(e.paddr)} was not forgotten by into_raw`)
      },
    },
    {
      rule: 'REQ-UNIQUE-FROMRAW-3',
      kind: 'requires',
      check: (s, e) => (isParked(s, frameToIndex(e.paddr)) ? `slot ${frameToIndex(e.paddr)} is parked: no UniqueFrameOwner holds its permission` : null),
    },
    {
      rule: 'REQ-UNIQUE-FROMRAW-4',
      kind: 'requires',
      check: (s, e) => {
        const idx = frameToIndex(e.paddr)
        const owner = uniqueOwnerOf(s, idx)
        if (owner === null) return `no UniqueFrameOwner (meta_perm) for slot ${idx}`
        if (owner.innerPerms.refCount !== REF_COUNT_UNIQUE) return `meta_perm of slot ${idx} holds rc ${refCountName(owner.innerPerms.refCount)}, not UNIQUE`
        if (owner.metaPermAddr !== frameToMeta(e.paddr)) return `meta_perm.addr() ${owner.metaPermAddr} != frame_to_meta(${hex(e.paddr)})`
        return null
      },
    },
    {
      rule: 'REQ-LIST-FROMRAW-1',
      summary: '[model] `UniqueFrame::from_raw` does not revive a frame linked into a `LinkedList`: the list forgot it with `into_raw` and only its `take_current` revives it.',
      kind: 'requires',
      check: (s, e) => {
        const { inList, storage } = ownerOf(s, frameToIndex(e.paddr)).innerPerms
        return inList === 0 && storage?.kind !== 'FrameLink' ? null : `${hex(e.paddr)} is linked into LinkedList ${inList}: the list owns it (take it with the list's cursor)`
      },
    },
  ],
  reduce(s, e) {
    const idx = frameToIndex(e.paddr)
    let unique = -1
    const snapshot = editSnapshot(s, (d, t) => {
      patchOwner(t, s, idx, { rawCount: ownerOf(s, idx).rawCount - 1 })
      unique = freshId(d, 'unique')
      t.uniqueFrames.set(unique, { paddr: e.paddr })
    })
    return { snapshot, result: { unique } }
  },
})

// ---- drop ----------------------------------------------------------------------------------

export const UniqueDropEvent = HandleOnly('unique_frame.drop')
export type UniqueDropEvent = z.infer<typeof UniqueDropEvent>

/**
 * `UniqueFrame::drop` — the owner's permission goes back into the region: the slot owner's
 * `inner_perms := owner.meta_perm.inner_perms`, the slot is re-parked, the owner and the handle
 * are gone (bookkeeping, before the internal step, so that the slot is parked when it is torn
 * down); then `drop_last_in_place` (internal step: rc := UNUSED, storage and vtable uninit,
 * `usage` stays `Frame`); then the frame goes back to the allocator (upstream `dealloc`; the
 * seed has it commented out).
 *
 * Requires REQ-EMB-UNIQUEDROP-1 (the handle is live), REQ-UNIQUE-DROP-1..4 (and
 * REQ-META-DROPLAST-1..2 in the internal step). Owes ENS-UNIQUE-DROP-1..2.
 */
export const uniqueDrop = defineEvent<UniqueDropEvent, null>({
  type: 'unique_frame.drop',
  doc: 'UniqueFrame::drop: free the frame (rc UNUSED, permission re-parked, back to the allocator).',
  schema: UniqueDropEvent,
  requires: [
    liveHandle('REQ-EMB-UNIQUEDROP-1', 'uniqueFrames', 'unique'),
    uniqueWf('REQ-UNIQUE-DROP-1', { regions: true }),
    onUniqueSlot('REQ-UNIQUE-DROP-2', (s, idx) => {
      const o = ownerOf(s, idx)
      if (o.rawCount !== 0) return `slot ${idx} has raw_count ${o.rawCount}`
      return o.selfAddr === metaAddr(idx) ? null : `slot ${idx} records self_addr ${o.selfAddr}, not meta_addr(${idx})`
    }),
    onUniqueSlot('REQ-UNIQUE-DROP-3', (s, idx) => (isParked(s, idx) ? `slot ${idx} is parked` : null)),
    onUniqueSlot('REQ-UNIQUE-DROP-4', (s, idx) => {
      const p = uniqueOwnerOf(s, idx)?.innerPerms
      if (p === undefined) return `no UniqueFrameOwner for slot ${idx}`
      if (p.refCount !== REF_COUNT_UNIQUE) return `the owner's permission holds rc ${refCountName(p.refCount)}, not UNIQUE`
      if (p.inList !== 0) return `the frame is in list ${p.inList}`
      if (p.storage === null || p.vtablePtr === null) return 'the metadata or vtable cell is not initialised'
      return null
    }),
  ],
  reduce(s, e) {
    const { paddr } = uniqueEntry(s, e.unique)!
    const idx = frameToIndex(paddr)
    const owner = uniqueOwnerOf(s, idx)!
    const rec = new StepRecorder(s)
    // Deviation: the seed re-parks after drop_last_in_place; the model re-parks first, so that
    // the slot is never UNUSED while un-parked (INV-REGIONS-5 holds after every internal step).
    rec.set(
      editSnapshot(s, (_d, t) => {
        t.uniqueFrames.set(e.unique, null)
        putUniqueOwner(t, idx, null)
        patchOwner(t, s, idx, { innerPerms: owner.innerPerms })
        setParked(t, idx, true)
      }),
    )
    rec.run(dropLastInPlace, { type: 'meta_slot.drop_last_in_place', paddr })
    const snapshot = editSnapshot(rec.snapshot, (d, t) => releaseFrame(d, t, idx))
    return { snapshot, result: null, steps: rec.steps }
  },
})

// ---- conversions with Frame ----------------------------------------------------------------

export const UniqueIntoSharedEvent = HandleOnly('unique_frame.into_shared')
export type UniqueIntoSharedEvent = z.infer<typeof UniqueIntoSharedEvent>

/**
 * `From<UniqueFrame<M>> for Frame<M>` — `ref_count.store(1)`: the permission goes back into the
 * region (slot owner's cells := the owner's, rc 1; re-parked), the owner and the unique handle are
 * gone, a new `Frame` handle is registered and one obligation minted.
 *
 * Requires REQ-EMB-FROMUNIQUE-1. Owes ENS-EMB-FROMUNIQUE-1 (the slot is re-parked: in the seed
 * profile a unique frame is un-parked, in the HEAD embedding it stays parked throughout).
 */
export const uniqueIntoShared = defineEvent<UniqueIntoSharedEvent, { frame: number }>({
  type: 'unique_frame.into_shared',
  doc: 'Frame::from(UniqueFrame): make the exclusive frame shared (rc 1), returning a Frame handle.',
  schema: UniqueIntoSharedEvent,
  requires: [liveHandle('REQ-EMB-FROMUNIQUE-1', 'uniqueFrames', 'unique')],
  reduce(s, e) {
    const { paddr } = uniqueEntry(s, e.unique)!
    const idx = frameToIndex(paddr)
    const held = uniqueOwnerOf(s, idx)?.innerPerms ?? ownerOf(s, idx).innerPerms
    let frame = -1
    const snapshot = editSnapshot(s, (d, t) => {
      t.uniqueFrames.set(e.unique, null)
      putUniqueOwner(t, idx, null)
      putSlot(t, idx, { ...slotOf(s, idx), refCount: 1 })
      patchOwner(t, s, idx, { innerPerms: { ...held, refCount: 1 } })
      // Deviation: ENS-EMB-FROMUNIQUE-1 keeps `slots` unchanged (HEAD embedding, permission always
      // parked); in the seed profile (MD-2) the unique frame's permission comes back: re-parked.
      setParked(t, idx, true)
      frame = freshId(d, 'frame')
      t.frames.set(frame, { paddr })
      addObligation(t, idx, +1)
    })
    return { snapshot, result: { frame } }
  },
})

export const UniqueTryFromSharedEvent = z.object({ type: z.literal('unique_frame.try_from_shared'), frame: HandleId })
export type UniqueTryFromSharedEvent = z.infer<typeof UniqueTryFromSharedEvent>
export type TryFromSharedResult = Result<{ unique: number }, { frame: number }>

/**
 * `TryFrom<Frame<M>> for UniqueFrame<M>` — CAS `ref_count: 1 -> UNIQUE`. On success the `Frame`
 * handle is consumed (its obligation redeemed), the slot permission leaves the region into a new
 * `UniqueFrameOwner` (un-parked) and a unique handle is registered. Otherwise `Err(frame)`: the
 * same handle is given back and nothing changes.
 *
 * Requires REQ-EMB-TRYFROMSHARED-1. Owes ENS-EMB-TRYFROMSHARED-1..2.
 */
export const uniqueTryFromShared = defineEvent<UniqueTryFromSharedEvent, TryFromSharedResult>({
  type: 'unique_frame.try_from_shared',
  doc: 'UniqueFrame::try_from(Frame): the sole reference becomes exclusive (rc UNIQUE), else Err(frame).',
  schema: UniqueTryFromSharedEvent,
  requires: [liveHandle('REQ-EMB-TRYFROMSHARED-1', 'frames', 'frame')],
  reduce(s, e) {
    const { paddr } = frameEntry(s, e.frame)!
    const idx = frameIdx(s, e.frame)
    if (slotOf(s, idx).refCount !== 1) return { snapshot: s, result: err({ frame: e.frame }) }
    const perms = { ...ownerOf(s, idx).innerPerms, refCount: REF_COUNT_UNIQUE }
    let unique = -1
    const snapshot = editSnapshot(s, (d, t) => {
      t.frames.set(e.frame, null)
      addObligation(t, idx, -1)
      putSlot(t, idx, { ...slotOf(s, idx), refCount: REF_COUNT_UNIQUE })
      patchOwner(t, s, idx, { innerPerms: perms })
      // Deviation: ENS-EMB-TRYFROMSHARED-1 keeps `slots` unchanged (HEAD embedding); in the seed
      // profile (MD-2) the new UniqueFrameOwner takes the permission out of the region.
      setParked(t, idx, false)
      putUniqueOwner(t, idx, newUniqueOwner(idx, perms))
      unique = freshId(d, 'unique')
      t.uniqueFrames.set(unique, { paddr })
    })
    return { snapshot, result: ok({ unique }) }
  },
})

export const uniqueFrameEvents = [
  uniqueFromUnused,
  uniqueTransmute,
  uniqueRepurpose,
  uniqueMeta,
  uniqueMetaMut,
  uniqueMetaWrite,
  uniqueStartPaddr,
  uniqueLevel,
  uniqueSize,
  uniqueIntoRaw,
  uniqueFromRaw,
  uniqueDrop,
  uniqueIntoShared,
  uniqueTryFromShared,
] as const
