/**
 * User-space VM I/O with real bytes (ostd::mm::io `VmReader<Fallible>` / `VmWriter<Fallible>`;
 * behaviour.md §2.8): the MMU path of a user reader/writer and the fallible copy methods.
 *
 * Translation (`translate`): an access at a user VA goes through the TLB — a cached mapping is used
 * as is (even if the page table changed since: stale until flushed) — or, on a miss, walks the PTE
 * words of the activated VmSpace's page table (the CPU's current page table, whatever space the
 * reader was made for) and caches the mapping (`TlbModel::update`). No mapping, or a write through a
 * mapping without `W`, is a page fault. Access is page by page: a fault copies what precedes it.
 *
 * Events (the other `VmReader` / `VmWriter` methods — `read_val`, `write_val`, `skip`, `limit`,
 * `drop` — are reducers/io/vm_io.ts's, which call `ioRead` / `ioWrite` here for user entries):
 *   vm_reader.read_fallible  {reader, writer}  copy min(remain, avail): `Ok(n)` or `Err(['PageFault', copied])`
 *   vm_writer.write_fallible {writer, reader}  the mirror
 *   vm_reader.collect        {reader}          all remaining bytes (base64): `Ok` or `Err('PageFault')`
 *   vm_writer.fill_zeros     {writer, len}     zero min(len, avail): `Ok(n)` or `Err(['PageFault', copied])`
 * A copy takes a fallible side and an infallible one (OSTD's signatures); kernel sides are the
 * infallible frame/segment readers and writers.
 */
import { z } from 'zod'
import { PAGE_SIZE } from '../../src/arch/constants.js'
import { PageFlags } from '../../src/arch/page_prop.js'
import { editSnapshot } from '../../src/model/edit.js'
import { MemoryWriter, readPhys } from '../../src/model/memory.js'
import { mappingAt, type Mapping } from '../../src/model/pt_view.js'
import type { Snapshot, VmIoEntry } from '../../src/model/snapshot.js'
import { tableGet } from '../../src/model/table.js'
import { tlbLookup, type TlbState } from '../../src/model/vm_space.js'
import { HandleId, Usize } from '../schema.js'
import { defineEvent, err, ok, type EventSpec, type ModelEvent, type Requirement, type Result } from '../types.js'
import { spaceRead, spaceWrite, toBase64 } from '../io/frame_io.js'
import { spaceRootSlot } from './state.js'

// ---- translation -------------------------------------------------------------------------------

/** The mapping an access at `va` uses and the TLB after it: a hit, or a walk of the activated page table (cached). */
export function translate(s: Snapshot, tlb: TlbState, va: number): { m: Mapping; tlb: TlbState } | null {
  const hit = tlbLookup(tlb, va)
  if (hit !== null) return { m: hit, tlb }
  const active = s.vm.activated === null ? null : tableGet(s.vm.spaces, s.vm.activated)
  if (active === null) return null
  const m = mappingAt(s, spaceRootSlot(s, active), va, { source: 'pte', config: 'user' })
  return m === null ? null : { m, tlb: { mappings: [...tlb.mappings, m] } }
}

/** The physical chunks of `[va, va + n)` up to the first fault, and the TLB after the walk. */
function chunks(s: Snapshot, tlb: TlbState, va: number, n: number, write: boolean): { parts: Array<{ pa: number; len: number }>; tlb: TlbState } {
  const parts: Array<{ pa: number; len: number }> = []
  let at = va
  let t = tlb
  while (at < va + n) {
    const tr = translate(s, t, at)
    if (tr === null) break
    t = tr.tlb
    if (write && (tr.m.property.flags & PageFlags.W) === 0) break
    const len = Math.min(tr.m.vaRange.end, va + n, Math.floor(at / PAGE_SIZE) * PAGE_SIZE + PAGE_SIZE) - at
    parts.push({ pa: tr.m.paRange.start + (at - tr.m.vaRange.start), len })
    at += len
  }
  return { parts, tlb: t }
}

/** Reads up to `n` bytes at the entry's cursor: all of them, or the prefix before a fault (user space). */
export function ioRead(s: Snapshot, tlb: TlbState, e: VmIoEntry, n: number): { bytes: Uint8Array; tlb: TlbState } {
  if (e.space.kind !== 'user') return { bytes: spaceRead(s, e.space, e.cursor, n), tlb }
  const { parts, tlb: t } = chunks(s, tlb, e.cursor, n, false)
  const total = parts.reduce((a, p) => a + p.len, 0)
  const out = new Uint8Array(total)
  let off = 0
  for (const p of parts) {
    out.set(readPhys(s, p.pa, p.len), off)
    off += p.len
  }
  return { bytes: out, tlb: t }
}

