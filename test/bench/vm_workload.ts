/**
 * Issue #7's workload (3), a VmSpace with user-space readers and writers, run through the model and
 * through a mutable, unchecked VmSpace written for the benchmark only (`MutableVmSpace`), on the
 * same events in the same process — as workloads (1) and (2) are in workloads.ts.
 *
 * The events start from a fresh model (`vmStart`): `vm_space.new`, `vm_space.activate` (readers and
 * writers need the activated space) and one `vm_space.cursor_mut` over a 64 MiB user window
 * (`VM_WINDOW`). Then `count` operations, each a few API events:
 *   map      — `frame_alloc.alloc_frame` (zeroed), `cursor.jump` to an unmapped page (none when the
 *              cursor is already there: half the maps continue where the last one stopped), then
 *              `vm_cursor_mut.map` (read-write, or read-only);
 *   unmap    — a jump to a mapped page and `vm_cursor_mut.unmap` of 1–8 pages, or of its whole
 *              2 MiB region, entered from outside it (the level-1 node goes stray; a cursor
 *              already inside the node would take its frames one by one and leave it);
 *   protect  — a jump to a mapped page, `vm_cursor_mut.protect_next` (read-only or read-write), then
 *              `issue_tlb_flush` of that page and `dispatch_tlb_flush`: the model's `protect_next`
 *              flushes nothing, and a cached translation keeps the old rights until flushed;
 *   write    — `vm_space.writer` over 8–64 bytes, 1–4 `vm_writer.write_val` (u8…u64), drop;
 *   read     — `vm_space.reader`, 1–4 `vm_reader.read_val` or one `vm_reader.collect`, drop;
 *   query    — a jump and `cursor.query`; the `Frame` a mapped slot returns is dropped (`frame.drop`).
 * Readers and writers start on a mapped page nine times in ten, at any offset: some run into an
 * unmapped or read-only page (`Err(PageFault)`, the bytes before the fault written) or past their
 * length (`Err(InvalidArgs)`). The generator predicts the handle ids the model hands out (frame
 * handles: one per allocation, per mapped query and per frame an unmap takes out; readers and
 * writers: one each), so it needs no model; the replay checks every event is valid.
 *
 * After a run the model and the baseline must agree on every result (the physical addresses of
 * allocations aside: each allocator picks its own) and on a page walk of the window: the same pages
 * mapped, with the same property and the same bytes, through a one-to-one correspondence of frames.
 */
import equal from 'fast-deep-equal/es6/index.js'
import type { ModelEvent } from '../../reducers/index.js'
import { toBase64 } from '../../reducers/io/frame_io.js'
import { err, ok } from '../../reducers/types.js'
import { pageSize } from '../../src/arch/constants.js'
import { newUser, PageFlags, type PageProperty } from '../../src/arch/page_prop.js'
import { IdSet, Rng } from '../../src/log/gen.js'
import { genesis } from '../../src/model/genesis.js'
import { readPhys } from '../../src/model/memory.js'
import { pageTableHandle } from '../../src/model/pt_tables.js'
import { pageWalk } from '../../src/model/pt_walk.js'
import { UNIT_META, type Snapshot } from '../../src/model/snapshot.js'
import { tableGet } from '../../src/model/table.js'
import { MutablePageTable, timeBaseline, type WorkloadRun } from './workloads.js'

const K4 = pageSize(1)
const M2 = pageSize(2)
const WINDOW_PAGES = 16_384
const PAGES_PER_REGION = 512
const WINDOW_REGIONS = WINDOW_PAGES / PAGES_PER_REGION
/** The user VA window of the workload's cursor: 64 MiB from 1 GiB (32 regions of 2 MiB). */
export const VM_WINDOW = { start: 0x4000_0000, end: 0x4000_0000 + WINDOW_PAGES * K4 } as const
/** The model's physical memory (64 MiB): the frames mapped, the page-table nodes. */
const PHYSICAL_MEMORY_BYTES = 1 << 26
/** Mapped pages the generator keeps below (maps turn into unmaps there), so frames never run out. */
const MAX_MAPPED_PAGES = 8_000
const PROP_RW = newUser(PageFlags.RW)
const PROP_R = newUser(PageFlags.R)
const INT_TYPES = ['u8', 'u16', 'u32', 'u64'] as const
/** The ids a fresh model gives the workload's VmSpace and its cursor. */
const VM_SPACE = 0
const CURSOR = 0

