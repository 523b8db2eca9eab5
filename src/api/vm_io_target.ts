/**
 * `VmIo` of frames and segments (behaviour.md §2.7): the byte reads and writes and the
 * `reader()` / `writer()` constructors, shared by `Frame` and `Segment`.
 */
import { Handle } from './handle.js'
import type { OstdErrorKind, Result } from './result.js'
import { vmIoOf, type ValueOf, type ValueType, type VmIo, type VmReader, type VmWriter } from './vm_io.js'

export abstract class VmIoHandle extends Handle {
  /** Which registry the handle lives in. */
  protected abstract get ioKind(): 'frame' | 'segment'

  /** Throws unless the handle is live (not moved, dropped, or gone from the model). */
  protected abstract assertLive(): void

  private io(): VmIo {
    this.assertLive()
    return vmIoOf(this.model, { kind: this.ioKind, id: this.id })
  }

  /** The `min(n, size − off)` bytes at `off`; `Err('InvalidArgs')` when `off > size`. */
  readBytes(off: number, n: number): Result<Uint8Array, OstdErrorKind> {
    return this.io().readBytes(off, n)
  }

  /** Writes `min(bytes.length, size − off)` bytes at `off` and returns that count. */
  writeBytes(off: number, bytes: Uint8Array): Result<number, OstdErrorKind> {
    return this.io().writeBytes(off, bytes)
  }

  readVal<T extends ValueType>(off: number, type: T): Result<ValueOf<T>, OstdErrorKind> {
    return this.io().readVal(off, type)
  }

  writeVal<T extends ValueType>(off: number, type: T, value: ValueOf<T>): Result<void, OstdErrorKind> {
    return this.io().writeVal(off, type, value)
  }

  writeVals<T extends ValueType>(off: number, type: T, values: Iterable<ValueOf<T>>, align: number): Result<number, OstdErrorKind> {
    return this.io().writeVals(off, type, values, align)
  }

  /** An infallible reader over the whole frame or segment; it borrows this handle. */
  reader(): VmReader {
    return this.io().reader()
  }

  /** An infallible writer over the whole frame or segment; it borrows this handle. */
  writer(): VmWriter {
    return this.io().writer()
  }
}
