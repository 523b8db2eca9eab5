/**
 * Random valid histories, deterministic from a seed: the generator keeps a model of its own
 * history and picks, at each step, an operation that is valid in the current state (live handles,
 * addresses in range, preconditions met), so a correct model must replay it with zero violations
 * and without a single `OstdPanic`. Shared by the property tests, the benchmarks and
 * `ostd-model gen`.
 *
 * Operations are grouped by OSTD module (`META_OPS`, `FRAME_OPS`, `UNIQUE_OPS`, `SEGMENT_OPS`,
 * `LIST_OPS`, `IO_OPS`, and the page-table node / entry layer's `PT_OPS`, `PAGE_TABLE_OPS` and `CURSOR_OPS` in gen_pt.ts, which
 * filters its candidates through the model's own preconditions); `ALL_OPS` is their union (keys prefixed by the group) and the default.
 * An operation is `{ weight, gen }`: `gen(s, rng, index)` proposes one event valid in `s`, or null
 * when it does not apply now (no candidate handle, or no room: see `room`). Failing-but-valid calls
 * (`Err` results, `None`, reads past the end) are part of the mix.
 *
 * Speed: a generator never scans the slots. `GenIndex` keeps the live ids of every registry and
 * the slots holding forgotten references, and is moved from one snapshot to the next by diffing
 * the tables (cost proportional to the change). Candidates that need a property (an untyped frame,
 * a segment of two pages or more) are sampled with a few tries.
 *
 * Bounded state: creating operations apply only while there is `room` — with probability
 * `1 - n / cap` for `n` live objects of the kind — so the number of live handles drifts back
 * towards an equilibrium below the caps (`CAPS`) instead of random-walking.
 *
 * Left out: `meta_slot.drop_last_in_place` (see `EXCLUDED_EVENT_TYPES`); the `Ok` paths of
 * `meta_slot.get_from_unused` / `meta_slot.get_from_in_use` (the reference they take has no handle
 * to hold it); and `UniqueFrame::from_unused` on an MMIO page (its REQ-UNIQUE-FROMUNUSED-2, usage
 * Unused, fails: a panic). `from_unused` of frames, segments and meta slots on an MMIO page returns
 * `Err(InUse)` (see `unusedCasError`), and the `from_in_use` family returns `Err(Unused)`.
 */
import { frameToIndex, indexToFrame, MAX_PADDR, PAGE_SIZE, PageUsage, REF_COUNT_UNIQUE, REF_COUNT_UNUSED } from '../arch/constants.js'
import type { ModelEvent } from '../../reducers/index.js'
import { freeStackTop } from '../../reducers/frame/allocator.js'
import { linkOf } from '../../reducers/frame/linked_list.js'
import { toBase64, untypedFailure, type ValType } from '../../reducers/io/frame_io.js'
import { borrowFailure, vmIoLen } from '../../reducers/io/vm_io.js'
import { isMmioPaddr, isParked, ownerOf, slotOf, uniqueOwnerOf } from '../model/slots.js'
import { UNIT_META, type FrameMeta, type JsonValue, type Snapshot, type VmIoEntry } from '../model/snapshot.js'
import { tableDiff, tableForEach, tableGet, type Table } from '../model/table.js'
import { setSnapshotFreezing, snapshotFreezing } from '../model/immer.js'
import { History } from './history.js'
import { room } from './gen_checked.js'
import { CURSOR_OPS, PAGE_TABLE_OPS, PT_EXCLUDED_EVENT_TYPES, PT_OPS } from './gen_pt.js'
import { VM_EXCLUDED_EVENT_TYPES, VM_OPS } from './gen_vm.js'

/** A small, fast, seedable PRNG (mulberry32). */
export class Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** An integer in `[0, n)`. */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[this.int(items.length)]
  }
  chance(p: number): boolean {
    return this.next() < p
  }
}

// ---- the generator's index of a snapshot -------------------------------------------------------

/** A set of small integers with O(1) add, delete and uniform pick (insertion order, swap-remove). */
export class IdSet {
  private readonly items: number[] = []
  private readonly at = new Map<number, number>()

  get size(): number {
    return this.items.length
  }
  has(id: number): boolean {
    return this.at.has(id)
  }
  add(id: number): void {
    if (this.at.has(id)) return
    this.at.set(id, this.items.length)
    this.items.push(id)
  }
  delete(id: number): void {
    const i = this.at.get(id)
    if (i === undefined) return
    const last = this.items.pop()!
    if (last !== id) {
      this.items[i] = last
      this.at.set(last, i)
    }
    this.at.delete(id)
  }
  pick(rng: Rng): number | undefined {
    return rng.pick(this.items)
  }
  values(): readonly number[] {
    return this.items
  }
}

/**
 * What the generators need to find candidates fast, derived from a snapshot: the live ids of each
 * registry, the number of segments covering each slot, and the slots holding a forgotten `Frame`
 * reference (`raw_count > cover`, shared rc: `frame.from_raw` may revive it without stealing a
 * segment's reference) or a forgotten `UniqueFrame` (`unique_frame.into_raw`, not in a list).
 * `advance(next)` moves it to a later snapshot by diffing the tables.
 */
export class GenIndex {
  readonly frames = new IdSet()
  readonly segments = new IdSet()
  readonly uniques = new IdSet()
  readonly lists = new IdSet()
  readonly vmIos = new IdSet()
  /** Slot indices with at least one forgotten `Frame` reference (from `frame.into_raw`). */
  readonly forgottenFrames = new IdSet()
  /** Slot indices of unique frames forgotten by `unique_frame.into_raw` (not linked into a list). */
  readonly forgottenUniques = new IdSet()
  private readonly cover = new Map<number, number>()
  private s: Snapshot