/** The model's start: a fresh snapshot (the set-up events are part of the workload), with room for `extraFrames` more frames. */
export function vmStart(extraFrames = 0): Snapshot {
  return genesis({ physicalMemory: PHYSICAL_MEMORY_BYTES + extraFrames * K4 })
}

// ---- the generator -----------------------------------------------------------------------------

/** A value of integer type `t` (u64 as a decimal string, the model's encoding). */
function valueOf(rng: Rng, t: (typeof INT_TYPES)[number]): number | string {
  if (t === 'u64') return ((BigInt(rng.int(2 ** 32)) << 32n) | BigInt(rng.int(2 ** 32))).toString()
  return rng.int(2 ** (8 * { u8: 1, u16: 2, u32: 4 }[t]))
}

/** The set-up events and `count` operations of workload (3) (module comment), valid in order from `vmStart()`. */
export function vmWorkloadEvents(count: number, seed: number): ModelEvent[] {
  const rng = new Rng(seed)
  const out: ModelEvent[] = [
    { type: 'vm_space.new' } as ModelEvent,
    { type: 'vm_space.activate', vmSpace: VM_SPACE } as ModelEvent,
    { type: 'vm_space.cursor_mut', vmSpace: VM_SPACE, vaStart: VM_WINDOW.start, vaEnd: VM_WINDOW.end } as ModelEvent,
  ]
  const mapped = new IdSet() // pages of the window (0 ..< WINDOW_PAGES) that are mapped
  let nextFrame = 0 // the model's next Frame handle id
  let nextIo = 0 // the model's next reader / writer id
  let cursorPage = 0 // the cursor's page in the window (WINDOW_PAGES: at its end)
  const vaOf = (page: number): number => VM_WINDOW.start + page * K4
  const jumpTo = (page: number): void => {
    if (page !== cursorPage) out.push({ type: 'cursor.jump', cursor: CURSOR, va: vaOf(page) } as ModelEvent)
    cursorPage = page
  }
  /** Takes the pages `[from, from + pages)` out of `mapped`, counting a Frame handle for each. */
  const unmapped = (from: number, pages: number): void => {
    for (let p = from; p < from + pages; p++) {
      if (!mapped.has(p)) continue
      mapped.delete(p)
      nextFrame++
    }
  }
  /** A page for a reader or writer: mapped nine times in ten. */
  const ioPage = (): number => (rng.chance(0.9) ? (mapped.pick(rng) ?? rng.int(WINDOW_PAGES)) : rng.int(WINDOW_PAGES))
  /** `[va, va + len)` for a reader or writer: 8–64 bytes on `ioPage()`, at an 8-aligned or any offset. */
  const ioRange = (): { va: number; len: number } => ({ va: vaOf(ioPage()) + (rng.chance(0.5) ? 8 * rng.int(K4 / 8) : rng.int(K4)), len: 8 + rng.int(57) })
  const written: number[] = [] // where the last 64 writers started (readers start at one of them six times in ten)

  for (let op = 0; op < count; op++) {
    let roll = rng.int(100)
    if (mapped.size === 0) roll = 0
    else if (roll < 35 && mapped.size >= MAX_MAPPED_PAGES) roll = 40
    if (roll < 35) {
      // map: at the cursor half the time (when that page is free), else the first free page from a random one of a random region
      let page = cursorPage
      if (page >= WINDOW_PAGES || mapped.has(page) || rng.chance(0.5)) {
        const region = rng.int(WINDOW_REGIONS)
        const from = rng.int(PAGES_PER_REGION)
        let k = 0
        while (k < PAGES_PER_REGION && mapped.has(region * PAGES_PER_REGION + ((from + k) % PAGES_PER_REGION))) k++
        if (k === PAGES_PER_REGION) continue
        page = region * PAGES_PER_REGION + ((from + k) % PAGES_PER_REGION)
      }
      out.push({ type: 'frame_alloc.alloc_frame', zeroed: true, meta: UNIT_META } as ModelEvent)
      jumpTo(page)
      out.push({ type: 'vm_cursor_mut.map', cursor: CURSOR, frame: nextFrame++, prop: rng.chance(0.85) ? PROP_RW : PROP_R } as ModelEvent)
      mapped.add(page)
      cursorPage = page + 1
    } else if (roll < 45) {
      // unmap 1–8 pages from a mapped one
      const page = mapped.pick(rng)!
      const pages = Math.min(1 + rng.int(8), WINDOW_PAGES - page)
      jumpTo(page)
      out.push({ type: 'vm_cursor_mut.unmap', cursor: CURSOR, len: pages * K4 } as ModelEvent)
      unmapped(page, pages)
      cursorPage = page + pages
    } else if (roll < 47) {
      // unmap the whole 2 MiB region of a mapped page: its level-1 node is taken out whole. The
      // cursor must come from outside the region: OSTD's cursor keeps its level, and a cursor still
      // in the region's level-1 node (a jump within the node does not pop up) takes the frames one
      // by one and leaves the empty node in place — a query of the region then tells them apart.
      const first = Math.floor(mapped.pick(rng)! / PAGES_PER_REGION) * PAGES_PER_REGION
      if (cursorPage >= first && cursorPage < first + PAGES_PER_REGION) jumpTo(first === 0 ? PAGES_PER_REGION : 0)
      jumpTo(first)
      out.push({ type: 'vm_cursor_mut.unmap', cursor: CURSOR, len: M2 } as ModelEvent)
      unmapped(first, PAGES_PER_REGION)
      cursorPage = first + PAGES_PER_REGION
    } else if (roll < 55) {
      // protect a mapped page (the first mapping of 1–4 pages from it), then flush its translation
      const page = mapped.pick(rng)!
      jumpTo(page)
      out.push({ type: 'vm_cursor_mut.protect_next', cursor: CURSOR, len: Math.min(1 + rng.int(4), WINDOW_PAGES - page) * K4, prop: rng.chance(0.5) ? PROP_R : PROP_RW } as ModelEvent)
      out.push({ type: 'vm_cursor_mut.issue_tlb_flush', cursor: CURSOR, op: { kind: 'Address', va: vaOf(page) } } as ModelEvent)
      out.push({ type: 'vm_cursor_mut.dispatch_tlb_flush', cursor: CURSOR } as ModelEvent)
      cursorPage = page + 1
    } else if (roll < 70) {
      const writer = nextIo++
      const range = ioRange()
      written.push(range.va)
      if (written.length > 64) written.shift()
      out.push({ type: 'vm_space.writer', vmSpace: VM_SPACE, ...range } as ModelEvent)
      for (let k = 1 + rng.int(4); k > 0; k--) {
        const valType = rng.pick(INT_TYPES)!
        out.push({ type: 'vm_writer.write_val', writer, valType, value: valueOf(rng, valType) } as ModelEvent)
      }
      out.push({ type: 'vm_writer.drop', writer } as ModelEvent)
    } else if (roll < 92) {
      const reader = nextIo++
      const range = ioRange()
      const va = rng.chance(0.6) ? (rng.pick(written) ?? range.va) : range.va
      out.push({ type: 'vm_space.reader', vmSpace: VM_SPACE, va, len: range.len } as ModelEvent)
      if (rng.chance(0.2)) out.push({ type: 'vm_reader.collect', reader } as ModelEvent)
      else for (let k = 1 + rng.int(4); k > 0; k--) out.push({ type: 'vm_reader.read_val', reader, valType: rng.pick(INT_TYPES)! } as ModelEvent)
      out.push({ type: 'vm_reader.drop', reader } as ModelEvent)
    } else {
      // query a mapped page (three times in four) or any page; drop the Frame a mapped slot returns
      const page = rng.chance(0.75) ? mapped.pick(rng)! : rng.int(WINDOW_PAGES)
      jumpTo(page)
      out.push({ type: 'cursor.query', cursor: CURSOR } as ModelEvent)
      if (mapped.has(page)) out.push({ type: 'frame.drop', frame: nextFrame++ } as ModelEvent)
    }
  }
  return out
}

