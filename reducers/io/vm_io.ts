/**
 * `VmReader` / `VmWriter` (ostd::mm::io; behaviour.md §2.8, state.md §12) and the kernel-space
 * readers and writers of untyped frames and segments (`UntypedMem::reader` / `writer`, §2.7).
 *
 * A reader or writer is one `VmIoEntry` in `Snapshot.vmIos`: `{ kind, fallible, space, cursor,
 * end, borrow }`. `remain()` / `avail()` = `end − cursor`. Frame and segment readers are infallible,
 * in the kernel linear mapping (positions are physical addresses), over the whole frame or
 * segment, and borrow its handle: they alias memory (a read sees every byte written before it,
 * through any writer or `VmIo` call), and their borrow ends when the handle is dropped or moved.
 *
 * Preconditions shared by the methods (each a thrown `OstdPanic`, state unchanged):
 *   REQ-EMB-IOMETHOD-1  the id names a live reader/writer (`vio ∈ vm_ios`);
 *   REQ-VMIO-KIND-1     [model] and of the right kind (a reader method on a writer is a type error);
 *   REQ-BORROW-1        [model] the frame / segment it borrows is still live (in Rust the borrow
 *                       checker rejects the use; a trace that does it is replaying a use-after-free).
 * `drop` needs only REQ-EMB-DROPREADER-1 / REQ-EMB-DROPWRITER-1 (ending a dead borrow is fine).
 * Deviation: the embedding models these methods as handle-only (ENS-EMB-IOMETHOD-1: the store is
 * unchanged); the model keeps the exec cursor and end in the entry, so `skip`, `limit`, the value
 * reads and writes and `fill` change the entry (behaviour.md §2.8).
 * OSTD's assertions, which the digest has no IDs for, are model IDs: REQ-VMIO-SKIP-1 (`skip` past
 * the end), REQ-VMIO-ALIGN-1 (`read_once` / `write_once` at an unaligned cursor), REQ-VMIO-FILL-1
 * (`fill` with `avail` not a multiple of the size); REQ-VMIO-PODONCE-1 (`*_once` takes only the
 * primitive integers, `T: PodOnce`) and REQ-VMIO-VAL-1 (the value fits its type) are type errors.
 */
import { z } from 'zod'
import { editSnapshot } from '../../src/model/edit.js'
import type { Snapshot, VmIoEntry } from '../../src/model/snapshot.js'
import { tableGet } from '../../src/model/table.js'
import { freshId } from '../frame/edit.js'
import { HandleId, Usize, ValType, ValValue } from '../schema.js'
import { defineEvent, err, ok, type EventSpec, type ModelEvent, type Requirement, type Result } from '../types.js'
import {
  alignOfVal,
  decodeVal,
  encodeVal,
  type IoError,
  type IoTargetKind,
  type ValValue as Val,
  isPodOnce,
  sizeOfVal,
  spaceRead,
  spaceWrite,
  targetRange,
  targetRequires,
  validValue,
  valTypeName,
} from './frame_io.js'
import { MemoryWriter } from '../../src/model/memory.js'
import { liveVmSpace } from '../../src/model/vm_space.js'
import { advanced, ioRead, ioWrite, withTlb } from '../vm_space/user_io.js'
import { isRegistered } from '../vm_space/reader_writer.js'

type VmIoKind = VmIoEntry['kind']

export function vmIoEntry(s: Snapshot, id: number): VmIoEntry | null {
  return tableGet(s.vmIos, id)
}

/** `remain()` of a reader / `avail()` of a writer. */
export function vmIoLen(entry: VmIoEntry): number {
  return entry.end - entry.cursor
}

const KIND_NAME: Record<VmIoKind, string> = { Reader: 'VmReader', Writer: 'VmWriter' }

/** Why the borrow of `entry` has ended, or null while its frame / segment handle is live. */
export function borrowFailure(s: Snapshot, entry: VmIoEntry): string | null {
  const b = entry.borrow
  if (b === null) return null
  const live = b.kind === 'frame' ? tableGet(s.frames, b.id) !== null : b.kind === 'segment' ? tableGet(s.segments, b.id) !== null : liveVmSpace(s, b.id) !== null
  const name = b.kind === 'frame' ? 'Frame' : b.kind === 'segment' ? 'Segment' : 'VmSpace'
  return live ? null : `the ${name} ${b.id} it borrows is no longer live (dropped or moved): the borrow has ended`
}

