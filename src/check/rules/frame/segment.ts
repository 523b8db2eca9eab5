/**
 * Postconditions of the `Segment` layer (operations.md §11.19–§11.23, behaviour.md §2.7):
 * ENS-EMB-SEGMENTFROMUNUSED-1..3, ENS-EMB-SEGMENTDROP-1..3, ENS-EMB-SEGMENTSPLIT-1..2,
 * ENS-EMB-SEGMENTNEXT-1..3, ENS-EMB-SEGMENTCLONE-1..2, ENS-EMB-SEGMENTSLICE-1..2, and the model's
 * ENS-FRAMEALLOC-SEGMENT-1..2 (`alloc_segment`) and ENS-SEGMENT-FROMFRAME-1 (`From<Frame>`).
 * The REQ rules come from the event specs in reducers/frame/segment.ts.
 *
 * Clauses that restate the store invariants are left to them: INV-STORE-14 (ranges aligned,
 * non-empty), INV-STORE-15 (covered pages have usage Frame), INV-STORE-19 (`raw_count >= cover`),
 * INV-ACCT-1..3 (`rc == H + P + cover + forgotten`) and INV-OBLIG-1 run at every boundary.
 *
 * Each rule reads the segment's range from the pre-state (its REQ made sure it exists) and
 * compares pre and post page by page; "everything else unchanged" is read off the change set.
 */
import equal from 'fast-deep-equal/es6/index.js'
import { frameToIndex, indexToFrame, MAX_PADDR, PAGE_SIZE, PageUsage, REF_COUNT_UNUSED, validFramePaddr } from '../../../arch/constants.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { isMmioPaddr, isParked, isPhysicalSlot, ownerOf } from '../../../model/slots.js'
import type { FrameMeta, SegmentEntry, Snapshot } from '../../../model/snapshot.js'
import { tableGet } from '../../../model/table.js'
import { policyRun } from './allocator_policy.js'
import { segmentPages } from '../../changes.js'
import type { EnsContext, EnsRule } from '../../rule.js'
import {
  cellsUnchanged,
  ens,
  isErrResult,
  isOkResult,
  num,
  obligationsChanged,
  otherSlotsChanged,
  ownerFieldsUnchanged,
  parkingChanged,
  rcIs,
  memoryZeroedOnly,
  allocatorTook,
  outcomeIs,
  storeUnchanged,
} from '../helpers.js'
import { getFromUnusedOutcome } from './meta.js'

// ---- reading events and results -------------------------------------------------------------

/** The segment named by the event, from the pre-state (its REQ guarantees it is live). */
function preSegment(ctx: EnsContext): SegmentEntry {
  return tableGet(ctx.pre.segments, num(ctx.event, 'segment'))!
}

/** Slot indices of `[start, end)`. */
function pageRange(startPaddr: number, endPaddr: number): number[] {
  return segmentPages({ startPaddr, endPaddr })
}

/** The `Ok` value (or plain value) of a step's result, as an object. */
function resultValue(ctx: EnsContext): Record<string, unknown> | null {
  const r = ctx.result as Record<string, unknown> | null
  if (r === null || typeof r !== 'object') return null
  if (r.ok === true) return (r.value as Record<string, unknown>) ?? null
  if (r.ok === false) return null
  return r
}

function resultId(ctx: EnsContext, field: string): number | null {
  const v = resultValue(ctx)?.[field]
  return typeof v === 'number' ? v : null
}

/** Metadata the event gave for page `i` (one for all, or one per page). */
function metaOf(ctx: EnsContext, i: number): FrameMeta | undefined {
  const meta = (ctx.event as unknown as { meta?: FrameMeta | FrameMeta[] }).meta
  return Array.isArray(meta) ? meta[i] : meta
}

// ---- registry clauses ------------------------------------------------------------------------

/** Segment entries that changed, other than `allowed`. */
function otherSegmentsChanged(ctx: EnsContext, rule: string, allowed: Iterable<number>): Finding[] {
  const ok = new Set(allowed)
  const out: Finding[] = []
  for (const id of ctx.changes.segments) {
    if (!ok.has(id)) out.push(finding(rule, `segments[${id}]`, `segment ${id} changed although the operation does not touch it`, tableGet(ctx.pre.segments, id), tableGet(ctx.post.segments, id)))
  }
  return out
}