/** Writes `bytes` at the entry's cursor: all of them, or the prefix before a fault; returns how many. */
export function ioWrite(mw: MemoryWriter, s: Snapshot, tlb: TlbState, e: VmIoEntry, bytes: Uint8Array): { written: number; tlb: TlbState } {
  if (e.space.kind !== 'user') return { written: spaceWrite(mw, e.space, e.cursor, bytes), tlb }
  const { parts, tlb: t } = chunks(s, tlb, e.cursor, bytes.length, true)
  let off = 0
  for (const p of parts) {
    mw.write(p.pa, bytes.subarray(off, off + p.len))
    off += p.len
  }
  return { written: off, tlb: t }
}

/** The entry with its cursor moved (a user entry's ghost owner range follows: `inv_with_reader`). */
export function advanced(e: VmIoEntry, cursor: number, end: number = e.end): VmIoEntry {
  return e.owner === undefined ? { ...e, cursor, end } : { ...e, cursor, end, owner: { ...e.owner, range: { start: cursor, end } } }
}

/** A snapshot with the TLB replaced (when it changed). */
export function withTlb(d: { vm: { tlb: TlbState } }, before: TlbState, after: TlbState): void {
  if (after !== before) d.vm.tlb = after as typeof d.vm.tlb
}

// ---- the fallible methods ---------------------------------------------------------------------

const KIND_NAME = { Reader: 'VmReader', Writer: 'VmWriter' } as const

function entryReq<E extends ModelEvent>(field: string, kind: 'Reader' | 'Writer', fallible: boolean | 'any'): Requirement<E> {
  return {
    rule: 'REQ-EMB-IOMETHOD-1',
    kind: 'requires',
    check: (s, e) => {
      const id = e[field] as number
      const entry = tableGet(s.vmIos, id)
      if (entry === null) return `${KIND_NAME[kind]} ${id} is not a live reader or writer (dropped, or never created)`
      if (entry.kind !== kind) return `vm_io ${id} is a ${KIND_NAME[entry.kind]}, not a ${KIND_NAME[kind]}`
      if (fallible !== 'any' && entry.fallible !== fallible) return `${KIND_NAME[kind]} ${id} is ${entry.fallible ? 'fallible' : 'infallible'}; this method takes a${fallible ? ' fallible' : 'n infallible'} one`
      return null
    },
  }
}

/** REQ-BORROW-1 for user entries: the VmSpace they borrow is live (kernel entries: vm_io.ts checks their frame/segment). */
function spaceBorrow<E extends ModelEvent>(...fields: string[]): Requirement<E> {
  return {
    rule: 'REQ-BORROW-1',
    kind: 'requires',
    check: (s, e) => {
      for (const f of fields) {
        const entry = tableGet(s.vmIos, e[f] as number)
        const b = entry?.borrow
        if (b === null || b === undefined) continue
        const live = b.kind === 'frame' ? tableGet(s.frames, b.id) !== null : b.kind === 'segment' ? tableGet(s.segments, b.id) !== null : tableGet(s.vm.spaces, b.id) !== null
        if (!live) return `vm_io ${String(e[f])}: the ${b.kind} ${b.id} it borrows is no longer live`
      }
      return null
    },
  }
}

type CopyEvent = { type: string; reader: number; writer: number }
export type FaultResult = Result<number, readonly ['PageFault', number]>

/** Copies `min(remain, avail)` bytes from reader to writer, page by page, stopping at a fault. */
function copyFallible(s: Snapshot, e: CopyEvent): { snapshot: Snapshot; result: FaultResult } {
  const r = tableGet(s.vmIos, e.reader)!
  const w = tableGet(s.vmIos, e.writer)!
  const n = Math.min(r.end - r.cursor, w.end - w.cursor)
  if (n <= 0) return { snapshot: s, result: ok(0) }
  let copied = 0
  const snapshot = editSnapshot(s, (d, t) => {
    const read = ioRead(s, s.vm.tlb, r, n)
    const wrote = ioWrite(new MemoryWriter(t), s, read.tlb, w, read.bytes)
    copied = wrote.written
    withTlb(d, s.vm.tlb, wrote.tlb)
    if (copied > 0) {
      t.vmIos.set(e.reader, advanced(r, r.cursor + copied))
      t.vmIos.set(e.writer, advanced(w, w.cursor + copied))
    }
  })
  return { snapshot, result: copied < n ? err(['PageFault', copied] as const) : ok(copied) }
}

function oneFallible(s: Snapshot, e: CopyEvent): string | null {
  const r = tableGet(s.vmIos, e.reader)
  const w = tableGet(s.vmIos, e.writer)
  if (r === null || w === null) return null
  if (e.reader === e.writer) return `the reader and the writer are the same vm_io ${e.reader}`
  return r.fallible !== w.fallible ? null : `read_fallible / write_fallible copy between a fallible and an infallible side; both are ${r.fallible ? 'fallible' : 'infallible'}`
}

const copyRequires = (): Array<Requirement<CopyEvent>> => [
  entryReq<CopyEvent>('reader', 'Reader', 'any'),
  entryReq<CopyEvent>('writer', 'Writer', 'any'),
  { rule: 'REQ-VMIO-FALLIBLE-1', kind: 'requires', summary: '[model] `read_fallible` / `write_fallible` copy between one fallible and one infallible reader/writer (OSTD\'s signatures).', check: oneFallible },
  spaceBorrow<CopyEvent>('reader', 'writer'),
]

