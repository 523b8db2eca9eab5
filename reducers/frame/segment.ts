/**
 * `Segment<M>`: a contiguous range of frames (ostd::mm::frame::segment, behaviour.md §2.7,
 * spec/operations.md §11.19–§11.23) and `FrameAllocOptions::alloc_segment_with`.
 *
 * A live segment is one `SegmentEntry { startPaddr, endPaddr }` in `Snapshot.segments` (counter
 * `segment`). It holds one *forgotten* reference to every page it covers: each page's `rc`
 * includes it, and so does each page's ghost `raw_count` (MD-1: `into_raw` / `ManuallyDrop::new`
 * +1, `from_raw` −1). The accounting invariant (rules/frame/store.ts) reads
 * `rc == H + P + cover + (raw_count − cover)`. Consequently:
 *
 * - creating a segment (`from_unused`, `alloc_segment`, `From<Frame>`) forgets one `Frame` per
 *   page (`frame.into_raw`): `rc` unchanged by the forget, `raw_count + 1`, one obligation redeemed;
 * - `clone` / `slice` take one more reference per page for the new segment: `rc + 1` and
 *   `raw_count + 1` (the new segment's references are forgotten ones too);
 * - `split` only re-registers the range (no slot changes);
 * - `next` revives the first page's reference as a `Frame` handle (`frame.from_raw`: `raw_count − 1`,
 *   one obligation minted, `rc` unchanged) and shrinks the segment;
 * - `drop` revives and drops every page's reference (`frame.from_raw` + `frame.drop`).
 *
 * An empty segment never exists in the registry (INV-STORE-14): `next` removes the segment when it
 * hands out its last page, and `split` / `slice` / `from_unused` refuse empty results.
 */
import { z } from 'zod'
import { frameToIndex, type GetFrameError, indexToFrame, MAX_PADDR, PAGE_SIZE, REF_COUNT_MAX, refCountName } from '../../src/arch/constants.js'
import { editSnapshot } from '../../src/model/edit.js'
import { slotOf } from '../../src/model/slots.js'
import { UNIT_META, type FrameMeta, type SegmentEntry, type Snapshot } from '../../src/model/snapshot.js'
import type { AnyEventSpec } from '../index.js'
import { Addr, FrameMetaSchema, HandleId } from '../schema.js'
import { defineEvent, err, ok, StepRecorder, type Requirement, type Result } from '../types.js'
import { pickRun, takePick } from './allocator.js'
import { freshId, ownerNow, patchOwner, putSlot } from './edit.js'
import { frameDrop, frameFromRaw, frameFromUnused, frameIntoRaw } from './frame.js'
import { liveHandle, segmentEntry } from './handles.js'
import { hex, unusedCasError } from './meta.js'

// ---- shared pieces -------------------------------------------------------------------------

/**
 * `usize` as a trace carries it: any non-negative integer-valued number, including values beyond
 * 2^53 such as `usize::MAX` written as `1.8446744073709552e19` (zod's `.int()` only accepts safe
 * integers, so it is not used here).
 */
const UsizeNumber = z
  .number()
  .nonnegative()
  .refine((n) => Number.isInteger(n), { message: 'expected an integer (usize)' })

/**
 * The metadata of a segment's pages (the `metadata_fn` of OSTD, evaluated): one `FrameMeta` for
 * every page, or an array with one entry per page, in address order.
 */
const SegmentMetaSchema = z.union([FrameMetaSchema, z.array(FrameMetaSchema)]).default(UNIT_META)
export type SegmentMeta = FrameMeta | readonly FrameMeta[]

/** Metadata of page `i` of a segment. */
export function segmentMetaAt(meta: SegmentMeta, i: number): FrameMeta {
  if (!Array.isArray(meta)) return meta as FrameMeta
  const m = (meta as readonly FrameMeta[])[i]
  if (m === undefined) throw new RangeError(`segment metadata has ${(meta as readonly FrameMeta[]).length} entries; page ${i} has none`)
  return m
}