/** Frame handle entries that changed, other than `allowed`. */
function otherFramesChanged(ctx: EnsContext, rule: string, allowed: Iterable<number> = []): Finding[] {
  const ok = new Set(allowed)
  const out: Finding[] = []
  for (const id of ctx.changes.frames) {
    if (!ok.has(id)) out.push(finding(rule, `frames[${id}]`, `frame handle ${id} changed although the operation does not touch it`, tableGet(ctx.pre.frames, id), tableGet(ctx.post.frames, id)))
  }
  for (const id of ctx.changes.uniqueFrames) {
    out.push(finding(rule, `uniqueFrames[${id}]`, `unique frame handle ${id} changed`, tableGet(ctx.pre.uniqueFrames, id), tableGet(ctx.post.uniqueFrames, id)))
  }
  return out
}

/** `id` is a fresh segment id (absent before) registered afterwards with exactly `range`. */
function freshSegment(ctx: EnsContext, rule: string, id: number | null, range: SegmentEntry, what: string): Finding[] {
  if (id === null) return [finding(rule, 'result', `no segment id was returned for ${what}`, range, ctx.result)]
  const out: Finding[] = []
  if (tableGet(ctx.pre.segments, id) !== null) out.push(finding(rule, `segments[${id}]`, `the id ${id} returned for ${what} is not fresh`, null, tableGet(ctx.pre.segments, id)))
  const got = tableGet(ctx.post.segments, id)
  if (got === null || got.startPaddr !== range.startPaddr || got.endPaddr !== range.endPaddr) {
    out.push(finding(rule, `segments[${id}]`, `${what} is not registered under ${id} with [${range.startPaddr}, ${range.endPaddr})`, range, got))
  }
  return out
}

/** Change of `cover(idx)` per slot, from the segment entries the step changed. */
function coverDelta(ctx: EnsContext): Map<number, number> {
  const delta = new Map<number, number>()
  const bump = (e: SegmentEntry | null, by: number): void => {
    if (e === null) return
    for (const i of segmentPages(e)) delta.set(i, (delta.get(i) ?? 0) + by)
  }
  for (const id of ctx.changes.segments) {
    bump(tableGet(ctx.pre.segments, id), -1)
    bump(tableGet(ctx.post.segments, id), +1)
  }
  return delta
}

/** The cover counts changed by exactly `expected` (slot → delta; absent = 0). */
function coverChangedBy(ctx: EnsContext, rule: string, expected: ReadonlyMap<number, number>): Finding[] {
  const got = coverDelta(ctx)
  const out: Finding[] = []
  for (const i of new Set([...got.keys(), ...expected.keys()])) {
    const g = got.get(i) ?? 0
    const w = expected.get(i) ?? 0
    if (g !== w) out.push(finding(rule, `cover(${i})`, `the number of segments covering slot ${i} changed by ${g}, expected ${w}`, w, g))
  }
  return out
}

function deltaOn(pages: readonly number[], by: number): Map<number, number> {
  return new Map(pages.map((i) => [i, by]))
}

// ---- slot clauses ----------------------------------------------------------------------------

function rawCountDelta(ctx: EnsContext, rule: string, idx: number, delta: number): Finding[] {
  const before = ownerOf(ctx.pre, idx).rawCount
  const got = ownerOf(ctx.post, idx).rawCount
  return got === before + delta ? [] : [finding(rule, `regions.slotOwners[${idx}].rawCount`, `raw_count of slot ${idx} changed by ${got - before}, expected ${delta}`, before + delta, got)]
}

/** Clone / slice: every covered page `rc + 1`, its other fields unchanged; nothing else in `regions`. */
function referencedEach(ctx: EnsContext, rule: string, pages: readonly number[]): Finding[] {
  const out: Finding[] = []
  for (const idx of pages) {
    out.push(...rcIs(ctx, rule, idx, ownerOf(ctx.pre, idx).innerPerms.refCount + 1, 'the new segment adds one reference'))
    out.push(...cellsUnchanged(ctx, rule, idx, ['storage', 'vtablePtr', 'inList']))
    out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'pathsInPt']))
  }
  out.push(...otherSlotsChanged(ctx, rule, pages), ...parkingChanged(ctx, rule), ...obligationsChanged(ctx, rule, new Map()))
  return out
}

