/**
 * `Frame<M>` handles (ostd::mm::frame, spec/operations.md §1.4, behaviour.md §2.7): allocation
 * through `FrameAllocOptions`, `from_unused`, `from_in_use`, `clone`, `drop`, `into_raw`,
 * `from_raw`. Each live handle is one `FrameEntry` in `Snapshot.frames` and one entry of the
 * slot's `frame_obligations` ([JUN] mint/redeem rules).
 */
import { z } from 'zod'
import {
  frameToIndex,
  frameToMeta,
  type GetFrameError,
  indexToFrame,
  PageUsage,
  REF_COUNT_MAX,
  REF_COUNT_UNIQUE,
  REF_COUNT_UNUSED,
  refCountName,
  validFramePaddr,
} from '../../src/arch/constants.js'
import { editSnapshot } from '../../src/model/edit.js'
import { isParked, isPhysicalSlot, obligationsOf, ownerOf, slotOf } from '../../src/model/slots.js'
import { UNIT_META, type Snapshot } from '../../src/model/snapshot.js'
import { FrameMetaSchema, Addr, HandleId } from '../schema.js'
import { defineEvent, err, ok, StepRecorder, type Result } from '../types.js'
import { pickFrame, releaseFrame, takePick } from './allocator.js'
import { addObligation, freshId, patchOwner, putSlot } from './edit.js'
import { frameEntry, frameIdx, liveHandle } from './handles.js'
import { addressError, getFromInUse, getFromUnused, hex, regionInvAt, tornDownCells } from './meta.js'

// ---- from_unused -------------------------------------------------------------------------

export const FrameFromUnusedEvent = z.object({ type: z.literal('frame.from_unused'), paddr: Addr, meta: FrameMetaSchema })
export type FrameFromUnusedEvent = z.infer<typeof FrameFromUnusedEvent>
export type FrameHandleResult = Result<{ frame: number; paddr: number }, GetFrameError>

/**
 * `Frame::from_unused(paddr, metadata)` — `get_from_unused` with `as_unique = false`, the slot
 * permission re-parked, one obligation minted, a new handle registered.
 *
 * Requires REQ-META-GETUNUSED-1 (internal step). Owes ENS-META-GETUNUSED-5,
 * ENS-EMB-FRAMEFROMUNUSED-1..4.
 */
export const frameFromUnused = defineEvent<FrameFromUnusedEvent, FrameHandleResult>({
  type: 'frame.from_unused',
  doc: 'Frame::from_unused: a new Frame handle on an UNUSED slot (rc 1), with the given metadata.',
  schema: FrameFromUnusedEvent,
  requires: [],
  reduce(s, e) {
    const rec = new StepRecorder(s)
    const claimed = rec.run(getFromUnused, { type: 'meta_slot.get_from_unused', paddr: e.paddr, meta: e.meta, asUnique: false })
    if (!claimed.ok) return { snapshot: s, result: claimed, steps: rec.steps }
    let frame = -1
    const snapshot = editSnapshot(rec.snapshot, (d, t) => {
      frame = freshId(d, 'frame')
      t.frames.set(frame, { paddr: e.paddr })
      addObligation(t, frameToIndex(e.paddr), +1)
    })
    return { snapshot, result: ok({ frame, paddr: e.paddr }), steps: rec.steps }
  },
})

// ---- FrameAllocOptions::alloc_frame ------------------------------------------------------

export const AllocFrameEvent = z.object({
  type: z.literal('frame_alloc.alloc_frame'),
  zeroed: z.boolean().default(true),
  meta: FrameMetaSchema.default(UNIT_META),
})
export type AllocFrameEvent = z.infer<typeof AllocFrameEvent>
export type AllocFrameResult = Result<{ frame: number; paddr: number }, 'NoMemory'>

/**
 * `FrameAllocOptions::new().zeroed(z).alloc_frame_with(meta)` — the allocator picks a frame
 * (LIFO reuse), `Frame::from_unused` claims it, and the frame is zero-filled when `zeroed`
 * (the default). `Err(NoMemory)` when no frame is free.
 *
 * Owes ENS-FRAMEALLOC-FRAME-1..2 (model: the frame the allocator picks, `Err(NoMemory)`, the
 * allocator after, the zero-fill) and, through its internal steps, ENS-META-GETUNUSED-1..5 and
 * ENS-EMB-FRAMEFROMUNUSED-1..4.
 */
