/**
 * Memory views (`MemView`, state.md §11): the mappings a VmSpace owner, a reader or a writer
 * sees — sorted by VA — and the frames they map (`FrameContents`: a physical range; the bytes are
 * the exec memory, `Snapshot.memory`), with the spec functions over them (`borrow_at`, `split`,
 * `join`, `addr_transl`, …) and the edit the VmSpace cursor events make (`viewWith`).
 *
 * A space's views hold every page it maps and are edited and compared at every VmSpace step, so
 * the functions here cost what a step touches plus at most one pass over a view: lookups by key
 * are binary searches over the sorted lists (src/model/mapping_list.ts), and an edit updates the
 * frames it touches instead of collecting them again. Each such path is exact: it gives what the
 * definition beside it gives, which is used where its assumptions (a sorted view, finite numbers)
 * fail.
 */
import { MAX_PADDR } from '../arch/constants.js'
import { isDraft } from './immer.js'
import { hasMapping, mappingKey, mappingsIncluded, sameMapping, sortedByStart, sortedByVa, vaStart } from './mapping_list.js'
import { includedSorted, indexOfStart, knownAscending, lowerBound, spliceSorted, upperBound } from './sorted_list.js'
import type { Mapping, VaRange } from './pt_view.js'
import { rangesOverlap } from './pt_view.js'

/** `FrameContents` of a memory view: the frame's physical range (its bytes are `Snapshot.memory`). */
export interface FrameContents {
  readonly start: number
  readonly size: number
}

/** `MemView { mappings, memory }` (state.md §11), mappings sorted by VA, memory by address. */
export interface MemView {
  readonly mappings: readonly Mapping[]
  readonly memory: readonly FrameContents[]
}

function byVa(a: Mapping, b: Mapping): number {
  return a.vaRange.start - b.vaRange.start
}

function frameOf(m: Mapping): FrameContents {
  return { start: m.paRange.start, size: m.pageSize }
}

function memoryOf(mappings: readonly Mapping[]): FrameContents[] {
  const seen = new Map<number, FrameContents>()
  for (const m of mappings) if (!seen.has(m.paRange.start)) seen.set(m.paRange.start, frameOf(m))
  return [...seen.values()].sort((a, b) => a.start - b.start)
}

/** A view of `mappings` with the frames they map. */
export function memViewOf(mappings: readonly Mapping[]): MemView {
  return { mappings: [...mappings].sort(byVa), memory: memoryOf(mappings) }
}

export const EMPTY_VIEW: MemView = { mappings: [], memory: [] }

/** The mapping of `mv` containing `va`, or null. */
export function mappingOfView(mv: MemView, va: number): Mapping | null {
  for (const m of mv.mappings) if (m.vaRange.start <= va && va < m.vaRange.end) return m
  return null
}

/** The first VA of `[range)` that does not translate in `mv`, or null. */
export function firstUntranslated(mv: MemView, range: VaRange): number | null {
  let at = range.start
  for (const m of mv.mappings) {
    if (at >= range.end) break
    if (m.vaRange.end <= at) continue
    if (m.vaRange.start > at) return at
    at = m.vaRange.end
  }
  return at >= range.end ? null : at
}

/** `borrow_at_spec(vaddr, len)`: the mappings overlapping `[vaddr, vaddr + len)` and their frames. */
export function borrowAt(mv: MemView, vaddr: number, len: number): MemView {
  const end = vaddr + len
  const mappings = mv.mappings.filter((m) => m.vaRange.start < end && m.vaRange.end > vaddr)
  return { mappings, memory: memoryOf(mappings) }
}

/**
 * `split_spec(vaddr, len)`, corrected: left = the mappings overlapping `[vaddr, vaddr + len)` and
 * their frames (`borrow_at_spec`), right = every other mapping. Deviation (spec/README.md §4 item 11,
 * "do not fix the model to match"): upstream's right half drops the mappings below `vaddr` and
 * repeats a mapping straddling `vaddr + len`, after which `dispose_writer`'s disjointness
 * precondition could never hold for a writer ending inside a page.
 */
