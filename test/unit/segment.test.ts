/**
 * The Segment layer: each call returns X and changes exactly this (rc, raw_count, cover, handles,
 * obligations per slot; the segment and frame registries; the allocator).
 */
import { describe, expect, it } from 'vitest'
import { PAGE_SIZE } from '../../src/arch/constants.js'
import { createModel, type Model } from '../../src/api/model.js'
import { unwrap } from '../../src/api/result.js'
import { Segment } from '../../src/api/segment.js'
import { Frame } from '../../src/api/frame.js'
import { computeChanges, segmentPages } from '../../src/check/changes.js'
import { History } from '../../src/log/history.js'
import { obligationsOf, ownerOf, slotOf } from '../../src/model/slots.js'
import type { FrameEntry, SegmentEntry, Snapshot } from '../../src/model/snapshot.js'
import { UNIT_META } from '../../src/model/snapshot.js'
import { produce } from 'immer'
import { tableEntries, tableForEach, tableGet, tableWith } from '../../src/model/table.js'
import { panicRule } from '../util.js'

const P = PAGE_SIZE

// ---- reading a snapshot --------------------------------------------------------------------

interface SlotView {
  rc: number
  raw: number
  cover: number
  handles: number
  obligations: number
}

function cover(s: Snapshot, idx: number): number {
  let n = 0
  tableForEach(s.segments, (e) => {
    if (segmentPages(e).includes(idx)) n++
  })
  return n
}

function handles(s: Snapshot, idx: number): number {
  let n = 0
  tableForEach(s.frames, (e) => {
    if (e.paddr === idx * P) n++
  })
  return n
}

function view(s: Snapshot, idx: number): SlotView {
  return { rc: slotOf(s, idx).refCount, raw: ownerOf(s, idx).rawCount, cover: cover(s, idx), handles: handles(s, idx), obligations: obligationsOf(s, idx) }
}

/**
 * What a step changed, slot by slot (only the fields that differ, as `[before, after]`), plus the
 * segment and frame registry entries that appeared or disappeared.
 */
function delta(before: Snapshot, after: Snapshot): Record<string, unknown> {
  const c = computeChanges(before, after)
  const out: Record<string, unknown> = {}
  for (const idx of [...c.slots].sort((a, b) => a - b)) {
    const a = view(before, idx)
    const b = view(after, idx)
    const d: Record<string, [number, number]> = {}
    for (const k of Object.keys(a) as Array<keyof SlotView>) if (a[k] !== b[k]) d[k] = [a[k], b[k]]
    if (Object.keys(d).length > 0) out[`slot ${idx}`] = d
  }
  for (const id of [...c.segments].sort((a, b) => a - b)) {
    const show = (e: SegmentEntry | null): string | null => (e === null ? null : `[${hex(e.startPaddr)}, ${hex(e.endPaddr)})`)
    out[`segments[${id}]`] = [show(tableGet(before.segments, id)), show(tableGet(after.segments, id))]
  }
  for (const id of [...c.frames].sort((a, b) => a - b)) {
    const show = (e: FrameEntry | null): string | null => (e === null ? null : hex(e.paddr))
    out[`frames[${id}]`] = [show(tableGet(before.frames, id)), show(tableGet(after.frames, id))]
  }
  return out
}

function hex(n: number): string {
  return '0x' + n.toString(16)
}

/** Runs `fn` and returns [its result, what it changed]. */
function step<T>(m: Model, fn: () => T): [T, Record<string, unknown>] {
  const before = m.state
  const r = fn()
  return [r, delta(before, m.state)]
}

function model(opts: { frames?: number; check?: 'full' | 'incremental' } = {}): Model {
  return createModel({ check: opts.check ?? 'full', physicalMemory: (opts.frames ?? 64) * P })
}

function noViolations(m: Model): void {
  expect(m.history.violations()).toEqual([])
}

// ---- alloc_segment -------------------------------------------------------------------------