export const allocFrame = defineEvent<AllocFrameEvent, AllocFrameResult>({
  type: 'frame_alloc.alloc_frame',
  doc: 'FrameAllocOptions::alloc_frame_with: allocate one frame (LIFO reuse), zeroed by default.',
  schema: AllocFrameEvent,
  requires: [],
  reduce(s, e) {
    const pick = pickFrame(s)
    if (pick === null) return { snapshot: s, result: err('NoMemory') }
    const paddr = indexToFrame(pick.firstIndex)
    const rec = new StepRecorder(s)
    const made = rec.run(frameFromUnused, { type: 'frame.from_unused', paddr, meta: e.meta })
    if (!made.ok) throw new Error(`allocator picked ${hex(paddr)}, which from_unused refused: ${made.error}`)
    const snapshot = editSnapshot(rec.snapshot, (d, t) => {
      takePick(d, pick)
      if (e.zeroed) t.memory.set(pick.firstIndex, null)
    })
    return { snapshot, result: ok(made.value), steps: rec.steps }
  },
})

// ---- from_in_use -------------------------------------------------------------------------

export const FrameFromInUseEvent = z.object({ type: z.literal('frame.from_in_use'), paddr: Addr })
export type FrameFromInUseEvent = z.infer<typeof FrameFromInUseEvent>

/**
 * `Frame::from_in_use(paddr)` — one more handle to a frame in use (`get_from_in_use`, rc + 1,
 * one obligation minted). The embedding's axiom (ENS-EMB-FRAMEFROMINUSE-3) forces failure on a
 * slot whose usage is not `Frame` (e.g. a page-table node); the model returns `Err(InUse)` there.
 *
 * Requires REQ-META-GETINUSE-1, REQ-META-GETINUSE-2 (internal step). Owes
 * ENS-EMB-FRAMEFROMINUSE-1..3 and ENS-FRAME-FROMINUSE-1 (model: which `Err`).
 */
export const frameFromInUse = defineEvent<FrameFromInUseEvent, FrameHandleResult>({
  type: 'frame.from_in_use',
  doc: 'Frame::from_in_use: another handle to a frame in use (rc + 1).',
  schema: FrameFromInUseEvent,
  requires: [],
  reduce(s, e) {
    const addrError = addressError(s, e.paddr)
    if (addrError === null && slotOf(s, frameToIndex(e.paddr)).refCount > 0 && ownerOf(s, frameToIndex(e.paddr)).usage !== PageUsage.Frame) {
      return { snapshot: s, result: err('InUse') }
    }
    const rec = new StepRecorder(s)
    const taken = rec.run(getFromInUse, { type: 'meta_slot.get_from_in_use', paddr: e.paddr })
    if (!taken.ok) return { snapshot: s, result: taken, steps: rec.steps }
    let frame = -1
    const snapshot = editSnapshot(rec.snapshot, (d, t) => {
      frame = freshId(d, 'frame')
      t.frames.set(frame, { paddr: e.paddr })
      addObligation(t, frameToIndex(e.paddr), +1)
    })
    return { snapshot, result: ok({ frame, paddr: e.paddr }), steps: rec.steps }
  },
})

// ---- clone -------------------------------------------------------------------------------

export const FrameCloneEvent = z.object({ type: z.literal('frame.clone'), frame: HandleId })
export type FrameCloneEvent = z.infer<typeof FrameCloneEvent>

/**
 * `Frame::clone` — `rc += 1` (panics when the count would pass `REF_COUNT_MAX`), a new handle,
 * one obligation minted. Requires REQ-HANDLE-1, REQ-FRAME-CLONE-1. Owes ENS-FRAME-CLONE-1.
 */