// ---- the baseline --------------------------------------------------------------------------------

type IntType = (typeof INT_TYPES)[number]
const INT_BYTES: Readonly<Record<IntType, number>> = { u8: 1, u16: 2, u32: 4, u64: 8 }
/** The baseline's value buffer: the model's little-endian codec (reducers/io/frame_io.ts) with a DataView instead of BigInt byte by byte. */
const SCRATCH = new Uint8Array(8)
const SCRATCH_VIEW = new DataView(SCRATCH.buffer)

/** The little-endian bytes of an integer value (u64: a decimal string or a number), in `SCRATCH`. */
function encodeInt(t: IntType, value: number | string): Uint8Array {
  if (t === 'u64') SCRATCH_VIEW.setBigUint64(0, BigInt(value), true)
  else if (t === 'u32') SCRATCH_VIEW.setUint32(0, value as number, true)
  else if (t === 'u16') SCRATCH_VIEW.setUint16(0, value as number, true)
  else SCRATCH_VIEW.setUint8(0, value as number)
  return SCRATCH.subarray(0, INT_BYTES[t])
}

/** The integer in `SCRATCH` (u64 as a decimal string, as the model returns it). */
function decodeInt(t: IntType): number | string {
  if (t === 'u64') return SCRATCH_VIEW.getBigUint64(0, true).toString()
  return t === 'u32' ? SCRATCH_VIEW.getUint32(0, true) : t === 'u16' ? SCRATCH_VIEW.getUint16(0, true) : SCRATCH_VIEW.getUint8(0)
}

