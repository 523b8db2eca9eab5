/**
 * Frame and segment memory, `VmIo`, and kernel `VmReader` / `VmWriter`: each test states what a
 * call returns and exactly what it changes.
 */
import { describe, expect, it } from 'vitest'
import { PAGE_SIZE } from '../../src/arch/constants.js'
import { createModel, type Model } from '../../src/api/model.js'
import { unwrap } from '../../src/api/result.js'
import { vmIoOf, type VmIo } from '../../src/api/vm_io.js'
import { Checker } from '../../src/check/checker.js'
import { computeChanges } from '../../src/check/changes.js'
import { defaultRegistry } from '../../src/check/rules/index.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { tableGet } from '../../src/model/table.js'
import { decodeVal, encodeVal, fromBase64, toBase64 } from '../../reducers/io/frame_io.js'
import { pattern, segmentState } from '../firing/cases/io.js'
import { setCells } from '../firing/cases/util.js'
import { produce } from 'immer'
import { panicRule } from '../util.js'

/** The parts of the store a step changed, by table (only the non-empty ones), plus counters. */
function touched(before: Snapshot, after: Snapshot): Record<string, number[] | true> {
  const c = computeChanges(before, after)
  const out: Record<string, number[] | true> = {}
  for (const k of ['slotCells', 'parking', 'obligations', 'uniqueOwners', 'memory', 'frames', 'segments', 'uniqueFrames', 'lists', 'vmIos'] as const) {
    if (c[k].size > 0) out[k] = [...c[k]].sort((a, b) => a - b)
  }
  if (JSON.stringify(before.counters) !== JSON.stringify(after.counters)) out['counters'] = true
  if (JSON.stringify(before.allocator) !== JSON.stringify(after.allocator)) out['allocator'] = true
  return out
}

/** Runs `fn` and returns what it returned and what it changed. */
function step<T>(m: Model, fn: () => T): { value: T; changed: Record<string, number[] | true> } {
  const before = m.state
  const value = fn()
  return { value, changed: touched(before, m.state) }
}

function bytesOf(m: Model, pa: number, n: number): number[] {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push(tableGet(m.state.memory, Math.floor((pa + i) / PAGE_SIZE))?.[(pa + i) % PAGE_SIZE] ?? 0)
  return out
}

/** A model with `n` untyped frames (ids 0.., paddrs 0, 0x1000, …); returns the VmIo of each. */
function frames(n: number, check: 'full' | 'incremental' = 'full'): { m: Model; io: VmIo[] } {
  const m = createModel({ check })
  const io: VmIo[] = []
  for (let i = 0; i < n; i++) io.push(vmIoOf(m, { kind: 'frame', id: unwrap(m.frames.allocFrame()).id }))
  return { m, io }
}

const INVALID = { ok: false, error: 'InvalidArgs' }