/** Number of pages of `[start, end)` (both page aligned). */
export function pagesIn(startPaddr: number, endPaddr: number): number {
  return (endPaddr - startPaddr) / PAGE_SIZE
}

/** `Ok` payload of the calls that create a segment. */
export interface SegmentCreated {
  readonly segment: number
  readonly startPaddr: number
  readonly endPaddr: number
}

/** Per-page `rc + 1` on `[start, end)`: the clone / slice step (`inc_frame_ref_count` per page). */
function addReferenceEach(s: Snapshot, startPaddr: number, endPaddr: number): Snapshot {
  return editSnapshot(s, (_d, t) => {
    for (let pa = startPaddr; pa < endPaddr; pa += PAGE_SIZE) {
      const idx = frameToIndex(pa)
      const exec = slotOf(s, idx)
      const owner = ownerNow(t, s, idx)
      putSlot(t, idx, { ...exec, refCount: exec.refCount + 1 })
      // The new segment's reference is a forgotten one: raw_count + 1 (MD-1).
      patchOwner(t, s, idx, { innerPerms: { ...owner.innerPerms, refCount: owner.innerPerms.refCount + 1 }, rawCount: owner.rawCount + 1 })
    }
  })
}

/** The first page of `[start, end)` whose ref count cannot be incremented, as a message, or null. */
function incrementFailure(s: Snapshot, startPaddr: number, endPaddr: number): string | null {
  for (let pa = startPaddr; pa < endPaddr; pa += PAGE_SIZE) {
    const rc = slotOf(s, frameToIndex(pa)).refCount
    if (rc >= REF_COUNT_MAX || rc <= 0) return `cannot add a reference to ${hex(pa)}: rc is ${refCountName(rc)} (rc + 1 must stay within 1..=REF_COUNT_MAX)`
  }
  return null
}

/** The segment entry of a live handle (call after its existence requirement). */
function seg(s: Snapshot, id: number): SegmentEntry {
  return segmentEntry(s, id)!
}

// ---- Segment::from_unused ------------------------------------------------------------------

export const SegmentFromUnusedEvent = z
  .object({
    type: z.literal('segment.from_unused'),
    startPaddr: Addr,
    endPaddr: Addr,
    meta: SegmentMetaSchema,
  })
  .superRefine((e, ctx) => {
    if (!Array.isArray(e.meta)) return
    if (e.startPaddr < e.endPaddr && e.startPaddr % PAGE_SIZE === 0 && e.endPaddr % PAGE_SIZE === 0 && e.meta.length !== pagesIn(e.startPaddr, e.endPaddr)) {
      ctx.addIssue({ code: 'custom', path: ['meta'], message: `expected one FrameMeta per page (${pagesIn(e.startPaddr, e.endPaddr)}), got ${e.meta.length}` })
    }
  })
export type SegmentFromUnusedEvent = z.infer<typeof SegmentFromUnusedEvent>
export type SegmentFromUnusedResult = Result<SegmentCreated, GetFrameError>

/**
 * Why `Segment::from_unused([start, end))` fails, checked before anything changes: `NotAligned`
 * (either end), `OutOfBound` (`end` beyond physical memory or `MAX_PADDR`), then the first page
 * whose CAS `UNUSED -> 0` would fail (`Unique`, `Busy`, `InUse`).
 */
export function segmentFromUnusedError(s: Snapshot, startPaddr: number, endPaddr: number): GetFrameError | null {
  if (startPaddr % PAGE_SIZE !== 0 || endPaddr % PAGE_SIZE !== 0) return 'NotAligned'
  if (endPaddr > MAX_PADDR || endPaddr > indexToFrame(s.nrFrames)) return 'OutOfBound'
  for (let pa = startPaddr; pa < endPaddr; pa += PAGE_SIZE) {
    const error = unusedCasError(s, frameToIndex(pa))
    if (error !== null) return error
  }
  return null
}