/** A user reader or writer of the baseline: a cursor over user VAs. */
interface UserIo {
  readonly writer: boolean
  cursor: number
  readonly end: number
}

/**
 * A VmSpace in mutable arrays: a `MutablePageTable` for the translation, a `Uint8Array` for the
 * bytes of its frames (its own physical addresses, from a LIFO-then-bump allocator), and readers
 * and writers as plain cursors that translate each page through the table. It has no TLB: every
 * change the workload makes is flushed before the next access, so a walk sees what the TLB would.
 * Values are the integers the workload writes (u8…u64), encoded with a DataView. It keeps the model's handle ids (frames, readers / writers, the space, the cursor) so that the
 * events name the same objects, and returns what the model returns for every event it handles.
 */
export class MutableVmSpace {
  readonly table = new MutablePageTable()
  /** The bytes of the frames, frame `i` at `[i * 4 KiB, (i + 1) * 4 KiB)`. */
  readonly memory: Uint8Array
  /** Live Frame handles → physical address. */
  private readonly frames = new Map<number, number>()
  private readonly freeFrames: number[] = []
  private bumpPa = 0
  private nextFrame = 0
  private readonly ios = new Map<number, UserIo>()
  private nextIo = 0
  private nextSpace = 0
  private nextCursor = 0

  constructor(memoryBytes = PHYSICAL_MEMORY_BYTES) {
    this.memory = new Uint8Array(memoryBytes)
  }

