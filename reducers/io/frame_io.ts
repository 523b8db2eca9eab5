/**
 * Frame and segment contents as bytes, and `VmIo` on untyped frames and segments
 * (ostd::mm::io `VmIo`, ostd::mm::frame::untyped `impl_untyped_for!`; behaviour.md §2.7).
 *
 * Memory: `Snapshot.memory[slotIdx]` is one 4 KiB page (`Uint8Array(4096)`); a page with no entry
 * is all zero. Pages are copy-on-write: a write copies each page it touches once per step
 * (`MemoryWriter`) and never writes into a published array.
 *
 * Address spaces: a reader or writer reads and writes through its `VmIoSpace` (`spaceRead`,
 * `spaceWrite`); today only the kernel linear mapping, where positions are physical addresses.
 *
 * Values (`ValType`): `u8`/`u16`/`u32` are numbers, `u64` a decimal string (exact; a safe integer
 * number is accepted on input), `{ size }` a byte struct in base64. All little-endian.
 *
 * `VmIo` semantics shared by frames and segments (a segment's bytes are its pages in order,
 * offsets relative to its start), as OSTD's untyped `VmIo::read` / `write` do:
 *   read_len = min(n, size.saturating_sub(off)); Err(InvalidArgs) iff off + read_len > size,
 *   i.e. iff off > size; otherwise copy read_len bytes.
 * The model's results add what Rust leaves to the caller's buffer: `read_bytes` returns the bytes
 * it copied (OSTD fills a prefix of the caller's buffer) and `write_bytes` the count (OSTD: `()`).
 * The default methods build on those: `read_bytes` / `write_bytes` (a buffer of n bytes),
 * `read_val` / `write_val` (a `size_of::<T>()` buffer), `write_vals` (one `write_val` per item).
 */
import { z } from 'zod'
import { frameToIndex, PAGE_SIZE } from '../../src/arch/constants.js'
import { editSnapshot } from '../../src/model/edit.js'
import { MemoryWriter, readPhys } from '../../src/model/memory.js'
import { slotOf } from '../../src/model/slots.js'
import type { Snapshot, VmIoSpace } from '../../src/model/snapshot.js'
import { tableGet } from '../../src/model/table.js'
import { liveHandle } from '../frame/handles.js'
import { Base64, HandleId, Usize, ValType, ValValue } from '../schema.js'
import { defineEvent, err, ok, type EventSpec, type ModelEvent, type Requirement, type Result } from '../types.js'

export type { ValType }
/** A value in an event or a result: number (u8/u16/u32), decimal string (u64), base64 (struct). */
export type ValValue = z.infer<typeof ValValue>
export type IoError = 'InvalidArgs'

// ---- base64 ------------------------------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]))

/** Standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!
    const b = i + 1 < bytes.length ? bytes[i + 1]! : 0
    const c = i + 2 < bytes.length ? bytes[i + 2]! : 0
    out += B64[a >> 2]! + B64[((a & 3) << 4) | (b >> 4)]!
    out += i + 1 < bytes.length ? B64[((b & 15) << 2) | (c >> 6)]! : '='
    out += i + 2 < bytes.length ? B64[c & 63]! : '='
  }
  return out
}

/** Decodes base64 (padding optional); `null` when the text is not base64. */
export function fromBase64(text: string): Uint8Array | null {
  const body = text.replace(/=+$/, '')
  if (text.length - body.length > 2 || body.length % 4 === 1) return null
  const out = new Uint8Array(Math.floor((body.length * 3) / 4))
  let bits = 0
  let acc = 0
  let n = 0
  for (const ch of body) {
    const v = B64_INDEX.get(ch)
    if (v === undefined) return null
    acc = (acc << 6) | v
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[n++] = (acc >> bits) & 0xff
    }
  }
  return out
}

/** Event bytes: base64 that decodes. */
export const Bytes = Base64.refine((t) => fromBase64(t) !== null, 'expected decodable base64 bytes')

// ---- value types -------------------------------------------------------------------------

const WIDTH = { u8: 1, u16: 2, u32: 4, u64: 8 } as const

/** `size_of::<T>()`. */
export function sizeOfVal(t: ValType): number {
  return typeof t === 'string' ? WIDTH[t] : t.size
}