export function splitView(mv: MemView, vaddr: number, len: number): [MemView, MemView] {
  const left = borrowAt(mv, vaddr, len)
  const rightMappings = mv.mappings.filter((m) => !hasMapping(left.mappings, m))
  return [left, { mappings: rightMappings, memory: memoryOf(rightMappings) }]
}

/** `join_spec(other)`: the union of mappings, memory `union_prefer_right`. */
export function joinView(a: MemView, b: MemView): MemView {
  const mappings = [...a.mappings, ...b.mappings.filter((m) => !hasMapping(a.mappings, m))].sort(byVa)
  const memory = new Map<number, FrameContents>()
  for (const f of a.memory) memory.set(f.start, f)
  for (const f of b.memory) memory.set(f.start, f)
  return { mappings, memory: [...memory.values()].sort((x, y) => x.start - y.start) }
}

// Verdicts cached per published list (overlappingPair, memoryFailures), which an edit passes on
// when it can tell they hold for the edited lists by looking at what it changed.
const overlapOf = new WeakMap<readonly Mapping[], [Mapping, Mapping] | null>()
const failuresOf = new WeakMap<readonly FrameContents[], ReadonlyArray<readonly [number, string]>>()
const NO_FAILURES: ReadonlyArray<readonly [number, string]> = Object.freeze([])

/**
 * After an edit of a sorted view: a list with no overlapping mappings keeps none when none of its
 * new neighbours (around each added mapping and each removal) overlap — every other neighbour pair
 * was one before; a frame list with no failing frame keeps none when the new frames pass.
 */
function inheritVerdicts(edit: { list: readonly Mapping[]; drop: readonly number[] }, mappings: readonly Mapping[], added: readonly Mapping[], before: readonly FrameContents[], memory: readonly FrameContents[], fresh: readonly FrameContents[]): void {
  if (failuresOf.get(before)?.length === 0 && fresh.every((f) => frameContentsFailure(f) === null)) failuresOf.set(memory, NO_FAILURES)
  if (overlapOf.get(edit.list) !== null || !sortedByVa(mappings)) return
  const around = (i: number): boolean => (i > 0 && i < mappings.length && rangesOverlap(mappings[i - 1]!.vaRange, mappings[i]!.vaRange))
  for (const m of added) {
    const i = indexOfStart(mappings, m.vaRange.start, vaStart)
    if (around(i) || around(i + 1)) return
  }
  for (const d of edit.drop) if (around(lowerBound(mappings, edit.list[d]!.vaRange.start, vaStart))) return
  overlapOf.set(mappings, null)
}

/** A view with `removed` mappings (by key) taken out and `added` put in (their frames follow). */
export function viewWith(mv: MemView, removed: readonly Mapping[], added: readonly Mapping[]): MemView {
  return viewWithDistinct(mv, removed, added) ?? viewWithScan(mv, removed, added) ?? viewWithByKeys(mv, removed, added)
}

/** `viewWith` as defined: the kept and the added mappings, sorted, with their frames (`memViewOf`). */
function viewWithByKeys(mv: MemView, removed: readonly Mapping[], added: readonly Mapping[]): MemView {
  const gone = new Set(removed.map(mappingKey))
  return memViewOf([...mv.mappings.filter((m) => !gone.has(mappingKey(m))), ...added])
}

/** A mappings list's frames (`memoryOf`) and whether no two of its mappings share a PA. */
interface ListFrames {
  readonly memory: readonly FrameContents[]
  readonly distinct: boolean
}

/** `ListFrames` of published lists: an edit of a view updates its frames instead of collecting them again. */
const framesOfList = new WeakMap<readonly Mapping[], ListFrames>()

function framesOf(list: readonly Mapping[]): ListFrames {
  let frames = framesOfList.get(list)
  if (frames === undefined) {
    const memory = memoryOf(list)
    frames = { memory, distinct: memory.length === list.length }
    if (!isDraft(list)) framesOfList.set(list, frames)
  }
  return frames
}

const finite = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x)
const numeric = (m: Mapping): boolean => finite(m.vaRange.start) && finite(m.paRange.start)
const frameStart = (f: FrameContents): number => f.start