/** Why `id` names no entry of `vmIos` (REQ-EMB-IOMETHOD-1 and the other id-existence rules), or null. */
function exists(s: Snapshot, id: number, what: string): string | null {
  return vmIoEntry(s, id) === null ? `${what} ${id} is not a live reader or writer (dropped, or never created)` : null
}

function ofKind(s: Snapshot, id: number, kind: VmIoKind): string | null {
  const e = vmIoEntry(s, id)
  return e === null || e.kind === kind ? null : `vm_io ${id} is a ${KIND_NAME[e.kind]}, not a ${KIND_NAME[kind]}`
}

function borrowed(s: Snapshot, id: number): string | null {
  const e = vmIoEntry(s, id)
  if (e === null) return null
  const f = borrowFailure(s, e)
  return f === null ? null : `${KIND_NAME[e.kind]} ${id}: ${f}`
}

/** REQ-EMB-IOMETHOD-1, REQ-VMIO-KIND-1, REQ-BORROW-1 on `e[field]`. */
function methodRequires<E extends ModelEvent>(field: string, kind: VmIoKind): Array<Requirement<E>> {
  return [
    { rule: 'REQ-EMB-IOMETHOD-1', kind: 'requires', check: (s, e) => exists(s, e[field] as number, KIND_NAME[kind]) },
    { rule: 'REQ-VMIO-KIND-1', summary: '[model] A reader call gets a `VmReader` and a writer call a `VmWriter` (Rust\'s types keep them apart).', kind: 'requires', check: (s, e) => ofKind(s, e[field] as number, kind) },
    { rule: 'REQ-BORROW-1', summary: '[model] A reader or writer is used only while the frame or segment it borrows is live (Rust\'s lifetime `\'a`).', kind: 'requires', check: (s, e) => borrowed(s, e[field] as number) },
  ]
}

/** Reads an entry the requirements have established. */
const at = (s: Snapshot, id: number): VmIoEntry => vmIoEntry(s, id)!

function withEntries(s: Snapshot, updates: ReadonlyArray<readonly [number, VmIoEntry]>, write?: (w: MemoryWriter) => void): Snapshot {
  return editSnapshot(s, (_d, t) => {
    if (write) write(new MemoryWriter(t))
    for (const [id, entry] of updates) t.vmIos.set(id, entry)
  })
}

// ---- creation: UntypedMem::reader / writer on frames and segments -------------------------

type TargetEvent = ModelEvent

function creation<R extends 'reader' | 'writer'>(target: IoTargetKind, what: R) {
  const kind: VmIoKind = what === 'reader' ? 'Reader' : 'Writer'
  const T = target === 'frame' ? 'Frame' : 'Segment'
  /**
   * `reader()` / `writer()` of an untyped frame or segment = `VmReader/VmWriter::from_kernel_space
   * (paddr_to_vaddr(start), size)`: a fresh infallible entry over the whole range, cursor at the
   * start, borrowing the handle. Requires REQ-HANDLE-1, REQ-VMIO-UNTYPED-1. Owes
   * ENS-EMB-NEWKERNELREADER-1 / ENS-EMB-NEWKERNELWRITER-1.
   */
  return defineEvent<TargetEvent, Record<R, number>>({
    type: `${target}.${what}`,
    doc: `${T}::${what}(): an infallible kernel-space ${KIND_NAME[kind]} over the whole ${target}, borrowing it.`,
    schema: z.object({ type: z.literal(`${target}.${what}`), [target]: HandleId }) as unknown as z.ZodType<TargetEvent>,
    requires: targetRequires<TargetEvent>(target),
    reduce(s, e) {
      const id = e[target] as number
      const r = targetRange(s, target, id)!
      let vio = -1
      const snapshot = editSnapshot(s, (d, t) => {
        vio = freshId(d, 'vmIo')
        t.vmIos.set(vio, { kind, fallible: false, space: { kind: 'linear' }, cursor: r.start, end: r.start + r.size, borrow: { kind: target, id } })
      })
      return { snapshot, result: { [what]: vio } as Record<R, number> }
    },
  })
}

