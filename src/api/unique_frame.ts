/**
 * `UniqueFrame<M>`: an exclusive handle to one frame (ostd::mm::frame::unique; API.md
 * "UniqueFrame"). Every method dispatches one event of reducers/frame/unique.ts.
 *
 * Ownership follows Rust: `repurpose`, `transmute`, `intoRaw`, `intoShared` and `drop` take the
 * handle by value (it is consumed; `repurpose` / `transmute` return a new object with the same
 * `id`); `UniqueFrame.tryFromShared(frame)` consumes the frame on success and gives it back in
 * `Err` otherwise; `LinkedList.pushFront/pushBack` and `CursorMut.insertBefore` consume it too.
 */
import type { GetFrameError } from '../arch/constants.js'
import type { JsonValue } from '../model/snapshot.js'
import { UNIT_META, type FrameMeta } from '../model/snapshot.js'
import { Frame } from './frame.js'
import { Handle } from './handle.js'
import type { Model } from './model.js'
import { err, mapOk, ok, type Result } from './result.js'

/** What `metaMut()` returns: a pointer to the metadata (`ReprPtr`), for reading and writing it. */
export interface UniqueFrameMetaMut {
  /** `frame_to_meta(paddr)`: the slot's offset in the metadata region (the pointer's address). */
  readonly metaAddr: number
  /** The metadata as it is now. */
  get(): FrameMeta
  /** Writes the metadata's value (its type stays): one `unique_frame.meta_mut.write` event. */
  write(value: JsonValue): void
}

export class UniqueFrame extends Handle {
  protected get kind(): string {
    return 'UniqueFrame'
  }

  /** `UniqueFrame::from_unused(paddr, metadata)`: `Err` for a misaligned or out-of-range address. */
  static fromUnused(model: Model, paddr: number, meta: FrameMeta = UNIT_META): Result<UniqueFrame, GetFrameError> {
    const r = model.call<Result<{ unique: number }, GetFrameError>>({ type: 'unique_frame.from_unused', paddr, meta })
    return mapOk(r, (v) => new UniqueFrame(model, v.unique))
  }

  /**
   * `UniqueFrame::try_from(frame)`: the sole reference (rc 1) becomes exclusive and `frame` is
   * consumed; otherwise `Err(frame)` gives the same, still live, handle back.
   */
  static tryFromShared(frame: Frame): Result<UniqueFrame, Frame> {
    const model = Handle.modelOf(frame)
    const r = model.call<Result<{ unique: number }, { frame: number }>>({ type: 'unique_frame.try_from_shared', frame: frame.id })
    if (!r.ok) return err(frame)
    Handle.markMoved(frame)
    return ok(new UniqueFrame(model, r.value.unique))
  }

  /** `UniqueFrame::from_raw(paddr)`: revives a frame forgotten by `intoRaw`. */
  static fromRaw(model: Model, paddr: number): UniqueFrame {
    const { unique } = model.call<{ unique: number }>({ type: 'unique_frame.from_raw', paddr })
    return new UniqueFrame(model, unique)
  }

  private call<R>(type: string, args: Record<string, unknown> = {}): R {
    this.live()
    return this.model.call<R>({ type, unique: this.id, ...args })
  }

  startPaddr(): number {
    return this.call<number>('unique_frame.start_paddr')
  }

  /** Always 1. */
  level(): number {
    return this.call<number>('unique_frame.level')
  }

  /** Always `PAGE_SIZE`. */
  size(): number {
    return this.call<number>('unique_frame.size')
  }

  meta(): FrameMeta {
    return this.call<FrameMeta>('unique_frame.meta')
  }

  /** `meta_mut()`: a pointer to the metadata; writes through it are events of their own. */
  metaMut(): UniqueFrameMetaMut {
    const { metaAddr } = this.call<{ metaAddr: number }>('unique_frame.meta_mut')
    return {
      metaAddr,
      get: () => this.meta(),
      write: (value: JsonValue) => void this.call<null>('unique_frame.meta_mut.write', { value }),
    }
  }

  /** `repurpose(metadata)`: consumes this handle; returns the frame with the new metadata. */
  repurpose(meta: FrameMeta): UniqueFrame {
    const { unique } = this.consume(() => this.model.call<{ unique: number }>({ type: 'unique_frame.repurpose', unique: this.id, meta }))
    return new UniqueFrame(this.model, unique)
  }

  /** `transmute::<M1>()`: consumes this handle; returns the same frame (no state change). */
  transmute(): UniqueFrame {
    const { unique } = this.consume(() => this.model.call<{ unique: number }>({ type: 'unique_frame.transmute', unique: this.id }))
    return new UniqueFrame(this.model, unique)
  }

  /** Forgets the handle, keeping the frame exclusive; returns its physical address (see `fromRaw`). */
  intoRaw(): number {
    return this.consume(() => this.model.call<number>({ type: 'unique_frame.into_raw', unique: this.id }))
  }

  /** `Frame::from(unique)`: the frame becomes shared with reference count 1. */
  intoShared(): Frame {
    const { frame } = this.consume(() => this.model.call<{ frame: number }>({ type: 'unique_frame.into_shared', unique: this.id }))
    return new Frame(this.model, frame)
  }

  /** Frees the frame (it goes back to the allocator). */
  drop(): void {
    this.consume(() => this.model.dispatch({ type: 'unique_frame.drop', unique: this.id }))
  }
}