/**
 * The view's sorted list, its frames, and the removed mappings' positions in the list (ascending;
 * a sorted view has one mapping per start), when the fast paths apply: the view is sorted by VA and
 * every VA start and PA is a finite number. Null otherwise.
 */
function sortedEdit(mv: MemView, removed: readonly Mapping[], added: readonly Mapping[]): { list: readonly Mapping[]; frames: ListFrames; drop: number[] } | null {
  const list = mv.mappings
  if (!sortedByVa(list) || !removed.every(numeric) || !added.every(numeric)) return null
  const frames = framesOf(list)
  if (!sortedByStart(frames.memory)) return null // a PA of the view is not a finite number
  const drop: number[] = []
  for (const r of removed) {
    const i = indexOfStart(list, r.vaRange.start, vaStart)
    if (i >= 0 && sameMapping(list[i]!, r)) drop.push(i)
  }
  drop.sort((x, y) => x - y)
  return { list, frames, drop: drop.filter((i, k) => k === 0 || drop[k - 1] !== i) }
}

/** The sorted `[...kept, ...added]` (a stable sort: at equal starts the view's own mapping first). */
function editedList(list: readonly Mapping[], drop: readonly number[], added: readonly Mapping[]): Mapping[] {
  const adding = [...added].sort(byVa)
  const out = spliceSorted(list, drop, adding, adding.map((m) => upperBound(list, m.vaRange.start, vaStart)))
  // still strictly ascending unless an added start repeats one (added or kept)
  const repeats = adding.some((m, k) => {
    if (k > 0 && adding[k - 1]!.vaRange.start === m.vaRange.start) return true
    const i = indexOfStart(list, m.vaRange.start, vaStart)
    return i >= 0 && !drop.includes(i)
  })
  if (!repeats) knownAscending(out)
  return out
}

/**
 * `viewWithByKeys` for a sorted view in which no two mappings share a PA (every view of a space
 * that maps each frame once): a dropped mapping's frame leaves unless an added mapping maps it; an
 * added mapping's frame is the view's own where a kept mapping maps it, else the first added
 * one's. Binary searches and one copy of each list: no keys, no sort of the view.
 */
function viewWithDistinct(mv: MemView, removed: readonly Mapping[], added: readonly Mapping[]): MemView | null {
  const edit = sortedEdit(mv, removed, added)
  if (edit === null || !edit.frames.distinct) return null
  const { list, drop } = edit
  const before = edit.frames.memory
  const droppedPas = new Set(drop.map((i) => list[i]!.paRange.start))
  const fresh = new Map<number, FrameContents>() // frames no kept mapping maps, by PA
  let distinct = true
  let ambiguous = false // a PA mapped with two page sizes: which frame comes first depends on the order
  for (const m of added) {
    const pa = m.paRange.start
    const i = droppedPas.has(pa) ? -1 : indexOfStart(before, pa, frameStart)
    const f = i >= 0 ? before[i]! : fresh.get(pa)
    if (f === undefined) fresh.set(pa, frameOf(m))
    else {
      distinct = false
      if (f.size !== m.pageSize) ambiguous = true
    }
  }
  const mappings = editedList(list, drop, added)
  const freshFrames = [...fresh.values()].sort((x, y) => x.start - y.start)
  const gone = [...droppedPas].map((pa) => indexOfStart(before, pa, frameStart)).sort((x, y) => x - y)
  const memory = spliceSorted(before, gone, freshFrames, freshFrames.map((f) => lowerBound(before, f.start, frameStart)))
  // with no PA mapped at two sizes, `memory` is `memoryOf` of the sorted list as well
  knownAscending(memory) // kept frames, and fresh ones at PAs no kept frame has
  inheritVerdicts(edit, mappings, added, before, memory, freshFrames)
  if (!ambiguous) framesOfList.set(mappings, { memory, distinct })
  return { mappings, memory }
}

/**
 * `viewWithByKeys` for a sorted view in which a frame is mapped twice (MD-8): the frames at the
 * PAs the edit touches are found again by one pass over the kept mappings.
 */
