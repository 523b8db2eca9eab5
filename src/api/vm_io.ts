/**
 * `VmReader` / `VmWriter` and `VmIo` of frames and segments (ostd::mm::io; API.md "VmSpace and VM
 * I/O", "Frames"). Every method dispatches one event (`vm_reader.*`, `vm_writer.*`,
 * `frame.read_bytes`, …) or reads the current snapshot (`remain`, `avail`).
 *
 * Values: `'u8' | 'u16' | 'u32'` are numbers, `'u64'` a bigint, `{ size }` a `Uint8Array` of that
 * many bytes; all little-endian.
 *
 * A reader or writer from a frame or segment borrows it: once that handle is dropped or moved,
 * any use (even `remain()`) throws `OstdPanic('REQ-BORROW-1')`; `drop()` is still allowed.
 */
import { fromBase64, toBase64 } from '../../reducers/io/frame_io.js'
import { borrowFailure, vmIoLen } from '../../reducers/io/vm_io.js'
import { OstdPanic } from '../arch/errors.js'
import type { VmIoEntry } from '../model/snapshot.js'
import { tableGet } from '../model/table.js'
import { Handle } from './handle.js'
import type { Model } from './model.js'
import { mapOk, type OstdErrorKind, type Result } from './result.js'

/** A value type of `readVal` / `writeVal` / `fill` (`T: Pod`). */
export type ValueType = 'u8' | 'u16' | 'u32' | 'u64' | { readonly size: number }

/** The JS value of a `ValueType`. */
export type ValueOf<T extends ValueType> = T extends 'u64' ? bigint : T extends { readonly size: number } ? Uint8Array : number

/** A value as the event carries it: number, decimal string (u64) or base64 (struct). */
function toEvent(type: ValueType, value: unknown): unknown {
  if (typeof type !== 'string') return value instanceof Uint8Array ? toBase64(value) : value
  if (type === 'u64' && typeof value === 'bigint') return value.toString()
  return value
}

function fromEvent<T extends ValueType>(type: T, value: unknown): ValueOf<T> {
  if (typeof type !== 'string') return fromBase64(value as string)! as ValueOf<T>
  if (type === 'u64') return BigInt(value as string) as ValueOf<T>
  return value as ValueOf<T>
}

function typeArg(type: ValueType): ValueType {
  return typeof type === 'string' ? type : { size: type.size }
}

/** Throws if a reader / writer handle was dropped (the other side of a `read` / `write`). */
function assertLive(h: VmReader | VmWriter): void {
  if (h.consumed) throw new OstdPanic('REQ-HANDLE-1', `${h.toString()} was dropped and cannot be used`, 'requires')
}

/** The shared part of readers and writers: the entry and its borrow. */
abstract class VmIoHandle extends Handle {
  /** The live entry of this handle; throws if it was dropped or its borrow has ended. */
  protected entry(): VmIoEntry {
    this.live()
    const e = tableGet(this.model.state.vmIos, this.id)
    if (e === null) throw new OstdPanic('REQ-HANDLE-1', `${this.kind} ${this.id} is not live`, 'requires')
    const ended = borrowFailure(this.model.state, e)
    if (ended !== null) throw new OstdPanic('REQ-BORROW-1', `${this.kind} ${this.id}: ${ended}`, 'requires')
    return e
  }
}

/** An infallible `VmReader` (kernel space): `cursor..end`, read forward. */
export class VmReader extends VmIoHandle {
  protected get kind(): string {
    return 'VmReader'
  }

  /** Bytes left to read (`end − cursor`). */
  remain(): number {
    return vmIoLen(this.entry())
  }

  hasRemain(): boolean {
    return this.remain() > 0
  }

  /** Copies `min(remain, writer.avail)` bytes into `writer`, advancing both; returns the count. */
  read(writer: VmWriter): number {
    this.live()
    assertLive(writer)
    return this.model.call<number>({ type: 'vm_reader.read', reader: this.id, writer: writer.id })
  }

  /** The little-endian value at the cursor (advances by its size); `Err(InvalidArgs)`, nothing moved, if `remain < size`. */
  readVal<T extends ValueType>(type: T): Result<ValueOf<T>, OstdErrorKind> {
    this.live()
    const r = this.model.call<Result<unknown, OstdErrorKind>>({ type: 'vm_reader.read_val', reader: this.id, valType: typeArg(type) })
    return mapOk(r, (v) => fromEvent(type, v))
  }

  /** `read_val` for a primitive integer at an aligned cursor (an unaligned one panics). */
  readOnce<T extends 'u8' | 'u16' | 'u32' | 'u64'>(type: T): Result<ValueOf<T>, OstdErrorKind> {
    this.live()
    const r = this.model.call<Result<unknown, OstdErrorKind>>({ type: 'vm_reader.read_once', reader: this.id, valType: type })
    return mapOk(r, (v) => fromEvent(type, v))
  }

  /** Advances by `n` (panics if `n > remain`). */
  skip(n: number): this {
    this.live()
    this.model.dispatch({ type: 'vm_reader.skip', reader: this.id, n })
    return this
  }

  /** Shrinks `remain` to `n` if `n` is smaller; never grows it. */
  limit(n: number): this {
    this.live()
    this.model.dispatch({ type: 'vm_reader.limit', reader: this.id, n })
    return this
  }

  drop(): void {
    this.consume(() => this.model.dispatch({ type: 'vm_reader.drop', reader: this.id }))
  }
}