describe('value codec', () => {
  it('is little-endian and exact for u64', () => {
    expect([...encodeVal('u32', 0x11223344)]).toEqual([0x44, 0x33, 0x22, 0x11])
    expect([...encodeVal('u16', 0xbeef)]).toEqual([0xef, 0xbe])
    expect([...encodeVal('u64', '18446744073709551615')]).toEqual(Array(8).fill(0xff))
    expect(decodeVal('u64', Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0x80))).toBe('9223372036854775809')
    expect(decodeVal('u32', Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toBe(0xffffffff)
  })

  it('round-trips base64 of every length', () => {
    for (let n = 0; n < 10; n++) {
      const b = pattern(n)
      expect(toBase64(b)).toBe(Buffer.from(b).toString('base64'))
      expect([...fromBase64(toBase64(b))!]).toEqual([...b])
    }
    expect(fromBase64('abcde')).toBeNull()
    expect(fromBase64('ab$d')).toBeNull()
  })
})

describe('VmIo on a frame', () => {
  it('write_bytes near the end writes min(n, size - off) bytes, returns that count, and touches only that page', () => {
    const { m, io } = frames(2)
    const { value, changed } = step(m, () => io[0]!.writeBytes(PAGE_SIZE - 2, Uint8Array.of(1, 2, 3, 4)))
    expect(value).toEqual({ ok: true, value: 2 })
    expect(changed).toEqual({ memory: [0] })
    expect(bytesOf(m, PAGE_SIZE - 4, 8)).toEqual([0, 0, 1, 2, 0, 0, 0, 0]) // the next frame is untouched
  })

  it('fails with InvalidArgs only when off > size, and then changes nothing', () => {
    const { m, io } = frames(1)
    const s = m.state
    expect(io[0]!.writeBytes(PAGE_SIZE, Uint8Array.of(1))).toEqual({ ok: true, value: 0 })
    expect(io[0]!.writeBytes(PAGE_SIZE + 1, Uint8Array.of(1))).toEqual(INVALID)
    expect(io[0]!.readBytes(PAGE_SIZE, 4)).toEqual({ ok: true, value: new Uint8Array(0) })
    expect(io[0]!.readBytes(PAGE_SIZE + 1, 0)).toEqual(INVALID)
    expect(io[0]!.readVal(PAGE_SIZE + 1, 'u8')).toEqual(INVALID)
    expect(io[0]!.writeVal(PAGE_SIZE + 1, 'u8', 1)).toEqual(INVALID)
    expect(io[0]!.writeVals(PAGE_SIZE + 1, 'u8', [1, 2], 0)).toEqual(INVALID)
    expect(m.state).toBe(s)
  })

  it('read_bytes returns the stored bytes, at most up to the end, and changes nothing', () => {
    const { m, io } = frames(1)
    io[0]!.writeBytes(PAGE_SIZE - 8, pattern(8))
    const { value, changed } = step(m, () => io[0]!.readBytes(PAGE_SIZE - 6, 100))
    expect(value).toEqual({ ok: true, value: pattern(8).subarray(2) })
    expect(changed).toEqual({})
  })

  it('values are little-endian; u64 is exact; structs are bytes', () => {
    const { m, io } = frames(1)
    expect(step(m, () => io[0]!.writeVal(8, 'u32', 0x11223344))).toEqual({ value: { ok: true, value: undefined }, changed: { memory: [0] } })
    expect(bytesOf(m, 8, 4)).toEqual([0x44, 0x33, 0x22, 0x11])
    expect(io[0]!.readVal(8, 'u16')).toEqual({ ok: true, value: 0x3344 })
    io[0]!.writeVal(16, 'u64', 2n ** 64n - 2n)
    expect(io[0]!.readVal(16, 'u64')).toEqual({ ok: true, value: 2n ** 64n - 2n })
    io[0]!.writeVal(32, { size: 3 }, Uint8Array.of(7, 8, 9))
    expect(io[0]!.readVal(31, { size: 5 })).toEqual({ ok: true, value: Uint8Array.of(0, 7, 8, 9, 0) })
  })

  it('read_val near the end zero-pads the value; write_val writes the bytes that fit (both Ok)', () => {
    const { m, io } = frames(2)
    io[1]!.writeBytes(0, Uint8Array.of(0xaa, 0xbb)) // the next frame's first bytes must not leak in
    io[0]!.writeBytes(PAGE_SIZE - 2, Uint8Array.of(0x01, 0x02))
    expect(io[0]!.readVal(PAGE_SIZE - 2, 'u32')).toEqual({ ok: true, value: 0x0201 })
    expect(io[0]!.readVal(PAGE_SIZE, 'u64')).toEqual({ ok: true, value: 0n })
    const { value, changed } = step(m, () => io[0]!.writeVal(PAGE_SIZE - 1, 'u32', 0x11223344))
    expect(value).toEqual({ ok: true, value: undefined })
    expect(changed).toEqual({ memory: [0] })
    expect(bytesOf(m, PAGE_SIZE - 2, 4)).toEqual([0x01, 0x44, 0xaa, 0xbb])
  })

  it('write_vals: align-rounded offsets; the item at off == size counts; a later failure returns the count', () => {
    const { m, io } = frames(1)
    expect(io[0]!.writeVals(PAGE_SIZE - 6, 'u16', [1, 2, 3, 4, 5, 6], 0)).toEqual({ ok: true, value: 4 })
    expect(bytesOf(m, PAGE_SIZE - 6, 6)).toEqual([1, 0, 2, 0, 3, 0])
    // align 8: offset 1 -> 8, u16 items every 8 bytes
    const { value, changed } = step(m, () => io[0]!.writeVals(1, 'u16', [0x0a0b, 0x0c0d], 8))
    expect(value).toEqual({ ok: true, value: 2 })
    expect(changed).toEqual({ memory: [0] })
    expect(bytesOf(m, 0, 20)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0x0b, 0x0a, 0, 0, 0, 0, 0, 0, 0x0d, 0x0c, 0, 0])
    expect(io[0]!.writeVals(0, 'u8', [], 0)).toEqual({ ok: true, value: 0 })
    // align_up(4095, 4) = 4096 = size: "written" (0 bytes) and counted; the next, at 4100, fails
    expect(step(m, () => io[0]!.writeVals(PAGE_SIZE - 1, 'u8', [1, 2, 3], 4))).toEqual({ value: { ok: true, value: 1 }, changed: {} })
  })

  it('write_vals panics on an align that is not a power of two (align_up asserts), state unchanged', () => {
    const { m, io } = frames(1)
    const s = m.state
    expect(panicRule(() => io[0]!.writeVals(0, 'u8', [1], 6))).toBe('REQ-VMIO-WRITEVALS-1')
    expect(m.state).toBe(s)
  })

  it('a value that does not fit its type is rejected', () => {
    const { m, io } = frames(1)
    const s = m.state
    expect(panicRule(() => io[0]!.writeVal(0, 'u16', 0x10000))).toBe('REQ-VMIO-VAL-1')
    expect(panicRule(() => io[0]!.writeVal(0, { size: 2 }, Uint8Array.of(1)))).toBe('REQ-VMIO-VAL-1')
    expect(panicRule(() => io[0]!.writeVal(0, 'u64', 2n ** 64n))).toBe('REQ-VMIO-VAL-1')
    expect(m.state).toBe(s)
  })

  it('typed frames have no VmIo, reader or writer', () => {
    const m = createModel({ check: 'full' })
    const f = unwrap(m.frames.allocFrame({ meta: { type: 'MockFrameMeta', untyped: false, value: null } }))
    const io = vmIoOf(m, { kind: 'frame', id: f.id })
    expect(panicRule(() => io.readBytes(0, 1))).toBe('REQ-VMIO-UNTYPED-1')
    expect(panicRule(() => io.writer())).toBe('REQ-VMIO-UNTYPED-1')
  })

  it('a dropped frame has no memory calls', () => {
    const { m, io } = frames(1)
    m.dispatch({ type: 'frame.drop', frame: 0 })
    expect(panicRule(() => io[0]!.readBytes(0, 1))).toBe('REQ-HANDLE-1')
  })

  it('writes are copy-on-write: an earlier snapshot keeps its bytes, and undo restores them', () => {
    const { m, io } = frames(1)
    io[0]!.writeBytes(0, Uint8Array.of(1, 2, 3))
    const before = m.state
    const page = tableGet(before.memory, 0)!
    io[0]!.writeBytes(1, Uint8Array.of(9))
    expect([...page.subarray(0, 3)]).toEqual([1, 2, 3])
    expect(tableGet(m.state.memory, 0)).not.toBe(page)
    m.history.undo()
    expect(io[0]!.readBytes(0, 3)).toEqual({ ok: true, value: Uint8Array.of(1, 2, 3) })
  })

  it('contents survive a free: zeroed allocation clears them, zeroed: false does not', () => {
    const { m, io } = frames(1)
    io[0]!.writeBytes(0, Uint8Array.of(5))
    m.dispatch({ type: 'frame.drop', frame: 0 })
    const again = unwrap(m.frames.allocFrame({ zeroed: false }))
    expect(again.startPaddr()).toBe(0)
    expect(vmIoOf(m, { kind: 'frame', id: again.id }).readVal(0, 'u8')).toEqual({ ok: true, value: 5 })
    again.drop()
    const zeroed = unwrap(m.frames.allocFrame())
    expect(vmIoOf(m, { kind: 'frame', id: zeroed.id }).readVal(0, 'u8')).toEqual({ ok: true, value: 0 })
  })
})

