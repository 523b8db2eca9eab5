/**
 * `VmSpace`, its cursors and TLB flusher, and user-space readers/writers (ostd::mm::vm_space; API.md
 * "VmSpace and VM I/O"). Every method dispatches one event of reducers/vm_space/* (the read-only
 * cursor methods the page-table cursor's `cursor.*` events) or reads the current snapshot.
 *
 * Errors follow OSTD: `cursor` / `cursorMut` give `Err('AccessDenied')` for any page-table error;
 * `reader` / `writer` give `Err('AccessDenied')` unless the space is activated and the range fits
 * below `MAX_USERSPACE_VADDR`. User readers/writers are fallible: `readVal` / `writeVal` give
 * `Err('PageFault')` at an unmapped page; `readFallible` / `writeFallible` / `fillZeros` give
 * `Err(['PageFault', copied])`.
 *
 * Beyond OSTD's API (the verified seed's ghost bookkeeping): `activateReader` / `activateWriter`
 * register a reader/writer with the space's `VmSpaceOwner` (its range must be mapped; it then pins
 * its pages against the space's cursors) and `deactivateReader` / `deactivateWriter` unregister it.
 */
import { fromBase64 } from '../../reducers/io/frame_io.js'
import type { MappedItemOut, QueryValue, RangeOut } from '../../reducers/page_table/cursor.js'
import { frameToIndex } from '../arch/constants.js'
import type { PageProperty } from '../arch/page_prop.js'
import { firstMappingFrom, mappingAt } from '../model/pt_view.js'
import { tableGet } from '../model/table.js'
import type { TlbFlushOp } from '../model/vm_space.js'
import { Frame } from './frame.js'
import { Handle } from './handle.js'
import type { Model } from './model.js'
import { mapOk, type OstdErrorKind, type Result } from './result.js'
import { VmReader, VmWriter } from './vm_io.js'

export type { TlbFlushOp }

/** A `VaRange` as the facade returns it. */
export interface VaRange {
  readonly start: number
  readonly end: number
}

/** `MappedItem` of a user page table: the frame (a new handle the caller owns) and its property. */
export interface VmMappedItem {
  readonly frame: Frame
  readonly prop: PageProperty
}

function rangeOf(r: RangeOut): VaRange {
  return { start: Number(r.start), end: Number(r.end) }
}

function itemOf(model: Model, item: MappedItemOut | null): VmMappedItem | null {
  if (item === null || !('frame' in item)) return null
  return { frame: new Frame(model, item.frame), prop: item.prop }
}

/** A fallible user-space reader (`VmReader<'_, Fallible>`). */
export class UserVmReader extends VmReader {
  /** Copies `min(remain, writer.avail)` bytes into a kernel writer: `Ok(n)`, or `Err(['PageFault', copied])`. */
  readFallible(writer: VmWriter): Result<number, readonly ['PageFault', number]> {
    this.live()
    return this.model.call({ type: 'vm_reader.read_fallible', reader: this.id, writer: writer.id })
  }

  /** Every remaining byte (advancing to the end), or `Err('PageFault')` (advanced over what was copied). */
  collect(): Result<Uint8Array, OstdErrorKind> {
    this.live()
    return mapOk(this.model.call<Result<string, OstdErrorKind>>({ type: 'vm_reader.collect', reader: this.id }), (b) => fromBase64(b)!)
  }
}

/** A fallible user-space writer (`VmWriter<'_, Fallible>`). */
export class UserVmWriter extends VmWriter {
  /** Copies `min(reader.remain, avail)` bytes from a kernel reader: `Ok(n)`, or `Err(['PageFault', copied])`. */
  writeFallible(reader: VmReader): Result<number, readonly ['PageFault', number]> {
    this.live()
    return this.model.call({ type: 'vm_writer.write_fallible', writer: this.id, reader: reader.id })
  }

  /** Zeroes `min(len, avail)` bytes: `Ok(n)`, or `Err(['PageFault', copied])`. */
  fillZeros(len: number): Result<number, readonly ['PageFault', number]> {
    this.live()
    return this.model.call({ type: 'vm_writer.fill_zeros', writer: this.id, len })
  }
}

