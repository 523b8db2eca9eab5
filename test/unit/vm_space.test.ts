/**
 * VmSpace (behaviour.md §2.6) and user-space VM I/O with real bytes (§2.8): creation, activation,
 * cursors with map / unmap / protect_next and the TLB flusher, readers and writers through the
 * page table (PageFault on an unmapped page), the ghost VmSpaceOwner (register / unregister,
 * overlap rules), and bad input refused with the state unchanged. Every history must be clean in
 * both checking modes.
 */
import { describe, expect, it } from 'vitest'
import { MAX_USERSPACE_VADDR, PAGE_SIZE, REF_COUNT_UNUSED } from '../../src/arch/constants.js'
import { newUser, PageFlags } from '../../src/arch/page_prop.js'
import { createModel, type Model } from '../../src/api/model.js'
import { fromBase64, toBase64 } from '../../reducers/io/frame_io.js'
import { rcOf } from '../../src/model/slots.js'
import { tableGet } from '../../src/model/table.js'
import type { ModelEvent } from '../../reducers/types.js'
import { panicRule } from '../util.js'
import { variantOf } from '../../reducers/types.js'
import { vmCursorUnmap } from '../../reducers/vm_space/unmap.js'
import { issueTlbFlush } from '../../reducers/vm_space/flusher.js'
import { applyCall } from '../../reducers/index.js'
import { produce } from 'immer'

const RW = newUser(PageFlags.RW)
const R = newUser(PageFlags.R)
const K4 = PAGE_SIZE

type Ok<T> = { ok: true; value: T }

function both(body: (m: Model) => void): void {
  for (const check of ['full', 'incremental'] as const) {
    const m = createModel({ check, physicalMemory: 1 << 23 })
    body(m)
    expect(m.history.violations()).toEqual([])
  }
}

function okv<T>(r: unknown): T {
  expect((r as { ok: boolean }).ok).toBe(true)
  return (r as Ok<T>).value
}

function newSpace(m: Model): number {
  return m.call<{ vmSpace: number }>({ type: 'vm_space.new' }).vmSpace
}

function allocFrame(m: Model): { frame: number; paddr: number } {
  return okv(m.call({ type: 'frame_alloc.alloc_frame' }))
}

function cursorMut(m: Model, vmSpace: number, start: number, end: number): number {
  return okv<{ cursor: number }>(m.call({ type: 'vm_space.cursor_mut', vmSpace, vaStart: start, vaEnd: end })).cursor
}

/** Maps a fresh frame at `va` of `vmSpace` (a clone of it stays with the caller); returns the caller's frame handle and paddr. */
function mapFresh(m: Model, vmSpace: number, va: number, prop = RW): { frame: number; paddr: number } {
  const f = allocFrame(m)
  const keep = m.call<{ frame: number }>({ type: 'frame.clone', frame: f.frame })
  const c = cursorMut(m, vmSpace, va, va + K4)
  m.dispatch({ type: 'vm_cursor_mut.map', cursor: c, frame: f.frame, prop })
  m.dispatch({ type: 'vm_cursor.drop', cursor: c })
  return { frame: keep.frame, paddr: f.paddr }
}

function writeBytes(m: Model, vmSpace: number, va: number, bytes: Uint8Array): unknown {
  const w = okv<{ writer: number }>(m.call({ type: 'vm_space.writer', vmSpace, va, len: bytes.length })).writer
  const r = m.call<{ reader: number }>({ type: 'frame.reader', frame: scratch(m, bytes) }).reader
  const res = m.call({ type: 'vm_writer.write_fallible', writer: w, reader: r })
  m.dispatch({ type: 'vm_writer.drop', writer: w })
  m.dispatch({ type: 'vm_reader.drop', reader: r })
  return res
}

/** A kernel frame holding `bytes` at offset 0 (returns its handle). */
function scratch(m: Model, bytes: Uint8Array): number {
  const f = allocFrame(m)
  m.dispatch({ type: 'frame.write_bytes', frame: f.frame, offset: 0, bytes: toBase64(bytes) })
  return f.frame
}

function collect(m: Model, vmSpace: number, va: number, len: number): unknown {
  const r = okv<{ reader: number }>(m.call({ type: 'vm_space.reader', vmSpace, va, len })).reader
  const res = m.call({ type: 'vm_reader.collect', reader: r })
  m.dispatch({ type: 'vm_reader.drop', reader: r })
  return res
}