describe('VmIo on a segment', () => {
  function segment(n: number): { m: Model; io: VmIo } {
    const m = createModel({ check: 'full' })
    const r = m.call<{ ok: boolean; value: { segment: number } }>({ type: 'frame_alloc.alloc_segment', nframes: n })
    return { m, io: vmIoOf(m, { kind: 'segment', id: r.value.segment }) }
  }

  it('its bytes are its pages in order: a write across a page boundary touches both pages', () => {
    const { m, io } = segment(3)
    const { value, changed } = step(m, () => io.writeBytes(PAGE_SIZE - 2, Uint8Array.of(1, 2, 3, 4)))
    expect(value).toEqual({ ok: true, value: 4 })
    expect(changed).toEqual({ memory: [0, 1] })
    expect(io.readVal(PAGE_SIZE - 2, 'u32')).toEqual({ ok: true, value: 0x04030201 })
  })

  it('is bounded by its size, not by a page', () => {
    const { io } = segment(2)
    expect(io.writeBytes(2 * PAGE_SIZE - 1, Uint8Array.of(1, 2))).toEqual({ ok: true, value: 1 })
    expect(io.readBytes(2 * PAGE_SIZE, 1)).toEqual({ ok: true, value: new Uint8Array(0) })
    expect(io.readBytes(2 * PAGE_SIZE + 1, 1)).toEqual(INVALID)
  })

  it('needs every page untyped', () => {
    const initial = produce(segmentState(2)(createModel({ check: 'off' })), (d) => {
      setCells(d, 1, { storage: { kind: 'Frame', meta: { type: 'Typed', untyped: false, value: null } } })
    })
    const m = createModel({ check: 'full', initial })
    expect(panicRule(() => vmIoOf(m, { kind: 'segment', id: 0 }).readBytes(0, 1))).toBe('REQ-VMIO-UNTYPED-1')
  })

  it('the firing cases\' hand-built segment state is a valid state', () => {
    const s = segmentState(3)(createModel({ check: 'off' }))
    expect(new Checker(defaultRegistry(), 'full').violationsIn(s)).toEqual([])
  })
})