/** `assert!(range.start < range.end)` of `Segment::from_unused` (model ID: the digest has none). */
const nonEmptyRange: Requirement<SegmentFromUnusedEvent> = {
  rule: 'REQ-SEGMENT-FROMUNUSED-1', summary: '[model] `Segment::from_unused(range, …)` asserts `range.start < range.end` (an empty range panics).',
  kind: 'panic',
  check: (_s, e) => (e.startPaddr < e.endPaddr ? null : `Segment::from_unused on an empty range [${hex(e.startPaddr)}, ${hex(e.endPaddr)}) (assert!(range.start < range.end))`),
}

/**
 * `Segment::from_unused(range, metadata_fn)` — claims every page of `range` as a new frame and
 * forgets it into the segment: per page the internal steps `frame.from_unused` (rc 1, usage
 * Frame, one obligation minted) and `frame.into_raw` (obligation redeemed, `raw_count + 1`); then
 * a fresh `SegmentEntry` is registered.
 *
 * Panics on an empty range (REQ-SEGMENT-FROMUNUSED-1, a model ID for the exec `assert!`). Errors
 * (`Err`, state unchanged): `NotAligned`, `OutOfBound`, then the first page that is not UNUSED.
 * Deviation: OSTD claims pages in order and, when one fails, drops the segment built so far
 * (the rolled-back slots return to UNUSED but keep `usage == Frame`); the embedding
 * (ENS-EMB-SEGMENTFROMUNUSED-1) requires the store unchanged on failure, so the model checks every
 * page first and changes nothing.
 *
 * Requires REQ-SEGMENT-FROMUNUSED-1 (and, per page, REQ-META-GETUNUSED-1 through its internal
 * steps). Owes ENS-EMB-SEGMENTFROMUNUSED-1..3 (-3: which `Err`, `segmentFromUnusedError`).
 */
export const segmentFromUnused = defineEvent<SegmentFromUnusedEvent, SegmentFromUnusedResult>({
  type: 'segment.from_unused',
  doc: 'Segment::from_unused: claim every page of an unused range as a new segment (rc 1 per page, forgotten into the segment).',
  schema: SegmentFromUnusedEvent,
  requires: [nonEmptyRange],
  reduce(s, e) {
    const error = segmentFromUnusedError(s, e.startPaddr, e.endPaddr)
    if (error !== null) return { snapshot: s, result: err(error) }
    const rec = new StepRecorder(s)
    for (let i = 0, pa = e.startPaddr; pa < e.endPaddr; i++, pa += PAGE_SIZE) {
      const made = rec.run(frameFromUnused, { type: 'frame.from_unused', paddr: pa, meta: segmentMetaAt(e.meta, i) })
      if (!made.ok) throw new Error(`Segment::from_unused: page ${hex(pa)} was checked UNUSED but from_unused refused it: ${made.error}`)
      rec.run(frameIntoRaw, { type: 'frame.into_raw', frame: made.value.frame })
    }
    let segment = -1
    const snapshot = editSnapshot(rec.snapshot, (d, t) => {
      segment = freshId(d, 'segment')
      t.segments.set(segment, { startPaddr: e.startPaddr, endPaddr: e.endPaddr })
    })
    return { snapshot, result: ok({ segment, startPaddr: e.startPaddr, endPaddr: e.endPaddr }), steps: rec.steps }
  },
})

// ---- FrameAllocOptions::alloc_segment_with ---------------------------------------------------

export const AllocSegmentEvent = z
  .object({
    type: z.literal('frame_alloc.alloc_segment'),
    nframes: UsizeNumber,
    zeroed: z.boolean().default(true),
    meta: SegmentMetaSchema,
  })
  .superRefine((e, ctx) => {
    if (Array.isArray(e.meta) && e.nframes > 0 && e.meta.length !== e.nframes) {
      ctx.addIssue({ code: 'custom', path: ['meta'], message: `expected one FrameMeta per frame (${e.nframes}), got ${e.meta.length}` })
    }
  })
export type AllocSegmentEvent = z.infer<typeof AllocSegmentEvent>
export type AllocSegmentResult = Result<SegmentCreated, 'InvalidArgs' | 'NoMemory'>

