/**
 * The embedding's `Op` enum (operations.md §11): each of the 43 variants is one event of the model
 * (src/check/rules/embedding/ops.ts). This test dispatches one event per Op, by Op name, in one
 * history over one store, with full checking: every event is the one the table names, succeeds as
 * the scene arranges, and no rule is violated. Then a bad id for an Op fails its REQ-EMB rule and
 * leaves the store unchanged, and an Op that "fails" (MD-11) returns a failure and changes nothing.
 */
import { describe, expect, it } from 'vitest'
import { PAGE_SIZE } from '../../src/arch/constants.js'
import { isOstdPanic } from '../../src/arch/errors.js'
import { newUser, PageFlags } from '../../src/arch/page_prop.js'
import { createModel, type Model } from '../../src/api/model.js'
import { EMBEDDING_OPS } from '../../src/check/rules/embedding/index.js'
import { eventTypes, type ModelEvent } from '../../reducers/index.js'
import { UNIT_META } from '../../src/model/snapshot.js'

const RW = newUser(PageFlags.RW)
const K4 = PAGE_SIZE

function okv<T>(r: unknown): T {
  const x = r as { ok: boolean; value: T }
  if (!x.ok) throw new Error(`expected Ok, got ${JSON.stringify(r)}`)
  return x.value
}

/** The ids the Ops create, for the Ops that use them. */
interface Ids {
  vs: number
  vs2: number
  c: number
  cMut: number
  f: number
  f2: number
  r: number
  w: number
  kr: number
  kw: number
  seg: number
  seg2: number
  u: number
  u2: number
  pa: number
}

type Step = readonly [op: string, event: (ids: Ids) => ModelEvent, keep?: (ids: Ids, result: unknown) => void]

/** A step that is not an Op (activation, dropping what the last Op needs gone). */
const SETUP = '(setup)'