describe('FrameFactory.allocSegment', () => {
  it('returns a contiguous segment; every page rc 1, raw_count 1, one cover, no handle, no obligation', () => {
    const m = model()
    const [r, d] = step(m, () => m.frames.allocSegment(3))
    const seg = unwrap(r)
    expect([seg.startPaddr(), seg.endPaddr(), seg.size()]).toEqual([0, 3 * P, 3 * P])
    const page = { rc: [-1, 1], raw: [0, 1], cover: [0, 1] }
    expect(d).toEqual({ 'slot 0': page, 'slot 1': page, 'slot 2': page, 'segments[0]': [null, '[0x0, 0x3000)'] })
    expect(m.state.allocator.bumpIndex).toBe(3)
    noViolations(m)
  })

  it('records Segment::from_unused as its internal step, with from_unused + into_raw per page', () => {
    const m = model()
    const st = m.dispatch({ type: 'frame_alloc.alloc_segment', nframes: 2 })
    expect(st.steps.map((s) => s.event.type)).toEqual(['segment.from_unused'])
    expect(st.steps[0]!.steps.map((s) => [s.event.type, (s.event as { paddr?: number }).paddr ?? null])).toEqual([
      ['frame.from_unused', 0],
      ['frame.into_raw', null],
      ['frame.from_unused', P],
      ['frame.into_raw', null],
    ])
    expect(st.result).toEqual({ ok: true, value: { segment: 0, startPaddr: 0, endPaddr: 2 * P } })
  })

  it('Err(InvalidArgs) for 0 frames and Err(NoMemory) without a free run, changing nothing', () => {
    const m = model({ frames: 8 })
    const s0 = m.state
    expect(m.frames.allocSegment(0)).toEqual({ ok: false, error: 'InvalidArgs' })
    expect(m.frames.allocSegment(9)).toEqual({ ok: false, error: 'NoMemory' })
    unwrap(m.frames.allocFrame()) // frame 0
    unwrap(m.frames.allocSegment(2)) // [1, 3)
    unwrap(m.frames.allocFrame()) // frame 3
    const s1 = m.state
    expect(m.frames.allocSegment(5)).toEqual({ ok: false, error: 'NoMemory' }) // 4 frames left in [4, 8)
    expect(m.state).toBe(s1)
    expect(m.history.at(0).after).toBe(s0)
    noViolations(m)
  })

  it('panics when the byte size overflows (usize::MAX from a trace); just below the Layout limit is NoMemory', () => {
    const h = new History({ check: 'full' })
    expect(panicRule(() => h.dispatch({ type: 'frame_alloc.alloc_segment', nframes: 1.8446744073709552e19 }))).toBe('REQ-FRAMEALLOC-SEGMENT-1')
    expect(panicRule(() => h.dispatch({ type: 'frame_alloc.alloc_segment', nframes: 2 ** 51 }))).toBe('REQ-FRAMEALLOC-SEGMENT-1')
    expect(h.length).toBe(0)
    expect(h.dispatch({ type: 'frame_alloc.alloc_segment', nframes: 2 ** 51 - 1 }).result).toEqual({ ok: false, error: 'NoMemory' })
  })

  it('gives each page the metadata of its index', () => {
    const m = model()
    const seg = unwrap(m.frames.allocSegment(3, { meta: (i) => ({ type: 'MockFrameMeta', untyped: false, value: i * 10 }) }))
    const metas = segmentPages({ startPaddr: seg.startPaddr(), endPaddr: seg.endPaddr() }).map((i) => slotOf(m.state, i).storage)
    expect(metas).toEqual([0, 10, 20].map((value) => ({ kind: 'Frame', meta: { type: 'MockFrameMeta', untyped: false, value } })))
    noViolations(m)
  })

  it('zero-fills the pages by default and keeps their contents with zeroed: false', () => {
    const dirty = new Uint8Array(P).fill(0xa5)
    const initial = produce(createModel({ check: 'off', physicalMemory: 16 * P }).state, (d) => {
      Object.assign(d.memory, tableWith(tableWith(d.memory as never, 0, dirty), 1, dirty))
    })
    const m = createModel({ check: 'full', initial })
    unwrap(m.frames.allocSegment(1))
    expect(tableGet(m.state.memory, 0)).toBeNull()
    unwrap(m.frames.allocSegment(1, { zeroed: false }))
    expect(tableGet(m.state.memory, 1)).toBe(dirty)
    noViolations(m)
  })

  it('reuses the most recently freed frame for a single-frame segment (LIFO), not for a longer one', () => {
    const m = model()
    const a = unwrap(m.frames.allocSegment(1)) // 0
    const b = unwrap(m.frames.allocFrame()) // 1
    const c = unwrap(m.frames.allocSegment(1)) // 2
    a.drop()
    c.drop()
    expect(unwrap(m.frames.allocSegment(1)).startPaddr()).toBe(2 * P) // freed last
    expect(unwrap(m.frames.allocFrame()).startPaddr()).toBe(0)
    expect(unwrap(m.frames.allocSegment(2)).startPaddr()).toBe(3 * P) // never-used frames, not a freed one
    b.drop()
    noViolations(m)
  })
})