// ---- success conditions (stated from the spec, independently of the reducers) --------------

/** ENS-EMB-SEGMENTFROMUNUSED-1's success condition. */
function fromUnusedShouldSucceed(s: Snapshot, startPaddr: number, endPaddr: number): boolean {
  if (!(startPaddr % PAGE_SIZE === 0 && endPaddr % PAGE_SIZE === 0 && startPaddr < endPaddr && endPaddr <= MAX_PADDR)) return false
  for (let pa = startPaddr; pa < endPaddr; pa += PAGE_SIZE) {
    const idx = frameToIndex(pa)
    if (!validFramePaddr(pa) || !isPhysicalSlot(s, idx) || !isParked(s, idx) || ownerOf(s, idx).innerPerms.refCount !== REF_COUNT_UNUSED || isMmioPaddr(s.config, pa)) return false
  }
  return true
}

/**
 * What `Segment::from_unused([start, end))` returns for a non-empty range (an empty one panics,
 * REQ-SEGMENT-FROMUNUSED-1): `Err(NotAligned)` when either end is unaligned, `Err(OutOfBound)`
 * when `end` is beyond `MAX_PADDR` or physical memory, else what `Frame::from_unused` answers for
 * the first page, in address order, that it refuses (operations.md §11.19: "`Frame::from_unused`
 * for each page … `Err` is returned"; per page ENS-META-GETUNUSED-6's outcome), else `Ok`.
 * The ends are checked first as OSTD's `Segment::from_unused` does (reducers/frame/segment.ts).
 */
export function segmentFromUnusedOutcome(s: Snapshot, startPaddr: number, endPaddr: number): string {
  if (startPaddr % PAGE_SIZE !== 0 || endPaddr % PAGE_SIZE !== 0) return 'NotAligned'
  if (endPaddr > MAX_PADDR || endPaddr > indexToFrame(s.nrFrames)) return 'OutOfBound'
  for (let pa = startPaddr; pa < endPaddr; pa += PAGE_SIZE) {
    const page = getFromUnusedOutcome(s, pa)
    if (page !== 'Ok') return page
  }
  return 'Ok'
}

// ---- rules -----------------------------------------------------------------------------------

const FROM_UNUSED = ['segment.from_unused']
const ALLOC = ['frame_alloc.alloc_segment']