export const frameReader = creation('frame', 'reader')
export const frameWriter = creation('frame', 'writer')
export const segmentReader = creation('segment', 'reader')
export const segmentWriter = creation('segment', 'writer')

// ---- copying: VmReader::read / VmWriter::write ---------------------------------------------

const CopyFields = { reader: HandleId, writer: HandleId }
type CopyEvent = { type: string; reader: number; writer: number }

/** REQ-EMB-READ-1/2 (or the WRITE aliases) and REQ-BORROW-1 for both ends of a copy. */
function copyRequires(op: 'READ' | 'WRITE'): Array<Requirement<CopyEvent>> {
  return [
    {
      rule: `REQ-EMB-${op}-1`,
      kind: 'requires',
      check: (s, e) => exists(s, e.reader, 'reader') ?? exists(s, e.writer, 'writer') ?? (e.reader === e.writer ? `the reader and the writer are the same vm_io ${e.reader}` : null),
    },
    {
      rule: `REQ-EMB-${op}-2`,
      kind: 'requires',
      check: (s, e) => {
        const r = vmIoEntry(s, e.reader)
        const w = vmIoEntry(s, e.writer)
        if (r === null || w === null) return null
        if (r.kind !== 'Reader' || r.fallible || r.space.kind !== 'linear') return `vm_io ${e.reader} is not an infallible kernel VmReader`
        if (w.kind !== 'Writer' || w.fallible || w.space.kind !== 'linear') return `vm_io ${e.writer} is not an infallible kernel VmWriter`
        return null
      },
    },
    { rule: 'REQ-BORROW-1', kind: 'requires', check: (s, e) => borrowed(s, e.reader) ?? borrowed(s, e.writer) },
  ]
}

/**
 * Copies `min(remain, avail)` bytes from the reader's cursor to the writer's, advances both by that
 * count and returns it (0 if either is exhausted; nothing changes then). The source bytes are read
 * before any is written (OSTD copies with `volatile_copy_memory`, which allows overlap), so a
 * reader and writer over the same frame behave like `memmove`.
 */
function copy(s: Snapshot, e: CopyEvent): { snapshot: Snapshot; result: number } {
  const r = at(s, e.reader)
  const w = at(s, e.writer)
  const n = Math.min(vmIoLen(r), vmIoLen(w))
  if (n <= 0) return { snapshot: s, result: 0 }
  const bytes = spaceRead(s, r.space, r.cursor, n)
  const snapshot = withEntries(
    s,
    [
      [e.reader, { ...r, cursor: r.cursor + n }],
      [e.writer, { ...w, cursor: w.cursor + n }],
    ],
    (mw) => spaceWrite(mw, w.space, w.cursor, bytes),
  )
  return { snapshot, result: n }
}

/** `VmReader<Infallible>::read(&mut VmWriter<Infallible>)`. Owes ENS-EMB-READ-1/2, ENS-VMIO-COPY-1. */
export const readerRead = defineEvent<CopyEvent, number>({
  type: 'vm_reader.read',
  doc: 'VmReader::read(writer): copy min(remain, avail) bytes, advance both, return the count.',
  schema: z.object({ type: z.literal('vm_reader.read'), ...CopyFields }),
  requires: copyRequires('READ'),
  reduce: copy,
})

/**
 * `VmWriter<Infallible>::write(&mut VmReader<Infallible>)` — the mirror of `read`. Owes
 * ENS-EMB-READ-1/2, ENS-VMIO-COPY-1.
 * Deviation: the embedding's `Write` leaves the store unchanged (ENS-EMB-WRITE-1, its cursors being
 * outside `VmStore`); here both cursors advance, as behaviour.md §2.8 says and as `read` does.
 */
export const writerWrite = defineEvent<CopyEvent, number>({
  type: 'vm_writer.write',
  doc: 'VmWriter::write(reader): copy min(remain, avail) bytes, advance both, return the count.',
  schema: z.object({ type: z.literal('vm_writer.write'), ...CopyFields }),
  requires: copyRequires('WRITE'),
  reduce: copy,
})