  constructor(s: Snapshot) {
    this.s = s
    tableForEach(s.frames, (_e, id) => this.frames.add(id))
    this.dropKeptFrames(s)
    tableForEach(s.uniqueFrames, (_e, id) => this.uniques.add(id))
    tableForEach(s.lists, (_e, id) => this.lists.add(id))
    tableForEach(s.vmIos, (_e, id) => this.vmIos.add(id))
    tableForEach(s.segments, (e, id) => {
      this.segments.add(id)
      for (let pa = e.startPaddr; pa < e.endPaddr; pa += PAGE_SIZE) this.bumpCover(frameToIndex(pa), +1)
    })
    const slots = new Set<number>(this.cover.keys())
    tableForEach(s.regions.slotOwners, (_o, idx) => slots.add(idx))
    for (const idx of slots) this.classify(idx)
  }

  get snapshot(): Snapshot {
    return this.s
  }

  /** Number of live segments covering slot `idx`. */
  coverOf(idx: number): number {
    return this.cover.get(idx) ?? 0
  }

  /** A Frame handle moved into a TLB flusher (`issue_tlb_flush_with`) is no longer the caller's: the dispatch drops it. */
  private dropKeptFrames(s: Snapshot): void {
    tableForEach(s.vm.cursors, (c) => {
      for (const d of c.flusher?.deferred ?? []) if (d.kind === 'frame') this.frames.delete(d.handle)
    })
  }

  /** Moves the index to `next` (a snapshot reached from the current one). */
  advance(next: Snapshot): void {
    const prev = this.s
    if (prev === next) return
    const dirty = new Set<number>()
    diffIds(prev.frames, next.frames, this.frames)
    diffIds(prev.uniqueFrames, next.uniqueFrames, this.uniques)
    diffIds(prev.lists, next.lists, this.lists)
    diffIds(prev.vmIos, next.vmIos, this.vmIos)
    if (prev.vm.cursors !== next.vm.cursors) this.dropKeptFrames(next)
    tableDiff(prev.segments, next.segments, (id, before, after) => {
      if (before !== null) {
        this.segments.delete(id)
        for (let pa = before.startPaddr; pa < before.endPaddr; pa += PAGE_SIZE) dirty.add(this.bumpCover(frameToIndex(pa), -1))
      }
      if (after !== null) {
        this.segments.add(id)
        for (let pa = after.startPaddr; pa < after.endPaddr; pa += PAGE_SIZE) dirty.add(this.bumpCover(frameToIndex(pa), +1))
      }
    })
    tableDiff(prev.regions.slotOwners, next.regions.slotOwners, (idx) => dirty.add(idx))
    tableDiff(prev.uniqueOwners, next.uniqueOwners, (idx) => dirty.add(idx))
    this.s = next
    for (const idx of dirty) this.classify(idx)
  }

  private bumpCover(idx: number, delta: number): number {
    const n = (this.cover.get(idx) ?? 0) + delta
    if (n === 0) this.cover.delete(idx)
    else this.cover.set(idx, n)
    return idx
  }

  private classify(idx: number): void {
    const s = this.s
    const o = ownerOf(s, idx)
    const { refCount: rc, inList, storage } = o.innerPerms
    // The boot page table's table frames are forgotten references it holds (from_raw would steal them).
    const bootHeld = s.pt.boot !== null && s.pt.boot.frames.includes(idx) ? 1 : 0
    if (o.usage === PageUsage.Frame && rc > 0 && o.rawCount - bootHeld > this.coverOf(idx)) this.forgottenFrames.add(idx)
    else this.forgottenFrames.delete(idx)
    const forgottenUnique = rc === REF_COUNT_UNIQUE && o.rawCount > 0 && inList === 0 && storage?.kind === 'Frame' && !isParked(s, idx) && uniqueOwnerOf(s, idx) !== null
    if (forgottenUnique) this.forgottenUniques.add(idx)
    else this.forgottenUniques.delete(idx)
  }
}

function diffIds<T>(before: Table<T>, after: Table<T>, set: IdSet): void {
  tableDiff(before, after, (id, b, a) => {
    if (a === null) set.delete(id)
    else if (b === null) set.add(id)
  })
}

/** Proposes one event valid in `s`, or null when the operation does not apply now. */
export type OpGenerator = (s: Snapshot, rng: Rng, index: GenIndex) => ModelEvent | null

export interface Op {
  readonly weight: number
  readonly gen: OpGenerator
}

/**
 * Soft caps on live objects. A creating operation applies with probability `1 - n / cap` (`room`),
 * so the counts settle well below these.
 */
export const CAPS = {
  frames: 48,
  segments: 16,
  uniques: 24,
  lists: 4,
  /** Frames linked into all live lists together. */
  listElements: 24,
  vmIos: 12,
  forgottenFrames: 12,
  forgottenUniques: 8,
} as const


// ---- arguments -----------------------------------------------------------------------------------

const META_TYPES: readonly FrameMeta[] = [UNIT_META, { type: 'MockFrameMeta', untyped: false, value: 7 }, { type: 'MockUFrameMeta', untyped: true, value: null }]
const UNTYPED_METAS: readonly FrameMeta[] = META_TYPES.filter((m) => m.untyped)

function anyMeta(rng: Rng): FrameMeta {
  return rng.pick(META_TYPES)!
}