describe('VmSpace lifecycle and activation', () => {
  it('new gives an empty user page table; drop tears it down', () =>
    both((m) => {
      const vs = newSpace(m)
      const r = tableGet(m.state.vm.spaces, vs)!
      expect(tableGet(m.state.pt.tables, r.pageTable)!.config).toBe('user')
      expect(r.owner.active).toBe(false)
      const f = mapFresh(m, vs, 0x10000)
      expect(rcOf(m.state, f.paddr / K4)).toBe(2)
      m.dispatch({ type: 'vm_space.drop', vmSpace: vs })
      expect(tableGet(m.state.vm.spaces, vs)).toBeNull()
      expect(rcOf(m.state, f.paddr / K4)).toBe(1) // the PTE's reference was released
    }))

  it('activate is a no-op when already active; the activated space outlives its handle until another is activated', () =>
    both((m) => {
      const a = newSpace(m)
      const b = newSpace(m)
      m.dispatch({ type: 'vm_space.activate', vmSpace: a })
      const s = m.state
      m.dispatch({ type: 'vm_space.activate', vmSpace: a })
      expect(m.state).toBe(s)
      m.dispatch({ type: 'vm_space.drop', vmSpace: a })
      expect(tableGet(m.state.vm.spaces, a)!.dropped).toBe(true)
      m.dispatch({ type: 'vm_space.activate', vmSpace: b })
      expect(tableGet(m.state.vm.spaces, a)).toBeNull()
      expect(m.state.vm.activated).toBe(b)
    }))
})

