/**
 * Firing cases of the `Segment` layer: REQ-/ENS-EMB-SEGMENT* (operations.md §11.19–§11.23) and the
 * model's REQ-FRAMEALLOC-SEGMENT-1, REQ-SEGMENT-FROMUNUSED-1, ENS-EMB-SEGMENTFROMUNUSED-3, ENS-FRAMEALLOC-SEGMENT-1..2,
 * ENS-SEGMENT-FROMFRAME-1.
 *
 * Several faults are chosen to be invisible to the accounting invariants (a leaked or extra
 * reference that `raw_count` absorbs as a "forgotten Frame handle"): only the ENS clause can see
 * them, which is what these cases show.
 */
import { PAGE_SIZE, PageUsage, REF_COUNT_MAX } from '../../../src/arch/constants.js'
import { UNIT_META, type Snapshot } from '../../../src/model/snapshot.js'
import { tableEntries, tableGet } from '../../../src/model/table.js'
import { segmentPages } from '../../../src/check/changes.js'
import type { Model } from '../../../src/api/model.js'
import { unwrap } from '../../../src/api/result.js'
import { Segment } from '../../../src/api/segment.js'
import {
  allocSegment,
  segmentClone,
  segmentDrop,
  segmentFromFrame,
  segmentFromUnused,
  segmentNext,
  segmentSlice,
  segmentSplit,
} from '../../../reducers/frame/segment.js'
import { edit, errSwapped, rejected, variant, withVariantBothModes, type FiringCase } from '../harness.js'
import { alloc, cellsOf, ownerIn, setCells, setOwner, stateWith, tableSet } from './util.js'
import type { Draft } from 'immer'

const nothing = (): void => {}

function allocSeg(m: Model, nframes: number): Segment {
  return unwrap(m.frames.allocSegment(nframes))
}

/** A segment of `n` pages at slot 0 (segment id 0). */
const segOf = (n: number) => (m: Model): void => void allocSeg(m, n)

/** One more reference on slot `idx`, counted in rc and raw_count alike (invisible to INV-ACCT-3). */
function extraReference(d: Draft<Snapshot>, idx: number): void {
  setCells(d, idx, { refCount: cellsOf(d, idx).refCount + 1 })
  setOwner(d, idx, { rawCount: ownerIn(d, idx).rawCount + 1 })
}

const OTHER_META = { type: 'MockFrameMeta', untyped: false, value: 42 }