/** Segment metadata: one meta for every page (mostly untyped), or one per page. */
function segmentMeta(rng: Rng, pages: number): FrameMeta | FrameMeta[] {
  if (rng.chance(0.2)) return Array.from({ length: pages }, () => (rng.chance(0.85) ? rng.pick(UNTYPED_METAS)! : anyMeta(rng)))
  return rng.chance(0.8) ? rng.pick(UNTYPED_METAS)! : anyMeta(rng)
}

function randomBytes(rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = rng.int(256)
  return out
}

const INT_TYPES = ['u8', 'u16', 'u32', 'u64'] as const
const WIDTH: Record<(typeof INT_TYPES)[number], number> = { u8: 1, u16: 2, u32: 4, u64: 8 }

function valType(rng: Rng): ValType {
  return rng.chance(0.8) ? rng.pick(INT_TYPES)! : { size: 1 + rng.int(24) }
}

/** A value of type `t`: u8/u16/u32 a number, u64 a decimal string, a struct base64 bytes. */
function valueOf(rng: Rng, t: ValType): number | string {
  if (typeof t !== 'string') return toBase64(randomBytes(rng, t.size))
  if (t === 'u64') return ((BigInt(rng.int(2 ** 32)) << 32n) | BigInt(rng.int(2 ** 32))).toString()
  return rng.int(2 ** (8 * WIDTH[t]))
}

function jsonValue(rng: Rng): JsonValue {
  const roll = rng.int(4)
  return roll === 0 ? null : roll === 1 ? rng.int(1000) : roll === 2 ? `v${rng.int(100)}` : [rng.int(10), rng.chance(0.5)]
}

/** An offset into `size` bytes: mostly inside, sometimes at or near the end, sometimes past it (Err). */
function ioOffset(rng: Rng, size: number): number {
  const roll = rng.int(8)
  if (roll === 0) return 0
  if (roll === 1) return Math.max(0, size - rng.int(16))
  if (roll === 2) return size + 1 + rng.int(64)
  return rng.int(size + 1)
}

// ---- addresses -----------------------------------------------------------------------------------

function misalignedPaddr(s: Snapshot, rng: Rng): number {
  return rng.int(s.nrFrames) * PAGE_SIZE + 1 + rng.int(PAGE_SIZE - 1)
}

/** Page aligned, at or beyond the end of physical memory (OutOfBound). */
function outOfRangePaddr(s: Snapshot, rng: Rng): number {
  return rng.chance(0.8) ? (s.nrFrames + rng.int(8)) * PAGE_SIZE : MAX_PADDR + rng.int(8) * PAGE_SIZE
}

/**
 * A page of a configured MMIO range, or null. Only `from_in_use`-style calls target it (they
 * return `Err(Unused)`): `get_from_unused` would claim it (see the module comment).
 */
function mmioPaddr(s: Snapshot, rng: Rng): number | null {
  const range = rng.pick(s.config.mmioRanges)
  if (range === undefined) return null
  const [start, end] = range
  return start + rng.int((end - start) / PAGE_SIZE) * PAGE_SIZE
}

/** A page no one has ever used (`usage == Unused`, UNUSED, parked): sampled above the allocator's mark. */
function neverUsedIdx(s: Snapshot, rng: Rng): number | null {
  const bump = s.allocator.bumpIndex
  if (bump >= s.nrFrames) return null
  for (let t = 0; t < 4; t++) {
    const idx = t === 0 ? bump : bump + rng.int(s.nrFrames - bump)
    const o = ownerOf(s, idx)
    if (o.usage === PageUsage.Unused && o.innerPerms.refCount === REF_COUNT_UNUSED && slotOf(s, idx).refCount === REF_COUNT_UNUSED && isParked(s, idx)) return idx
  }
  return null
}

/** A free page (UNUSED): the allocator's most recently freed one when it is still free. */
function freePaddr(s: Snapshot, rng: Rng): number | null {
  const top = freeStackTop(s)
  if (top !== null && slotOf(s, top).refCount === REF_COUNT_UNUSED && rng.chance(0.7)) return indexToFrame(top)
  const idx = neverUsedIdx(s, rng)
  return idx === null ? null : indexToFrame(idx)
}

/** A page whose rc is a shared count: a live frame's, a segment's page, or a forgotten frame's. */
function sharedPaddr(s: Snapshot, rng: Rng, g: GenIndex): number | null {
  const roll = rng.int(3)
  if (roll === 1) {
    const seg = g.segments.pick(rng)
    if (seg !== undefined) {
      const e = tableGet(s.segments, seg)!
      return e.startPaddr + rng.int((e.endPaddr - e.startPaddr) / PAGE_SIZE) * PAGE_SIZE
    }
  }
  if (roll === 2) {
    const idx = g.forgottenFrames.pick(rng)
    if (idx !== undefined) return indexToFrame(idx)
  }
  const f = g.frames.pick(rng)
  return f === undefined ? null : tableGet(s.frames, f)!.paddr
}

/** A page held UNIQUE: a live unique frame, a forgotten one, or a list element. */
function uniquePaddr(s: Snapshot, rng: Rng, g: GenIndex): number | null {
  const roll = rng.int(3)
  if (roll === 1) {
    const idx = g.forgottenUniques.pick(rng)
    if (idx !== undefined) return indexToFrame(idx)
  }
  if (roll === 2) {
    const l = g.lists.pick(rng)
    const front = l === undefined ? null : tableGet(s.lists, l)!.frontPaddr
    if (front !== null) return front
  }
  const u = g.uniques.pick(rng)
  return u === undefined ? null : tableGet(s.uniqueFrames, u)!.paddr
}