// ---- clone / slice / split --------------------------------------------------------------------

describe('Segment.clone / slice / split', () => {
  it('clone: a new segment over the same range; every page rc + 1, raw_count + 1, cover + 1', () => {
    const m = model()
    const seg = unwrap(m.frames.allocSegment(2))
    const [c, d] = step(m, () => seg.clone())
    const page = { rc: [1, 2], raw: [1, 2], cover: [1, 2] }
    expect(d).toEqual({ 'slot 0': page, 'slot 1': page, 'segments[1]': [null, '[0x0, 0x2000)'] })
    expect(c.id).not.toBe(seg.id)
    const before = m.state
    const [, undo] = step(m, () => c.drop())
    const back = { rc: [2, 1], raw: [2, 1], cover: [2, 1] }
    expect(undo).toEqual({ 'slot 0': back, 'slot 1': back, 'segments[1]': ['[0x0, 0x2000)', null] })
    expect(m.state.allocator).toBe(before.allocator) // nothing freed
    noViolations(m)
  })

  it('slice takes offsets relative to the segment and references only the sub-range; the original is kept', () => {
    const m = model()
    unwrap(m.frames.allocFrame()) // frame 0, so the segment starts at 0x1000
    const seg = unwrap(m.frames.allocSegment(3)) // [0x1000, 0x4000)
    const [sl, d] = step(m, () => seg.slice({ start: P, end: 2 * P }))
    expect(d).toEqual({ 'slot 2': { rc: [1, 2], raw: [1, 2], cover: [1, 2] }, 'segments[1]': [null, '[0x2000, 0x3000)'] })
    expect([sl.startPaddr(), sl.size(), seg.size()]).toEqual([2 * P, P, 3 * P])
    noViolations(m)
  })

  it('slice panics on misaligned, empty or out-of-range offsets, and at REF_COUNT_MAX; nothing changes', () => {
    const m = model()
    const seg = unwrap(m.frames.allocSegment(2))
    const s0 = m.state
    expect(panicRule(() => seg.slice({ start: 0, end: P + 1 }))).toBe('REQ-EMB-SEGMENTSLICE-2')
    expect(panicRule(() => seg.slice({ start: P, end: P }))).toBe('REQ-EMB-SEGMENTSLICE-2')
    expect(panicRule(() => seg.slice({ start: 2 * P, end: P }))).toBe('REQ-EMB-SEGMENTSLICE-2')
    expect(panicRule(() => seg.slice({ start: P, end: 3 * P }))).toBe('REQ-EMB-SEGMENTSLICE-2')
    expect(m.state).toBe(s0)
    expect(m.history.length).toBe(1)
    expect(seg.slice({ start: 0, end: 2 * P }).size()).toBe(2 * P) // the whole segment is a valid slice
  })

  it('split consumes the segment into [start, start+off) and [start+off, end) under fresh ids, touching no slot', () => {
    const m = model()
    const seg = unwrap(m.frames.allocSegment(3))
    const [[l, r], d] = step(m, () => seg.split(P))
    expect(d).toEqual({ 'segments[0]': ['[0x0, 0x3000)', null], 'segments[1]': [null, '[0x0, 0x1000)'], 'segments[2]': [null, '[0x1000, 0x3000)'] })
    expect([l.id, r.id]).toEqual([1, 2])
    expect(computeChanges(m.history.at(1).before, m.state).slotCells.size).toBe(0)
    expect(panicRule(() => seg.size())).toBe('REQ-HANDLE-1') // moved
    noViolations(m)
  })

  it('split panics unless the offset is aligned and strictly inside', () => {
    const m = model()
    const seg = unwrap(m.frames.allocSegment(2))
    for (const off of [0, 2 * P, P / 2, 3 * P]) expect(panicRule(() => m.dispatch({ type: 'segment.split', segment: seg.id, offset: off }))).toBe('REQ-EMB-SEGMENTSPLIT-2')
    expect(m.history.length).toBe(1)
    expect(seg.size()).toBe(2 * P)
  })
})

// ---- iteration, drop, From<Frame> --------------------------------------------------------------