  apply(e: ModelEvent): unknown {
    const ev = e as ModelEvent & Record<string, unknown>
    switch (e.type) {
      case 'vm_space.new':
        return { vmSpace: this.nextSpace++ }
      case 'vm_space.activate':
        return null
      case 'vm_space.cursor_mut':
        this.table.makePath(ev['vaStart'] as number, ev['vaEnd'] as number)
        this.table.va = ev['vaStart'] as number
        return ok({ cursor: this.nextCursor++ })
      case 'frame_alloc.alloc_frame': {
        const pa = this.freeFrames.pop() ?? (this.bumpPa += K4) - K4
        if (ev['zeroed'] === true) this.memory.fill(0, pa, pa + K4)
        const frame = this.nextFrame++
        this.frames.set(frame, pa)
        return ok({ frame, paddr: pa })
      }
      case 'frame.drop':
        // a query's clone: the frame stays mapped
        this.frames.delete(ev['frame'] as number)
        return null
      case 'cursor.jump':
        this.table.va = ev['va'] as number
        return ok(null)
      case 'cursor.query': {
        const va = this.table.va
        const { leaf, level } = this.table.slot(va)
        const start = va - (va % pageSize(level))
        let item: { frame: number; prop: PageProperty } | null = null
        if (leaf !== null) {
          item = { frame: this.nextFrame++, prop: leaf.prop }
          this.frames.set(item.frame, leaf.pa)
        }
        return ok([{ start, end: start + pageSize(level) }, item])
      }
      case 'vm_cursor_mut.map': {
        const frame = ev['frame'] as number
        if (this.table.walk(this.table.va) !== null) throw new Error('the baseline never replaces a mapping')
        this.table.map({ pa: this.frames.get(frame)!, level: 1, prop: ev['prop'] as PageProperty })
        this.frames.delete(frame) // moved into the page table
        return null
      }
      case 'vm_cursor_mut.unmap':
        // each frame taken out is a Frame handle, released after the flush
        return this.table.unmapNext(ev['len'] as number, (leaf) => {
          this.nextFrame++
          this.freeFrames.push(leaf.pa)
        })
      case 'vm_cursor_mut.protect_next': {
        const found = this.table.protectNext(ev['len'] as number, ev['prop'] as PageProperty)
        return found === null ? null : { start: found.va, end: found.va + pageSize(found.leaf.level) }
      }
      case 'vm_cursor_mut.issue_tlb_flush':
      case 'vm_cursor_mut.dispatch_tlb_flush':
        return null
      case 'vm_space.reader':
      case 'vm_space.writer': {
        const writer = e.type === 'vm_space.writer'
        const id = this.nextIo++
        const va = ev['va'] as number
        this.ios.set(id, { writer, cursor: va, end: va + (ev['len'] as number) })
        return ok(writer ? { writer: id } : { reader: id })
      }
      case 'vm_reader.drop':
        this.ios.delete(ev['reader'] as number)
        return null
      case 'vm_writer.drop':
        this.ios.delete(ev['writer'] as number)
        return null
      case 'vm_writer.write_val': {
        const w = this.ios.get(ev['writer'] as number)!
        const bytes = encodeInt(ev['valType'] as IntType, ev['value'] as number | string)
        if (w.end - w.cursor < bytes.length) return err('InvalidArgs')
        // the bytes before a fault are written; the cursor moves only when all are
        if (this.copy(w.cursor, bytes, true) < bytes.length) return err('PageFault')
        w.cursor += bytes.length
        return ok(null)
      }
      case 'vm_reader.read_val': {
        const r = this.ios.get(ev['reader'] as number)!
        const valType = ev['valType'] as IntType
        const bytes = SCRATCH.subarray(0, INT_BYTES[valType])
        if (r.end - r.cursor < bytes.length) return err('InvalidArgs')
        if (this.copy(r.cursor, bytes, false) < bytes.length) return err('PageFault')
        r.cursor += bytes.length
        return ok(decodeInt(valType))
      }
      case 'vm_reader.collect': {
        const r = this.ios.get(ev['reader'] as number)!
        const bytes = new Uint8Array(r.end - r.cursor)
        const n = this.copy(r.cursor, bytes, false)
        r.cursor += n
        return n < bytes.length ? err('PageFault') : ok(toBase64(bytes))
      }
      default:
        throw new Error(`the baseline has no ${e.type}`)
    }
  }