// ---- handles ---------------------------------------------------------------------------------------

type Target = 'frame' | 'segment'

function pagesOf(s: Snapshot, segment: number): number {
  const e = tableGet(s.segments, segment)!
  return (e.endPaddr - e.startPaddr) / PAGE_SIZE
}

/** Picks an element of `set` satisfying `ok`, with a few tries (null if none found). */
function sample(set: IdSet, rng: Rng, ok: (id: number) => boolean, tries = 4): number | null {
  for (let t = 0; t < tries; t++) {
    const id = set.pick(rng)
    if (id === undefined) return null
    if (ok(id)) return id
  }
  return null
}

/** A live frame whose metadata is untyped (VmIo, reader and writer exist only for those). */
function untypedFrame(s: Snapshot, rng: Rng, g: GenIndex): number | null {
  return sample(g.frames, rng, (id) => untypedFailure(s, 'frame', id) === null)
}

function untypedSegment(s: Snapshot, rng: Rng, g: GenIndex): number | null {
  return sample(g.segments, rng, (id) => untypedFailure(s, 'segment', id) === null)
}

/** A reader / writer whose borrowed frame or segment is still live (usable). */
function usableVmIo(s: Snapshot, rng: Rng, g: GenIndex, kind: VmIoEntry['kind']): number | null {
  const ok: number[] = []
  for (const id of g.vmIos.values()) {
    const e = tableGet(s.vmIos, id)!
    // user-space (fallible) readers/writers are gen_vm.ts's
    if (e.kind === kind && e.space.kind !== 'user' && borrowFailure(s, e) === null) ok.push(id)
  }
  return rng.pick(ok) ?? null
}

/** Whether a reader or writer (live or not) borrows this handle. */
function borrowed(s: Snapshot, g: GenIndex, kind: Target, id: number): boolean {
  for (const vio of g.vmIos.values()) {
    const b = tableGet(s.vmIos, vio)!.borrow
    if (b !== null && b.kind === kind && b.id === id) return true
  }
  return false
}

function listElements(s: Snapshot, g: GenIndex): number {
  let n = 0
  for (const id of g.lists.values()) n += tableGet(s.lists, id)!.size
  return n
}

/** A cursor position of list `id`: one of its elements (walked from the front) or null (the ghost). */
function listPosition(s: Snapshot, rng: Rng, id: number): number | null {
  const list = tableGet(s.lists, id)!
  let at = list.frontPaddr
  for (let k = rng.int(list.size + 1); k > 0 && at !== null; k--) at = linkOf(s, at)!.nextPaddr
  return at
}

// ---- meta_slot -----------------------------------------------------------------------------------

/**
 * `MetaSlot` calls: only their `Err` paths. A successful `get_from_unused` / `get_from_in_use`
 * leaves a claimed reference that no handle holds (the frame APIs wrap it at once), which the
 * accounting invariants rightly report; `drop_last_in_place` is only valid on a slot whose last
 * reference is being dropped, which no handle-level history reaches.
 */
export const META_OPS: Record<string, Op> = {
  getFromUnusedErr: {
    weight: 1,
    gen: (s, rng, g) => {
      // in use (InUse / Unique), misaligned (NotAligned), beyond memory (OutOfBound)
      const roll = rng.int(6)
      const paddr = roll === 0 ? misalignedPaddr(s, rng) : roll === 1 ? outOfRangePaddr(s, rng) : roll === 2 ? uniquePaddr(s, rng, g) : roll === 3 ? mmioPaddr(s, rng) : sharedPaddr(s, rng, g)
      return paddr === null ? null : { type: 'meta_slot.get_from_unused', paddr, meta: anyMeta(rng), asUnique: rng.chance(0.5) }
    },
  },
  getFromInUseErr: {
    weight: 1,
    gen: (s, rng, g) => {
      // free or MMIO (Unused), unique (Unique), misaligned, beyond memory
      const roll = rng.int(5)
      const paddr = roll === 0 ? misalignedPaddr(s, rng) : roll === 1 ? outOfRangePaddr(s, rng) : roll === 2 ? uniquePaddr(s, rng, g) : roll === 3 ? (mmioPaddr(s, rng) ?? freePaddr(s, rng)) : freePaddr(s, rng)
      return paddr === null ? null : { type: 'meta_slot.get_from_in_use', paddr }
    },
  },
}

// ---- Frame -----------------------------------------------------------------------------------------

