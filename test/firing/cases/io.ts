/**
 * Firing cases of frame / segment memory and VM I/O: INV-VMIO-1 (INV-STORE-9), the kernel
 * reader/writer creation and drop rules, ENS-EMB-READ-1/2, the model's ENS-MEM-*, ENS-VMIO-* and
 * the REQ rules of the I/O events.
 */
import { PAGE_SIZE } from '../../../src/arch/constants.js'
import type { Model } from '../../../src/api/model.js'
import { vmIoOf, type VmReader, type VmWriter } from '../../../src/api/vm_io.js'
import type { Snapshot } from '../../../src/model/snapshot.js'
import { tableGet } from '../../../src/model/table.js'
import { frameIoEvents, fromBase64 } from '../../../reducers/io/frame_io.js'
import { MemoryWriter } from '../../../src/model/memory.js'
import { ok } from '../../../reducers/types.js'
import { editSnapshot } from '../../../src/model/edit.js'
import { readerDrop, readerRead, readerReadVal, readerSkip, segmentWriter, frameReader, writerDrop, writerFill, writerLimit, writerWrite, writerWriteVal } from '../../../reducers/io/vm_io.js'
import type { EventSpec, ModelEvent } from '../../../reducers/types.js'
import { corrupted, edit, rejected, variant, withVariantBothModes, type FiringCase } from '../harness.js'
import { alloc, produceFrozen, tableSet } from './util.js'

/** Bytes 1, 2, 3, … (mod 256) — every byte distinct from its neighbours and from zero-fill. */
export function pattern(n: number, from = 1): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => ((from + i) % 255) + 1)
}

/** A frame (id 0, paddr 0) filled with `pattern`, a reader (vm_io 0) and a writer (vm_io 1) over it. */
function frameRW(m: Model): { r: VmReader; w: VmWriter } {
  const f = alloc(m)
  const io = vmIoOf(m, { kind: 'frame', id: f.id })
  io.writeBytes(0, pattern(PAGE_SIZE))
  return { r: io.reader(), w: io.writer() }
}

/**
 * An initial state holding segment 0 = `[0, n pages)`, accounted as the embedding says: each page
 * allocated (rc 1), its reference forgotten (`raw_count` 1) and covered by the segment.
 */
export function segmentState(n: number): (m: Model) => Snapshot {
  return (m) => {
    for (let i = 0; i < n; i++) alloc(m).intoRaw()
    return produceFrozen(m.state, (d) => {
      tableSet(d.segments, 0, { startPaddr: 0, endPaddr: n * PAGE_SIZE })
      d.counters.segment = 1
    })
  }
}

/** A u32 with its bytes reversed (a big-endian codec). */
const bswap32 = (v: number): number => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0

const spec = (type: string): EventSpec<ModelEvent, unknown> => frameIoEvents.find((s) => s.type === type)!

/** A copy of vm_io `id` in a snapshot with `patch`. */
function patchVio(s: Snapshot, id: number, patch: object): Snapshot {
  return edit(s, (d) => tableSet(d.vmIos, id, { ...tableGet(s.vmIos, id)!, ...patch }))
}

const oneFrame = (m: Model): void => void frameRW(m)