/** `align_of::<T>()`: the integer's width; a byte struct is `[u8; n]`, aligned to 1. */
export function alignOfVal(t: ValType): number {
  return typeof t === 'string' ? WIDTH[t] : 1
}

/** `T: PodOnce` (`read_once` / `write_once`): the primitive integers, not byte structs. */
export function isPodOnce(t: ValType): boolean {
  return typeof t === 'string'
}

export function valTypeName(t: ValType): string {
  return typeof t === 'string' ? t : `[u8; ${t.size}]`
}

const U64_LIMIT = 1n << 64n

/** Why `value` is not a value of type `t` (REQ-VMIO-VAL-1), or null. */
export function valueFailure(t: ValType, value: unknown): string | null {
  const shown = JSON.stringify(value)
  if (typeof t !== 'string') {
    if (typeof value !== 'string') return `a ${valTypeName(t)} value must be base64 bytes, got ${shown}`
    const bytes = fromBase64(value)
    if (bytes === null) return `${shown} is not base64`
    return bytes.length === t.size ? null : `a ${valTypeName(t)} value must be ${t.size} bytes, got ${bytes.length}`
  }
  if (t === 'u64') {
    if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? null : `${shown} is not a u64 (use a decimal string beyond 2^53)`
    if (typeof value !== 'string' || !/^[0-9]{1,20}$/.test(value)) return `${shown} is not a u64 decimal string`
    return BigInt(value) < U64_LIMIT ? null : `${shown} does not fit a u64`
  }
  const max = 2 ** (8 * WIDTH[t])
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < max ? null : `${shown} is not a ${t} (0..${max - 1})`
}

/** The little-endian bytes of a valid value (see `valueFailure`). */
export function encodeVal(t: ValType, value: ValValue): Uint8Array {
  if (typeof t !== 'string') return fromBase64(value as string)!
  const out = new Uint8Array(WIDTH[t])
  let v = BigInt(value)
  for (let i = 0; i < out.length; i++) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

/** The value of `sizeOfVal(t)` little-endian bytes. */
export function decodeVal(t: ValType, bytes: Uint8Array): ValValue {
  if (typeof t !== 'string') return toBase64(bytes)
  let v = 0n
  for (let i = WIDTH[t] - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i] ?? 0)
  return t === 'u64' ? v.toString() : Number(v)
}

/** The value requirement of `write_val`-like events (REQ-VMIO-VAL-1, a type error in Rust). */
export function validValue<E extends ModelEvent>(field: keyof E & string): Requirement<E> {
  return {
    rule: 'REQ-VMIO-VAL-1', summary: '[model] A value written has its type\'s width: u8/u16/u32 fit their bits, u64 is a decimal u64, a struct has exactly its size in bytes.',
    kind: 'requires',
    check: (_s, e) => {
      const t = e['valType'] as ValType
      const values = e[field]
      if (!Array.isArray(values)) return valueFailure(t, values)
      for (let i = 0; i < values.length; i++) {
        const f = valueFailure(t, values[i])
        if (f !== null) return `values[${i}]: ${f}`
      }
      return null
    },
  }
}

// ---- address spaces ----------------------------------------------------------------------

/**
 * Reads `len` bytes at `addr` of a reader's / writer's space. Convention for fallible spaces (user
 * space, later): the result holds the bytes before the first fault, so a result shorter than `len`
 * means `PageFault` at `addr + result.length`. The linear mapping never faults.
 */
export function spaceRead(s: Snapshot, space: VmIoSpace, addr: number, len: number): Uint8Array {
  switch (space.kind) {
    case 'linear':
      return readPhys(s, addr, len)
    case 'user':
      // user space translates through the TLB / page table, which may fault and caches what it walks
      throw new Error('a user-space reader is read through reducers/vm_space/user_io.ts (userRead)')
  }
}

/** Writes `bytes` at `addr` of a writer's space; returns how many were written (fewer = fault there, as `spaceRead`). */
export function spaceWrite(w: MemoryWriter, space: VmIoSpace, addr: number, bytes: Uint8Array): number {
  switch (space.kind) {
    case 'linear':
      w.write(addr, bytes)
      return bytes.length
    case 'user':
      throw new Error('a user-space writer is written through reducers/vm_space/user_io.ts (userWrite)')
  }
}

// ---- frames and segments as byte ranges --------------------------------------------------