/**
 * `nframes * PAGE_SIZE` must be a valid `Layout` size (at most `isize::MAX`); every `nframes`
 * whose byte size overflows `usize` is beyond it too. 2^63 / 4096 = 2^51 (exact in a double).
 */
export const MAX_SEGMENT_FRAMES_EXCLUSIVE = 2 ** 63 / PAGE_SIZE

/**
 * `FrameAllocOptions::new().zeroed(z).alloc_segment_with(nframes, metadata_fn)`.
 *
 * `nframes == 0` → `Err(InvalidArgs)`. A byte size that overflows panics (behaviour.md §2.7;
 * REQ-FRAMEALLOC-SEGMENT-1, a model ID). No contiguous run of free frames → `Err(NoMemory)`.
 * Otherwise the allocator picks the run (one frame: LIFO reuse; more: the first run after the
 * never-used mark, else the lowest free run), `Segment::from_unused` claims it (internal step, with
 * its per-page `frame.from_unused` + `frame.into_raw` steps), and the pages are zero-filled when
 * `zeroed` (the default).
 *
 * Deviation (threshold): the panic fires from `nframes * 4096 > isize::MAX` (nframes >= 2^51), not
 * only from the usize overflow (nframes >= 2^52): upstream passes the size to
 * `Layout::from_size_align(..).unwrap()`, which rejects sizes above `isize::MAX`.
 *
 * Requires REQ-FRAMEALLOC-SEGMENT-1. Owes ENS-FRAMEALLOC-SEGMENT-1..2 (model) and, through the
 * internal step, ENS-EMB-SEGMENTFROMUNUSED-1..2.
 */
export const allocSegment = defineEvent<AllocSegmentEvent, AllocSegmentResult>({
  type: 'frame_alloc.alloc_segment',
  doc: 'FrameAllocOptions::alloc_segment_with: allocate nframes contiguous frames as a Segment, zeroed by default.',
  schema: AllocSegmentEvent,
  requires: [
    {
      rule: 'REQ-FRAMEALLOC-SEGMENT-1', summary: '[model, behaviour.md §2.7] `alloc_segment(n)` panics when `n × PAGE_SIZE` overflows (`Layout` unwrap), rather than returning an error.',
      kind: 'panic',
      check: (_s, e) =>
        e.nframes >= MAX_SEGMENT_FRAMES_EXCLUSIVE
          ? `alloc_segment(${e.nframes}): nframes * PAGE_SIZE exceeds isize::MAX / overflows usize (Layout::from_size_align(..).unwrap() panics)`
          : null,
    },
  ],
  reduce(s, e) {
    if (e.nframes === 0) return { snapshot: s, result: err('InvalidArgs') }
    const pick = pickRun(s, e.nframes)
    if (pick === null) return { snapshot: s, result: err('NoMemory') }
    const startPaddr = indexToFrame(pick.firstIndex)
    const endPaddr = indexToFrame(pick.firstIndex + e.nframes)
    const rec = new StepRecorder(s)
    const made = rec.run(segmentFromUnused, { type: 'segment.from_unused', startPaddr, endPaddr, meta: e.meta })
    if (!made.ok) throw new Error(`allocator picked [${hex(startPaddr)}, ${hex(endPaddr)}), which Segment::from_unused refused: ${made.error}`)
    const snapshot = editSnapshot(rec.snapshot, (d, t) => {
      takePick(d, pick)
      if (e.zeroed) for (let i = pick.firstIndex; i < pick.firstIndex + e.nframes; i++) t.memory.set(i, null)
    })
    return { snapshot, result: ok(made.value), steps: rec.steps }
  },
})

// ---- Segment::split ------------------------------------------------------------------------

export const SegmentSplitEvent = z.object({ type: z.literal('segment.split'), segment: HandleId, offset: Addr })
export type SegmentSplitEvent = z.infer<typeof SegmentSplitEvent>