export const frameClone = defineEvent<FrameCloneEvent, { frame: number }>({
  type: 'frame.clone',
  doc: 'Frame::clone: another handle to the same frame (rc + 1).',
  schema: FrameCloneEvent,
  requires: [
    liveHandle('REQ-HANDLE-1', 'frames', 'frame'),
    {
      rule: 'REQ-FRAME-CLONE-1',
      kind: 'panic',
      summary: '[model] `Frame::clone` panics when the ref count would pass REF_COUNT_MAX (the `inc_ref_count` overflow check).',
      check: (s, e) => {
        const rc = slotOf(s, frameIdx(s, e.frame)).refCount
        return rc >= REF_COUNT_MAX || rc <= 0 ? `cannot increment ref count ${refCountName(rc)}` : null
      },
    },
  ],
  reduce(s, e) {
    const { paddr } = frameEntry(s, e.frame)!
    const idx = frameToIndex(paddr)
    const cells = { ...slotOf(s, idx), refCount: slotOf(s, idx).refCount + 1 }
    let frame = -1
    const snapshot = editSnapshot(s, (d, t) => {
      putSlot(t, idx, cells)
      patchOwner(t, s, idx, { innerPerms: { ...ownerOf(s, idx).innerPerms, refCount: ownerOf(s, idx).innerPerms.refCount + 1 } })
      frame = freshId(d, 'frame')
      t.frames.set(frame, { paddr })
      addObligation(t, idx, +1)
    })
    return { snapshot, result: { frame } }
  },
})

// ---- drop --------------------------------------------------------------------------------

export const FrameDropEvent = z.object({ type: z.literal('frame.drop'), frame: HandleId })
export type FrameDropEvent = z.infer<typeof FrameDropEvent>

/** `drop_requires` (REQ-FRAME-DROP-1), [JUN] clauses: see `frameDrop`. */
export function frameDropFailure(s: Snapshot, idx: number): string | null {
  const rc = slotOf(s, idx).refCount
  if (!isParked(s, idx)) return `slot ${idx} is not parked`
  if (!(rc > 0 && rc <= REF_COUNT_MAX)) return `rc is ${refCountName(rc)}, not a shared count`
  const owner = ownerOf(s, idx)
  if (rc === 1 && owner.pathsInPt.length !== 0) return `the last reference is dropped while mapped at ${owner.pathsInPt.join(', ')}`
  if (obligationsOf(s, idx) <= 0) return `frame_obligations has no entry for slot ${idx}`
  return null
}

/**
 * `Frame::drop` — `rc -= 1`; the last reference tears the slot down to UNUSED (metadata dropped,
 * storage and vtable uninitialised, usage kept) and returns the frame to the allocator. One
 * obligation redeemed; the handle leaves the registry.
 *
 * Requires REQ-EMB-FRAMEDROP-1 (the handle is live), REQ-FRAME-DROP-1 ([JUN] `drop_requires`;
 * the [APR/FEB] `raw_count == 0` clause is not required: segments legitimately hold forgotten
 * references). Owes ENS-FRAME-DROP-1..2, ENS-EMB-FRAMEDROP-1..4.
 */
export const frameDrop = defineEvent<FrameDropEvent, null>({
  type: 'frame.drop',
  doc: 'Frame::drop: release one reference; the last one frees the frame (LIFO back to the allocator).',
  schema: FrameDropEvent,
  requires: [
    liveHandle('REQ-EMB-FRAMEDROP-1', 'frames', 'frame'),
    { rule: 'REQ-FRAME-DROP-1', kind: 'requires', check: (s, e) => frameDropFailure(s, frameIdx(s, e.frame)) },
  ],
  reduce(s, e) {
    const idx = frameIdx(s, e.frame)
    const exec = slotOf(s, idx)
    const ghost = ownerOf(s, idx).innerPerms
    const last = exec.refCount === 1
    const snapshot = editSnapshot(s, (d, t) => {
      t.frames.set(e.frame, null)
      addObligation(t, idx, -1)
      if (last) {
        putSlot(t, idx, tornDownCells(exec))
        patchOwner(t, s, idx, { innerPerms: tornDownCells(ghost) })
        releaseFrame(d, t, idx)
      } else {
        putSlot(t, idx, { ...exec, refCount: exec.refCount - 1 })
        patchOwner(t, s, idx, { innerPerms: { ...ghost, refCount: ghost.refCount - 1 } })
      }
    })
    return { snapshot, result: null }
  },
})

// ---- into_raw / from_raw -----------------------------------------------------------------

export const FrameIntoRawEvent = z.object({ type: z.literal('frame.into_raw'), frame: HandleId })
export type FrameIntoRawEvent = z.infer<typeof FrameIntoRawEvent>

