/**
 * The handle-only queries of the embedding's `ReaderQuery { vio }` / `WriterQuery { vio }`
 * (operations.md §11.13): `VmReader::remain()` and `VmWriter::avail()` (behaviour.md §2.8), the
 * bytes left between the cursor and the end. No other event of the model is these two Ops.
 *
 * Events:
 *   vm_reader.remain  {reader}  `remain()`: `end − cursor`; nothing changes
 *   vm_writer.avail   {writer}  `avail()`:  `end − cursor`; nothing changes
 *
 * Requires REQ-EMB-IOMETHOD-1 (the id is in `vm_ios`), REQ-VMIO-KIND-1 and REQ-BORROW-1 [model] (as
 * every other reader/writer method, reducers/io/vm_io.ts). Owes ENS-EMB-IOMETHOD-1 (the store is
 * unchanged).
 */
import { z } from 'zod'
import type { Snapshot } from '../../src/model/snapshot.js'
import { borrowFailure, vmIoEntry, vmIoLen } from '../io/vm_io.js'
import { HandleId } from '../schema.js'
import { defineEvent, type EventSpec, type ModelEvent, type Requirement } from '../types.js'

type Field = 'reader' | 'writer'
type QueryEvent = ModelEvent & { reader?: number; writer?: number }
const KIND = { reader: 'Reader', writer: 'Writer' } as const
const NAME = { reader: 'VmReader', writer: 'VmWriter' } as const

function requiresOn(field: Field): Array<Requirement<QueryEvent>> {
  const id = (e: QueryEvent): number => e[field] as number
  return [
    {
      rule: 'REQ-EMB-IOMETHOD-1',
      kind: 'requires',
      check: (s, e) => (vmIoEntry(s, id(e)) === null ? `${NAME[field]} ${id(e)} is not a live reader or writer (dropped, or never created)` : null),
    },
    {
      rule: 'REQ-VMIO-KIND-1',
      summary: "[model] A reader call gets a `VmReader` and a writer call a `VmWriter` (Rust's types keep them apart).",
      kind: 'requires',
      check: (s, e) => {
        const x = vmIoEntry(s, id(e))
        return x === null || x.kind === KIND[field] ? null : `vm_io ${id(e)} is a ${NAME[x.kind === 'Reader' ? 'reader' : 'writer']}, not a ${NAME[field]}`
      },
    },
    {
      rule: 'REQ-BORROW-1',
      summary: "[model] A reader or writer is used only while the frame or segment it borrows is live (Rust's lifetime `'a`).",
      kind: 'requires',
      check: (s: Snapshot, e) => {
        const x = vmIoEntry(s, id(e))
        const f = x === null ? null : borrowFailure(s, x)
        return f === null ? null : `${NAME[field]} ${id(e)}: ${f}`
      },
    },
  ]
}

function queryEvent(field: Field, method: 'remain' | 'avail'): EventSpec<QueryEvent, number> {
  const type = `vm_${field}.${method}`
  return defineEvent<QueryEvent, number>({
    type,
    doc: `${NAME[field]}::${method}(): the bytes left between the cursor and the end; no state change (the embedding's ${field === 'reader' ? 'ReaderQuery' : 'WriterQuery'}).`,
    schema: z.object({ type: z.literal(type), [field]: HandleId }) as unknown as z.ZodType<QueryEvent>,
    requires: requiresOn(field),
    reduce: (s, e) => ({ snapshot: s, result: vmIoLen(vmIoEntry(s, e[field] as number)!) }),
  })
}

export const readerRemain = queryEvent('reader', 'remain')
export const writerAvail = queryEvent('writer', 'avail')

export const embeddingIoEvents: readonly EventSpec<ModelEvent, unknown>[] = [readerRemain, writerAvail] as unknown as readonly EventSpec<ModelEvent, unknown>[]