// ---- single values -------------------------------------------------------------------------

type ReadValEvent = { type: string; reader: number; valType: ValType }
type WriteValEvent = { type: string; writer: number; valType: ValType; value: Val }

/** `*_once` takes `T: PodOnce` (REQ-VMIO-PODONCE-1) and asserts an aligned cursor when the value fits (REQ-VMIO-ALIGN-1). */
/** REQ-VMIO-INFALLIBLE-1: `read_once` / `write_once` / `fill` exist on infallible (kernel) readers/writers only. */
function infallibleOnly<E extends ModelEvent>(field: string): Requirement<E> {
  return {
    rule: 'REQ-VMIO-INFALLIBLE-1',
    summary: '[model] `read_once`, `write_once` and `fill` are methods of infallible (kernel-space) readers/writers (`VmReader<Infallible>`); a fallible user-space one has none.',
    kind: 'requires',
    check: (s, e) => (vmIoEntry(s, e[field] as number)?.fallible === true ? `vm_io ${String(e[field])} is a fallible (user-space) reader/writer` : null),
  }
}

function onceRequires<E extends ModelEvent>(field: string): Array<Requirement<E>> {
  return [
    infallibleOnly<E>(field),
    {
      rule: 'REQ-VMIO-PODONCE-1', summary: '[model] `read_once` / `write_once` take a primitive integer type (`u8`…`u64`, `PodOnce`), not a byte struct.',
      kind: 'requires',
      check: (_s, e) => (isPodOnce(e['valType'] as ValType) ? null : `${valTypeName(e['valType'] as ValType)} is not PodOnce (read_once / write_once take u8, u16, u32 or u64)`),
    },
    {
      rule: 'REQ-VMIO-ALIGN-1', summary: '[model] `read_once` / `write_once` assert the cursor is aligned to the value\'s size.',
      kind: 'panic',
      check: (s, e) => {
        const entry = vmIoEntry(s, e[field] as number)
        const t = e['valType'] as ValType
        if (entry === null || vmIoLen(entry) < sizeOfVal(t)) return null // Err(InvalidArgs) comes first
        const align = alignOfVal(t)
        return entry.cursor % align === 0 ? null : `the cursor 0x${entry.cursor.toString(16)} is not aligned to ${valTypeName(t)} (${align} bytes)`
      },
    },
  ]
}

/** `read_val::<T>()` / `read_once::<T>()`: `Err(InvalidArgs)` with nothing moved if `remain < size`, else the value and cursor + size. */
function readValue(s: Snapshot, e: ReadValEvent): { snapshot: Snapshot; result: Result<Val, IoError | 'PageFault'> } {
  const r = at(s, e.reader)
  const size = sizeOfVal(e.valType)
  if (vmIoLen(r) < size) return { snapshot: s, result: err('InvalidArgs') }
  if (r.space.kind === 'user') {
    // fallible (user space): a fault is Err(PageFault) with the cursor rolled back (nothing moved)
    const read = ioRead(s, s.vm.tlb, r, size)
    const faulted = read.bytes.length < size
    const snapshot = editSnapshot(s, (d, t) => {
      withTlb(d, s.vm.tlb, read.tlb)
      if (!faulted && size > 0) t.vmIos.set(e.reader, advanced(r, r.cursor + size))
    })
    return { snapshot, result: faulted ? err('PageFault') : ok(decodeVal(e.valType, read.bytes)) }
  }
  const value = decodeVal(e.valType, spaceRead(s, r.space, r.cursor, size))
  const snapshot = size === 0 ? s : withEntries(s, [[e.reader, { ...r, cursor: r.cursor + size }]])
  return { snapshot, result: ok(value) }
}