/** `VmReader::read_fallible(writer)`. Requires REQ-EMB-IOMETHOD-1, REQ-VMIO-FALLIBLE-1, REQ-BORROW-1. Owes ENS-VMIO-FALLIBLE-2 [model]. */
export const readerReadFallible = defineEvent<CopyEvent, FaultResult>({
  type: 'vm_reader.read_fallible',
  doc: 'VmReader::read_fallible(writer): copy min(remain, avail) bytes, advancing both; Err((PageFault, copied)) at an unmapped page.',
  schema: z.object({ type: z.literal('vm_reader.read_fallible'), reader: HandleId, writer: HandleId }),
  requires: copyRequires(),
  reduce: copyFallible,
})

/** `VmWriter::write_fallible(reader)`. Requires REQ-EMB-IOMETHOD-1, REQ-VMIO-FALLIBLE-1, REQ-BORROW-1. Owes ENS-VMIO-FALLIBLE-2 [model]. */
export const writerWriteFallible = defineEvent<CopyEvent, FaultResult>({
  type: 'vm_writer.write_fallible',
  doc: 'VmWriter::write_fallible(reader): copy min(remain, avail) bytes, advancing both; Err((PageFault, copied)) at an unmapped page.',
  schema: z.object({ type: z.literal('vm_writer.write_fallible'), writer: HandleId, reader: HandleId }),
  requires: copyRequires(),
  reduce: copyFallible,
})

type ReaderEvent = { type: 'vm_reader.collect'; reader: number }

/**
 * `VmReader<Fallible>::collect()`: all remaining bytes (base64), the cursor at the end; at a fault
 * the cursor has advanced over what was copied and the result is `Err('PageFault')`.
 * Requires REQ-EMB-IOMETHOD-1, REQ-BORROW-1. Owes ENS-VMIO-FALLIBLE-1 [model].
 */
export const readerCollect = defineEvent<ReaderEvent, Result<string, 'PageFault'>>({
  type: 'vm_reader.collect',
  doc: 'VmReader::collect(): Ok(every remaining byte), advancing to the end; Err(PageFault) at an unmapped page (advanced over what was copied).',
  schema: z.object({ type: z.literal('vm_reader.collect'), reader: HandleId }),
  requires: [entryReq<ReaderEvent>('reader', 'Reader', true), spaceBorrow<ReaderEvent>('reader')],
  reduce(s, e) {
    const r = tableGet(s.vmIos, e.reader)!
    const n = r.end - r.cursor
    const read = ioRead(s, s.vm.tlb, r, n)
    const k = read.bytes.length
    const snapshot =
      k === 0 && read.tlb === s.vm.tlb
        ? s
        : editSnapshot(s, (d, t) => {
            withTlb(d, s.vm.tlb, read.tlb)
            if (k > 0) t.vmIos.set(e.reader, advanced(r, r.cursor + k))
          })
    return { snapshot, result: k < n ? err('PageFault') : ok(toBase64(read.bytes)) }
  },
})

type FillZerosEvent = { type: 'vm_writer.fill_zeros'; writer: number; len: number }

/**
 * `VmWriter<Fallible>::fill_zeros(len)`: zeroes `min(len, avail)` bytes and advances; `Ok(count)`,
 * or `Err(['PageFault', copied])` at an unmapped or read-only page. Requires REQ-EMB-IOMETHOD-1,
 * REQ-BORROW-1. Owes ENS-VMIO-FALLIBLE-2 [model].
 */
export const writerFillZeros = defineEvent<FillZerosEvent, FaultResult>({
  type: 'vm_writer.fill_zeros',
  doc: 'VmWriter::fill_zeros(len): zero min(len, avail) bytes and advance; Err((PageFault, copied)) at an unmapped page.',
  schema: z.object({ type: z.literal('vm_writer.fill_zeros'), writer: HandleId, len: Usize }),
  requires: [entryReq<FillZerosEvent>('writer', 'Writer', true), spaceBorrow<FillZerosEvent>('writer')],
  reduce(s, e) {
    const w = tableGet(s.vmIos, e.writer)!
    const n = Math.min(e.len, w.end - w.cursor)
    if (n <= 0) return { snapshot: s, result: ok(0) }
    let written = 0
    const snapshot = editSnapshot(s, (d, t) => {
      const wrote = ioWrite(new MemoryWriter(t), s, s.vm.tlb, w, new Uint8Array(n))
      written = wrote.written
      withTlb(d, s.vm.tlb, wrote.tlb)
      if (written > 0) t.vmIos.set(e.writer, advanced(w, w.cursor + written))
    })
    return { snapshot, result: written < n ? err(['PageFault', written] as const) : ok(n) }
  },
})

export const userIoEvents: readonly EventSpec<ModelEvent, unknown>[] = [readerReadFallible, writerWriteFallible, readerCollect, writerFillZeros] as unknown as readonly EventSpec<ModelEvent, unknown>[]