describe('VmSpace cursors', () => {
  it('page-table errors become AccessDenied, nothing changed', () =>
    both((m) => {
      const vs = newSpace(m)
      const s = m.state
      expect(m.call({ type: 'vm_space.cursor', vmSpace: vs, vaStart: 0x1000, vaEnd: 0x1000 })).toEqual({ ok: false, error: 'AccessDenied' })
      expect(m.call({ type: 'vm_space.cursor_mut', vmSpace: vs, vaStart: 0x1001, vaEnd: 0x3000 })).toEqual({ ok: false, error: 'AccessDenied' })
      expect(m.call({ type: 'vm_space.cursor', vmSpace: vs, vaStart: 0, vaEnd: 2 ** 48 })).toEqual({ ok: false, error: 'AccessDenied' })
      expect(m.state.vm).toBe(s.vm)
    }))

  it('map replaces an occupied slot silently, releasing the old frame after the flush; query/virt_addr use the page-table events', () =>
    both((m) => {
      const vs = newSpace(m)
      const old = mapFresh(m, vs, 0x20000)
      const f = allocFrame(m)
      const c = cursorMut(m, vs, 0x20000, 0x22000)
      const res = m.call({ type: 'vm_cursor_mut.map', cursor: c, frame: f.frame, prop: R })
      expect(res).toBeNull()
      expect(m.call({ type: 'cursor.virt_addr', cursor: c })).toBe(0x21000)
      expect(rcOf(m.state, old.paddr / K4)).toBe(1) // only the caller's clone is left
      m.dispatch({ type: 'cursor.jump', cursor: c, va: 0x20000 })
      const q = okv<[{ start: number; end: number }, { frame: number; prop: unknown }]>(m.call({ type: 'cursor.query', cursor: c }))
      expect(q[0]).toEqual({ start: 0x20000, end: 0x21000 })
      expect(tableGet(m.state.frames, q[1].frame)!.paddr).toBe(f.paddr)
      m.dispatch({ type: 'frame.drop', frame: q[1].frame })
      m.dispatch({ type: 'vm_cursor.drop', cursor: c })
    }))

  it('unmap returns the number of 4 KiB frames (0 for an empty range) and releases them after the flush', () =>
    both((m) => {
      const vs = newSpace(m)
      const a = mapFresh(m, vs, 0x40000)
      const b = mapFresh(m, vs, 0x42000)
      const c = cursorMut(m, vs, 0x40000, 0x50000)
      expect(m.call({ type: 'vm_cursor_mut.unmap', cursor: c, len: 0 })).toBe(0)
      expect(m.call({ type: 'vm_cursor_mut.unmap', cursor: c, len: 0x10000 })).toBe(2)
      expect(rcOf(m.state, a.paddr / K4)).toBe(1)
      expect(rcOf(m.state, b.paddr / K4)).toBe(1)
      expect(tableGet(m.state.vm.cursors, c)!.flusher).toEqual({ ops: [], deferred: [] })
      m.dispatch({ type: 'vm_cursor.drop', cursor: c })
    }))

  it('unmap counts the frames of a stray sub-tree', () =>
    both((m) => {
      const vs = newSpace(m)
      for (let i = 0; i < 3; i++) mapFresh(m, vs, 0x200000 + i * K4)
      const c = cursorMut(m, vs, 0x200000, 0x400000)
      expect(m.call({ type: 'vm_cursor_mut.unmap', cursor: c, len: 0x200000 })).toBe(3)
      m.dispatch({ type: 'vm_cursor.drop', cursor: c })
    }))

  it('protect_next changes the property (no flush); the flusher issues and dispatches', () =>
    both((m) => {
      const vs = newSpace(m)
      mapFresh(m, vs, 0x60000)
      const c = cursorMut(m, vs, 0x60000, 0x70000)
      expect(m.call({ type: 'vm_cursor_mut.protect_next', cursor: c, len: 0x10000, prop: R })).toEqual({ start: 0x60000, end: 0x61000 })
      m.dispatch({ type: 'vm_cursor_mut.issue_tlb_flush', cursor: c, op: { kind: 'Range', start: 0x60000, end: 0x61000 } })
      expect(tableGet(m.state.vm.cursors, c)!.flusher!.ops).toHaveLength(1)
      m.dispatch({ type: 'vm_cursor_mut.dispatch_tlb_flush', cursor: c })
      expect(tableGet(m.state.vm.cursors, c)!.flusher!.ops).toHaveLength(0)
      m.dispatch({ type: 'vm_cursor.drop', cursor: c })
    }))

  it('a Frame moved into a flusher (issue_tlb_flush_with) is no longer the caller\'s: drop, clone, map refuse it, nothing changes; the dispatch releases it', () =>
    both((m) => {
      const vs = newSpace(m)
      const f = allocFrame(m)
      const c = cursorMut(m, vs, 0x60000, 0x70000)
      m.dispatch({ type: 'vm_cursor_mut.issue_tlb_flush_with', cursor: c, op: { kind: 'Address', va: 0x60000 }, release: { kind: 'frame', handle: f.frame } })
      const before = m.state
      const takes: Array<[ModelEvent, string]> = [
        [{ type: 'frame.drop', frame: f.frame } as ModelEvent, 'REQ-EMB-FRAMEDROP-1'],
        [{ type: 'frame.clone', frame: f.frame } as ModelEvent, 'REQ-HANDLE-1'],
        [{ type: 'vm_cursor_mut.map', cursor: c, frame: f.frame, prop: RW } as ModelEvent, 'REQ-EMB-MAP-2'],
        [{ type: 'vm_cursor_mut.issue_tlb_flush_with', cursor: c, op: { kind: 'All' }, release: { kind: 'frame', handle: f.frame } } as ModelEvent, 'REQ-HANDLE-1'],
      ]
      for (const [e, rule] of takes) {
        expect(panicRule(() => m.dispatch(e))).toBe(rule)
        expect(m.state).toBe(before)
      }
      m.dispatch({ type: 'vm_cursor_mut.dispatch_tlb_flush', cursor: c })
      expect(tableGet(m.state.frames, f.frame)).toBeNull()
      expect(rcOf(m.state, f.paddr / K4)).toBe(REF_COUNT_UNUSED) // the last reference: the slot is free again
      m.dispatch({ type: 'vm_cursor.drop', cursor: c })
    }))

  it('the page-table layer refuses them too: a kept Frame for cursor_mut.map or child.from_frame, a kept PageTableNode for drop or child.from_node (REQ-HANDLE-1), nothing changed', () =>
    both((m) => {
      const vs = newSpace(m)
      const c = cursorMut(m, vs, 0x60000, 0x70000)
      const f = allocFrame(m)
      const node = m.call<{ node: number }>({ type: 'page_table_node.alloc', level: 1, config: 'user' } as ModelEvent).node
      const table = m.call<{ pageTable: number; rootPaddr: number }>({ type: 'page_table.new', config: 'user' } as ModelEvent)
      m.dispatch({ type: 'vm_cursor_mut.issue_tlb_flush_with', cursor: c, op: { kind: 'Address', va: 0x60000 }, release: { kind: 'frame', handle: f.frame } } as ModelEvent)
      m.dispatch({ type: 'vm_cursor_mut.issue_tlb_flush_with', cursor: c, op: { kind: 'Address', va: 0x61000 }, release: { kind: 'node', handle: node } } as ModelEvent)
      const ptCursor = okv<{ cursor: number }>(m.call({ type: 'page_table.cursor_mut', pageTable: table.pageTable, vaStart: 0x80000, vaEnd: 0x90000 } as ModelEvent)).cursor
      const before = m.state
      const takes: ModelEvent[] = [
        { type: 'cursor_mut.map', cursor: ptCursor, item: { frame: f.frame, prop: RW } } as ModelEvent,
        { type: 'child.from_frame', frame: f.frame, prop: RW, tree: table.rootPaddr / K4, path: '0', parentLevel: 1 } as ModelEvent,
        { type: 'page_table_node.drop', node } as ModelEvent,
        { type: 'child.from_node', node } as ModelEvent,
      ]
      for (const e of takes) {
        let message = ''
        expect(panicRule(() => {
          try {
            m.dispatch(e)
          } catch (err) {
            message = String(err)
            throw err
          }
        })).toBe('REQ-HANDLE-1')
        expect(message).toContain("TLB flusher")
        expect(m.state).toBe(before)
      }
      // … nor may a PageTable's own root handle move into a flusher (it was moved into the table)
      const root = tableGet(m.state.pt.tables, table.pageTable)!.root
      expect(panicRule(() => m.dispatch({ type: 'vm_cursor_mut.issue_tlb_flush_with', cursor: c, op: { kind: 'All' }, release: { kind: 'node', handle: root } } as ModelEvent))).toBe('REQ-HANDLE-1')
      expect(m.state).toBe(before)
      m.dispatch({ type: 'cursor.drop', cursor: ptCursor } as ModelEvent)
      m.dispatch({ type: 'vm_cursor.drop', cursor: c } as ModelEvent) // the drop dispatches: both released
      expect(tableGet(m.state.frames, f.frame)).toBeNull()
      expect(tableGet(m.state.pt.nodes, node)).toBeNull()
    }))

  it('REQ-TLB-OP-1 refuses an op that is none of All / Address / Range: an internal flush step is not schema-parsed', () => {
    const m = createModel({ check: 'off', physicalMemory: 1 << 23 })
    const c = cursorMut(m, newSpace(m), 0x60000, 0x70000)
    const bogus = { type: 'vm_cursor_mut.issue_tlb_flush', cursor: c, op: { kind: 'Page', va: 0x60000 } } as unknown as ModelEvent
    expect(panicRule(() => applyCall(issueTlbFlush as never, m.state, bogus))).toBe('REQ-TLB-OP-1')
    expect(panicRule(() => applyCall(issueTlbFlush as never, m.state, { ...bogus, op: {} } as unknown as ModelEvent))).toBe('REQ-TLB-OP-1')
    expect(applyCall(issueTlbFlush as never, m.state, { ...bogus, op: { kind: 'All' } } as unknown as ModelEvent).result).toBeNull()
  })
})