/** `write_val(&v)` / `write_once(&v)`: `Err(InvalidArgs)` with nothing written if `avail < size`, else the bytes and cursor + size. */
function writeValue(s: Snapshot, e: WriteValEvent): { snapshot: Snapshot; result: Result<null, IoError | 'PageFault'> } {
  const w = at(s, e.writer)
  const bytes = encodeVal(e.valType, e.value)
  if (vmIoLen(w) < bytes.length) return { snapshot: s, result: err('InvalidArgs') }
  if (bytes.length === 0) return { snapshot: s, result: ok(null) }
  if (w.space.kind === 'user') {
    // fallible: the bytes before a fault are written (OSTD copies until the fault), the cursor rolled back
    let written = 0
    const snapshot = editSnapshot(s, (d, t) => {
      const wrote = ioWrite(new MemoryWriter(t), s, s.vm.tlb, w, bytes)
      written = wrote.written
      withTlb(d, s.vm.tlb, wrote.tlb)
      if (written === bytes.length) t.vmIos.set(e.writer, advanced(w, w.cursor + bytes.length))
    })
    return { snapshot, result: written < bytes.length ? err('PageFault') : ok(null) }
  }
  const snapshot = withEntries(s, [[e.writer, { ...w, cursor: w.cursor + bytes.length }]], (mw) => spaceWrite(mw, w.space, w.cursor, bytes))
  return { snapshot, result: ok(null) }
}

const ReadValFields = { reader: HandleId, valType: ValType }
const WriteValFields = { writer: HandleId, valType: ValType, value: ValValue }

/** `VmReader::read_val::<T>()`. Requires REQ-EMB-IOMETHOD-1, REQ-VMIO-KIND-1, REQ-BORROW-1. Owes ENS-MEM-READ-1, ENS-VMIO-ADVANCE-1. */
export const readerReadVal = defineEvent<ReadValEvent, Result<Val, IoError | 'PageFault'>>({
  type: 'vm_reader.read_val',
  doc: 'VmReader::read_val: the little-endian value at the cursor, which advances by its size (Err(InvalidArgs), nothing moved, if remain < size).',
  schema: z.object({ type: z.literal('vm_reader.read_val'), ...ReadValFields }),
  requires: methodRequires('reader', 'Reader'),
  reduce: readValue,
})

/** `VmReader::read_once::<T: PodOnce>()`: `read_val` plus the alignment assertion. Owes ENS-MEM-READ-1, ENS-VMIO-ADVANCE-1. */
export const readerReadOnce = defineEvent<ReadValEvent, Result<Val, IoError | 'PageFault'>>({
  type: 'vm_reader.read_once',
  doc: 'VmReader::read_once: like read_val, for a primitive integer at an aligned cursor (asserted).',
  schema: z.object({ type: z.literal('vm_reader.read_once'), ...ReadValFields }),
  requires: [...methodRequires<ReadValEvent>('reader', 'Reader'), ...onceRequires<ReadValEvent>('reader')],
  reduce: readValue,
})

/** `VmWriter::write_val(&v)`. Requires REQ-EMB-IOMETHOD-1, REQ-VMIO-KIND-1, REQ-BORROW-1, REQ-VMIO-VAL-1. Owes ENS-MEM-WRITE-1, ENS-VMIO-ADVANCE-1. */
export const writerWriteVal = defineEvent<WriteValEvent, Result<null, IoError | 'PageFault'>>({
  type: 'vm_writer.write_val',
  doc: 'VmWriter::write_val: writes the little-endian value at the cursor, which advances by its size (Err(InvalidArgs), nothing written, if avail < size).',
  schema: z.object({ type: z.literal('vm_writer.write_val'), ...WriteValFields }),
  requires: [...methodRequires<WriteValEvent>('writer', 'Writer'), validValue<WriteValEvent>('value')],
  reduce: writeValue,
})

/** `VmWriter::write_once(&v)`: `write_val` plus the alignment assertion. Owes ENS-MEM-WRITE-1, ENS-VMIO-ADVANCE-1. */
export const writerWriteOnce = defineEvent<WriteValEvent, Result<null, IoError | 'PageFault'>>({
  type: 'vm_writer.write_once',
  doc: 'VmWriter::write_once: like write_val, for a primitive integer at an aligned cursor (asserted).',
  schema: z.object({ type: z.literal('vm_writer.write_once'), ...WriteValFields }),
  requires: [...methodRequires<WriteValEvent>('writer', 'Writer'), validValue<WriteValEvent>('value'), ...onceRequires<WriteValEvent>('writer')],
  reduce: writeValue,
})