/** The frame-layer operations (`Frame`, `FrameAllocOptions::alloc_frame`) and their weights. */
export const FRAME_OPS: Record<string, Op> = {
  alloc: {
    weight: 6,
    gen: (s, rng, g) => (room(rng, g.frames.size, CAPS.frames) ? { type: 'frame_alloc.alloc_frame', zeroed: rng.chance(0.8), meta: anyMeta(rng) } : null),
  },
  clone: {
    weight: 3,
    gen: (_s, rng, g) => {
      const id = g.frames.pick(rng)
      return id === undefined || !room(rng, g.frames.size, CAPS.frames) ? null : { type: 'frame.clone', frame: id }
    },
  },
  drop: {
    weight: 7,
    gen: (_s, rng, g) => {
      const id = g.frames.pick(rng)
      return id === undefined ? null : { type: 'frame.drop', frame: id }
    },
  },
  intoRaw: {
    weight: 1,
    gen: (_s, rng, g) => {
      const id = g.frames.pick(rng)
      return id === undefined || !room(rng, g.forgottenFrames.size, CAPS.forgottenFrames) ? null : { type: 'frame.into_raw', frame: id }
    },
  },
  fromRaw: {
    weight: 2,
    gen: (_s, rng, g) => {
      // a forgotten Frame reference (raw_count beyond the covering segments: never a segment's)
      const idx = g.forgottenFrames.pick(rng)
      return idx === undefined ? null : { type: 'frame.from_raw', paddr: indexToFrame(idx) }
    },
  },
  fromInUse: {
    weight: 2,
    gen: (s, rng, g) => {
      // Ok on a shared page (a frame's, a segment's, a forgotten one); Err on a free or unique page or a bad address
      const roll = rng.int(8)
      if (roll < 5) return room(rng, g.frames.size, CAPS.frames) ? ofPaddr('frame.from_in_use', sharedPaddr(s, rng, g)) : null
      const paddr = roll === 5 ? (mmioPaddr(s, rng) ?? freePaddr(s, rng)) : roll === 6 ? uniquePaddr(s, rng, g) : rng.chance(0.5) ? misalignedPaddr(s, rng) : outOfRangePaddr(s, rng)
      return ofPaddr('frame.from_in_use', paddr)
    },
  },
  fromUnused: {
    weight: 2,
    gen: (s, rng, g) => {
      // Ok on a free page (mostly the last one freed); Err on a page in use or a bad address
      const roll = rng.int(8)
      let paddr: number | null
      if (roll < 3) paddr = room(rng, g.frames.size, CAPS.frames) ? freePaddr(s, rng) : null
      else if (roll < 5) paddr = sharedPaddr(s, rng, g)
      else if (roll === 5) paddr = uniquePaddr(s, rng, g)
      else paddr = roll === 6 ? misalignedPaddr(s, rng) : outOfRangePaddr(s, rng)
      return paddr === null ? null : { type: 'frame.from_unused', paddr, meta: anyMeta(rng) }
    },
  },
}

function ofPaddr(type: string, paddr: number | null): ModelEvent | null {
  return paddr === null ? null : { type, paddr }
}

// ---- UniqueFrame -------------------------------------------------------------------------------------

function onUnique(type: string, extra?: (rng: Rng) => Record<string, unknown>): Op {
  return {
    weight: 1,
    gen: (_s, rng, g) => {
      const id = g.uniques.pick(rng)
      return id === undefined ? null : { type, unique: id, ...(extra?.(rng) ?? {}) }
    },
  }
}

export const UNIQUE_OPS: Record<string, Op> = {
  fromUnused: {
    weight: 3,
    gen: (s, rng, g) => {
      // Ok on a never-used page (a page used once keeps usage Frame: REQ-UNIQUE-FROMUNUSED-2);
      // Err(NotAligned / OutOfBound) on a bad address. (A page in use fails a requirement, not Err.)
      const roll = rng.int(8)
      if (roll === 0) return { type: 'unique_frame.from_unused', paddr: misalignedPaddr(s, rng), meta: anyMeta(rng) }
      if (roll === 1) return { type: 'unique_frame.from_unused', paddr: outOfRangePaddr(s, rng), meta: anyMeta(rng) }
      if (!room(rng, g.uniques.size, CAPS.uniques)) return null
      const idx = neverUsedIdx(s, rng)
      return idx === null ? null : { type: 'unique_frame.from_unused', paddr: indexToFrame(idx), meta: anyMeta(rng) }
    },
  },
  transmute: onUnique('unique_frame.transmute'),
  repurpose: onUnique('unique_frame.repurpose', (rng) => ({ meta: anyMeta(rng) })),
  meta: onUnique('unique_frame.meta'),
  metaMut: onUnique('unique_frame.meta_mut'),
  metaWrite: onUnique('unique_frame.meta_mut.write', (rng) => ({ value: jsonValue(rng) })),
  startPaddr: onUnique('unique_frame.start_paddr'),
  level: onUnique('unique_frame.level'),
  size: onUnique('unique_frame.size'),
  intoRaw: {
    weight: 1,
    gen: (_s, rng, g) => {
      const id = g.uniques.pick(rng)
      return id === undefined || !room(rng, g.forgottenUniques.size, CAPS.forgottenUniques) ? null : { type: 'unique_frame.into_raw', unique: id }
    },
  },
  fromRaw: {
    weight: 2,
    gen: (_s, rng, g) => {
      const idx = g.forgottenUniques.pick(rng)
      return idx === undefined ? null : { type: 'unique_frame.from_raw', paddr: indexToFrame(idx) }
    },
  },
  drop: { ...onUnique('unique_frame.drop'), weight: 3 },
  intoShared: onUnique('unique_frame.into_shared'),
  tryFromShared: {
    weight: 2,
    gen: (s, rng, g) => {
      // any live frame: Ok when it holds the only reference (rc 1), else Err(frame) and nothing
      // changes. Not a frame a reader or writer borrows: the call moves the frame (even when Err
      // hands it back, Rust ends the borrow), and the model would still count the borrow as live.
      const id = sample(g.frames, rng, (id) => !borrowed(s, g, 'frame', id))
      return id === null ? null : { type: 'unique_frame.try_from_shared', frame: id }
    },
  },
}

// ---- Segment -----------------------------------------------------------------------------------------

