/** `Frame`, `FrameRef` and the frame factory (ostd::mm::frame; API.md "Frames"). */
import { frameToIndex, PAGE_SIZE } from '../arch/constants.js'
import { OstdPanic } from '../arch/errors.js'
import type { GetFrameError } from '../arch/constants.js'
import { slotOf } from '../model/slots.js'
import { UNIT_META, type FrameMeta } from '../model/snapshot.js'
import { tableGet } from '../model/table.js'
import { VmIoHandle } from './vm_io_target.js'
import type { Model } from './model.js'
import { mapOk, type OstdErrorKind, type Result } from './result.js'
import { Segment, type SegmentAllocOptions } from './segment.js'

export type { FrameMeta }

/** Metadata of a frame's slot, as `Frame::meta()` returns it. */
export function slotMeta(model: Model, paddr: number): FrameMeta {
  const storage = slotOf(model.state, frameToIndex(paddr)).storage
  if (storage === null || storage.kind === 'PTNode') throw new OstdPanic('REQ-HANDLE-1', `frame ${paddr} has no frame metadata`, 'requires')
  return storage.meta
}

/** A shared, reference-counted handle to one 4 KiB frame (`Frame<M>`). */
export class Frame extends VmIoHandle {
  protected get kind(): string {
    return 'Frame'
  }

  protected get ioKind(): 'frame' {
    return 'frame'
  }

  protected assertLive(): void {
    this.entry()
  }

  /** The frame's entry in the model; throws if the handle is no longer live. */
  private entry(): { paddr: number } {
    this.live()
    const e = tableGet(this.model.state.frames, this.id)
    if (e === null) throw new OstdPanic('REQ-HANDLE-1', `Frame ${this.id} is not a live handle`, 'requires')
    return e
  }

  startPaddr(): number {
    return this.entry().paddr
  }

  /** Always `PAGE_SIZE`. */
  size(): number {
    this.entry()
    return PAGE_SIZE
  }

  /** Always 1: a frame is mapped as a base page. */
  mapLevel(): number {
    this.entry()
    return 1
  }

  referenceCount(): number {
    return slotOf(this.model.state, frameToIndex(this.entry().paddr)).refCount
  }

  meta(): FrameMeta {
    return slotMeta(this.model, this.entry().paddr)
  }

  isUntyped(): boolean {
    return this.meta().untyped
  }

  /** Another handle to the same frame (rc + 1). */
  clone(): Frame {
    this.live()
    const { frame } = this.model.call<{ frame: number }>({ type: 'frame.clone', frame: this.id })
    return new Frame(this.model, frame)
  }

  /** A borrow: no reference taken, valid while this handle lives. */
  borrow(): FrameRef {
    this.entry()
    return new FrameRef(this)
  }

  /** Releases this handle (Rust's scope end). */
  drop(): void {
    this.consume(() => this.model.dispatch({ type: 'frame.drop', frame: this.id }))
  }

  /** Forgets the handle, keeping its reference; returns the physical address. */
  intoRaw(): number {
    return this.consume(() => this.model.call<number>({ type: 'frame.into_raw', frame: this.id }))
  }

  /** Revives a reference forgotten by `intoRaw`. */
  static fromRaw(model: Model, paddr: number): Frame {
    const { frame } = model.call<{ frame: number }>({ type: 'frame.from_raw', paddr })
    return new Frame(model, frame)
  }

  /** `Frame::from_unused(paddr, meta)`. */
  static fromUnused(model: Model, paddr: number, meta: FrameMeta = UNIT_META): Result<Frame, GetFrameError> {
    const r = model.call<Result<{ frame: number }, GetFrameError>>({ type: 'frame.from_unused', paddr, meta })
    return mapOk(r, (v) => new Frame(model, v.frame))
  }

  /** `Frame::from_in_use(paddr)`. */
  static fromInUse(model: Model, paddr: number): Result<Frame, GetFrameError> {
    const r = model.call<Result<{ frame: number }, GetFrameError>>({ type: 'frame.from_in_use', paddr })
    return mapOk(r, (v) => new Frame(model, v.frame))
  }
}

/** `FrameRef`: a borrowed frame; holds no reference and needs no drop. */
export class FrameRef {
  constructor(private readonly owner: Frame) {}

  startPaddr(): number {
    return this.owner.startPaddr()
  }

  meta(): FrameMeta {
    return this.owner.meta()
  }

  referenceCount(): number {
    return this.owner.referenceCount()
  }
}

export interface AllocOptions {
  /** Zero the contents (default true, as `FrameAllocOptions::new()`). */
  zeroed?: boolean
  meta?: FrameMeta
}

/** `model.frames`: allocation through `FrameAllocOptions`, and the `from_*` constructors. */
export class FrameFactory {
  constructor(private readonly model: Model) {}

  allocFrame(opts: AllocOptions = {}): Result<Frame, OstdErrorKind> {
    const r = this.model.call<Result<{ frame: number }, OstdErrorKind>>({
      type: 'frame_alloc.alloc_frame',
      zeroed: opts.zeroed ?? true,
      meta: opts.meta ?? UNIT_META,
    })
    return mapOk(r, (v) => new Frame(this.model, v.frame))
  }

  /**
   * `FrameAllocOptions::new().zeroed(z).alloc_segment_with(nframes, meta)`: `nframes` contiguous
   * frames. `Err(InvalidArgs)` for 0, `Err(NoMemory)` without a free run; panics when the byte
   * size overflows. `opts.meta` is one `FrameMeta` or a function of the page index.
   */
  allocSegment(nframes: number, opts: SegmentAllocOptions = {}): Result<Segment, OstdErrorKind> {
    return Segment.alloc(this.model, nframes, opts)
  }

  fromUnused(paddr: number, meta: FrameMeta = UNIT_META): Result<Frame, GetFrameError> {
    return Frame.fromUnused(this.model, paddr, meta)
  }

  fromInUse(paddr: number): Result<Frame, GetFrameError> {
    return Frame.fromInUse(this.model, paddr)
  }

  /** `Frame::from_raw(paddr)`: revives a reference forgotten by `intoRaw`. */
  fromRaw(paddr: number): Frame {
    return Frame.fromRaw(this.model, paddr)
  }
}