/** Why `fill` asserts (REQ-VMIO-FILL-1): `avail % size_of::<T>() != 0` (a zero size divides by zero). */
export function fillFailure(entry: VmIoEntry, t: ValType): string | null {
  const size = sizeOfVal(t)
  if (size === 0) return `fill with a zero-sized ${valTypeName(t)}: avail % 0 panics`
  const avail = vmIoLen(entry)
  return avail % size === 0 ? null : `avail ${avail} is not a multiple of size_of::<${valTypeName(t)}>() = ${size}`
}

/**
 * `VmWriter<Infallible>::fill(v)` — writes `avail / size` copies of `v`, moves the cursor to the
 * end and returns the count. Requires REQ-EMB-IOMETHOD-1, REQ-VMIO-KIND-1, REQ-BORROW-1,
 * REQ-VMIO-VAL-1, REQ-VMIO-FILL-1 (panic). Owes ENS-MEM-WRITE-1, ENS-VMIO-ADVANCE-1.
 */
export const writerFill = defineEvent<WriteValEvent, number>({
  type: 'vm_writer.fill',
  doc: 'VmWriter::fill: writes avail / size copies of the value, moves to the end, returns the count (asserts avail is a multiple of the size).',
  schema: z.object({ type: z.literal('vm_writer.fill'), ...WriteValFields }),
  requires: [
    ...methodRequires<WriteValEvent>('writer', 'Writer'),
    validValue<WriteValEvent>('value'),
    infallibleOnly<WriteValEvent>('writer'),
    {
      rule: 'REQ-VMIO-FILL-1', summary: '[model] `VmWriter::fill` asserts `avail` is a multiple of the value\'s (non-zero) size.',
      kind: 'panic',
      check: (s, e) => {
        const w = vmIoEntry(s, e.writer)
        return w === null ? null : fillFailure(w, e.valType)
      },
    },
  ],
  reduce(s, e) {
    const w = at(s, e.writer)
    const one = encodeVal(e.valType, e.value)
    const count = vmIoLen(w) / one.length
    if (count === 0) return { snapshot: s, result: 0 }
    const bytes = new Uint8Array(count * one.length)
    for (let i = 0; i < count; i++) bytes.set(one, i * one.length)
    const snapshot = withEntries(s, [[e.writer, { ...w, cursor: w.end }]], (mw) => spaceWrite(mw, w.space, w.cursor, bytes))
    return { snapshot, result: count }
  },
})

// ---- skip / limit / drop -------------------------------------------------------------------

type CountEvent = ModelEvent & { n: number }

function skipEvent(field: 'reader' | 'writer') {
  const kind: VmIoKind = field === 'reader' ? 'Reader' : 'Writer'
  const len = field === 'reader' ? 'remain' : 'avail'
  /**
   * `skip(n)` — asserts `n <= remain/avail` (REQ-VMIO-SKIP-1, panic) and advances the cursor by `n`.
   * Requires REQ-EMB-IOMETHOD-1, REQ-VMIO-KIND-1, REQ-BORROW-1. Owes ENS-VMIO-ADVANCE-1.
   */
  return defineEvent<CountEvent, null>({
    type: `vm_${field}.skip`,
    doc: `${KIND_NAME[kind]}::skip(n): advance the cursor by n (asserts n <= ${len}()).`,
    schema: z.object({ type: z.literal(`vm_${field}.skip`), [field]: HandleId, n: Usize }) as unknown as z.ZodType<CountEvent>,
    requires: [
      ...methodRequires<CountEvent>(field, kind),
      {
        rule: 'REQ-VMIO-SKIP-1', summary: '[model] `skip(n)` asserts `n <= remain` (reader) / `n <= avail` (writer).',
        kind: 'panic',
        check: (s, e) => {
          const entry = vmIoEntry(s, e[field] as number)
          return entry === null || e.n <= vmIoLen(entry) ? null : `skip(${e.n}) past the end: ${len}() is ${vmIoLen(entry)}`
        },
      },
    ],
    reduce(s, e) {
      const id = e[field] as number
      const entry = at(s, id)
      return { snapshot: e.n === 0 ? s : withEntries(s, [[id, advanced(entry, entry.cursor + e.n)]]), result: null }
    },
  })
}