function viewWithScan(mv: MemView, removed: readonly Mapping[], added: readonly Mapping[]): MemView | null {
  const edit = sortedEdit(mv, removed, added)
  if (edit === null) return null
  const { list, drop } = edit
  const before = edit.frames.memory
  const touched = new Set<number>()
  for (const m of removed) touched.add(m.paRange.start)
  for (const m of added) touched.add(m.paRange.start)
  // each touched PA's first mapping in the order `[...kept, ...added]` (`memoryOf`)
  const found = new Map<number, FrameContents>()
  let ambiguous = false
  const see = (m: Mapping): void => {
    const pa = m.paRange.start
    if (!touched.has(pa)) return
    const f = found.get(pa)
    if (f === undefined) found.set(pa, frameOf(m))
    else if (f.size !== m.pageSize) ambiguous = true
  }
  let d = 0
  for (let i = 0; i < list.length; i++) {
    if (d < drop.length && drop[d] === i) d++
    else see(list[i]!)
  }
  for (const m of added) see(m)
  const mappings = editedList(list, drop, added)
  const fresh = [...found.values()].sort((x, y) => x.start - y.start)
  const memory: FrameContents[] = []
  let k = 0
  for (const f of before) {
    if (touched.has(f.start)) continue
    while (k < fresh.length && fresh[k]!.start < f.start) memory.push(fresh[k++]!)
    memory.push(f)
  }
  while (k < fresh.length) memory.push(fresh[k++]!)
  knownAscending(memory) // untouched frames, and the touched PAs' ones
  inheritVerdicts(edit, mappings, added, before, memory, fresh)
  if (!ambiguous) framesOfList.set(mappings, { memory, distinct: memory.length === mappings.length })
  return { mappings, memory }
}

/** Whether `sub`'s mappings are all in `sup`. */
export function mappingsSubset(sub: MemView, sup: MemView): boolean {
  return mappingsIncluded(sub.mappings, sup.mappings)
}

/** Whether `sub`'s frames (by start) are all in `sup`. */
export function memorySubset(sub: MemView, sup: MemView): boolean {
  if (sub.memory === sup.memory) return true
  // sorted frame lists (every view the reducers build): a merge; else a set (SameValueZero)
  if (sortedByStart(sub.memory) && sortedByStart(sup.memory)) return includedSorted(sub.memory, sup.memory, frameStart, () => true)
  const keys = new Set(sup.memory.map((f) => f.start))
  return sub.memory.every((f) => keys.has(f.start))
}

/** `mappings_are_disjoint()`: distinct mappings are VA-disjoint (first offending pair, or null; once per published list). */
export function overlappingPair(mappings: readonly Mapping[]): [Mapping, Mapping] | null {
  let pair = overlapOf.get(mappings)
  if (pair === undefined) {
    pair = null
    // a list already sorted by VA is its own stable sort
    const sorted = sortedByVa(mappings) ? mappings : [...mappings].sort(byVa)
    for (let i = 1; i < sorted.length && pair === null; i++) if (rangesOverlap(sorted[i - 1]!.vaRange, sorted[i]!.vaRange)) pair = [sorted[i - 1]!, sorted[i]!]
    if (!isDraft(mappings)) overlapOf.set(mappings, pair)
  }
  return pair
}

/** INV-MEMVIEW-1 (`FrameContents::inv`) for one frame of a view; why it fails, or null. */
export function frameContentsFailure(f: FrameContents): string | null {
  const { start, size } = f
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(size) && size > 0)) return `frame contents at ${start} have size ${size}`
  if (start % size !== 0) return `the range [${start}, ${start + size}) is not aligned to its size ${size}`
  if (start + size >= MAX_PADDR) return `the range [${start}, ${start + size}) reaches MAX_PADDR`
  return null
}

/** The frames of a view that fail INV-MEMVIEW-1, with why (once per published list). */
export function memoryFailures(memory: readonly FrameContents[]): ReadonlyArray<readonly [number, string]> {
  let failures = failuresOf.get(memory)
  if (failures === undefined) {
    const found: Array<readonly [number, string]> = []
    memory.forEach((f, i) => {
      const bad = frameContentsFailure(f)
      if (bad !== null) found.push([i, bad])
    })
    failures = found
    if (!isDraft(memory)) failuresOf.set(memory, failures)
  }
  return failures
}