export const segmentRules: EnsRule[] = [
  // ---- SegmentFromUnused (§11.19)
  ens('ENS-EMB-SEGMENTFROMUNUSED-1', FROM_UNUSED, (ctx) => {
    const rule = 'ENS-EMB-SEGMENTFROMUNUSED-1'
    const start = num(ctx.event, 'startPaddr')
    const end = num(ctx.event, 'endPaddr')
    const should = fromUnusedShouldSucceed(ctx.pre, start, end)
    const did = isOkResult(ctx.result)
    const out: Finding[] = []
    if (should !== did) {
      out.push(finding(rule, 'result', `Segment::from_unused([${start}, ${end})) ${did ? 'succeeded' : 'failed'} but the range ${should ? 'is' : 'is not'} aligned, in bounds and entirely UNUSED`, should ? 'Ok' : 'Err', ctx.result))
    }
    if (!did) out.push(...storeUnchanged(ctx, rule))
    return out
  }),
  ens(
    'ENS-EMB-SEGMENTFROMUNUSED-3',
    FROM_UNUSED,
    (ctx) => {
      const start = num(ctx.event, 'startPaddr')
      const end = num(ctx.event, 'endPaddr')
      return start < end ? outcomeIs(ctx, 'ENS-EMB-SEGMENTFROMUNUSED-3', segmentFromUnusedOutcome(ctx.pre, start, end)) : []
    },
    '[model, operations.md §11.19] `Segment::from_unused([start, end))` returns `Err(NotAligned)` when either end is unaligned, `Err(OutOfBound)` when `end` is beyond `MAX_PADDR` or physical memory, else the `Err` of the first page (in address order) `Frame::from_unused` refuses (ENS-META-GETUNUSED-6), else `Ok`.',
  ),
  ens('ENS-EMB-SEGMENTFROMUNUSED-2', FROM_UNUSED, (ctx) => {
    if (!isOkResult(ctx.result)) return []
    const rule = 'ENS-EMB-SEGMENTFROMUNUSED-2'
    const range = { startPaddr: num(ctx.event, 'startPaddr'), endPaddr: num(ctx.event, 'endPaddr') }
    const pages = pageRange(range.startPaddr, range.endPaddr)
    const out: Finding[] = []
    pages.forEach((idx, i) => {
      const post = ownerOf(ctx.post, idx)
      out.push(...rcIs(ctx, rule, idx, 1, 'a page of a new segment'))
      if (post.usage !== PageUsage.Frame) out.push(finding(rule, `regions.slotOwners[${idx}].usage`, `page ${idx} of the new segment has usage ${post.usage}`, 'Frame', post.usage))
      if (post.pathsInPt.length !== 0) out.push(finding(rule, `regions.slotOwners[${idx}].pathsInPt`, `page ${idx} of the new segment is mapped`, [], post.pathsInPt))
      if (post.innerPerms.inList !== 0) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.inList`, `page ${idx} of the new segment is in a list`, 0, post.innerPerms.inList))
      const want = metaOf(ctx, i)
      const storage = post.innerPerms.storage
      if (storage === null || storage.kind !== 'Frame' || (want !== undefined && !equal(storage.meta, want)) || post.innerPerms.vtablePtr === null) {
        out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.storage`, `page ${idx} does not hold the given metadata`, { kind: 'Frame', meta: want }, storage))
      }
      // [JUN] raw_count := 1 — MD-1: the forget adds one.
      out.push(...rawCountDelta(ctx, rule, idx, +1))
      out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr']))
    })
    out.push(...otherSlotsChanged(ctx, rule, pages), ...parkingChanged(ctx, rule), ...obligationsChanged(ctx, rule, new Map()))
    const id = resultId(ctx, 'segment')
    out.push(...freshSegment(ctx, rule, id, range, 'the new segment'), ...otherSegmentsChanged(ctx, rule, id === null ? [] : [id]))
    const v = resultValue(ctx)
    if (v?.startPaddr !== range.startPaddr || v?.endPaddr !== range.endPaddr) out.push(finding(rule, 'result.value', 'the returned range is not the requested one', range, v))
    out.push(...otherFramesChanged(ctx, rule), ...memoryZeroedOnly(ctx, rule, new Set()))
    return out
  }),

  // ---- SegmentDrop (§11.20)
  ens('ENS-EMB-SEGMENTDROP-1', ['segment.drop'], (ctx) => {
    const rule = 'ENS-EMB-SEGMENTDROP-1'
    const id = num(ctx.event, 'segment')
    const pre = preSegment(ctx)
    const out: Finding[] = []
    if (tableGet(ctx.post.segments, id) !== null) out.push(finding(rule, `segments[${id}]`, `segment ${id} is still registered after its drop`, null, tableGet(ctx.post.segments, id)))
    out.push(...otherSegmentsChanged(ctx, rule, [id]), ...coverChangedBy(ctx, rule, deltaOn(segmentPages(pre), -1)), ...otherFramesChanged(ctx, rule))
    return out
  }),
  ens('ENS-EMB-SEGMENTDROP-2', ['segment.drop'], (ctx) => {
    const rule = 'ENS-EMB-SEGMENTDROP-2'
    const out: Finding[] = []
    for (const idx of segmentPages(preSegment(ctx))) {
      const rc = ownerOf(ctx.pre, idx).innerPerms.refCount
      out.push(...(rc === 1 ? rcIs(ctx, rule, idx, REF_COUNT_UNUSED, 'the segment held the last reference') : rcIs(ctx, rule, idx, rc - 1, 'the segment releases one reference')))
      out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['usage', 'pathsInPt', 'selfAddr']), ...cellsUnchanged(ctx, rule, idx, ['inList']))
    }
    return out
  }),
  ens('ENS-EMB-SEGMENTDROP-3', ['segment.drop'], (ctx) => {
    const rule = 'ENS-EMB-SEGMENTDROP-3'
    return [...otherSlotsChanged(ctx, rule, segmentPages(preSegment(ctx))), ...parkingChanged(ctx, rule), ...obligationsChanged(ctx, rule, new Map())]
  }),

  // ---- SegmentSplit (§11.21)
  ens('ENS-EMB-SEGMENTSPLIT-1', ['segment.split'], (ctx) => {
    const rule = 'ENS-EMB-SEGMENTSPLIT-1'
    const id = num(ctx.event, 'segment')
    const { startPaddr, endPaddr } = preSegment(ctx)
    const mid = startPaddr + num(ctx.event, 'offset')
    const left = resultId(ctx, 'left')
    const right = resultId(ctx, 'right')
    const out: Finding[] = []
    if (tableGet(ctx.post.segments, id) !== null) out.push(finding(rule, `segments[${id}]`, `the split segment ${id} is still registered`, null, tableGet(ctx.post.segments, id)))
    out.push(...freshSegment(ctx, rule, left, { startPaddr, endPaddr: mid }, 'the left half'))
    out.push(...freshSegment(ctx, rule, right, { startPaddr: mid, endPaddr }, 'the right half'))
    if (left !== null && right !== null && !(left < right)) out.push(finding(rule, 'result', `the fresh ids are not allocated left (${left}) before right (${right})`, 'left < right', { left, right }))
    out.push(...otherSegmentsChanged(ctx, rule, [id, ...(left === null ? [] : [left]), ...(right === null ? [] : [right])]), ...otherFramesChanged(ctx, rule))
    return out
  }),
  ens('ENS-EMB-SEGMENTSPLIT-2', ['segment.split'], (ctx) => {
    const rule = 'ENS-EMB-SEGMENTSPLIT-2'
    return [...otherSlotsChanged(ctx, rule, []), ...parkingChanged(ctx, rule), ...obligationsChanged(ctx, rule, new Map()), ...coverChangedBy(ctx, rule, new Map())]
  }),

  // ---- SegmentNext (§11.22)
  ens('ENS-EMB-SEGMENTNEXT-1', ['segment.next'], (ctx) => {
    const rule = 'ENS-EMB-SEGMENTNEXT-1'
    const pa = preSegment(ctx).startPaddr
    const id = resultId(ctx, 'frame')
    const out: Finding[] = []
    if (id === null || tableGet(ctx.pre.frames, id) !== null || tableGet(ctx.post.frames, id)?.paddr !== pa) {
      out.push(finding(rule, `frames[${id}]`, `no fresh Frame handle to the segment's first page ${pa} was registered`, { paddr: pa }, id === null ? ctx.result : tableGet(ctx.post.frames, id)))
    }
    out.push(...otherFramesChanged(ctx, rule, id === null ? [] : [id]))
    return out
  }),
  ens('ENS-EMB-SEGMENTNEXT-2', ['segment.next'], (ctx) => {
    const rule = 'ENS-EMB-SEGMENTNEXT-2'
    const id = num(ctx.event, 'segment')
    const { startPaddr, endPaddr } = preSegment(ctx)
    const rest = startPaddr + PAGE_SIZE
    const want = rest < endPaddr ? { startPaddr: rest, endPaddr } : null
    const got = tableGet(ctx.post.segments, id)
    const out: Finding[] = []
    if (!equal(got, want)) out.push(finding(rule, `segments[${id}]`, want === null ? `segment ${id} handed out its last page but is still registered` : `segment ${id} does not become [${rest}, ${endPaddr})`, want, got))
    out.push(...otherSegmentsChanged(ctx, rule, [id]), ...coverChangedBy(ctx, rule, new Map([[frameToIndex(startPaddr), -1]])))
    return out
  }),
  ens('ENS-EMB-SEGMENTNEXT-3', ['segment.next'], (ctx) => {
    const rule = 'ENS-EMB-SEGMENTNEXT-3'
    const idx = frameToIndex(preSegment(ctx).startPaddr)
    return [
      ...cellsUnchanged(ctx, rule, idx, ['refCount', 'storage', 'vtablePtr', 'inList']),
      ...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'pathsInPt']),
      ...rawCountDelta(ctx, rule, idx, -1),
      ...otherSlotsChanged(ctx, rule, [idx]),
      ...parkingChanged(ctx, rule),
      // The new handle's obligation ([JUN] ledger: `from_raw` mints one).
      ...obligationsChanged(ctx, rule, new Map([[idx, 1]])),
    ]
  }),

  // ---- SegmentClone / SegmentSlice (§11.23)
  ens('ENS-EMB-SEGMENTCLONE-1', ['segment.clone'], (ctx) => {
    const rule = 'ENS-EMB-SEGMENTCLONE-1'
    const { startPaddr, endPaddr } = preSegment(ctx)
    const id = resultId(ctx, 'segment')
    return [...freshSegment(ctx, rule, id, { startPaddr, endPaddr }, 'the clone'), ...otherSegmentsChanged(ctx, rule, id === null ? [] : [id]), ...otherFramesChanged(ctx, rule)]
  }),
  ens('ENS-EMB-SEGMENTCLONE-2', ['segment.clone'], (ctx) => referencedEach(ctx, 'ENS-EMB-SEGMENTCLONE-2', segmentPages(preSegment(ctx)))),
  ens('ENS-EMB-SEGMENTSLICE-1', ['segment.slice'], (ctx) => {
    const rule = 'ENS-EMB-SEGMENTSLICE-1'
    const base = preSegment(ctx).startPaddr
    const range = { startPaddr: base + num(ctx.event, 'start'), endPaddr: base + num(ctx.event, 'end') }
    const id = resultId(ctx, 'segment')
    return [...freshSegment(ctx, rule, id, range, 'the slice'), ...otherSegmentsChanged(ctx, rule, id === null ? [] : [id]), ...otherFramesChanged(ctx, rule)]
  }),
  ens('ENS-EMB-SEGMENTSLICE-2', ['segment.slice'], (ctx) => {
    const base = preSegment(ctx).startPaddr
    return referencedEach(ctx, 'ENS-EMB-SEGMENTSLICE-2', pageRange(base + num(ctx.event, 'start'), base + num(ctx.event, 'end')))
  }),

  // ---- alloc_segment (model rules; behaviour.md §2.7)
  ens(
    'ENS-FRAMEALLOC-SEGMENT-1',
    ALLOC,
    (ctx) => {
      const rule = 'ENS-FRAMEALLOC-SEGMENT-1'
      const n = num(ctx.event, 'nframes')
      const out: Finding[] = []
      if (n === 0) {
        if (!(isErrResult(ctx.result) && ctx.result.error === 'InvalidArgs')) out.push(finding(rule, 'result', 'alloc_segment(0) must return Err(InvalidArgs)', { ok: false, error: 'InvalidArgs' }, ctx.result))
      } else {
        const pick = policyRun(ctx.pre, n)
        if (pick === null) {
          if (!(isErrResult(ctx.result) && ctx.result.error === 'NoMemory')) out.push(finding(rule, 'result', `no run of ${n} free frames exists, so alloc_segment must return Err(NoMemory)`, { ok: false, error: 'NoMemory' }, ctx.result))
        } else {
          const want = { startPaddr: indexToFrame(pick.firstIndex), endPaddr: indexToFrame(pick.firstIndex + n) }
          const v = resultValue(ctx)
          if (!isOkResult(ctx.result) || v?.startPaddr !== want.startPaddr || v?.endPaddr !== want.endPaddr) {
            out.push(finding(rule, 'result', `the allocator policy picks [${want.startPaddr}, ${want.endPaddr}) for ${n} frames`, { ok: true, value: want }, ctx.result))
          }
          if (isOkResult(ctx.result)) out.push(...allocatorTook(ctx, rule, pick))
        }
      }
      if (!isOkResult(ctx.result)) out.push(...storeUnchanged(ctx, rule))
      return out
    },
    '[model, behaviour.md §2.7] `alloc_segment(n)`: `n == 0` ⟹ `Err(InvalidArgs)`; no run of `n` free frames ⟹ `Err(NoMemory)`; otherwise `Ok` with the run the allocator policy picks (one frame: LIFO reuse; more: first run after the never-used mark, else the lowest free run); an `Err` leaves the state unchanged.',
  ),
  ens(
    'ENS-FRAMEALLOC-SEGMENT-2',
    ALLOC,
    (ctx) => {
      if (!isOkResult(ctx.result)) return []
      const rule = 'ENS-FRAMEALLOC-SEGMENT-2'
      const v = resultValue(ctx)!
      const range = { startPaddr: v.startPaddr as number, endPaddr: v.endPaddr as number }
      const pages = pageRange(range.startPaddr, range.endPaddr)
      const out: Finding[] = []
      pages.forEach((idx, i) => {
        const post = ownerOf(ctx.post, idx)
        out.push(...rcIs(ctx, rule, idx, 1, 'a page of a new segment'))
        out.push(...rawCountDelta(ctx, rule, idx, +1))
        const want = metaOf(ctx, i)
        const storage = post.innerPerms.storage
        if (post.usage !== PageUsage.Frame || storage === null || storage.kind !== 'Frame' || (want !== undefined && !equal(storage.meta, want))) {
          out.push(finding(rule, `regions.slotOwners[${idx}]`, `page ${idx} is not a Frame holding the given metadata`, { usage: 'Frame', meta: want }, { usage: post.usage, storage }))
        }
      })
      out.push(...otherSlotsChanged(ctx, rule, pages), ...parkingChanged(ctx, rule), ...obligationsChanged(ctx, rule, new Map()))
      const id = resultId(ctx, 'segment')
      out.push(...freshSegment(ctx, rule, id, range, 'the allocated segment'), ...otherSegmentsChanged(ctx, rule, id === null ? [] : [id]), ...otherFramesChanged(ctx, rule))
      const zeroed = (ctx.event as unknown as { zeroed?: boolean }).zeroed !== false
      out.push(...memoryZeroedOnly(ctx, rule, new Set(zeroed ? pages : [])))
      return out
    },
    '[model, behaviour.md §2.7] `alloc_segment(n)` `Ok`: a fresh segment registered with the returned range of `n` pages; every page `rc == 1`, `usage == Frame`, the given metadata, `raw_count + 1` (forgotten into the segment); every other slot, parking, obligations and Frame handles unchanged; the pages zero-filled when `zeroed` (default), no other memory written.',
  ),

  // ---- From<Frame> for Segment (model rule)
  ens(
    'ENS-SEGMENT-FROMFRAME-1',
    ['segment.from_frame'],
    (ctx) => {
      const rule = 'ENS-SEGMENT-FROMFRAME-1'
      const fid = num(ctx.event, 'frame')
      const pa = tableGet(ctx.pre.frames, fid)!.paddr
      const idx = frameToIndex(pa)
      const id = resultId(ctx, 'segment')
      const out: Finding[] = []
      if (tableGet(ctx.post.frames, fid) !== null) out.push(finding(rule, `frames[${fid}]`, `frame handle ${fid} is still registered after it became a segment`, null, tableGet(ctx.post.frames, fid)))
      out.push(...otherFramesChanged(ctx, rule, [fid]))
      out.push(...freshSegment(ctx, rule, id, { startPaddr: pa, endPaddr: pa + PAGE_SIZE }, 'the one-page segment'), ...otherSegmentsChanged(ctx, rule, id === null ? [] : [id]))
      out.push(...cellsUnchanged(ctx, rule, idx, ['refCount', 'storage', 'vtablePtr', 'inList']), ...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'pathsInPt']))
      out.push(...rawCountDelta(ctx, rule, idx, +1), ...otherSlotsChanged(ctx, rule, [idx]), ...parkingChanged(ctx, rule), ...obligationsChanged(ctx, rule, new Map([[idx, -1]])))
      return out
    },
    '[model] `Segment::from(frame)`: the frame handle is consumed and `[pa, pa + 4096)` is registered under a fresh id; the reference moves from the handle to the segment (`rc` and the slot cells unchanged, `raw_count + 1`, one obligation redeemed); nothing else changes.',
  ),
]