  /** The physical address of user VA `va`, or -1 (unmapped, or a write to a page without W). */
  private translate(va: number, write: boolean): number {
    const leaf = this.table.walk(va)
    if (leaf === null || (write && (leaf.prop.flags & PageFlags.W) === 0)) return -1
    return leaf.pa + (va % pageSize(leaf.level))
  }

  /**
   * Copies between user VA `va` and `bytes` page by page (`write`: into user memory, else out of
   * it), up to the first fault; how many bytes were copied.
   */
  private copy(va: number, bytes: Uint8Array, write: boolean): number {
    let done = 0
    while (done < bytes.length) {
      const pa = this.translate(va + done, write)
      if (pa < 0) break
      const n = Math.min(bytes.length - done, K4 - ((va + done) % K4))
      if (write) this.memory.set(bytes.subarray(done, done + n), pa)
      else bytes.set(this.memory.subarray(pa, pa + n), done)
      done += n
    }
    return done
  }
}

// ---- running -------------------------------------------------------------------------------------

/** The events on a fresh `MutableVmSpace` (its 64 MiB of memory allocated before the clock starts). */
export function runVmBaseline(events: readonly ModelEvent[]): { ms: number; space: MutableVmSpace; results: unknown[] } {
  const space = new MutableVmSpace()
  return { ...timeBaseline(events, space), space }
}

/**
 * Throws unless the model (a `runModel` of the events from `vmStart()`) and the baseline agree on
 * every result — an allocation's frame id, not its physical address — and on every page of the
 * window: mapped in both or neither, with the same property and bytes, the model's frames and the
 * baseline's in one-to-one correspondence.
 */
export function vmCrossCheck(events: readonly ModelEvent[], model: WorkloadRun, baseline: { space: MutableVmSpace; results: readonly unknown[] }): void {
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!
    let m = model.results[i]
    let b = baseline.results[i]
    if (e.type === 'frame_alloc.alloc_frame') {
      m = (m as { value?: { frame: number } }).value?.frame
      b = (b as { value?: { frame: number } }).value?.frame
    }
    if (!equal(m, b)) throw new Error(`event ${i} (${e.type}): the model returns ${JSON.stringify(m)}, the baseline ${JSON.stringify(b)}`)
  }
  const final = model.final
  const space = tableGet(final.vm.spaces, VM_SPACE)!
  const root = pageTableHandle(final, space.pageTable)!.rootPaddr
  const baseOfModel = new Map<number, number>()
  const modelOfBase = new Map<number, number>()
  for (let va = VM_WINDOW.start; va < VM_WINDOW.end; va += K4) {
    const w = pageWalk(final, root, va)
    const leaf = baseline.space.table.walk(va)
    if (w === null && leaf === null) continue
    if (w === null || leaf === null || !equal(w.prop, leaf.prop)) throw new Error(`page 0x${va.toString(16)}: the model maps ${JSON.stringify(w)}, the baseline ${JSON.stringify(leaf)}`)
    const pa = leaf.pa + (va % pageSize(leaf.level))
    if ((baseOfModel.get(w.pa) ?? pa) !== pa || (modelOfBase.get(pa) ?? w.pa) !== w.pa) throw new Error(`page 0x${va.toString(16)}: the model's frame 0x${w.pa.toString(16)} and the baseline's 0x${pa.toString(16)} do not correspond one to one`)
    baseOfModel.set(w.pa, pa)
    modelOfBase.set(pa, w.pa)
    if (!equal(readPhys(final, w.pa, K4), baseline.space.memory.subarray(pa, pa + K4))) throw new Error(`page 0x${va.toString(16)}: the model's bytes differ from the baseline's`)
  }
}