export const segmentCases: FiringCase[] = [
  // ---- REQ ------------------------------------------------------------------------------
  {
    rule: 'REQ-FRAMEALLOC-SEGMENT-1',
    title: 'alloc_segment(usize::MAX) panics (the byte size overflows)',
    run: () => rejected(nothing, () => ({ type: 'frame_alloc.alloc_segment', nframes: 1.8446744073709552e19 })),
  },
  {
    rule: 'REQ-SEGMENT-FROMUNUSED-1',
    title: 'Segment::from_unused on an empty range panics',
    run: () => rejected(nothing, () => ({ type: 'segment.from_unused', startPaddr: 0x3000, endPaddr: 0x3000 })),
  },
  {
    rule: 'REQ-EMB-SEGMENTDROP-1',
    title: 'dropping a segment that does not exist',
    run: () => rejected(nothing, () => ({ type: 'segment.drop', segment: 7 })),
  },
  {
    rule: 'REQ-EMB-SEGMENTSPLIT-1',
    title: 'splitting a segment that was already split',
    run: () =>
      rejected(
        (m) => void allocSeg(m, 2).split(PAGE_SIZE),
        () => ({ type: 'segment.split', segment: 0, offset: PAGE_SIZE }),
      ),
  },
  {
    rule: 'REQ-EMB-SEGMENTSPLIT-2',
    title: 'split at offset == size panics (not strictly inside)',
    run: () => rejected(segOf(2), () => ({ type: 'segment.split', segment: 0, offset: 2 * PAGE_SIZE })),
  },
  {
    rule: 'REQ-EMB-SEGMENTNEXT-1',
    title: 'next on a segment whose last page was taken (it left the registry)',
    run: () =>
      rejected(
        (m) => {
          for (const f of allocSeg(m, 1).frames()) f.drop()
        },
        () => ({ type: 'segment.next', segment: 0 }),
      ),
  },
  {
    rule: 'REQ-EMB-SEGMENTCLONE-1',
    title: 'cloning a dropped segment',
    run: () => rejected((m) => allocSeg(m, 1).drop(), () => ({ type: 'segment.clone', segment: 0 })),
  },
  {
    rule: 'REQ-EMB-SEGMENTCLONE-2',
    title: 'clone when a page is at REF_COUNT_MAX aborts (overflow)',
    run: () =>
      rejected(nothing, () => ({ type: 'segment.clone', segment: 0 }), {
        initial: stateWith(segOf(2), (d) => setCells(d, 1, { refCount: REF_COUNT_MAX })),
      }),
  },
  {
    rule: 'REQ-EMB-SEGMENTSLICE-1',
    title: 'slicing a segment that does not exist',
    run: () => rejected(nothing, () => ({ type: 'segment.slice', segment: 3, start: 0, end: PAGE_SIZE })),
  },
  {
    rule: 'REQ-EMB-SEGMENTSLICE-2',
    title: 'a slice past the end of the segment (relative offsets) panics',
    run: () =>
      rejected(
        (m) => {
          alloc(m)
          allocSeg(m, 2) // segment 0 = [0x1000, 0x3000): absolute 0x1000..0x3000 would fit, relative does not
        },
        () => ({ type: 'segment.slice', segment: 0, start: PAGE_SIZE, end: 3 * PAGE_SIZE }),
      ),
  },
  {
    rule: 'REQ-EMB-SEGMENTSLICE-3',
    title: 'slice over a page at REF_COUNT_MAX aborts (overflow)',
    run: () =>
      rejected(nothing, () => ({ type: 'segment.slice', segment: 0, start: PAGE_SIZE, end: 2 * PAGE_SIZE }), {
        initial: stateWith(segOf(2), (d) => setCells(d, 1, { refCount: REF_COUNT_MAX })),
      }),
  },
  // ---- SegmentFromUnused ------------------------------------------------------------------
  {
    rule: 'ENS-EMB-SEGMENTFROMUNUSED-1',
    title: 'from_unused fails, with the right Err, but consumes a segment id (the store must stay unchanged)',
    run: () =>
      withVariantBothModes(
        [variant(segmentFromUnused, (s, e) => {
          const o = segmentFromUnused.reduce(s, e)
          return o.result.ok ? o : { ...o, snapshot: edit(o.snapshot, (d) => void d.counters.segment++) }
        })],
        (m) => m.dispatch({ type: 'segment.from_unused', startPaddr: 0x3000, endPaddr: m.state.nrFrames * PAGE_SIZE + PAGE_SIZE, meta: UNIT_META }),
      ),
  },
  {
    rule: 'ENS-EMB-SEGMENTFROMUNUSED-3',
    title: 'from_unused of a range ending beyond physical memory reports NotAligned instead of OutOfBound',
    run: () =>
      withVariantBothModes(
        [errSwapped(segmentFromUnused, 'OutOfBound', 'NotAligned')],
        (m) => m.dispatch({ type: 'segment.from_unused', startPaddr: 0x3000, endPaddr: m.state.nrFrames * PAGE_SIZE + PAGE_SIZE, meta: UNIT_META }),
      ),
  },
  {
    rule: 'ENS-EMB-SEGMENTFROMUNUSED-2',
    title: 'from_unused stores other metadata than the metadata function gave',
    run: () =>
      withVariantBothModes(
        [variant(segmentFromUnused, (s, e) => segmentFromUnused.reduce(s, { ...e, meta: OTHER_META }))],
        (m) => Segment.fromUnused(m, { start: 0x3000, end: 0x5000 }, (i) => ({ ...UNIT_META, value: i })),
      ),
  },
  // ---- SegmentDrop ------------------------------------------------------------------------
  {
    rule: 'ENS-EMB-SEGMENTDROP-1',
    title: 'dropping a clone also unregisters the original (a leak the accounting cannot see)',
    run: () =>
      withVariantBothModes(
        [variant(segmentDrop, (s, e) => {
          const o = segmentDrop.reduce(s, e)
          const mine = tableGet(s.segments, e.segment)!
          return {
            ...o,
            snapshot: edit(o.snapshot, (d) => {
              for (const [id, g] of tableEntries(s.segments)) if (id !== e.segment && g.startPaddr === mine.startPaddr && g.endPaddr === mine.endPaddr) tableSet(d.segments, id, null)
            }),
          }
        })],
        (m) => allocSeg(m, 2).clone().drop(),
      ),
  },
  {
    rule: 'ENS-EMB-SEGMENTDROP-2',
    title: 'dropping the last reference resets the usage of the freed pages',
    run: () =>
      withVariantBothModes(
        [variant(segmentDrop, (s, e) => {
          const o = segmentDrop.reduce(s, e)
          const pages = segmentPages(tableGet(s.segments, e.segment)!)
          return { ...o, snapshot: edit(o.snapshot, (d) => pages.forEach((i) => setOwner(d, i, { usage: PageUsage.Unused }))) }
        })],
        (m) => allocSeg(m, 2).drop(),
      ),
  },
  {
    rule: 'ENS-EMB-SEGMENTDROP-3',
    title: 'dropping a segment touches a slot outside its range',
    run: () =>
      withVariantBothModes(
        [variant(segmentDrop, (s, e) => {
          const o = segmentDrop.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 9, { usage: PageUsage.Reserved })) }
        })],
        (m) => allocSeg(m, 2).drop(),
      ),
  },
  // ---- SegmentSplit -----------------------------------------------------------------------
  {
    rule: 'ENS-EMB-SEGMENTSPLIT-1',
    title: 'split gives the right half the first fresh id',
    run: () =>
      withVariantBothModes(
        [variant(segmentSplit, (s, e) => {
          const o = segmentSplit.reduce(s, e)
          const { left, right } = o.result
          const l = tableGet(o.snapshot.segments, left)
          const r = tableGet(o.snapshot.segments, right)
          return {
            snapshot: edit(o.snapshot, (d) => {
              tableSet(d.segments, left, r)
              tableSet(d.segments, right, l)
            }),
            result: { left: right, right: left },
          }
        })],
        (m) => allocSeg(m, 3).split(PAGE_SIZE),
      ),
  },
  {
    rule: 'ENS-EMB-SEGMENTSPLIT-2',
    title: 'split takes a reference per page, as slice does (invisible to INV-ACCT-3)',
    run: () =>
      withVariantBothModes(
        [variant(segmentSplit, (s, e) => {
          const o = segmentSplit.reduce(s, e)
          const pages = segmentPages(tableGet(s.segments, e.segment)!)
          return { ...o, snapshot: edit(o.snapshot, (d) => pages.forEach((i) => extraReference(d, i))) }
        })],
        (m) => allocSeg(m, 2).split(PAGE_SIZE),
      ),
  },
  // ---- SegmentNext ------------------------------------------------------------------------
  {
    rule: 'ENS-EMB-SEGMENTNEXT-1',
    title: 'next registers the frame under another id than it returns',
    run: () =>
      withVariantBothModes(
        [variant(segmentNext, (s, e) => {
          const o = segmentNext.reduce(s, e)
          if (o.result === null) return o
          const id = o.result.frame
          const entry = tableGet(o.snapshot.frames, id)
          return {
            ...o,
            snapshot: edit(o.snapshot, (d) => {
              tableSet(d.frames, id, null)
              tableSet(d.frames, id + 100, entry)
            }),
          }
        })],
        (m) => {
          allocSeg(m, 2)
          m.dispatch({ type: 'segment.next', segment: 0 })
        },
      ),
  },
  {
    rule: 'ENS-EMB-SEGMENTNEXT-2',
    title: 'next unregisters a segment that still has pages (a leak the accounting cannot see)',
    run: () =>
      withVariantBothModes(
        [variant(segmentNext, (s, e) => {
          const o = segmentNext.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => tableSet(d.segments, e.segment, null)) }
        })],
        (m) => {
          allocSeg(m, 2)
          m.dispatch({ type: 'segment.next', segment: 0 })
        },
      ),
  },
  {
    rule: 'ENS-EMB-SEGMENTNEXT-3',
    title: 'next rewrites the metadata of the page it hands out',
    run: () =>
      withVariantBothModes(
        [variant(segmentNext, (s, e) => {
          const o = segmentNext.reduce(s, e)
          const idx = segmentPages(tableGet(s.segments, e.segment)!)[0]!
          return { ...o, snapshot: edit(o.snapshot, (d) => setCells(d, idx, { storage: { kind: 'Frame', meta: OTHER_META } })) }
        })],
        (m) => {
          allocSeg(m, 2)
          m.dispatch({ type: 'segment.next', segment: 0 })
        },
      ),
  },
  // ---- SegmentClone / SegmentSlice --------------------------------------------------------
  {
    rule: 'ENS-EMB-SEGMENTCLONE-1',
    title: 'the clone is registered one page short (its extra reference is absorbed as forgotten)',
    run: () =>
      withVariantBothModes(
        [variant(segmentClone, (s, e) => {
          const o = segmentClone.reduce(s, e)
          const g = tableGet(o.snapshot.segments, o.result.segment)!
          return { ...o, snapshot: edit(o.snapshot, (d) => tableSet(d.segments, o.result.segment, { ...g, endPaddr: g.endPaddr - PAGE_SIZE })) }
        })],
        (m) => allocSeg(m, 2).clone(),
      ),
  },
  {
    rule: 'ENS-EMB-SEGMENTCLONE-2',
    title: 'clone takes two references to the first page',
    run: () =>
      withVariantBothModes(
        [variant(segmentClone, (s, e) => {
          const o = segmentClone.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => extraReference(d, segmentPages(tableGet(s.segments, e.segment)!)[0]!)) }
        })],
        (m) => allocSeg(m, 2).clone(),
      ),
  },
  {
    rule: 'ENS-EMB-SEGMENTSLICE-1',
    title: 'slice takes the offsets as absolute addresses',
    expect: ['ENS-EMB-SEGMENTSLICE-1', 'ENS-EMB-SEGMENTSLICE-2'],
    run: () =>
      withVariantBothModes(
        [variant(segmentSlice, (s, e) => {
          const base = tableGet(s.segments, e.segment)!.startPaddr
          return segmentSlice.reduce(s, { ...e, start: e.start - base, end: e.end - base })
        })],
        (m) => {
          alloc(m)
          allocSeg(m, 2).slice({ start: PAGE_SIZE, end: 2 * PAGE_SIZE }) // segment [0x1000, 0x3000): slice [0x2000, 0x3000)
        },
      ),
  },
  {
    rule: 'ENS-EMB-SEGMENTSLICE-2',
    title: 'slice takes references on the whole segment, not just the sub-range',
    run: () =>
      withVariantBothModes(
        [variant(segmentSlice, (s, e) => {
          const o = segmentSlice.reduce(s, e)
          const inSlice = new Set(segmentPages(tableGet(o.snapshot.segments, o.result.segment)!))
          const rest = segmentPages(tableGet(s.segments, e.segment)!).filter((i) => !inSlice.has(i))
          return { ...o, snapshot: edit(o.snapshot, (d) => rest.forEach((i) => extraReference(d, i))) }
        })],
        (m) => allocSeg(m, 3).slice({ start: 0, end: PAGE_SIZE }),
      ),
  },
  // ---- alloc_segment (model) ---------------------------------------------------------------
  {
    rule: 'ENS-FRAMEALLOC-SEGMENT-1',
    title: 'a multi-frame alloc_segment reports NoMemory although a free run exists',
    run: () =>
      withVariantBothModes(
        [variant(allocSegment, (s, e) => (e.nframes > 1 ? { snapshot: s, result: { ok: false as const, error: 'NoMemory' as const } } : allocSegment.reduce(s, e)))],
        (m) => m.frames.allocSegment(4),
      ),
  },
  {
    rule: 'ENS-FRAMEALLOC-SEGMENT-2',
    title: 'alloc_segment ignores zeroed (the page keeps its old contents)',
    run: () =>
      withVariantBothModes(
        [variant(allocSegment, (s, e) => allocSegment.reduce(s, { ...e, zeroed: false }))],
        (m) => m.frames.allocSegment(1),
        { initial: stateWith(nothing, (d) => tableSet(d.memory, 0, new Uint8Array(PAGE_SIZE).fill(0xa5))) },
      ),
  },
  // ---- From<Frame> for Segment (model) -----------------------------------------------------
  {
    rule: 'ENS-SEGMENT-FROMFRAME-1',
    title: 'Segment::from(frame) takes a new reference instead of moving the frame\'s',
    run: () =>
      withVariantBothModes(
        [variant(segmentFromFrame, (s, e) => {
          const o = segmentFromFrame.reduce(s, e)
          const pa = tableGet(s.frames, e.frame)!.paddr
          return { ...o, snapshot: edit(o.snapshot, (d) => extraReference(d, pa / PAGE_SIZE)) }
        })],
        (m) => Segment.fromFrame(alloc(m)),
      ),
  },
]