export type IoTargetKind = 'frame' | 'segment'
const REGISTRY = { frame: 'frames', segment: 'segments' } as const
const TYPE_NAME = { frame: 'Frame', segment: 'Segment' } as const

/** The physical bytes a frame or segment handle covers. */
export interface IoRange {
  readonly start: number
  readonly size: number
}

/** `[start_paddr, start_paddr + size)` of a live handle, or null. */
export function targetRange(s: Snapshot, kind: IoTargetKind, id: number): IoRange | null {
  if (kind === 'frame') {
    const f = tableGet(s.frames, id)
    return f === null ? null : { start: f.paddr, size: PAGE_SIZE }
  }
  const seg = tableGet(s.segments, id)
  return seg === null ? null : { start: seg.startPaddr, size: seg.endPaddr - seg.startPaddr }
}

/** Why the frame / segment is not untyped memory (first page whose metadata is typed), or null. */
export function untypedFailure(s: Snapshot, kind: IoTargetKind, id: number): string | null {
  const r = targetRange(s, kind, id)
  if (r === null) return null
  for (let pa = r.start; pa < r.start + r.size; pa += PAGE_SIZE) {
    const storage = slotOf(s, frameToIndex(pa)).storage
    if (storage === null || storage.kind === 'PTNode') return `${TYPE_NAME[kind]} ${id}: the frame at 0x${pa.toString(16)} holds ${storage === null ? 'no metadata' : 'a page-table node'}, not untyped memory`
    if (!storage.meta.untyped) return `${TYPE_NAME[kind]} ${id}: the frame at 0x${pa.toString(16)} has typed metadata ${storage.meta.type} (VmIo, reader() and writer() need AnyUFrameMeta)`
  }
  return null
}

/**
 * The preconditions every call on a frame or segment's memory shares: the handle is live
 * (REQ-HANDLE-1) and its metadata is untyped (REQ-VMIO-UNTYPED-1: `VmIo` and `UntypedMem` are
 * implemented only for `Frame<UM: AnyUFrameMeta>` / `Segment<UM>`; a typed frame has no such
 * methods, so the call is a type error in Rust).
 */
export function targetRequires<E extends ModelEvent>(kind: IoTargetKind): Array<Requirement<E>> {
  return [
    liveHandle<E>('REQ-HANDLE-1', REGISTRY[kind], kind as keyof E & string),
    { rule: 'REQ-VMIO-UNTYPED-1', summary: '[model] `VmIo`, `reader()` and `writer()` exist only for untyped frames and segments (`UFrame`, `USegment`); a typed frame\'s bytes are not accessible.', kind: 'requires', check: (s, e) => untypedFailure(s, kind, e[kind] as number) },
  ]
}

/** How many bytes `VmIo::read/write` at `off` of `n` bytes moves on a range of `size`; null = Err(InvalidArgs). */
export function ioLength(size: number, off: number, n: number): number | null {
  return off > size ? null : Math.min(n, size - off)
}

/** `align_up(x, align)` for a power of two `align`. */
function alignUp(x: number, align: number): number {
  return Math.ceil(x / align) * align
}

/**
 * The writes of `write_vals(off, iter, align)`: the offsets of the items, in order, and the result.
 * `align` 0 or 1: items at `off + i * size`; else `align_up(off, align) + i * align_up(size, align)`.
 * Each item is a `write_val`, which writes the bytes that fit (`min(size, size_total − o)`) and fails
 * only at `o > size_total`. The first failure ends the loop: `Err` if it is the first item, else
 * `Ok(count so far)`.
 */
export function writeValsPlan(total: number, off: number, size: number, count: number, align: number): { offsets: number[]; result: Result<number, IoError> } {
  const [first, step] = align <= 1 ? [off, size] : [alignUp(off, align), alignUp(size, align)]
  const offsets: number[] = []
  for (let i = 0; i < count; i++) {
    const o = first + i * step
    if (o > total) return { offsets, result: i === 0 ? err('InvalidArgs') : ok(i) }
    offsets.push(o)
  }
  return { offsets, result: ok(count) }
}

/** `align_up` asserts a power of two (REQ-VMIO-WRITEVALS-1). */
export function writeValsAlignFailure(align: number): string | null {
  if (align <= 1) return null
  return 2 ** Math.round(Math.log2(align)) === align ? null : `align ${align} is neither 0, 1 nor a power of two (align_up asserts it)`
}