export const SEGMENT_OPS: Record<string, Op> = {
  alloc: {
    weight: 3,
    gen: (s, rng, g) => {
      const roll = rng.int(12)
      if (roll === 0) return { type: 'frame_alloc.alloc_segment', nframes: 0, zeroed: true, meta: UNIT_META } // Err(InvalidArgs)
      if (roll === 1) return { type: 'frame_alloc.alloc_segment', nframes: s.nrFrames + 1 + rng.int(4), zeroed: true, meta: UNIT_META } // Err(NoMemory)
      if (!room(rng, g.segments.size, CAPS.segments)) return null
      const nframes = 1 + rng.int(rng.chance(0.3) ? 1 : 8)
      return { type: 'frame_alloc.alloc_segment', nframes, zeroed: rng.chance(0.8), meta: segmentMeta(rng, nframes) }
    },
  },
  fromUnused: {
    weight: 1,
    gen: (s, rng, g) => {
      // Ok on a run of free pages; Err on a run with a page in use, a misaligned end, or beyond memory
      const roll = rng.int(6)
      const pages = 1 + rng.int(4)
      if (roll === 0) {
        const start = rng.int(s.nrFrames) * PAGE_SIZE + (rng.chance(0.5) ? 8 : 0)
        return { type: 'segment.from_unused', startPaddr: start, endPaddr: start + pages * PAGE_SIZE + (start % PAGE_SIZE === 0 ? 8 : 0), meta: UNIT_META }
      }
      if (roll === 1) return { type: 'segment.from_unused', startPaddr: (s.nrFrames - 1) * PAGE_SIZE, endPaddr: (s.nrFrames + pages) * PAGE_SIZE, meta: UNIT_META }
      let start: number | null
      if (roll === 2) start = sharedPaddr(s, rng, g)
      else if (roll === 3) start = uniquePaddr(s, rng, g)
      else start = room(rng, g.segments.size, CAPS.segments) ? freePaddr(s, rng) : null
      if (start === null) return null
      // kept off MMIO pages, where the claim fails with InUse, so that most claims succeed
      let end = start + PAGE_SIZE
      while (end < start + pages * PAGE_SIZE && end < indexToFrame(s.nrFrames) && !isMmioPaddr(s.config, end)) end += PAGE_SIZE
      return { type: 'segment.from_unused', startPaddr: start, endPaddr: end, meta: segmentMeta(rng, (end - start) / PAGE_SIZE) }
    },
  },
  split: {
    weight: 1,
    gen: (s, rng, g) => {
      if (!room(rng, g.segments.size, CAPS.segments)) return null
      const id = sample(g.segments, rng, (id) => pagesOf(s, id) >= 2)
      if (id === null) return null
      return { type: 'segment.split', segment: id, offset: (1 + rng.int(pagesOf(s, id) - 1)) * PAGE_SIZE }
    },
  },
  slice: {
    weight: 1,
    gen: (s, rng, g) => {
      const id = g.segments.pick(rng)
      if (id === undefined || !room(rng, g.segments.size, CAPS.segments)) return null
      const pages = pagesOf(s, id)
      const a = rng.int(pages)
      const b = a + 1 + rng.int(pages - a)
      return { type: 'segment.slice', segment: id, start: a * PAGE_SIZE, end: b * PAGE_SIZE }
    },
  },
  clone: {
    weight: 1,
    gen: (_s, rng, g) => {
      const id = g.segments.pick(rng)
      return id === undefined || !room(rng, g.segments.size, CAPS.segments) ? null : { type: 'segment.clone', segment: id }
    },
  },
  drop: {
    weight: 4,
    gen: (_s, rng, g) => {
      const id = g.segments.pick(rng)
      return id === undefined ? null : { type: 'segment.drop', segment: id }
    },
  },
  next: {
    weight: 2,
    gen: (s, rng, g) => {
      // `next` takes `&mut self`: not while a reader or writer borrows the segment
      if (!room(rng, g.frames.size, CAPS.frames)) return null
      const id = sample(g.segments, rng, (id) => !borrowed(s, g, 'segment', id))
      return id === null ? null : { type: 'segment.next', segment: id }
    },
  },
  fromFrame: {
    weight: 1,
    gen: (_s, rng, g) => {
      const id = g.frames.pick(rng)
      return id === undefined || !room(rng, g.segments.size, CAPS.segments) ? null : { type: 'segment.from_frame', frame: id }
    },
  },
}

// ---- LinkedList ----------------------------------------------------------------------------------------

/** A live list and a live unique frame to link into it, when the lists have room. */
function listAndUnique(s: Snapshot, rng: Rng, g: GenIndex): { list: number; unique: number } | null {
  const list = g.lists.pick(rng)
  const unique = g.uniques.pick(rng)
  if (list === undefined || unique === undefined || !room(rng, listElements(s, g), CAPS.listElements)) return null
  return { list, unique }
}