/** A read-only VmSpace `Cursor` (its id is the page-table cursor's). */
export class VmCursor extends Handle {
  protected get kind(): string {
    return 'Cursor'
  }

  virtAddr(): number {
    this.live()
    return Number(this.model.call({ type: 'cursor.virt_addr', cursor: this.id }))
  }

  /** The slot at the cursor and its item (a new Frame handle the caller owns); page-table errors become `AccessDenied`. */
  query(): Result<[VaRange, VmMappedItem | null], OstdErrorKind> {
    this.live()
    const r = this.model.call<Result<QueryValue, unknown>>({ type: 'cursor.query', cursor: this.id })
    return r.ok ? { ok: true, value: [rangeOf(r.value[0]), itemOf(this.model, r.value[1])] } : { ok: false, error: 'AccessDenied' }
  }

  /** `Iterator::next`: the slot and its item, then advance; null at the end. */
  next(): [VaRange, VmMappedItem | null] | null {
    this.live()
    const r = this.model.call<QueryValue | null>({ type: 'cursor.next', cursor: this.id })
    return r === null ? null : [rangeOf(r[0]), itemOf(this.model, r[1])]
  }

  findNext(len: number): number | null {
    this.live()
    const r = this.model.call<number | string | null>({ type: 'cursor.find_next', cursor: this.id, len })
    return r === null ? null : Number(r)
  }

  jump(va: number): Result<void, OstdErrorKind> {
    this.live()
    const r = this.model.call<Result<null, unknown>>({ type: 'cursor.jump', cursor: this.id, va })
    return r.ok ? { ok: true, value: undefined } : { ok: false, error: 'AccessDenied' }
  }

  drop(): void {
    this.consume(() => this.model.dispatch({ type: 'vm_cursor.drop', cursor: this.id }))
  }
}

/** The `TlbFlusher` of a `VmCursorMut`. */
export class TlbFlusher {
  constructor(
    private readonly model: Model,
    private readonly cursor: number,
  ) {}

  issueTlbFlush(op: { kind: 'All' } | { kind: 'Address'; va: number } | { kind: 'Range'; range: VaRange }): void {
    const e = op.kind === 'Range' ? { kind: 'Range', start: op.range.start, end: op.range.end } : op
    this.model.dispatch({ type: 'vm_cursor_mut.issue_tlb_flush', cursor: this.cursor, op: e })
  }

  dispatchTlbFlush(): void {
    this.model.dispatch({ type: 'vm_cursor_mut.dispatch_tlb_flush', cursor: this.cursor })
  }

  syncTlbFlush(): void {
    this.model.dispatch({ type: 'vm_cursor_mut.sync_tlb_flush', cursor: this.cursor })
  }
}

/** A VmSpace `CursorMut`. */
export class VmCursorMut extends VmCursor {
  protected override get kind(): string {
    return 'CursorMut'
  }

  /** Maps `frame` (consumed) at the cursor with `prop` and advances; an occupied slot is replaced silently. */
  map(frame: Frame, prop: PageProperty): void {
    this.live()
    Handle.take(frame, (m) => m.dispatch({ type: 'vm_cursor_mut.map', cursor: this.id, frame: frame.id, prop }))
  }

  /** Unmaps `[virtAddr, virtAddr + len)`; the number of 4 KiB frames unmapped. */
  unmap(len: number): number {
    this.live()
    return this.model.call<number>({ type: 'vm_cursor_mut.unmap', cursor: this.id, len })
  }

  /** Applies `op` to the property of the next mapping in the window; its range, or null. */
  protectNext(len: number, op: (p: PageProperty) => PageProperty): VaRange | null {
    this.live()
    const start = this.virtAddr()
    const found = this.findNextMapping(start, len)
    if (found === null) {
      this.model.dispatch({ type: 'vm_cursor_mut.protect_next', cursor: this.id, len, mask: { clear: 0, set: 0 } })
      return null
    }
    const r = this.model.call<RangeOut | null>({ type: 'vm_cursor_mut.protect_next', cursor: this.id, len, prop: op(found) })
    return r === null ? null : rangeOf(r)
  }