/**
 * `Frame::into_raw` (`ManuallyDrop::new`) — forgets the handle: its reference stays counted in
 * `rc`, the obligation is redeemed, `raw_count += 1` ([FEB/APR] rule, MD-1). Returns the paddr.
 *
 * Requires REQ-HANDLE-1, REQ-FRAME-FORGET-1. Owes ENS-FRAME-FORGET-1.
 */
export const frameIntoRaw = defineEvent<FrameIntoRawEvent, number>({
  type: 'frame.into_raw',
  doc: 'Frame::into_raw: forget the handle, keeping its reference; returns the physical address.',
  schema: FrameIntoRawEvent,
  requires: [
    liveHandle('REQ-HANDLE-1', 'frames', 'frame'),
    {
      rule: 'REQ-FRAME-FORGET-1',
      kind: 'requires',
      check: (s, e) => (obligationsOf(s, frameIdx(s, e.frame)) > 0 ? null : `frame_obligations has no entry for slot ${frameIdx(s, e.frame)}`),
    },
  ],
  reduce(s, e) {
    const { paddr } = frameEntry(s, e.frame)!
    const idx = frameToIndex(paddr)
    const snapshot = editSnapshot(s, (d, t) => {
      t.frames.set(e.frame, null)
      addObligation(t, idx, -1)
      patchOwner(t, s, idx, { rawCount: ownerOf(s, idx).rawCount + 1 })
    })
    return { snapshot, result: paddr }
  },
})

export const FrameFromRawEvent = z.object({ type: z.literal('frame.from_raw'), paddr: Addr })
export type FrameFromRawEvent = z.infer<typeof FrameFromRawEvent>

/** `from_raw_requires_safety` (REQ-FRAME-FROMRAW-1) plus MD-1's "a forgotten reference exists". */
export function frameFromRawFailure(s: Snapshot, paddr: number): string | null {
  if (!validFramePaddr(paddr) || !isPhysicalSlot(s, frameToIndex(paddr))) return `${hex(paddr)} is not a valid frame address`
  const idx = frameToIndex(paddr)
  const owner = ownerOf(s, idx)
  if (owner.selfAddr !== frameToMeta(paddr)) return `slot ${idx} records self_addr ${owner.selfAddr}, not frame_to_meta(${hex(paddr)})`
  const inv = regionInvAt(s, idx)
  if (inv !== null) return inv
  const rc = slotOf(s, idx).refCount
  if (rc === REF_COUNT_UNUSED) return `${hex(paddr)} is UNUSED`
  if (rc === REF_COUNT_UNIQUE) return `${hex(paddr)} is a unique frame`
  if (owner.rawCount <= 0) return `no forgotten reference to ${hex(paddr)} (from_raw needs an address from into_raw)`
  return null
}

/**
 * `Frame::from_raw(paddr)` — revives a forgotten reference as a handle: obligation minted,
 * `raw_count -= 1` ([FEB/APR], MD-1), `rc` unchanged.
 *
 * Requires REQ-FRAME-FROMRAW-1. Owes ENS-FRAME-FROMRAW-1..2.
 */
export const frameFromRaw = defineEvent<FrameFromRawEvent, { frame: number }>({
  type: 'frame.from_raw',
  doc: 'Frame::from_raw: turn a forgotten reference (from into_raw) back into a handle.',
  schema: FrameFromRawEvent,
  requires: [{ rule: 'REQ-FRAME-FROMRAW-1', kind: 'requires', check: (s, e) => frameFromRawFailure(s, e.paddr) }],
  reduce(s, e) {
    const idx = frameToIndex(e.paddr)
    let frame = -1
    const snapshot = editSnapshot(s, (d, t) => {
      frame = freshId(d, 'frame')
      t.frames.set(frame, { paddr: e.paddr })
      addObligation(t, idx, +1)
      patchOwner(t, s, idx, { rawCount: ownerOf(s, idx).rawCount - 1 })
    })
    return { snapshot, result: { frame } }
  },
})

export const frameLifecycleEvents = [allocFrame, frameFromUnused, frameFromInUse, frameClone, frameDrop, frameIntoRaw, frameFromRaw] as const