// ---- events ------------------------------------------------------------------------------

/** Events name their handle by the target kind: `{ frame }` or `{ segment }` (read as `e[kind]`). */
type ReadBytesEvent = ModelEvent & { offset: number; len: number }
type WriteBytesEvent = ModelEvent & { offset: number; bytes: string }
type ReadValEvent = ModelEvent & { offset: number; valType: ValType }
type WriteValEvent = ModelEvent & { offset: number; valType: ValType; value: ValValue }
type WriteValsEvent = ModelEvent & { offset: number; valType: ValType; values: ValValue[]; align: number }

function schemaOf<E>(kind: IoTargetKind, op: string, fields: z.ZodRawShape): z.ZodType<E> {
  return z.object({ type: z.literal(`${kind}.${op}`), [kind]: HandleId, ...fields }) as unknown as z.ZodType<E>
}

const rangeOf = (s: Snapshot, kind: IoTargetKind, e: ModelEvent): IoRange => targetRange(s, kind, e[kind] as number)!

function writeAt(s: Snapshot, pieces: ReadonlyArray<readonly [number, Uint8Array]>): Snapshot {
  if (pieces.every(([, b]) => b.length === 0)) return s
  return editSnapshot(s, (_d, t) => {
    const w = new MemoryWriter(t)
    for (const [pa, bytes] of pieces) w.write(pa, bytes)
  })
}