/**
 * `Segment::split(self, offset)` — consumes the segment and registers its two halves
 * `[start, start + offset)` and `[start + offset, end)` under fresh ids, in that order. No slot
 * changes: every page keeps exactly one covering reference from this segment.
 *
 * Requires REQ-EMB-SEGMENTSPLIT-1 (the handle is live), REQ-EMB-SEGMENTSPLIT-2 (`offset` page
 * aligned and strictly inside: the exec `assert!`s panic). Owes ENS-EMB-SEGMENTSPLIT-1..2.
 */
export const segmentSplit = defineEvent<SegmentSplitEvent, { left: number; right: number }>({
  type: 'segment.split',
  doc: 'Segment::split: consume the segment, giving [start, start+offset) and [start+offset, end).',
  schema: SegmentSplitEvent,
  requires: [
    liveHandle('REQ-EMB-SEGMENTSPLIT-1', 'segments', 'segment'),
    {
      rule: 'REQ-EMB-SEGMENTSPLIT-2',
      kind: 'panic',
      check: (s, e) => {
        const { startPaddr, endPaddr } = seg(s, e.segment)
        const size = endPaddr - startPaddr
        if (e.offset % PAGE_SIZE !== 0) return `split offset ${hex(e.offset)} is not a multiple of PAGE_SIZE`
        if (!(e.offset > 0 && e.offset < size)) return `split offset ${hex(e.offset)} is not strictly inside the segment (size ${hex(size)})`
        return null
      },
    },
  ],
  reduce(s, e) {
    const { startPaddr, endPaddr } = seg(s, e.segment)
    const mid = startPaddr + e.offset
    let left = -1
    let right = -1
    const snapshot = editSnapshot(s, (d, t) => {
      t.segments.set(e.segment, null)
      left = freshId(d, 'segment')
      right = freshId(d, 'segment')
      t.segments.set(left, { startPaddr, endPaddr: mid })
      t.segments.set(right, { startPaddr: mid, endPaddr })
    })
    return { snapshot, result: { left, right } }
  },
})

// ---- Segment::slice ------------------------------------------------------------------------

export const SegmentSliceEvent = z.object({ type: z.literal('segment.slice'), segment: HandleId, start: Addr, end: Addr })
export type SegmentSliceEvent = z.infer<typeof SegmentSliceEvent>

/**
 * `Segment::slice(&self, &(start..end))` — a new segment over the sub-range at the *relative* byte
 * offsets `[start, end)`, holding its own references: per page `rc + 1` and `raw_count + 1`. The
 * original segment is borrowed, not consumed.
 *
 * Requires REQ-EMB-SEGMENTSLICE-1 (live), REQ-EMB-SEGMENTSLICE-2 (offsets page aligned,
 * `start < end <= size`: the embedding states it for the absolute range, the model converts; exec
 * `assert!`s), REQ-EMB-SEGMENTSLICE-3 (no page's count overflows: exec aborts).
 * Deviation: OSTD accepts an empty slice (`start == end`) and returns an empty segment; the
 * embedding's REQ-EMB-SEGMENTSLICE-2 (and INV-STORE-14: no empty segment) rule it out, so the
 * model panics there.
 * Owes ENS-EMB-SEGMENTSLICE-1..2.
 */
export const segmentSlice = defineEvent<SegmentSliceEvent, { segment: number }>({
  type: 'segment.slice',
  doc: 'Segment::slice: a new segment over [start, end) (offsets relative to the segment), with its own references.',
  schema: SegmentSliceEvent,
  requires: [
    liveHandle('REQ-EMB-SEGMENTSLICE-1', 'segments', 'segment'),
    {
      rule: 'REQ-EMB-SEGMENTSLICE-2',
      kind: 'panic',
      check: (s, e) => {
        const { startPaddr, endPaddr } = seg(s, e.segment)
        const size = endPaddr - startPaddr
        if (e.start % PAGE_SIZE !== 0 || e.end % PAGE_SIZE !== 0) return `slice ${hex(e.start)}..${hex(e.end)} is not page aligned`
        if (!(e.start < e.end)) return `slice ${hex(e.start)}..${hex(e.end)} is empty or reversed`
        if (e.end > size) return `slice ${hex(e.start)}..${hex(e.end)} exceeds the segment (size ${hex(size)})`
        return null
      },
    },
    {
      rule: 'REQ-EMB-SEGMENTSLICE-3',
      kind: 'panic',
      check: (s, e) => {
        const { startPaddr } = seg(s, e.segment)
        return incrementFailure(s, startPaddr + e.start, startPaddr + e.end)
      },
    },
  ],
  reduce(s, e) {
    const base = seg(s, e.segment).startPaddr
    const startPaddr = base + e.start
    const endPaddr = base + e.end
    let segment = -1
    const snapshot = editSnapshot(addReferenceEach(s, startPaddr, endPaddr), (d, t) => {
      segment = freshId(d, 'segment')
      t.segments.set(segment, { startPaddr, endPaddr })
    })
    return { snapshot, result: { segment } }
  },
})