export const LIST_OPS: Record<string, Op> = {
  new: {
    weight: 1,
    gen: (_s, rng, g) => (room(rng, g.lists.size, CAPS.lists) ? { type: 'linked_list.new' } : null),
  },
  pushFront: {
    weight: 3,
    gen: (s, rng, g) => {
      const a = listAndUnique(s, rng, g)
      return a === null ? null : { type: 'linked_list.push_front', ...a }
    },
  },
  pushBack: {
    weight: 3,
    gen: (s, rng, g) => {
      const a = listAndUnique(s, rng, g)
      return a === null ? null : { type: 'linked_list.push_back', ...a }
    },
  },
  insertBefore: {
    weight: 3,
    gen: (s, rng, g) => {
      const a = listAndUnique(s, rng, g)
      return a === null ? null : { type: 'linked_list.cursor_mut.insert_before', list: a.list, currentPaddr: listPosition(s, rng, a.list), unique: a.unique }
    },
  },
  takeCurrent: {
    weight: 2,
    gen: (s, rng, g) => {
      // at an element (Some, the cursor moves on) or at the ghost position (None, nothing changes)
      const list = g.lists.pick(rng)
      return list === undefined || !room(rng, g.uniques.size, CAPS.uniques * 2) ? null : { type: 'linked_list.cursor_mut.take_current', list, currentPaddr: listPosition(s, rng, list) }
    },
  },
  popFront: {
    weight: 1,
    gen: (_s, rng, g) => {
      const list = g.lists.pick(rng)
      return list === undefined || !room(rng, g.uniques.size, CAPS.uniques * 2) ? null : { type: 'linked_list.pop_front', list }
    },
  },
  popBack: {
    weight: 1,
    gen: (_s, rng, g) => {
      const list = g.lists.pick(rng)
      return list === undefined || !room(rng, g.uniques.size, CAPS.uniques * 2) ? null : { type: 'linked_list.pop_back', list }
    },
  },
  drop: {
    weight: 1,
    gen: (_s, rng, g) => {
      const list = g.lists.pick(rng)
      return list === undefined ? null : { type: 'linked_list.drop', list }
    },
  },
}

// ---- VmIo, VmReader, VmWriter ------------------------------------------------------------------------------

function untypedTarget(s: Snapshot, rng: Rng, g: GenIndex, kind: Target): { id: number; size: number } | null {
  if (kind === 'frame') {
    const id = untypedFrame(s, rng, g)
    return id === null ? null : { id, size: PAGE_SIZE }
  }
  const id = untypedSegment(s, rng, g)
  return id === null ? null : { id, size: pagesOf(s, id) * PAGE_SIZE }
}

/** The `VmIo` calls of an untyped frame or segment (offsets past the end give Err(InvalidArgs)). */
function vmIoOps(kind: Target): Record<string, Op> {
  const on = (make: (rng: Rng, size: number) => Record<string, unknown>, op: string): Op => ({
    weight: 1,
    gen: (s, rng, g) => {
      const t = untypedTarget(s, rng, g, kind)
      return t === null ? null : { type: `${kind}.${op}`, [kind]: t.id, ...make(rng, t.size) }
    },
  })
  return {
    [`${kind}ReadBytes`]: on((rng, size) => ({ offset: ioOffset(rng, size), len: rng.int(rng.chance(0.1) ? 2 * PAGE_SIZE : 64) }), 'read_bytes'),
    [`${kind}WriteBytes`]: on((rng, size) => ({ offset: ioOffset(rng, size), bytes: toBase64(randomBytes(rng, rng.int(48))) }), 'write_bytes'),
    [`${kind}ReadVal`]: on((rng, size) => ({ offset: ioOffset(rng, size), valType: valType(rng) }), 'read_val'),
    [`${kind}WriteVal`]: on((rng, size) => {
      const t = valType(rng)
      return { offset: ioOffset(rng, size), valType: t, value: valueOf(rng, t) }
    }, 'write_val'),
    [`${kind}WriteVals`]: on((rng, size) => {
      const t = valType(rng)
      const values = Array.from({ length: rng.int(5) }, () => valueOf(rng, t))
      return { offset: ioOffset(rng, size), valType: t, values, align: rng.pick([0, 1, 2, 4, 8, 16])! }
    }, 'write_vals'),
  }
}

function creationOp(kind: Target, what: 'reader' | 'writer'): Op {
  return {
    weight: 1,
    gen: (s, rng, g) => {
      if (!room(rng, g.vmIos.size, CAPS.vmIos)) return null
      const t = untypedTarget(s, rng, g, kind)
      return t === null ? null : { type: `${kind}.${what}`, [kind]: t.id }
    },
  }
}

/** A `read_once` / `write_once` type: aligned at the cursor, or too big for what is left (Err). */
function onceType(rng: Rng, e: VmIoEntry): ValType {
  const fits = INT_TYPES.filter((t) => e.cursor % WIDTH[t] === 0 || vmIoLen(e) < WIDTH[t])
  return rng.pick(fits)!
}

/** A `fill` type: its size divides `avail` (asserted by OSTD). */
function fillType(rng: Rng, avail: number): ValType {
  const fits: ValType[] = INT_TYPES.filter((t) => avail % WIDTH[t] === 0)
  const struct = 1 + rng.int(24)
  if (avail % struct === 0) fits.push({ size: struct })
  return rng.pick(fits)!
}

function onVmIo(kind: VmIoEntry['kind'], make: (s: Snapshot, rng: Rng, id: number, e: VmIoEntry) => ModelEvent | null): Op {
  return {
    weight: 1,
    gen: (s, rng, g) => {
      const id = usableVmIo(s, rng, g, kind)
      return id === null ? null : make(s, rng, id, tableGet(s.vmIos, id)!)
    },
  }
}

function dropVmIo(kind: VmIoEntry['kind']): Op {
  const field = kind === 'Reader' ? 'reader' : 'writer'
  return {
    weight: 3,
    gen: (s, rng, g) => {
      // any reader (writer), also one whose borrow has ended — those first
      const all: number[] = []
      const dead: number[] = []
      for (const id of g.vmIos.values()) {
        const e = tableGet(s.vmIos, id)!
        if (e.kind !== kind || e.space.kind === 'user') continue
        all.push(id)
        if (borrowFailure(s, e) !== null) dead.push(id)
      }
      const id = dead.length > 0 && rng.chance(0.8) ? rng.pick(dead) : rng.pick(all)
      return id === undefined ? null : { type: `vm_${field}.drop`, [field]: id }
    },
  }
}