function ioEvents<K extends IoTargetKind>(kind: K) {
  const T = TYPE_NAME[kind]
  const base = targetRequires<ModelEvent>(kind)

  /**
   * `VmIo::read_bytes(off, &mut [u8; len])`. Copies `min(len, size − off)` bytes and returns them
   * (the model's result; OSTD fills the first that many bytes of the caller's buffer and leaves
   * the rest untouched). `Err(InvalidArgs)` iff `off > size`. Changes nothing.
   * Requires REQ-HANDLE-1, REQ-VMIO-UNTYPED-1. Owes ENS-MEM-READ-1.
   */
  const readBytes = defineEvent<ReadBytesEvent, Result<string, IoError>>({
    type: `${kind}.read_bytes`,
    doc: `VmIo::read_bytes on a ${T}: the min(len, size - off) bytes at off (Err(InvalidArgs) iff off > size).`,
    schema: schemaOf(kind, 'read_bytes', { offset: Usize, len: Usize }),
    requires: base,
    reduce(s, e) {
      const r = rangeOf(s, kind, e)
      const n = ioLength(r.size, e.offset, e.len)
      return { snapshot: s, result: n === null ? err('InvalidArgs') : ok(toBase64(readPhys(s, r.start + e.offset, n))) }
    },
  })

  /**
   * `VmIo::write_bytes(off, bytes)`. Writes `min(n, size − off)` bytes and returns that count (the
   * model's result; OSTD returns `()`). `Err(InvalidArgs)` iff `off > size`, nothing written.
   * Requires REQ-HANDLE-1, REQ-VMIO-UNTYPED-1. Owes ENS-MEM-WRITE-1.
   */
  const writeBytes = defineEvent<WriteBytesEvent, Result<number, IoError>>({
    type: `${kind}.write_bytes`,
    doc: `VmIo::write_bytes on a ${T}: writes min(n, size - off) bytes at off and returns the count (Err(InvalidArgs) iff off > size).`,
    schema: schemaOf(kind, 'write_bytes', { offset: Usize, bytes: Bytes }),
    requires: base,
    reduce(s, e) {
      const r = rangeOf(s, kind, e)
      const bytes = fromBase64(e.bytes)!
      const n = ioLength(r.size, e.offset, bytes.length)
      if (n === null) return { snapshot: s, result: err('InvalidArgs') }
      return { snapshot: writeAt(s, [[r.start + e.offset, bytes.subarray(0, n)]]), result: ok(n) }
    },
  })

  /**
   * `VmIo::read_val::<T>(off)` = `read_bytes(off, T::new_zeroed().as_mut_bytes())`: near the end only
   * the bytes that fit are read and the rest of the value stays zero (Ok, not Err); `Err(InvalidArgs)`
   * iff `off > size`. Changes nothing.
   * Requires REQ-HANDLE-1, REQ-VMIO-UNTYPED-1. Owes ENS-MEM-READ-1.
   */
  const readVal = defineEvent<ReadValEvent, Result<ValValue, IoError>>({
    type: `${kind}.read_val`,
    doc: `VmIo::read_val on a ${T}: the little-endian value at off; bytes past the end read as zero (Err(InvalidArgs) iff off > size).`,
    schema: schemaOf(kind, 'read_val', { offset: Usize, valType: ValType }),
    requires: base,
    reduce(s, e) {
      const r = rangeOf(s, kind, e)
      const size = sizeOfVal(e.valType)
      const n = ioLength(r.size, e.offset, size)
      if (n === null) return { snapshot: s, result: err('InvalidArgs') }
      const buf = new Uint8Array(size)
      buf.set(readPhys(s, r.start + e.offset, n))
      return { snapshot: s, result: ok(decodeVal(e.valType, buf)) }
    },
  })

  /**
   * `VmIo::write_val(off, &v)` = `write_bytes(off, v.as_bytes())`: near the end only the leading bytes
   * that fit are written (still Ok); `Err(InvalidArgs)` iff `off > size`.
   * Requires REQ-HANDLE-1, REQ-VMIO-UNTYPED-1, REQ-VMIO-VAL-1. Owes ENS-MEM-WRITE-1.
   */
  const writeVal = defineEvent<WriteValEvent, Result<null, IoError>>({
    type: `${kind}.write_val`,
    doc: `VmIo::write_val on a ${T}: writes the little-endian value at off, truncated at the end (Err(InvalidArgs) iff off > size).`,
    schema: schemaOf(kind, 'write_val', { offset: Usize, valType: ValType, value: ValValue }),
    requires: [...base, validValue<ModelEvent>('value')],
    reduce(s, e) {
      const r = rangeOf(s, kind, e)
      const bytes = encodeVal(e.valType, e.value)
      const n = ioLength(r.size, e.offset, bytes.length)
      if (n === null) return { snapshot: s, result: err('InvalidArgs') }
      return { snapshot: writeAt(s, [[r.start + e.offset, bytes.subarray(0, n)]]), result: ok(null) }
    },
  })

  /**
   * `VmIo::write_vals(off, iter, align)` — one `write_val` per item at align-rounded offsets (see
   * `writeValsPlan`); returns the count written. If the very first write fails it returns that
   * error; if a later one fails, the count so far. Quirk kept from OSTD: an item at exactly
   * `off == size` "succeeds" with nothing written and is counted.
   * Requires REQ-HANDLE-1, REQ-VMIO-UNTYPED-1, REQ-VMIO-VAL-1, REQ-VMIO-WRITEVALS-1 (panic:
   * `align_up` asserts a power of two). Owes ENS-MEM-WRITE-1.
   */
  const writeVals = defineEvent<WriteValsEvent, Result<number, IoError>>({
    type: `${kind}.write_vals`,
    doc: `VmIo::write_vals on a ${T}: writes each value at an align-rounded offset; returns the count (Err only if the first write fails).`,
    schema: schemaOf(kind, 'write_vals', { offset: Usize, valType: ValType, values: z.array(ValValue), align: Usize }),
    requires: [
      ...base,
      validValue<ModelEvent>('values'),
      { rule: 'REQ-VMIO-WRITEVALS-1', summary: '[model] `write_vals(…, align)` requires `align` to be a power of two (`align_up` asserts it).', kind: 'panic', check: (_s, e) => writeValsAlignFailure(e['align'] as number) },
    ],
    reduce(s, e) {
      const r = rangeOf(s, kind, e)
      const size = sizeOfVal(e.valType)
      const plan = writeValsPlan(r.size, e.offset, size, e.values.length, e.align)
      const pieces = plan.offsets.map((o, i) => [r.start + o, encodeVal(e.valType, e.values[i]!).subarray(0, Math.min(size, r.size - o))] as const)
      return { snapshot: writeAt(s, pieces), result: plan.result }
    },
  })

  return [readBytes, writeBytes, readVal, writeVal, writeVals] as const
}

export const frameVmIoEvents = ioEvents('frame')
export const segmentVmIoEvents = ioEvents('segment')

export const frameIoEvents: readonly EventSpec<ModelEvent, unknown>[] = [...frameVmIoEvents, ...segmentVmIoEvents] as unknown as readonly EventSpec<ModelEvent, unknown>[]