describe('Segment.frames / drop / fromFrame', () => {
  it('next moves the first page from the segment to a new Frame handle (rc unchanged, raw_count - 1)', () => {
    const m = model()
    const seg = unwrap(m.frames.allocSegment(2))
    const [r, d] = step(m, () => m.call<{ frame: number }>({ type: 'segment.next', segment: seg.id }))
    expect(r).toEqual({ frame: 2 })
    expect(d).toEqual({
      'slot 0': { raw: [1, 0], cover: [1, 0], handles: [0, 1], obligations: [0, 1] },
      'segments[0]': ['[0x0, 0x2000)', '[0x1000, 0x2000)'],
      'frames[2]': [null, '0x0'],
    })
    const [, last] = step(m, () => m.call({ type: 'segment.next', segment: seg.id }))
    expect(last['segments[0]']).toEqual(['[0x1000, 0x2000)', null]) // an empty segment leaves the registry
    noViolations(m)
  })

  it('frames() consumes the segment and yields one Frame per page, in order', () => {
    const m = model()
    const seg = unwrap(m.frames.allocSegment(3))
    const frames = [...seg.frames()]
    expect(frames.map((f) => [f.startPaddr(), f.referenceCount()])).toEqual([[0, 1], [P, 1], [2 * P, 1]])
    expect(m.state.segments.count).toBe(0)
    expect(panicRule(() => seg.clone())).toBe('REQ-HANDLE-1')
    for (const f of frames) f.drop()
    expect([0, 1, 2].map((i) => slotOf(m.state, i).refCount)).toEqual([-1, -1, -1])
    noViolations(m)
  })

  it('leaving the loop early drops the pages not taken, as dropping the iterator does', () => {
    const m = model()
    const seg = unwrap(m.frames.allocSegment(3))
    let first: Frame | null = null
    for (const f of seg.frames()) {
      first = f
      break
    }
    expect(m.state.segments.count).toBe(0)
    expect([0, 1, 2].map((i) => slotOf(m.state, i).refCount)).toEqual([1, -1, -1])
    first!.drop()
    noViolations(m)
  })

  it('drop releases one reference per page; pages whose last reference it was are freed, the last page on top of the LIFO', () => {
    const m = model()
    const seg = unwrap(m.frames.allocSegment(3))
    seg.slice({ start: P, end: 2 * P }) // page 1 stays referenced by the slice (segment 1)
    const [, d] = step(m, () => seg.drop())
    expect(d).toEqual({
      'slot 0': { rc: [1, -1], raw: [1, 0], cover: [1, 0] },
      'slot 1': { rc: [2, 1], raw: [2, 1], cover: [2, 1] },
      'slot 2': { rc: [1, -1], raw: [1, 0], cover: [1, 0] },
      'segments[0]': ['[0x0, 0x3000)', null],
    })
    const st = m.history.at(m.history.length - 1)
    expect(st.steps.map((s) => s.event.type)).toEqual(['frame.from_raw', 'frame.drop', 'frame.from_raw', 'frame.drop', 'frame.from_raw', 'frame.drop'])
    expect(unwrap(m.frames.allocFrame()).startPaddr()).toBe(2 * P)
    expect(unwrap(m.frames.allocFrame()).startPaddr()).toBe(0)
    noViolations(m)
  })

  it('Segment.fromFrame consumes the frame: its reference moves into a one-page segment', () => {
    const m = model()
    const f = unwrap(m.frames.allocFrame())
    const [seg, d] = step(m, () => Segment.fromFrame(f))
    expect(d).toEqual({
      'slot 0': { raw: [0, 1], cover: [0, 1], handles: [1, 0], obligations: [1, 0] },
      'segments[0]': [null, '[0x0, 0x1000)'],
      'frames[0]': ['0x0', null],
    })
    expect(panicRule(() => f.startPaddr())).toBe('REQ-HANDLE-1')
    seg.drop()
    expect(slotOf(m.state, 0).refCount).toBe(-1)
    noViolations(m)
  })
})

// ---- Segment::from_unused ----------------------------------------------------------------------