describe('VmReader / VmWriter of frames and segments', () => {
  it('reader() is a fresh infallible kernel entry over the whole frame, borrowing it', () => {
    const { m, io } = frames(2)
    const { value: r, changed } = step(m, () => io[1]!.reader())
    expect(changed).toEqual({ vmIos: [r.id], counters: true })
    expect(tableGet(m.state.vmIos, r.id)).toEqual({ kind: 'Reader', fallible: false, space: { kind: 'linear' }, cursor: PAGE_SIZE, end: 2 * PAGE_SIZE, borrow: { kind: 'frame', id: 1 } })
    expect(r.remain()).toBe(PAGE_SIZE)
    expect(r.hasRemain()).toBe(true)
  })

  it('readers and writers alias memory: reads see bytes written after the reader was made', () => {
    const { io } = frames(1)
    const r = io[0]!.reader()
    const w = io[0]!.writer()
    io[0]!.writeVal(0, 'u32', 0xdeadbeef)
    expect(r.readVal('u32')).toEqual({ ok: true, value: 0xdeadbeef })
    w.skip(4).writeVal('u16', 0x1234)
    expect(r.readVal('u16')).toEqual({ ok: true, value: 0x1234 })
    expect(io[0]!.readBytes(4, 2)).toEqual({ ok: true, value: Uint8Array.of(0x34, 0x12) })
  })

  it('read(writer) copies min(remain, avail), advances both, returns the count; 0 when exhausted', () => {
    const { m, io } = frames(2)
    io[0]!.writeBytes(0, pattern(PAGE_SIZE))
    const r = io[0]!.reader().skip(10)
    const w = io[1]!.writer().skip(PAGE_SIZE - 100)
    const { value, changed } = step(m, () => r.read(w))
    expect(value).toBe(100)
    expect(changed).toEqual({ memory: [1], vmIos: [r.id, w.id].sort() })
    expect(r.remain()).toBe(PAGE_SIZE - 110)
    expect(w.avail()).toBe(0)
    expect(io[1]!.readBytes(PAGE_SIZE - 100, 100)).toEqual({ ok: true, value: pattern(PAGE_SIZE).subarray(10, 110) })
    const s = m.state
    expect(w.write(r)).toBe(0)
    expect(m.state).toBe(s)
  })

  it('a copy inside one frame behaves like memmove', () => {
    const { io } = frames(1)
    io[0]!.writeBytes(0, pattern(PAGE_SIZE))
    const r = io[0]!.reader()
    const w = io[0]!.writer().skip(1)
    expect(w.write(r)).toBe(PAGE_SIZE - 1)
    const want = new Uint8Array(PAGE_SIZE)
    want[0] = pattern(1)[0]!
    want.set(pattern(PAGE_SIZE).subarray(0, PAGE_SIZE - 1), 1)
    expect(io[0]!.readBytes(0, PAGE_SIZE)).toEqual({ ok: true, value: want })
  })

  it('read_val / write_val with too little room return InvalidArgs and move nothing', () => {
    const { m, io } = frames(1)
    const r = io[0]!.reader().skip(PAGE_SIZE - 3)
    const w = io[0]!.writer().skip(PAGE_SIZE - 3)
    const s = m.state
    expect(r.readVal('u32')).toEqual(INVALID)
    expect(w.writeVal('u32', 1)).toEqual(INVALID)
    expect(r.readOnce('u64')).toEqual(INVALID) // the size check comes before the alignment assertion
    expect(m.state).toBe(s)
    expect(step(m, () => r.readVal({ size: 3 }))).toEqual({ value: { ok: true, value: new Uint8Array(3) }, changed: { vmIos: [r.id] } })
    expect(r.remain()).toBe(0)
  })

  it('read_once / write_once assert an aligned cursor and take only integers', () => {
    const { m, io } = frames(1)
    io[0]!.writeVal(8, 'u64', 7n)
    const r = io[0]!.reader().skip(4)
    expect(panicRule(() => r.readOnce('u64'))).toBe('REQ-VMIO-ALIGN-1')
    expect(r.readOnce('u32')).toEqual({ ok: true, value: 0 })
    expect(r.readOnce('u64')).toEqual({ ok: true, value: 7n })
    const w = io[0]!.writer().skip(2)
    expect(panicRule(() => w.writeOnce('u32', 1))).toBe('REQ-VMIO-ALIGN-1')
    expect(w.writeOnce('u16', 0xffff)).toEqual({ ok: true, value: undefined })
    expect(panicRule(() => m.dispatch({ type: 'vm_reader.read_once', reader: r.id, valType: { size: 1 } }))).toBe('REQ-VMIO-PODONCE-1')
  })

  it('skip(n) advances by n and panics past the end', () => {
    const { m, io } = frames(1)
    const r = io[0]!.reader()
    expect(step(m, () => r.skip(PAGE_SIZE).remain())).toEqual({ value: 0, changed: { vmIos: [r.id] } })
    const s = m.state
    expect(panicRule(() => r.skip(1))).toBe('REQ-VMIO-SKIP-1')
    expect(m.state).toBe(s)
  })

  it('limit(n) only shrinks', () => {
    const { m, io } = frames(1)
    const w = io[0]!.writer().skip(10)
    expect(step(m, () => w.limit(100).avail())).toEqual({ value: 100, changed: { vmIos: [w.id] } })
    expect(tableGet(m.state.vmIos, w.id)!.end).toBe(110)
    const s = m.state
    expect(w.limit(200).avail()).toBe(100)
    expect(m.state).toBe(s)
    expect(w.limit(0).hasAvail()).toBe(false)
    expect(w.writeVal('u8', 1)).toEqual(INVALID)
  })

  it('fill writes avail / size copies, moves to the end, returns the count; panics on a remainder', () => {
    const { m, io } = frames(2)
    const w = io[0]!.writer().skip(PAGE_SIZE - 12)
    const { value, changed } = step(m, () => w.fill('u32', 0x01020304))
    expect(value).toBe(3)
    expect(changed).toEqual({ memory: [0], vmIos: [w.id] })
    expect(w.avail()).toBe(0)
    expect(bytesOf(m, PAGE_SIZE - 13, 14)).toEqual([0, 4, 3, 2, 1, 4, 3, 2, 1, 4, 3, 2, 1, 0])
    const w2 = io[1]!.writer().skip(1)
    expect(panicRule(() => w2.fill('u16', 0))).toBe('REQ-VMIO-FILL-1')
    expect(panicRule(() => w2.fill({ size: 0 }, new Uint8Array(0)))).toBe('REQ-VMIO-FILL-1')
    expect(w2.fill('u8', 0xff)).toBe(PAGE_SIZE - 1)
  })

  it('a segment writer spans all its pages', () => {
    const m = createModel({ check: 'full' })
    const seg = m.call<{ value: { segment: number } }>({ type: 'frame_alloc.alloc_segment', nframes: 2 }).value.segment
    const io = vmIoOf(m, { kind: 'segment', id: seg })
    const w = io.writer()
    expect(w.avail()).toBe(2 * PAGE_SIZE)
    expect(w.fill('u64', 0x0102030405060708n)).toBe(1024)
    expect(io.readVal(PAGE_SIZE - 4, 'u64')).toEqual({ ok: true, value: 0x0506070801020304n })
  })

  it('the borrow ends when the frame is dropped or moved: every use panics, drop still works', () => {
    const { m, io } = frames(2)
    const r = io[0]!.reader()
    const w = io[1]!.writer()
    m.dispatch({ type: 'frame.drop', frame: 0 })
    const s = m.state
    expect(panicRule(() => r.remain())).toBe('REQ-BORROW-1')
    expect(panicRule(() => m.dispatch({ type: 'vm_reader.read', reader: r.id, writer: w.id }))).toBe('REQ-BORROW-1')
    expect(m.state).toBe(s)
    m.dispatch({ type: 'frame.into_raw', frame: 1 }) // moved
    expect(panicRule(() => w.writeVal('u8', 1))).toBe('REQ-BORROW-1')
    r.drop()
    w.drop()
    expect(m.state.vmIos.count).toBe(0)
  })

  it('the borrow of a segment ends when it is split (moved)', () => {
    const m = createModel({ check: 'full' })
    const seg = m.call<{ value: { segment: number } }>({ type: 'frame_alloc.alloc_segment', nframes: 2 }).value.segment
    const r = vmIoOf(m, { kind: 'segment', id: seg }).reader()
    m.dispatch({ type: 'segment.split', segment: seg, offset: PAGE_SIZE })
    expect(panicRule(() => r.readVal('u8'))).toBe('REQ-BORROW-1')
  })

  it('drop removes exactly the entry; a dropped handle cannot be used', () => {
    const { m, io } = frames(1)
    const r = io[0]!.reader()
    expect(step(m, () => r.drop())).toEqual({ value: undefined, changed: { vmIos: [r.id] } })
    expect(panicRule(() => r.remain())).toBe('REQ-HANDLE-1')
    expect(panicRule(() => m.dispatch({ type: 'vm_reader.drop', reader: r.id }))).toBe('REQ-EMB-DROPREADER-1')
  })

  it('type confusion is rejected: a writer is not a reader', () => {
    const { m, io } = frames(1)
    const r = io[0]!.reader()
    const w = io[0]!.writer()
    expect(panicRule(() => m.dispatch({ type: 'vm_reader.skip', reader: w.id, n: 0 }))).toBe('REQ-VMIO-KIND-1')
    expect(panicRule(() => m.dispatch({ type: 'vm_reader.read', reader: w.id, writer: r.id }))).toBe('REQ-EMB-READ-2')
  })

  it('a mixed history is clean under full and incremental checking, and replays to the same states', () => {
    for (const check of ['full', 'incremental'] as const) {
      const { m, io } = frames(3, check)
      io[0]!.writeBytes(100, pattern(300))
      const r = io[0]!.reader().skip(100).limit(300)
      const w = io[2]!.writer()
      expect(r.read(w)).toBe(300)
      w.fill('u8', 9)
      io[1]!.writeVals(0, 'u32', [1, 2, 3], 8)
      const r1 = io[1]!.reader()
      expect(r1.readOnce('u32')).toEqual({ ok: true, value: 1 })
      r.drop()
      m.dispatch({ type: 'frame.drop', frame: 1 })
      r1.drop()
      w.drop()
      expect(m.history.violations()).toEqual([])
      expect(m.history.verify()).toBeNull()
    }
  })
})