  flusher(): TlbFlusher {
    this.live()
    return new TlbFlusher(this.model, this.id)
  }

  /** The property of the mapping `protect_next` will meet in `[start, start + len)` (read from the page table, no event). */
  private findNextMapping(start: number, len: number): PageProperty | null {
    const s = this.model.state
    const vc = tableGet(s.vm.cursors, this.id)
    const space = vc === null ? null : tableGet(s.vm.spaces, vc.vmSpace)
    const table = space === null ? null : tableGet(s.pt.tables, space.pageTable)
    if (table === null) return null
    const root = frameToIndex(table.rootPaddr)
    const m = mappingAt(s, root, start, { config: 'user' }) ?? firstMappingFrom(s, root, start, start + len, { config: 'user' })
    return m === null ? null : m.property
  }
}

/** A `VmSpace` handle. */
export class VmSpace extends Handle {
  protected get kind(): string {
    return 'VmSpace'
  }

  cursor(range: VaRange): Result<VmCursor, OstdErrorKind> {
    this.live()
    const r = this.model.call<Result<{ cursor: number }, OstdErrorKind>>({ type: 'vm_space.cursor', vmSpace: this.id, vaStart: range.start, vaEnd: range.end })
    return mapOk(r, (v) => new VmCursor(this.model, v.cursor))
  }

  cursorMut(range: VaRange): Result<VmCursorMut, OstdErrorKind> {
    this.live()
    const r = this.model.call<Result<{ cursor: number }, OstdErrorKind>>({ type: 'vm_space.cursor_mut', vmSpace: this.id, vaStart: range.start, vaEnd: range.end })
    return mapOk(r, (v) => new VmCursorMut(this.model, v.cursor))
  }

  /** Makes this the CPU's current VmSpace (a no-op if it already is). */
  activate(): void {
    this.live()
    this.model.dispatch({ type: 'vm_space.activate', vmSpace: this.id })
  }

  reader(va: number, len: number): Result<UserVmReader, OstdErrorKind> {
    this.live()
    const r = this.model.call<Result<{ reader: number }, OstdErrorKind>>({ type: 'vm_space.reader', vmSpace: this.id, va, len })
    return mapOk(r, (v) => new UserVmReader(this.model, v.reader))
  }

  writer(va: number, len: number): Result<UserVmWriter, OstdErrorKind> {
    this.live()
    const r = this.model.call<Result<{ writer: number }, OstdErrorKind>>({ type: 'vm_space.writer', vmSpace: this.id, va, len })
    return mapOk(r, (v) => new UserVmWriter(this.model, v.writer))
  }

  /** Registers a reader with the space's ghost owner (seed `activate_reader` + `dispose_reader`). */
  activateReader(reader: UserVmReader): void {
    this.live()
    this.model.dispatch({ type: 'vm_space.register_reader', vmSpace: this.id, reader: reader.id })
  }

  activateWriter(writer: UserVmWriter): void {
    this.live()
    this.model.dispatch({ type: 'vm_space.register_writer', vmSpace: this.id, writer: writer.id })
  }

  deactivateReader(reader: UserVmReader): void {
    this.live()
    this.model.dispatch({ type: 'vm_space.unregister_reader', vmSpace: this.id, reader: reader.id })
  }

  deactivateWriter(writer: UserVmWriter): void {
    this.live()
    this.model.dispatch({ type: 'vm_space.unregister_writer', vmSpace: this.id, writer: writer.id })
  }

  drop(): void {
    this.consume(() => this.model.dispatch({ type: 'vm_space.drop', vmSpace: this.id }))
  }
}

/** `model.vmSpaces`. */
export class VmSpaceFactory {
  constructor(private readonly model: Model) {}

  /** `VmSpace::new()`. */
  create(): VmSpace {
    return new VmSpace(this.model, this.model.call<{ vmSpace: number }>({ type: 'vm_space.new' }).vmSpace)
  }

  /** The activated VmSpace (a handle with its id), or null. */
  activated(): VmSpace | null {
    const id = this.model.state.vm.activated
    return id === null ? null : new VmSpace(this.model, id)
  }
}