describe('user-space readers and writers', () => {
  it('bytes written through a writer are read back through a reader of another VmSpace mapping the same frame; unmap then read is PageFault', () =>
    both((m) => {
      const a = newSpace(m)
      const b = newSpace(m)
      const shared = mapFresh(m, a, 0x100000)
      // map the same frame in b (the caller's clone moves into b's PTE)
      const c = cursorMut(m, b, 0x300000, 0x301000)
      m.dispatch({ type: 'vm_cursor_mut.map', cursor: c, frame: shared.frame, prop: RW })
      m.dispatch({ type: 'vm_cursor.drop', cursor: c })
      m.dispatch({ type: 'vm_space.activate', vmSpace: a })
      const msg = new TextEncoder().encode('hello, user space')
      expect(writeBytes(m, a, 0x100010, msg)).toEqual({ ok: true, value: msg.length })
      m.dispatch({ type: 'vm_space.activate', vmSpace: b })
      const got = okv<string>(collect(m, b, 0x300010, msg.length))
      expect(fromBase64(got)).toEqual(msg)
      // unmap in b, then read: PageFault (the flush removed the cached translation)
      const u = cursorMut(m, b, 0x300000, 0x301000)
      expect(m.call({ type: 'vm_cursor_mut.unmap', cursor: u, len: K4 })).toBe(1)
      m.dispatch({ type: 'vm_cursor.drop', cursor: u })
      expect(collect(m, b, 0x300010, msg.length)).toEqual({ ok: false, error: 'PageFault' })
    }))

  it('read_fallible stops at the first unmapped page with the count copied so far', () =>
    both((m) => {
      const vs = newSpace(m)
      mapFresh(m, vs, 0x500000)
      m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
      const r = okv<{ reader: number }>(m.call({ type: 'vm_space.reader', vmSpace: vs, va: 0x500800, len: K4 })).reader
      const sink = allocFrame(m)
      const w = m.call<{ writer: number }>({ type: 'frame.writer', frame: sink.frame }).writer
      expect(m.call({ type: 'vm_reader.read_fallible', reader: r, writer: w })).toEqual({ ok: false, error: ['PageFault', 0x800] })
      expect(tableGet(m.state.vmIos, r)!.cursor).toBe(0x501000)
      expect(m.call({ type: 'vm_reader.read_val', reader: r, valType: 'u32' })).toEqual({ ok: false, error: 'PageFault' })
      expect(tableGet(m.state.vmIos, r)!.cursor).toBe(0x501000)
      m.dispatch({ type: 'vm_reader.drop', reader: r })
      m.dispatch({ type: 'vm_writer.drop', writer: w })
    }))

  it('a writer over one frame mapped at two VAs: the copy writes page by page, the last write wins (as on hardware)', () =>
    both((m) => {
      const vs = newSpace(m)
      const f = mapFresh(m, vs, 0x700000)
      // the caller's clone of the same frame mapped again one page up
      const c = cursorMut(m, vs, 0x701000, 0x702000)
      m.dispatch({ type: 'vm_cursor_mut.map', cursor: c, frame: f.frame, prop: RW })
      m.dispatch({ type: 'vm_cursor.drop', cursor: c })
      m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
      // an 8 KiB source: 0x11 bytes, then 0x22 bytes
      const seg = okv<{ segment: number }>(m.call({ type: 'frame_alloc.alloc_segment', nframes: 2 })).segment
      m.dispatch({ type: 'segment.write_bytes', segment: seg, offset: 0, bytes: toBase64(new Uint8Array(K4).fill(0x11)) })
      m.dispatch({ type: 'segment.write_bytes', segment: seg, offset: K4, bytes: toBase64(new Uint8Array(K4).fill(0x22)) })
      const r = m.call<{ reader: number }>({ type: 'segment.reader', segment: seg }).reader
      const w = okv<{ writer: number }>(m.call({ type: 'vm_space.writer', vmSpace: vs, va: 0x700000, len: 2 * K4 })).writer
      expect(m.call({ type: 'vm_writer.write_fallible', writer: w, reader: r })).toEqual({ ok: true, value: 2 * K4 })
      // both VAs read the second page's bytes
      expect(fromBase64(okv<string>(collect(m, vs, 0x700000, 16)))).toEqual(new Uint8Array(16).fill(0x22))
      expect(fromBase64(okv<string>(collect(m, vs, 0x701ff0, 16)))).toEqual(new Uint8Array(16).fill(0x22))
      m.dispatch({ type: 'vm_writer.drop', writer: w })
      // a write_val across the two VAs lands at the frame's end and start
      const w2 = okv<{ writer: number }>(m.call({ type: 'vm_space.writer', vmSpace: vs, va: 0x700ffc, len: 8 })).writer
      expect(m.call({ type: 'vm_writer.write_val', writer: w2, valType: 'u64', value: '578437695752307201' })).toEqual({ ok: true, value: null })
      expect(fromBase64(okv<string>(collect(m, vs, 0x701000, 4)))).toEqual(Uint8Array.of(5, 6, 7, 8))
      expect(fromBase64(okv<string>(collect(m, vs, 0x700ffc, 4)))).toEqual(Uint8Array.of(1, 2, 3, 4))
      // nothing left: a value that does not fit is Err(InvalidArgs), nothing written or moved
      const before = m.state.memory
      expect(m.call({ type: 'vm_writer.write_val', writer: w2, valType: 'u8', value: 9 })).toEqual({ ok: false, error: 'InvalidArgs' })
      expect(m.state.memory).toBe(before)
      m.dispatch({ type: 'vm_writer.drop', writer: w2 })
      m.dispatch({ type: 'vm_reader.drop', reader: r })
    }))

  it('write_val / read_val round-trip little-endian values; writing a read-only page faults', () =>
    both((m) => {
      const vs = newSpace(m)
      mapFresh(m, vs, 0x600000)
      mapFresh(m, vs, 0x601000, R)
      m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
      const w = okv<{ writer: number }>(m.call({ type: 'vm_space.writer', vmSpace: vs, va: 0x600ff8, len: 16 })).writer
      expect(m.call({ type: 'vm_writer.write_val', writer: w, valType: 'u64', value: '1234605616436508552' })).toEqual({ ok: true, value: null })
      expect(m.call({ type: 'vm_writer.write_val', writer: w, valType: 'u32', value: 7 })).toEqual({ ok: false, error: 'PageFault' })
      expect(m.call({ type: 'vm_writer.fill_zeros', writer: w, len: 8 })).toEqual({ ok: false, error: ['PageFault', 0] })
      m.dispatch({ type: 'vm_writer.drop', writer: w })
      const r = okv<{ reader: number }>(m.call({ type: 'vm_space.reader', vmSpace: vs, va: 0x600ff8, len: 8 })).reader
      expect(m.call({ type: 'vm_reader.read_val', reader: r, valType: 'u64' })).toEqual({ ok: true, value: '1234605616436508552' })
      expect(m.call({ type: 'vm_reader.read_val', reader: r, valType: 'u8' })).toEqual({ ok: false, error: 'InvalidArgs' })
      m.dispatch({ type: 'vm_reader.drop', reader: r })
    }))

  it('reader/writer: AccessDenied unless active, on overflow or beyond MAX_USERSPACE_VADDR; mappings not consulted', () =>
    both((m) => {
      const vs = newSpace(m)
      const s0 = m.state
      expect(m.call({ type: 'vm_space.reader', vmSpace: vs, va: 0x1000, len: 8 })).toEqual({ ok: false, error: 'AccessDenied' })
      expect(m.state).toBe(s0)
      m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
      const s1 = m.state
      expect(m.call({ type: 'vm_space.writer', vmSpace: vs, va: MAX_USERSPACE_VADDR - 4, len: 8 })).toEqual({ ok: false, error: 'AccessDenied' })
      expect(m.call({ type: 'vm_space.writer', vmSpace: vs, va: Number.MAX_SAFE_INTEGER, len: 8 })).toEqual({ ok: false, error: 'AccessDenied' })
      expect(m.state).toBe(s1)
      const r = okv<{ reader: number }>(m.call({ type: 'vm_space.reader', vmSpace: vs, va: 0x7000_0000, len: 64 })).reader
      expect(tableGet(m.state.vmIos, r)!.owner).toMatchObject({ range: { start: 0x7000_0000, end: 0x7000_0040 }, isFallible: true, isKernel: false, memView: null })
      m.dispatch({ type: 'vm_reader.drop', reader: r })
    }))
})