/** An infallible `VmWriter` (kernel space): `cursor..end`, written forward. */
export class VmWriter extends VmIoHandle {
  protected get kind(): string {
    return 'VmWriter'
  }

  /** Bytes left to write (`end − cursor`). */
  avail(): number {
    return vmIoLen(this.entry())
  }

  hasAvail(): boolean {
    return this.avail() > 0
  }

  /** Copies `min(reader.remain, avail)` bytes from `reader`, advancing both; returns the count. */
  write(reader: VmReader): number {
    this.live()
    assertLive(reader)
    return this.model.call<number>({ type: 'vm_writer.write', writer: this.id, reader: reader.id })
  }

  /** Writes the little-endian value at the cursor (advances by its size); `Err(InvalidArgs)`, nothing written, if `avail < size`. */
  writeVal<T extends ValueType>(type: T, value: ValueOf<T>): Result<void, OstdErrorKind> {
    this.live()
    const r = this.model.call<Result<null, OstdErrorKind>>({ type: 'vm_writer.write_val', writer: this.id, valType: typeArg(type), value: toEvent(type, value) })
    return mapOk(r, () => undefined)
  }

  /** `write_val` for a primitive integer at an aligned cursor (an unaligned one panics). */
  writeOnce<T extends 'u8' | 'u16' | 'u32' | 'u64'>(type: T, value: ValueOf<T>): Result<void, OstdErrorKind> {
    this.live()
    const r = this.model.call<Result<null, OstdErrorKind>>({ type: 'vm_writer.write_once', writer: this.id, valType: type, value: toEvent(type, value) })
    return mapOk(r, () => undefined)
  }

  /** Writes `avail / size` copies of `value` and moves to the end; returns the count (panics unless `avail` is a multiple of the size). */
  fill<T extends ValueType>(type: T, value: ValueOf<T>): number {
    this.live()
    return this.model.call<number>({ type: 'vm_writer.fill', writer: this.id, valType: typeArg(type), value: toEvent(type, value) })
  }

  /** Advances by `n` (panics if `n > avail`). */
  skip(n: number): this {
    this.live()
    this.model.dispatch({ type: 'vm_writer.skip', writer: this.id, n })
    return this
  }

  /** Shrinks `avail` to `n` if `n` is smaller; never grows it. */
  limit(n: number): this {
    this.live()
    this.model.dispatch({ type: 'vm_writer.limit', writer: this.id, n })
    return this
  }

  drop(): void {
    this.consume(() => this.model.dispatch({ type: 'vm_writer.drop', writer: this.id }))
  }
}

/** The frame or segment a `VmIo` call addresses (by handle id). */
export type VmIoTarget = { readonly kind: 'frame' | 'segment'; readonly id: number }

/**
 * `VmIo` plus `reader()` / `writer()` of an untyped frame or segment (`UntypedMem`). Offsets are
 * relative to its start. Reads and writes move `min(n, size − off)` bytes and fail with
 * `InvalidArgs` only when `off > size`; `readVal` near the end zero-pads the value, `writeVal`
 * writes the bytes that fit (both still `Ok`, as OSTD's default methods do).
 */
export interface VmIo {
  /** The `min(n, size − off)` bytes at `off`. */
  readBytes(off: number, n: number): Result<Uint8Array, OstdErrorKind>
  /** Writes `min(bytes.length, size − off)` bytes at `off`; returns that count. */
  writeBytes(off: number, bytes: Uint8Array): Result<number, OstdErrorKind>
  readVal<T extends ValueType>(off: number, type: T): Result<ValueOf<T>, OstdErrorKind>
  writeVal<T extends ValueType>(off: number, type: T, value: ValueOf<T>): Result<void, OstdErrorKind>
  /** One `writeVal` per value at align-rounded offsets; the count written (Err only if the first fails). */
  writeVals<T extends ValueType>(off: number, type: T, values: Iterable<ValueOf<T>>, align: number): Result<number, OstdErrorKind>
  /** An infallible reader over the whole frame / segment, borrowing it. */
  reader(): VmReader
  /** An infallible writer over the whole frame / segment, borrowing it. */
  writer(): VmWriter
}

export function vmIoOf(model: Model, target: VmIoTarget): VmIo {
  const { kind, id } = target
  const call = <R>(op: string, args: Record<string, unknown>): R => model.call<R>({ type: `${kind}.${op}`, [kind]: id, ...args })
  return {
    readBytes(off, n) {
      return mapOk(call<Result<string, OstdErrorKind>>('read_bytes', { offset: off, len: n }), (b) => fromBase64(b)!)
    },
    writeBytes(off, bytes) {
      return call<Result<number, OstdErrorKind>>('write_bytes', { offset: off, bytes: toBase64(bytes) })
    },
    readVal(off, type) {
      return mapOk(call<Result<unknown, OstdErrorKind>>('read_val', { offset: off, valType: typeArg(type) }), (v) => fromEvent(type, v))
    },
    writeVal(off, type, value) {
      return mapOk(call<Result<null, OstdErrorKind>>('write_val', { offset: off, valType: typeArg(type), value: toEvent(type, value) }), () => undefined)
    },
    writeVals(off, type, values, align) {
      return call<Result<number, OstdErrorKind>>('write_vals', { offset: off, valType: typeArg(type), values: [...values].map((v) => toEvent(type, v)), align })
    },
    reader() {
      return new VmReader(model, call<{ reader: number }>('reader', {}).reader)
    },
    writer() {
      return new VmWriter(model, call<{ writer: number }>('writer', {}).writer)
    },
  }
}