export const ioCases: FiringCase[] = [
  // ---- INV-VMIO / INV-STORE-9 -------------------------------------------------------------
  {
    rule: 'INV-VMIO-1',
    title: 'a reader whose cursor is past its end',
    expectAlso: ['INV-STORE-9'],
    run: () => corrupted(oneFrame, (d) => tableSet(d.vmIos, 0, { ...tableGet(d.vmIos as Snapshot['vmIos'], 0)!, cursor: PAGE_SIZE + 1 })),
  },
  {
    rule: 'INV-STORE-9',
    title: 'a VmIoEntry breaking INV-VMIO-1 is reported as INV-STORE-9 too',
    expect: ['INV-VMIO-1'],
    expectAlso: ['INV-STORE-9'],
    run: () => corrupted(oneFrame, (d) => tableSet(d.vmIos, 1, { ...tableGet(d.vmIos as Snapshot['vmIos'], 1)!, end: 16, cursor: 32 })),
  },
  // ---- creation and drop -----------------------------------------------------------------
  {
    rule: 'ENS-EMB-NEWKERNELREADER-1',
    title: 'Frame::reader() covers a page more than the frame',
    run: () =>
      withVariantBothModes(
        [variant(frameReader, (s, e) => {
          const o = frameReader.reduce(s, e)
          return { ...o, snapshot: patchVio(o.snapshot, o.result.reader, { end: 2 * PAGE_SIZE }) }
        })],
        (m) => vmIoOf(m, { kind: 'frame', id: alloc(m).id }).reader(),
      ),
  },
  {
    rule: 'ENS-EMB-NEWKERNELWRITER-1',
    title: 'Segment::writer() starts at the second page',
    run: () =>
      withVariantBothModes(
        [variant(segmentWriter, (s, e) => {
          const o = segmentWriter.reduce(s, e)
          return { ...o, snapshot: patchVio(o.snapshot, o.result.writer, { cursor: PAGE_SIZE }) }
        })],
        (m) => vmIoOf(m, { kind: 'segment', id: 0 }).writer(),
        { initial: segmentState(3) },
      ),
  },
  {
    rule: 'ENS-EMB-DROPREADER-1',
    title: 'dropping a reader leaves its entry behind',
    run: () => withVariantBothModes([variant(readerDrop, (s) => ({ snapshot: s, result: null }))], (m) => frameRW(m).r.drop()),
  },
  {
    rule: 'ENS-EMB-DROPWRITER-1',
    title: 'dropping a writer also removes the reader',
    run: () =>
      withVariantBothModes(
        [variant(writerDrop, (s, e) => {
          const o = writerDrop.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => tableSet(d.vmIos, 0, null)) }
        })],
        (m) => frameRW(m).w.drop(),
      ),
  },
  // ---- bytes -----------------------------------------------------------------------------
  {
    rule: 'ENS-MEM-READ-1',
    title: 'Frame::read_bytes reads one byte further on',
    run: () =>
      withVariantBothModes(
        [variant(spec('frame.read_bytes'), (s, e) => spec('frame.read_bytes').reduce(s, { ...e, offset: (e['offset'] as number) + 1 }))],
        (m) => {
          frameRW(m)
          vmIoOf(m, { kind: 'frame', id: 0 }).readBytes(100, 8)
        },
      ),
  },
  {
    rule: 'ENS-MEM-READ-1',
    title: 'Segment::read_val at off == size fails instead of reading a zero value',
    run: () =>
      withVariantBothModes(
        [variant(spec('segment.read_val'), (s) => ({ snapshot: s, result: { ok: false, error: 'InvalidArgs' } }))],
        (m) => vmIoOf(m, { kind: 'segment', id: 0 }).readVal(2 * PAGE_SIZE, 'u32'),
        { initial: segmentState(2) },
      ),
  },
  {
    rule: 'ENS-MEM-READ-1',
    title: 'VmReader::read_val decodes big-endian',
    run: () =>
      withVariantBothModes(
        [variant(readerReadVal, (s, e) => {
          const o = readerReadVal.reduce(s, e)
          return o.result.ok ? { ...o, result: ok(bswap32(o.result.value as number)) } : o
        })],
        (m) => frameRW(m).r.readVal('u32'),
      ),
  },
  {
    rule: 'ENS-MEM-WRITE-1',
    title: 'Frame::write_bytes does not stop at the end of the frame',
    run: () =>
      withVariantBothModes(
        [variant(spec('frame.write_bytes'), (s, e) => {
          // the faulty reducer writes the whole buffer, on into the next frame's memory
          const pa = tableGet(s.frames, e['frame'] as number)!.paddr + (e['offset'] as number)
          const bytes = fromBase64(e['bytes'] as string)!
          return { snapshot: editSnapshot(s, (_d, t) => new MemoryWriter(t).write(pa, bytes)), result: ok(PAGE_SIZE - (e['offset'] as number)) }
        })],
        (m) => {
          const f = alloc(m)
          alloc(m)
          vmIoOf(m, { kind: 'frame', id: f.id }).writeBytes(PAGE_SIZE - 2, pattern(8))
        },
      ),
  },
  {
    rule: 'ENS-MEM-WRITE-1',
    title: 'VmWriter::write_val writes big-endian',
    run: () =>
      withVariantBothModes(
        [variant(writerWriteVal, (s, e) => writerWriteVal.reduce(s, { ...e, value: bswap32(e.value as number) }))],
        (m) => frameRW(m).w.writeVal('u32', 0x11223344),
      ),
  },
  {
    rule: 'ENS-MEM-WRITE-1',
    title: 'VmWriter::fill reports one copy fewer than it writes',
    run: () =>
      withVariantBothModes(
        [variant(writerFill, (s, e) => {
          const o = writerFill.reduce(s, e)
          return { ...o, result: o.result - 1 }
        })],
        (m) => frameRW(m).w.skip(PAGE_SIZE - 16).fill('u32', 7),
      ),
  },
  // ---- copies ----------------------------------------------------------------------------
  {
    rule: 'ENS-VMIO-COPY-1',
    title: 'VmReader::read copies from one byte past the cursor',
    run: () =>
      withVariantBothModes(
        [variant(readerRead, (s, e) => {
          const r = tableGet(s.vmIos, e.reader)!
          const o = readerRead.reduce(patchVio(s, e.reader, { cursor: r.cursor + 1 }), e)
          return { ...o, snapshot: patchVio(o.snapshot, e.reader, { cursor: r.cursor + o.result }) }
        })],
        (m) => {
          const { r, w } = frameRW(m)
          w.skip(PAGE_SIZE - 8)
          r.read(w)
        },
      ),
  },
  {
    rule: 'ENS-EMB-READ-1',
    title: 'VmReader::read also shortens the reader',
    run: () =>
      withVariantBothModes(
        [variant(readerRead, (s, e) => {
          const o = readerRead.reduce(s, e)
          return { ...o, snapshot: patchVio(o.snapshot, e.reader, { end: tableGet(o.snapshot.vmIos, e.reader)!.end - 1 }) }
        })],
        (m) => {
          const { r, w } = frameRW(m)
          w.skip(PAGE_SIZE - 8)
          r.read(w)
        },
      ),
  },
  {
    rule: 'ENS-EMB-READ-2',
    title: 'VmWriter::write forgets the writer\'s borrow',
    expect: ['ENS-EMB-READ-2', 'ENS-EMB-WRITE-1'],
    run: () =>
      withVariantBothModes(
        [variant(writerWrite, (s, e) => {
          const o = writerWrite.reduce(s, e)
          return { ...o, snapshot: patchVio(o.snapshot, e.writer, { borrow: null }) }
        })],
        (m) => {
          const { r, w } = frameRW(m)
          r.skip(PAGE_SIZE - 8)
          w.write(r)
        },
      ),
  },
  // ---- cursors ---------------------------------------------------------------------------
  {
    rule: 'ENS-VMIO-ADVANCE-1',
    title: 'VmReader::skip(n) moves n + 1',
    run: () => withVariantBothModes([variant(readerSkip, (s, e) => readerSkip.reduce(s, { ...e, n: e.n + 1 }))], (m) => frameRW(m).r.skip(10)),
  },
  {
    rule: 'ENS-VMIO-ADVANCE-1',
    title: 'VmWriter::write_val moves the cursor although it fails',
    run: () =>
      withVariantBothModes(
        [variant(writerWriteVal, (s, e) => {
          const o = writerWriteVal.reduce(s, e)
          return o.result.ok ? o : { ...o, snapshot: patchVio(s, e.writer, { cursor: tableGet(s.vmIos, e.writer)!.end }) }
        })],
        (m) => frameRW(m).w.skip(PAGE_SIZE - 2).writeVal('u32', 5),
      ),
  },
  {
    rule: 'ENS-VMIO-LIMIT-1',
    title: 'VmWriter::limit(n) grows the writer',
    run: () =>
      withVariantBothModes(
        [variant(writerLimit, (s, e) => ({ snapshot: patchVio(s, e['writer'] as number, { end: tableGet(s.vmIos, e['writer'] as number)!.cursor + e.n }), result: null }))],
        (m) => frameRW(m).w.limit(4).limit(100),
      ),
  },
  // ---- preconditions ---------------------------------------------------------------------
  {
    rule: 'REQ-HANDLE-1',
    title: 'read_bytes on a dropped frame',
    run: () => rejected((m) => alloc(m).drop(), () => ({ type: 'frame.read_bytes', frame: 0, offset: 0, len: 4 })),
  },
  {
    rule: 'REQ-VMIO-UNTYPED-1',
    title: 'reader() on a frame with typed metadata',
    run: () =>
      rejected(
        (m) => void m.frames.allocFrame({ meta: { type: 'MockFrameMeta', untyped: false, value: null } }),
        () => ({ type: 'frame.reader', frame: 0 }),
      ),
  },
  {
    rule: 'REQ-VMIO-VAL-1',
    title: 'write_val of 256 as a u8',
    run: () => rejected((m) => void alloc(m), () => ({ type: 'frame.write_val', frame: 0, offset: 0, valType: 'u8', value: 256 })),
  },
  {
    rule: 'REQ-VMIO-WRITEVALS-1',
    title: 'write_vals with align 3',
    run: () => rejected((m) => void alloc(m), () => ({ type: 'frame.write_vals', frame: 0, offset: 0, valType: 'u8', values: [1], align: 3 })),
  },
  {
    rule: 'REQ-EMB-READ-1',
    title: 'read from a reader into itself',
    run: () => rejected(oneFrame, () => ({ type: 'vm_reader.read', reader: 0, writer: 0 })),
  },
  {
    rule: 'REQ-EMB-READ-2',
    title: 'read with the reader and the writer swapped',
    run: () => rejected(oneFrame, () => ({ type: 'vm_reader.read', reader: 1, writer: 0 })),
  },
  {
    rule: 'REQ-EMB-WRITE-1',
    title: 'write from a reader that does not exist',
    run: () => rejected(oneFrame, () => ({ type: 'vm_writer.write', writer: 1, reader: 9 })),
  },
  {
    rule: 'REQ-EMB-WRITE-2',
    title: 'write with the reader and the writer swapped',
    run: () => rejected(oneFrame, () => ({ type: 'vm_writer.write', writer: 0, reader: 1 })),
  },
  {
    rule: 'REQ-EMB-IOMETHOD-1',
    title: 'skip on a reader that does not exist',
    run: () => rejected(oneFrame, () => ({ type: 'vm_reader.skip', reader: 42, n: 1 })),
  },
  {
    rule: 'REQ-VMIO-KIND-1',
    title: 'read_val on a writer',
    run: () => rejected(oneFrame, () => ({ type: 'vm_reader.read_val', reader: 1, valType: 'u8' })),
  },
  {
    rule: 'REQ-BORROW-1',
    title: 'read_val through a reader whose frame was dropped',
    run: () => rejected((m) => void (frameRW(m), m.dispatch({ type: 'frame.drop', frame: 0 })), () => ({ type: 'vm_reader.read_val', reader: 0, valType: 'u8' })),
  },
  {
    rule: 'REQ-VMIO-SKIP-1',
    title: 'skip past the end',
    run: () => rejected(oneFrame, () => ({ type: 'vm_writer.skip', writer: 1, n: PAGE_SIZE + 1 })),
  },
  {
    rule: 'REQ-VMIO-PODONCE-1',
    title: 'read_once of a byte struct',
    run: () => rejected(oneFrame, () => ({ type: 'vm_reader.read_once', reader: 0, valType: { size: 4 } })),
  },
  {
    rule: 'REQ-VMIO-ALIGN-1',
    title: 'read_once of a u32 at a cursor 2 bytes into the frame',
    run: () => rejected((m) => void frameRW(m).r.skip(2), () => ({ type: 'vm_reader.read_once', reader: 0, valType: 'u32' })),
  },
  {
    rule: 'REQ-VMIO-FILL-1',
    title: 'fill u32 with 4095 bytes available',
    run: () => rejected((m) => void frameRW(m).w.skip(1), () => ({ type: 'vm_writer.fill', writer: 1, valType: 'u32', value: 0 })),
  },
  {
    rule: 'REQ-EMB-DROPREADER-1',
    title: 'drop a reader that does not exist',
    run: () => rejected(oneFrame, () => ({ type: 'vm_reader.drop', reader: 7 })),
  },
  {
    rule: 'REQ-EMB-DROPWRITER-1',
    title: 'drop a writer that was already dropped',
    run: () => rejected((m) => frameRW(m).w.drop(), () => ({ type: 'vm_writer.drop', writer: 1 })),
  },
]