function copyOp(type: 'vm_reader.read' | 'vm_writer.write'): Op {
  return {
    weight: 3,
    gen: (s, rng, g) => {
      const reader = usableVmIo(s, rng, g, 'Reader')
      const writer = usableVmIo(s, rng, g, 'Writer')
      return reader === null || writer === null ? null : { type, reader, writer }
    },
  }
}

export const IO_OPS: Record<string, Op> = {
  ...vmIoOps('frame'),
  ...vmIoOps('segment'),
  frameReader: creationOp('frame', 'reader'),
  frameWriter: creationOp('frame', 'writer'),
  segmentReader: creationOp('segment', 'reader'),
  segmentWriter: creationOp('segment', 'writer'),
  readerRead: copyOp('vm_reader.read'),
  readerReadVal: onVmIo('Reader', (_s, rng, reader) => ({ type: 'vm_reader.read_val', reader, valType: valType(rng) })),
  readerReadOnce: onVmIo('Reader', (_s, rng, reader, e) => ({ type: 'vm_reader.read_once', reader, valType: onceType(rng, e) })),
  readerSkip: onVmIo('Reader', (_s, rng, reader, e) => ({ type: 'vm_reader.skip', reader, n: rng.int(Math.min(vmIoLen(e), 64) + 1) })),
  readerLimit: onVmIo('Reader', (_s, rng, reader, e) => ({ type: 'vm_reader.limit', reader, n: rng.int(vmIoLen(e) + 16) })),
  readerDrop: dropVmIo('Reader'),
  writerWrite: copyOp('vm_writer.write'),
  writerWriteVal: onVmIo('Writer', (_s, rng, writer) => {
    const t = valType(rng)
    return { type: 'vm_writer.write_val', writer, valType: t, value: valueOf(rng, t) }
  }),
  writerWriteOnce: onVmIo('Writer', (_s, rng, writer, e) => {
    const t = onceType(rng, e)
    return { type: 'vm_writer.write_once', writer, valType: t, value: valueOf(rng, t) }
  }),
  writerFill: onVmIo('Writer', (_s, rng, writer, e) => {
    const t = fillType(rng, vmIoLen(e))
    return { type: 'vm_writer.fill', writer, valType: t, value: valueOf(rng, t) }
  }),
  writerSkip: onVmIo('Writer', (_s, rng, writer, e) => ({ type: 'vm_writer.skip', writer, n: rng.int(Math.min(vmIoLen(e), 64) + 1) })),
  writerLimit: onVmIo('Writer', (_s, rng, writer, e) => ({ type: 'vm_writer.limit', writer, n: rng.int(vmIoLen(e) + 16) })),
  writerDrop: dropVmIo('Writer'),
}

/** `ops` with keys prefixed by the group (`frame.alloc`). */
export function prefixed(prefix: string, ops: Record<string, Op>): Record<string, Op> {
  return Object.fromEntries(Object.entries(ops).map(([k, v]) => [`${prefix}.${k}`, v]))
}

/** Every operation group, keys prefixed by the group (`frame.alloc`, `list.pushBack`, …). */
export const ALL_OPS: Record<string, Op> = {
  ...prefixed('meta', META_OPS),
  ...prefixed('frame', FRAME_OPS),
  ...prefixed('unique', UNIQUE_OPS),
  ...prefixed('segment', SEGMENT_OPS),
  ...prefixed('list', LIST_OPS),
  ...prefixed('io', IO_OPS),
  ...prefixed('pt', PT_OPS),
  ...prefixed('pagetable', PAGE_TABLE_OPS),
  ...prefixed('cursor', CURSOR_OPS),
  ...prefixed('vm', VM_OPS),
}

/** Event types the generators never propose, and why. */
export const EXCLUDED_EVENT_TYPES: Readonly<Record<string, string>> = {
  'meta_slot.drop_last_in_place':
    'tears down a slot a handle still accounts for: valid only inside the drop of the last reference (it appears as an internal step of frame.drop / unique_frame.drop / segment.drop)',
  ...PT_EXCLUDED_EVENT_TYPES,
  ...VM_EXCLUDED_EVENT_TYPES,
}

export interface GenerateOptions {
  seed: number
  /** Number of events. */
  ops: number
  physicalMemory?: number
  /** MMIO ranges of the model (`[start, end)`, page aligned). */
  mmioRanges?: ReadonlyArray<readonly [number, number]>
  /** Operation table (defaults to `ALL_OPS`). */
  operations?: Record<string, Op>
}

/** Generates `ops` events, each valid in the state the previous ones produce. */
export function generateHistory(options: GenerateOptions): ModelEvent[] {
  const operations = options.operations ?? ALL_OPS
  const names = Object.keys(operations)
  const total = names.reduce((a, n) => a + operations[n]!.weight, 0)
  const rng = new Rng(options.seed)
  const history = new History({ check: 'off', physicalMemory: options.physicalMemory, mmioRanges: options.mmioRanges, validate: false })
  const index = new GenIndex(history.state)
  const freezing = snapshotFreezing()
  setSnapshotFreezing(false)
  try {
    let attempts = 0
    while (history.length < options.ops && attempts < options.ops * 20) {
      attempts++
      let r = rng.next() * total
      let name = names[names.length - 1]!
      for (const n of names) {
        r -= operations[n]!.weight
        if (r < 0) {
          name = n
          break
        }
      }
      const event = operations[name]!.gen(history.state, rng, index)
      if (event === null) continue
      history.dispatch(event)
      index.advance(history.state)
    }
  } finally {
    setSnapshotFreezing(freezing)
  }
  return history.events()
}