/** One call per Op, in an order where each finds what it needs (the table is the Op → event map). */
const STEPS: readonly Step[] = [
  ['NewVmSpace', () => ({ type: 'vm_space.new' }), (x, r) => void (x.vs = (r as { vmSpace: number }).vmSpace)],
  ['OpenCursorMut', (x) => ({ type: 'vm_space.cursor_mut', vmSpace: x.vs, vaStart: 0x10000, vaEnd: 0x14000 }), (x, r) => void (x.cMut = okv<{ cursor: number }>(r).cursor)],
  ['FrameFromUnused', () => ({ type: 'frame.from_unused', paddr: 0x200000, meta: UNIT_META }), (x, r) => void (x.f = okv<{ frame: number }>(r).frame)],
  ['Map', (x) => ({ type: 'vm_cursor_mut.map', cursor: x.cMut, frame: x.f, prop: RW })],
  ['FrameFromInUse', () => ({ type: 'frame.from_in_use', paddr: 0x200000 }), (x, r) => void (x.f2 = okv<{ frame: number }>(r).frame)],
  ['Jump', (x) => ({ type: 'cursor.jump', cursor: x.cMut, va: 0x10000 })],
  ['ProtectNext', (x) => ({ type: 'vm_cursor_mut.protect_next', cursor: x.cMut, len: K4, prop: RW })],
  // The cursor is past 0x10000 now: this unmaps nothing (0 frames), the page stays for the I/O below.
  ['Unmap', (x) => ({ type: 'vm_cursor_mut.unmap', cursor: x.cMut, len: K4 })],
  ['DropCursor', (x) => ({ type: 'vm_cursor.drop', cursor: x.cMut })],
  ['OpenCursor', (x) => ({ type: 'vm_space.cursor', vmSpace: x.vs, vaStart: 0x10000, vaEnd: 0x14000 }), (x, r) => void (x.c = okv<{ cursor: number }>(r).cursor)],
  ['Query', (x) => ({ type: 'cursor.query', cursor: x.c })],
  ['FindNext', (x) => ({ type: 'cursor.find_next', cursor: x.c, len: 4 * K4 })],
  ['VirtAddr', (x) => ({ type: 'cursor.virt_addr', cursor: x.c })],
  [SETUP, (x) => ({ type: 'vm_space.activate', vmSpace: x.vs })],
  ['NewReader', (x) => ({ type: 'vm_space.reader', vmSpace: x.vs, va: 0x10000, len: 16 }), (x, r) => void (x.r = okv<{ reader: number }>(r).reader)],
  ['NewWriter', (x) => ({ type: 'vm_space.writer', vmSpace: x.vs, va: 0x10800, len: 16 }), (x, r) => void (x.w = okv<{ writer: number }>(r).writer)],
  ['NewKernelReader', (x) => ({ type: 'frame.reader', frame: x.f2 }), (x, r) => void (x.kr = (r as { reader: number }).reader)],
  ['NewKernelWriter', (x) => ({ type: 'frame.writer', frame: x.f2 }), (x, r) => void (x.kw = (r as { writer: number }).writer)],
  ['ReaderReadVal', (x) => ({ type: 'vm_reader.read_val', reader: x.kr, valType: 'u32' })],
  ['ReaderCollect', (x) => ({ type: 'vm_reader.collect', reader: x.r })],
  ['ReaderQuery', (x) => ({ type: 'vm_reader.remain', reader: x.kr })],
  ['WriterWriteVal', (x) => ({ type: 'vm_writer.write_val', writer: x.kw, valType: 'u32', value: 7 })],
  ['WriterQuery', (x) => ({ type: 'vm_writer.avail', writer: x.kw })],
  ['ReaderLimit', (x) => ({ type: 'vm_reader.limit', reader: x.kr, n: 64 })],
  ['ReaderSkip', (x) => ({ type: 'vm_reader.skip', reader: x.kr, n: 4 })],
  ['WriterFillZeros', (x) => ({ type: 'vm_writer.fill_zeros', writer: x.w, len: 8 })],
  ['WriterLimit', (x) => ({ type: 'vm_writer.limit', writer: x.kw, n: 128 })],
  ['WriterSkip', (x) => ({ type: 'vm_writer.skip', writer: x.kw, n: 4 })],
  ['Read', (x) => ({ type: 'vm_reader.read', reader: x.kr, writer: x.kw })],
  ['Write', (x) => ({ type: 'vm_writer.write', writer: x.kw, reader: x.kr })],
  ['DropReader', (x) => ({ type: 'vm_reader.drop', reader: x.kr })],
  ['DropWriter', (x) => ({ type: 'vm_writer.drop', writer: x.kw })],
  ['FrameDrop', (x) => ({ type: 'frame.drop', frame: x.f2 })],
  ['SegmentFromUnused', () => ({ type: 'segment.from_unused', startPaddr: 0x300000, endPaddr: 0x304000, meta: UNIT_META }), (x, r) => void (x.seg = okv<{ segment: number }>(r).segment)],
  ['SegmentClone', (x) => ({ type: 'segment.clone', segment: x.seg }), (x, r) => void (x.seg2 = (r as { segment: number }).segment)],
  ['SegmentSlice', (x) => ({ type: 'segment.slice', segment: x.seg2, start: 0, end: K4 })],
  ['SegmentSplit', (x) => ({ type: 'segment.split', segment: x.seg2, offset: K4 })],
  ['SegmentNext', (x) => ({ type: 'segment.next', segment: x.seg })],
  ['SegmentDrop', (x) => ({ type: 'segment.drop', segment: x.seg })],
  ['UniqueFromUnused', () => ({ type: 'unique_frame.from_unused', paddr: 0x400000, meta: UNIT_META }), (x, r) => void (x.u = okv<{ unique: number }>(r).unique)],
  ['FromUnique', (x) => ({ type: 'unique_frame.into_shared', unique: x.u }), (x, r) => void (x.f = (r as { frame: number }).frame)],
  ['TryFromShared', (x) => ({ type: 'unique_frame.try_from_shared', frame: x.f }), (x, r) => void (x.u2 = okv<{ unique: number }>(r).unique)],
  ['UniqueDrop', (x) => ({ type: 'unique_frame.drop', unique: x.u2 })],
  [SETUP, (x) => ({ type: 'vm_reader.drop', reader: x.r })],
  [SETUP, (x) => ({ type: 'vm_writer.drop', writer: x.w })],
  [SETUP, (x) => ({ type: 'vm_cursor.drop', cursor: x.c })],
  ['DropVmSpace', (x) => ({ type: 'vm_space.drop', vmSpace: x.vs })],
]