describe('Segment.fromUnused', () => {
  it('claims an unused range: rc 1 and raw_count 1 per page; the allocator is not consulted', () => {
    const m = model()
    const [r, d] = step(m, () => Segment.fromUnused(m, { start: 4 * P, end: 6 * P }))
    expect(unwrap(r).startPaddr()).toBe(4 * P)
    const page = { rc: [-1, 1], raw: [0, 1], cover: [0, 1] }
    expect(d).toEqual({ 'slot 4': page, 'slot 5': page, 'segments[0]': [null, '[0x4000, 0x6000)'] })
    expect(m.state.allocator.bumpIndex).toBe(0)
    noViolations(m)
  })

  it('returns the first failing page\'s error and claims nothing (no partial claim)', () => {
    const m = model({ frames: 16 })
    const busy = Frame.fromUnused(m, 6 * P)
    const s0 = m.state
    expect(Segment.fromUnused(m, { start: 4 * P, end: 8 * P })).toEqual({ ok: false, error: 'InUse' })
    expect(Segment.fromUnused(m, { start: 4 * P, end: 8 * P + 1 })).toEqual({ ok: false, error: 'NotAligned' })
    expect(Segment.fromUnused(m, { start: 14 * P, end: 17 * P })).toEqual({ ok: false, error: 'OutOfBound' })
    expect(m.state).toBe(s0)
    expect(panicRule(() => Segment.fromUnused(m, { start: 4 * P, end: 4 * P }))).toBe('REQ-SEGMENT-FROMUNUSED-1')
    unwrap(busy).drop()
    noViolations(m)
  })
})

// ---- whole histories ---------------------------------------------------------------------------

describe('segment histories', () => {
  function scenario(m: Model): void {
    const a = unwrap(m.frames.allocSegment(4, { meta: (i) => ({ ...UNIT_META, value: i }) }))
    const b = a.clone()
    const s = a.slice({ start: P, end: 3 * P })
    const [l, r] = a.split(2 * P)
    const frames = [...r.frames()]
    const one = Segment.fromFrame(frames[0]!)
    const again = unwrap(m.frames.allocSegment(1))
    frames[1]!.drop()
    l.drop()
    b.drop()
    s.drop()
    one.drop()
    again.drop()
    unwrap(Segment.fromUnused(m, { start: 10 * P, end: 12 * P })).drop()
  }

  it('a mixed history has no violations in either mode, frees everything, and replays from its trace', () => {
    for (const check of ['full', 'incremental'] as const) {
      const m = model({ check })
      scenario(m)
      noViolations(m)
      expect(m.state.segments.count).toBe(0)
      expect(m.state.frames.count).toBe(0)
      expect(tableEntries(m.state.metaSlots).every(([, cells]) => cells.refCount === -1)).toBe(true)
      expect(m.history.verify()).toBeNull()
      const replayed = History.fromNDJSON(m.history.toNDJSON(), { check })
      expect(replayed.state).toEqual(m.state)
      expect(replayed.violations()).toEqual([])
    }
  })
})

describe('segment metadata of the wrong length is bad input', () => {
  // One FrameMeta per page (or one for all): a list of another length is refused by the event's
  // schema, naming `meta`, with the state and the history untouched.
  const cases: Array<{ name: string; event: Record<string, unknown>; pages: number }> = [
    { name: 'Segment::from_unused over 2 pages with 3 metadata', event: { type: 'segment.from_unused', startPaddr: 4 * P, endPaddr: 6 * P, meta: [UNIT_META, UNIT_META, UNIT_META] }, pages: 2 },
    { name: 'alloc_segment(2) with 1 metadata', event: { type: 'frame_alloc.alloc_segment', nframes: 2, meta: [UNIT_META] }, pages: 2 },
  ]
  for (const { name, event, pages } of cases) {
    it(name, () => {
      const m = createModel({ physicalMemory: 1 << 20 })
      const before = m.state
      expect(() => m.dispatch(event as never)).toThrow(new RegExp(`meta.*expected one FrameMeta per (page|frame) \\(${pages}\\)`, 's'))
      expect(m.state).toBe(before)
      expect(m.history.length).toBe(0)
      // the right length is accepted
      expect(m.dispatch({ ...event, meta: Array.from({ length: pages }, () => UNIT_META) } as never).violations).toEqual([])
    })
  }
  it('a single FrameMeta, or a list on an empty or misaligned range, is not a length error', () => {
    const m = createModel({ physicalMemory: 1 << 20 })
    expect(m.dispatch({ type: 'segment.from_unused', startPaddr: 4 * P, endPaddr: 6 * P, meta: UNIT_META } as never).violations).toEqual([])
    expect(m.dispatch({ type: 'segment.from_unused', startPaddr: 8 * P + 1, endPaddr: 9 * P, meta: [UNIT_META, UNIT_META] } as never).result).toEqual({ ok: false, error: 'NotAligned' })
    expect(m.dispatch({ type: 'frame_alloc.alloc_segment', nframes: 0, meta: [UNIT_META] } as never).result).toEqual({ ok: false, error: 'InvalidArgs' })
  })
})