function limitEvent(field: 'reader' | 'writer') {
  const kind: VmIoKind = field === 'reader' ? 'Reader' : 'Writer'
  const len = field === 'reader' ? 'remain' : 'avail'
  /**
   * `limit(n)` — if `n < remain/avail`, `end := cursor + n`; otherwise nothing (it never grows).
   * Requires REQ-EMB-IOMETHOD-1, REQ-VMIO-KIND-1, REQ-BORROW-1. Owes ENS-VMIO-LIMIT-1.
   */
  return defineEvent<CountEvent, null>({
    type: `vm_${field}.limit`,
    doc: `${KIND_NAME[kind]}::limit(n): shrink ${len}() to n if n is smaller; never grows.`,
    schema: z.object({ type: z.literal(`vm_${field}.limit`), [field]: HandleId, n: Usize }) as unknown as z.ZodType<CountEvent>,
    requires: methodRequires<CountEvent>(field, kind),
    reduce(s, e) {
      const id = e[field] as number
      const entry = at(s, id)
      if (e.n >= vmIoLen(entry)) return { snapshot: s, result: null }
      return { snapshot: withEntries(s, [[id, advanced(entry, entry.cursor, entry.cursor + e.n)]]), result: null }
    },
  })
}

function dropEvent(field: 'reader' | 'writer') {
  const kind: VmIoKind = field === 'reader' ? 'Reader' : 'Writer'
  const rule = field === 'reader' ? 'REQ-EMB-DROPREADER-1' : 'REQ-EMB-DROPWRITER-1'
  /**
   * Drops the reader / writer: its entry leaves `vmIos`, nothing else changes (also after its
   * borrow ended). Requires REQ-EMB-DROPREADER-1 / REQ-EMB-DROPWRITER-1 (`vio ∈ vm_ios`; the kind
   * is not checked, as the embedding says). Owes ENS-EMB-DROPREADER-1 / ENS-EMB-DROPWRITER-1.
   */
  return defineEvent<ModelEvent, null>({
    type: `vm_${field}.drop`,
    doc: `Drop a ${KIND_NAME[kind]}: its entry is removed, nothing else changes.`,
    schema: z.object({ type: z.literal(`vm_${field}.drop`), [field]: HandleId }) as unknown as z.ZodType<ModelEvent>,
    requires: [
      { rule, kind: 'requires', check: (s, e) => exists(s, e[field] as number, KIND_NAME[kind]) },
      {
        rule: 'REQ-VMIO-REGISTERED-1',
        kind: 'requires',
        summary: "[model] A user reader/writer registered with its VmSpace (`VmSpace.readers: Vec<&'a VmReader>`) is borrowed by it and is not dropped before it is unregistered.",
        check: (s, e) => (isRegistered(s, e[field] as number) ? `${KIND_NAME[kind]} ${String(e[field])} is registered with its VmSpace (unregister it first)` : null),
      },
    ],
    reduce(s, e) {
      return { snapshot: editSnapshot(s, (_d, t) => t.vmIos.set(e[field] as number, null)), result: null }
    },
  })
}

export const readerSkip = skipEvent('reader')
export const readerLimit = limitEvent('reader')
export const readerDrop = dropEvent('reader')
export const writerSkip = skipEvent('writer')
export const writerLimit = limitEvent('writer')
export const writerDrop = dropEvent('writer')

export const vmIoEvents: readonly EventSpec<ModelEvent, unknown>[] = [
  frameReader,
  frameWriter,
  segmentReader,
  segmentWriter,
  readerRead,
  readerReadVal,
  readerReadOnce,
  readerSkip,
  readerLimit,
  readerDrop,
  writerWrite,
  writerWriteVal,
  writerWriteOnce,
  writerFill,
  writerSkip,
  writerLimit,
  writerDrop,
] as unknown as readonly EventSpec<ModelEvent, unknown>[]