function throwsRule(m: Model, e: ModelEvent): string {
  try {
    m.dispatch(e)
  } catch (err) {
    if (isOstdPanic(err)) return err.rule
    throw err
  }
  throw new Error(`${e.type} was accepted`)
}

describe('the embedding Op table', () => {
  it('names 43 distinct Ops, each a registered event', () => {
    expect(EMBEDDING_OPS).toHaveLength(43)
    expect(new Set(EMBEDDING_OPS.map(([op]) => op)).size).toBe(43)
    const types = new Set(eventTypes())
    for (const [, event] of EMBEDDING_OPS) expect(types.has(event), event).toBe(true)
  })

  it('dispatches one event per Op, by name, with no violation (full checking)', () => {
    expect(STEPS.map(([op]) => op).filter((op) => op !== SETUP).sort()).toEqual(EMBEDDING_OPS.map(([op]) => op).sort())
    const eventOf = new Map(EMBEDDING_OPS)
    const m = createModel({ check: 'full', physicalMemory: 1 << 24 })
    const ids = {} as Ids
    for (const [op, make, keep] of STEPS) {
      const e = make(ids)
      if (op !== SETUP) expect(e.type, op).toBe(eventOf.get(op))
      const result = m.call(e)
      keep?.(ids, result)
      expect(m.history.violations(), op).toEqual([])
    }
    expect(m.history.length).toBeGreaterThanOrEqual(43)
  })

  it('a bad id fails the Op\'s REQ-EMB rule and changes nothing', () => {
    const m = createModel({ check: 'full' })
    const vs = m.call<{ vmSpace: number }>({ type: 'vm_space.new' }).vmSpace
    const before = m.state
    expect(throwsRule(m, { type: 'vm_space.drop', vmSpace: vs + 1 })).toBe('REQ-EMB-DROPVMSPACE-1')
    expect(throwsRule(m, { type: 'cursor.query', cursor: 5 })).toBe('REQ-EMB-QUERY-1')
    expect(throwsRule(m, { type: 'vm_space.reader', vmSpace: 9, va: 0x10000, len: 4 })).toBe('REQ-EMB-NEWREADER-1')
    expect(m.state).toBe(before)
  })

  it('an Op that fails (MD-11) returns a failure and leaves the store unchanged', () => {
    const m = createModel({ check: 'full' })
    const vs = m.call<{ vmSpace: number }>({ type: 'vm_space.new' }).vmSpace
    const before = m.state
    // OpenCursor on an empty range; NewReader on an inactive space.
    expect(m.call({ type: 'vm_space.cursor', vmSpace: vs, vaStart: 0x10000, vaEnd: 0x10000 })).toEqual({ ok: false, error: 'AccessDenied' })
    expect(m.call({ type: 'vm_space.reader', vmSpace: vs, va: 0x10000, len: 4 })).toEqual({ ok: false, error: 'AccessDenied' })
    expect(m.state).toBe(before)
    // FrameFromUnused / SegmentFromUnused over a slot in use.
    okv(m.call({ type: 'frame.from_unused', paddr: 0x100000, meta: UNIT_META }))
    const mid = m.state
    expect((m.call({ type: 'frame.from_unused', paddr: 0x100000, meta: UNIT_META }) as { ok: boolean }).ok).toBe(false)
    expect((m.call({ type: 'segment.from_unused', startPaddr: 0x100000, endPaddr: 0x102000, meta: UNIT_META }) as { ok: boolean }).ok).toBe(false)
    expect(m.state).toBe(mid)
    expect(m.history.violations()).toEqual([])
  })
})