// ---- Segment::clone ------------------------------------------------------------------------

export const SegmentCloneEvent = z.object({ type: z.literal('segment.clone'), segment: HandleId })
export type SegmentCloneEvent = z.infer<typeof SegmentCloneEvent>

/**
 * `Segment::clone(&self)` — a new segment over the same range with its own references: per page
 * `rc + 1` and `raw_count + 1`.
 *
 * Requires REQ-EMB-SEGMENTCLONE-1 (live), REQ-EMB-SEGMENTCLONE-2 (no page's count overflows: exec
 * aborts). Owes ENS-EMB-SEGMENTCLONE-1..2.
 */
export const segmentClone = defineEvent<SegmentCloneEvent, { segment: number }>({
  type: 'segment.clone',
  doc: 'Segment::clone: another segment over the same range (rc + 1 on every page).',
  schema: SegmentCloneEvent,
  requires: [
    liveHandle('REQ-EMB-SEGMENTCLONE-1', 'segments', 'segment'),
    {
      rule: 'REQ-EMB-SEGMENTCLONE-2',
      kind: 'panic',
      check: (s, e) => incrementFailure(s, seg(s, e.segment).startPaddr, seg(s, e.segment).endPaddr),
    },
  ],
  reduce(s, e) {
    const { startPaddr, endPaddr } = seg(s, e.segment)
    let segment = -1
    const snapshot = editSnapshot(addReferenceEach(s, startPaddr, endPaddr), (d, t) => {
      segment = freshId(d, 'segment')
      t.segments.set(segment, { startPaddr, endPaddr })
    })
    return { snapshot, result: { segment } }
  },
})

// ---- Drop for Segment ----------------------------------------------------------------------

export const SegmentDropEvent = z.object({ type: z.literal('segment.drop'), segment: HandleId })
export type SegmentDropEvent = z.infer<typeof SegmentDropEvent>

/**
 * `Drop for Segment` — for every page, in address order, `Frame::from_raw(pa)` then drop that
 * frame (internal steps `frame.from_raw`, `frame.drop`): `rc − 1`, and the last reference tears
 * the slot down and returns the frame to the allocator (so the last page freed is the next one
 * handed out). Then the segment leaves the registry.
 *
 * Requires REQ-EMB-SEGMENTDROP-1 (and, per page, REQ-FRAME-FROMRAW-1 / REQ-FRAME-DROP-1 through the
 * internal steps). Owes ENS-EMB-SEGMENTDROP-1..3.
 */
export const segmentDrop = defineEvent<SegmentDropEvent, null>({
  type: 'segment.drop',
  doc: 'Drop for Segment: release the reference the segment holds on every page (freeing pages whose last reference it was).',
  schema: SegmentDropEvent,
  requires: [liveHandle('REQ-EMB-SEGMENTDROP-1', 'segments', 'segment')],
  reduce(s, e) {
    const { startPaddr, endPaddr } = seg(s, e.segment)
    const rec = new StepRecorder(s)
    for (let pa = startPaddr; pa < endPaddr; pa += PAGE_SIZE) {
      const { frame } = rec.run(frameFromRaw, { type: 'frame.from_raw', paddr: pa })
      rec.run(frameDrop, { type: 'frame.drop', frame })
    }
    const snapshot = editSnapshot(rec.snapshot, (_d, t) => t.segments.set(e.segment, null))
    return { snapshot, result: null, steps: rec.steps }
  },
})