describe('the ghost VmSpaceOwner', () => {
  it('register / unregister readers and writers: views lent and returned', () =>
    both((m) => {
      const vs = newSpace(m)
      mapFresh(m, vs, 0x800000)
      mapFresh(m, vs, 0x801000)
      m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
      const w = okv<{ writer: number }>(m.call({ type: 'vm_space.writer', vmSpace: vs, va: 0x800000, len: K4 })).writer
      m.dispatch({ type: 'vm_space.register_writer', vmSpace: vs, writer: w })
      const o = tableGet(m.state.vm.spaces, vs)!.owner
      expect(o.writers).toEqual([w])
      expect(o.memView!.mappings.map((x) => x.vaRange.start)).toEqual([0x801000])
      const r = okv<{ reader: number }>(m.call({ type: 'vm_space.reader', vmSpace: vs, va: 0x801800, len: 0x100 })).reader
      m.dispatch({ type: 'vm_space.register_reader', vmSpace: vs, reader: r })
      expect(tableGet(m.state.vm.spaces, vs)!.readers).toEqual([r])
      // reading through a registered reader keeps its owner in step (inv_with)
      expect(m.call({ type: 'vm_reader.read_val', reader: r, valType: 'u16' })).toEqual({ ok: true, value: 0 })
      m.dispatch({ type: 'vm_space.unregister_reader', vmSpace: vs, reader: r })
      m.dispatch({ type: 'vm_space.unregister_writer', vmSpace: vs, writer: w })
      const after = tableGet(m.state.vm.spaces, vs)!.owner
      expect(after.memView!.mappings.map((x) => x.vaRange.start)).toEqual([0x800000, 0x801000])
      m.dispatch({ type: 'vm_reader.drop', reader: r })
      m.dispatch({ type: 'vm_writer.drop', writer: w })
    }))

  it('bad input: unknown ids, a reader overlapping a writer, an unmapped range, a registered range under a cursor, a dropped borrow — clear errors, nothing changed', () => {
    const m = createModel({ check: 'full', physicalMemory: 1 << 23 })
    const vs = newSpace(m)
    mapFresh(m, vs, 0x900000)
    m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
    const w = okv<{ writer: number }>(m.call({ type: 'vm_space.writer', vmSpace: vs, va: 0x900000, len: 0x100 })).writer
    m.dispatch({ type: 'vm_space.register_writer', vmSpace: vs, writer: w })
    const before = m.state
    const length = m.history.length
    const refuse = (e: ModelEvent): string => panicRule(() => m.dispatch(e))
    expect(refuse({ type: 'vm_space.activate', vmSpace: 99 })).toBe('REQ-HANDLE-1')
    expect(refuse({ type: 'vm_cursor_mut.unmap', cursor: 42, len: K4 })).toBe('REQ-EMB-UNMAP-1')
    expect(refuse({ type: 'vm_space.reader', vmSpace: vs, va: 0x900080, len: 0x10 })).toBe('REQ-VMSPACE-CREATEREADER-2')
    const r = okv<{ reader: number }>(m.call({ type: 'vm_space.reader', vmSpace: vs, va: 0x910000, len: 0x10 })).reader
    const mid = m.state
    const midLength = m.history.length
    expect(refuse({ type: 'vm_space.register_reader', vmSpace: vs, reader: r })).toBe('REQ-VMSPACE-ACTREADER-2')
    expect(refuse({ type: 'vm_reader.skip', reader: r, n: 0x11 })).toBe('REQ-VMIO-SKIP-1')
    expect(refuse({ type: 'vm_writer.drop', writer: w })).toBe('REQ-VMIO-REGISTERED-1')
    expect(refuse({ type: 'vm_space.drop', vmSpace: vs })).toBe('REQ-EMB-DROPVMSPACE-3')
    expect(m.state).toBe(mid)
    expect(m.history.length).toBe(midLength)
    m.dispatch({ type: 'vm_reader.drop', reader: r })
    const c = cursorMut(m, vs, 0x900000, 0x901000)
    expect(refuse({ type: 'vm_cursor_mut.unmap', cursor: c, len: K4 })).toBe('REQ-VMSCURSOR-1')
    m.dispatch({ type: 'vm_cursor.drop', cursor: c })
    // the refused calls changed nothing: the space and its registered writer are as they were
    expect(tableGet(m.state.vm.spaces, vs)).toBe(tableGet(before.vm.spaces, vs))
    expect(tableGet(m.state.vmIos, w)).toBe(tableGet(before.vmIos, w))
    expect(m.history.length).toBe(length + 4) // reader, its drop, the cursor and its drop
    expect(m.history.violations()).toEqual([])
  })
})

describe('a faulty reducer is caught at its step', () => {
  it('an unmap that forgets to release the frames (their slots keep the old counts and paths)', () => {
    for (const check of ['full', 'incremental'] as const) {
      const forgetful = variantOf(vmCursorUnmap, (s, e) => {
        const out = vmCursorUnmap.reduce(s, e)
        return { ...out, steps: [], snapshot: produce(out.snapshot, (d) => {
          d.metaSlots = s.metaSlots as typeof d.metaSlots
          d.regions.slotOwners = s.regions.slotOwners as typeof d.regions.slotOwners
        }) }
      })
      const m = createModel({ check, physicalMemory: 1 << 23, variants: [forgetful] })
      const vs = newSpace(m)
      mapFresh(m, vs, 0x10000)
      mapFresh(m, vs, 0x11000)
      const c = cursorMut(m, vs, 0x10000, 0x20000)
      expect(m.history.violations()).toEqual([])
      const at = m.history.length
      m.dispatch({ type: 'vm_cursor_mut.unmap', cursor: c, len: 0x10000 })
      const v = m.history.violations()
      expect(v.length).toBeGreaterThan(0)
      expect(new Set(v.map((x) => x.step))).toEqual(new Set([at]))
    }
  })
})
