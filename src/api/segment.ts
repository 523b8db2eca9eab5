/**
 * `Segment<M>`: a contiguous range of frames (ostd::mm::frame::segment; API.md "Frames",
 * behaviour.md §2.7). Every method dispatches one event of reducers/frame/segment.ts.
 *
 * Ownership follows Rust: `split`, `frames()` (iterating) and `drop` consume the segment;
 * `Segment.fromFrame(frame)` consumes the frame; `slice` and `clone` borrow it and return a new
 * segment with its own references, which the caller must `drop()`.
 */
import type { GetFrameError } from '../arch/constants.js'
import { PAGE_SIZE } from '../arch/constants.js'
import { OstdPanic } from '../arch/errors.js'
import type { FrameMeta, SegmentEntry } from '../model/snapshot.js'
import { UNIT_META } from '../model/snapshot.js'
import { tableGet } from '../model/table.js'
import { Frame } from './frame.js'
import { Handle } from './handle.js'
import { VmIoHandle } from './vm_io_target.js'
import type { Model } from './model.js'
import { mapOk, type OstdErrorKind, type Result } from './result.js'

/** A byte range `[start, end)`. */
export interface ByteRange {
  readonly start: number
  readonly end: number
}

/** Metadata of a segment's pages: one for all, or a function of the page index (0-based). */
export type SegmentMetaInput = FrameMeta | ((index: number) => FrameMeta)

export interface SegmentAllocOptions {
  /** Zero the contents (default true, as `FrameAllocOptions::new()`). */
  zeroed?: boolean
  /** `alloc_segment_with`'s `metadata_fn`, by page index; default `()`. */
  meta?: SegmentMetaInput
}

/** What a segment-creating event returns on success. */
interface Created {
  readonly segment: number
  readonly startPaddr: number
  readonly endPaddr: number
}

/**
 * The `meta` field of an event: a single `FrameMeta` as is, a function evaluated on each of the
 * `pages` pages. When the page count is not a plausible size (the call fails or panics before it
 * consults the metadata), the function is not called and the default is sent.
 */
function metaArg(meta: SegmentMetaInput | undefined, pages: number, maxPages: number): FrameMeta | FrameMeta[] {
  if (meta === undefined) return UNIT_META
  if (typeof meta !== 'function') return meta
  if (!(Number.isSafeInteger(pages) && pages > 0 && pages <= maxPages)) return UNIT_META
  return Array.from({ length: pages }, (_, i) => meta(i))
}

export class Segment extends VmIoHandle {
  protected get kind(): string {
    return 'Segment'
  }

  protected get ioKind(): 'segment' {
    return 'segment'
  }

  protected assertLive(): void {
    this.entry()
  }

  /** The segment's entry in the model; throws if the handle is no longer live. */
  private entry(): SegmentEntry {
    this.live()
    const e = tableGet(this.model.state.segments, this.id)
    if (e === null) throw new OstdPanic('REQ-HANDLE-1', `Segment ${this.id} is not a live handle`, 'requires')
    return e
  }

  startPaddr(): number {
    return this.entry().startPaddr
  }

  endPaddr(): number {
    return this.entry().endPaddr
  }

  /** Size in bytes (`end_paddr - start_paddr`). */
  size(): number {
    const { startPaddr, endPaddr } = this.entry()
    return endPaddr - startPaddr
  }

  /**
   * `split(offset)`: consumes the segment; returns `[start, start + offset)` and
   * `[start + offset, end)`. Panics unless `offset` is page aligned and `0 < offset < size`.
   */
  split(offset: number): [Segment, Segment] {
    return this.consume(() => {
      const { left, right } = this.model.call<{ left: number; right: number }>({ type: 'segment.split', segment: this.id, offset })
      return [new Segment(this.model, left), new Segment(this.model, right)] as [Segment, Segment]
    })
  }

  /**
   * `slice(&range)`: a new segment over `[start, end)`, offsets relative to this segment (borrows
   * it). Panics unless both are page aligned and `start < end <= size`.
   */
  slice(range: ByteRange): Segment {
    this.live()
    const { segment } = this.model.call<{ segment: number }>({ type: 'segment.slice', segment: this.id, start: range.start, end: range.end })
    return new Segment(this.model, segment)
  }

  /** Another segment over the same range (rc + 1 on every page). */
  clone(): Segment {
    this.live()
    const { segment } = this.model.call<{ segment: number }>({ type: 'segment.clone', segment: this.id })
    return new Segment(this.model, segment)
  }

  /**
   * Iterates the segment (consumes it): yields one `Frame` per page, in address order; each is a
   * new handle the caller owns. Leaving the loop early drops the pages not yet taken, as dropping
   * the Rust iterator does.
   */
  frames(): Generator<Frame, void, undefined> {
    return this.consume(() => iterate(this.model, this.id))
  }

  /** `Segment::from(frame)`: consumes the frame, giving a one-page segment. */
  static fromFrame(frame: Frame): Segment {
    return Handle.take(frame, (model) => new Segment(model, model.call<{ segment: number }>({ type: 'segment.from_frame', frame: frame.id }).segment))
  }

  /**
   * `Segment::from_unused(range, metadata_fn)`: claims every page of `range` (absolute physical
   * addresses). Panics on an empty range; `Err(NotAligned | OutOfBound | InUse | Unique | Busy)`
   * otherwise when it cannot, with nothing changed.
   */
  static fromUnused(model: Model, range: ByteRange, meta?: SegmentMetaInput): Result<Segment, GetFrameError> {
    const aligned = range.start % PAGE_SIZE === 0 && range.end % PAGE_SIZE === 0
    const pages = aligned && range.start < range.end ? (range.end - range.start) / PAGE_SIZE : 0
    const r = model.call<Result<Created, GetFrameError>>({
      type: 'segment.from_unused',
      startPaddr: range.start,
      endPaddr: range.end,
      meta: metaArg(meta, pages, model.state.nrFrames),
    })
    return mapOk(r, (v) => new Segment(model, v.segment))
  }

  /** `FrameAllocOptions::alloc_segment_with(nframes, meta)` (see `model.frames.allocSegment`). */
  static alloc(model: Model, nframes: number, opts: SegmentAllocOptions = {}): Result<Segment, OstdErrorKind> {
    const r = model.call<Result<Created, OstdErrorKind>>({
      type: 'frame_alloc.alloc_segment',
      nframes,
      zeroed: opts.zeroed ?? true,
      meta: metaArg(opts.meta, nframes, model.state.nrFrames),
    })
    return mapOk(r, (v) => new Segment(model, v.segment))
  }

  /** Releases the segment's reference to every page (Rust's scope end). */
  drop(): void {
    this.consume(() => this.model.dispatch({ type: 'segment.drop', segment: this.id }))
  }
}

/** The iterator behind `frames()`: `segment.next` until the segment is used up. */
function* iterate(model: Model, id: number): Generator<Frame, void, undefined> {
  let finished = false
  try {
    while (tableGet(model.state.segments, id) !== null) {
      let next: { frame: number } | null
      try {
        next = model.call<{ frame: number } | null>({ type: 'segment.next', segment: id })
      } catch (e) {
        // A panic leaves the segment as it was; do not dispatch more on top of it.
        finished = true
        throw e
      }
      if (next === null) break
      yield new Frame(model, next.frame)
    }
    finished = true
  } finally {
    // Closed early (`break` out of a `for…of`): the rest of the segment is dropped.
    if (!finished && tableGet(model.state.segments, id) !== null) model.dispatch({ type: 'segment.drop', segment: id })
  }
}