// ---- Iterator for Segment ------------------------------------------------------------------

export const SegmentNextEvent = z.object({ type: z.literal('segment.next'), segment: HandleId })
export type SegmentNextEvent = z.infer<typeof SegmentNextEvent>

/**
 * `Iterator::next` for `Segment` — pops the first page as a `Frame` handle: internal step
 * `frame.from_raw(start)` (the segment's reference moves to the handle: `rc` unchanged,
 * `raw_count − 1`, one obligation minted); the segment becomes `[start + 4096, end)`, or leaves
 * the registry when that is empty. A live segment is never empty, so the result is never `None`
 * (`null` is kept in the type for the iterator's signature).
 *
 * Requires REQ-EMB-SEGMENTNEXT-1 (and REQ-FRAME-FROMRAW-1 through the internal step). Owes
 * ENS-EMB-SEGMENTNEXT-1..3.
 */
export const segmentNext = defineEvent<SegmentNextEvent, { frame: number } | null>({
  type: 'segment.next',
  doc: 'Iterator::next for Segment: take the first page out of the segment as a Frame handle.',
  schema: SegmentNextEvent,
  requires: [liveHandle('REQ-EMB-SEGMENTNEXT-1', 'segments', 'segment')],
  reduce(s, e) {
    const { startPaddr, endPaddr } = seg(s, e.segment)
    if (!(startPaddr < endPaddr)) return { snapshot: s, result: null }
    const rec = new StepRecorder(s)
    const { frame } = rec.run(frameFromRaw, { type: 'frame.from_raw', paddr: startPaddr })
    const rest = startPaddr + PAGE_SIZE
    const snapshot = editSnapshot(rec.snapshot, (_d, t) => t.segments.set(e.segment, rest < endPaddr ? { startPaddr: rest, endPaddr } : null))
    return { snapshot, result: { frame }, steps: rec.steps }
  },
})

// ---- From<Frame> for Segment ---------------------------------------------------------------

export const SegmentFromFrameEvent = z.object({ type: z.literal('segment.from_frame'), frame: HandleId })
export type SegmentFromFrameEvent = z.infer<typeof SegmentFromFrameEvent>

/**
 * `impl From<Frame<M>> for Segment<M>` — forgets the frame into a one-page segment: internal step
 * `frame.into_raw` (handle gone, obligation redeemed, `raw_count + 1`, `rc` unchanged), then
 * `[pa, pa + 4096)` is registered under a fresh id.
 *
 * Requires REQ-HANDLE-1 (the frame handle is live; REQ-FRAME-FORGET-1 through the internal step).
 * Owes ENS-SEGMENT-FROMFRAME-1 (model).
 */
export const segmentFromFrame = defineEvent<SegmentFromFrameEvent, { segment: number }>({
  type: 'segment.from_frame',
  doc: 'From<Frame> for Segment: turn a frame handle into a one-page segment.',
  schema: SegmentFromFrameEvent,
  requires: [liveHandle('REQ-HANDLE-1', 'frames', 'frame')],
  reduce(s, e) {
    const rec = new StepRecorder(s)
    const paddr = rec.run(frameIntoRaw, { type: 'frame.into_raw', frame: e.frame })
    let segment = -1
    const snapshot = editSnapshot(rec.snapshot, (d, t) => {
      segment = freshId(d, 'segment')
      t.segments.set(segment, { startPaddr: paddr, endPaddr: paddr + PAGE_SIZE })
    })
    return { snapshot, result: { segment }, steps: rec.steps }
  },
})

export const segmentEvents: readonly AnyEventSpec[] = [
  allocSegment,
  segmentFromUnused,
  segmentSplit,
  segmentSlice,
  segmentClone,
  segmentDrop,
  segmentNext,
  segmentFromFrame,
] as unknown as readonly AnyEventSpec[]
