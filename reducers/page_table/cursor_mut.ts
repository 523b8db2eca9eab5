/**
 * `CursorMut`'s mutating methods (ostd::mm::page_table::cursor, upstream a1accf430; behaviour.md
 * §2.5.8–11, §2.6; spec/operations.md §10.5–10.7): `map` maps exactly one page of the item's level
 * at the cursor, splitting a covering huge page and creating nodes on the way, replaces what was
 * there and advances; `take_next` removes the next leaf or wholly covered sub-tree of a window;
 * `unmap` takes everything in a window (a loop of `take_next`); `protect_next` changes the property
 * of the next leaf of a window. The cursor state and the movement helpers (and `find_next_impl`,
 * `runFindNext`) are in cursor.ts.
 *
 * Events:
 *   cursor_mut.map {cursor, item}   item: `{ frame, prop }` (a tracked `Frame` handle, consumed) or
 *                                   `{ pa, level, prop }` (untracked); `Ok(null)` or `Err(frag)`
 *   cursor_mut.take_next {cursor, len}        the removed fragment, or null
 *   cursor_mut.unmap {cursor, len}            the number of 4 KiB frames unmapped
 *   cursor_mut.protect_next {cursor, len, prop | mask}   the protected slot's range, or null
 *
 * `PageTableFrag` (API.md): `{ kind: 'Mapped', va, item }` — the replaced leaf, a new reference the
 * caller owns (a tracked frame as a `Frame` handle) — or `{ kind: 'StrayPageTable', va, len,
 * numFrames, pt }` — a replaced sub-tree, detached, marked stray and unlocked; `pt` is the
 * `PageTableNode` handle of its top, which the caller drops (OSTD's `frag.pt`).
 *
 * Model rules (not in the digest): REQ-PTCURSOR-KIND-1, REQ-PTCURSOR-ITEM-1 and REQ-HANDLE-1 on
 * the item's frame; REQ-PTCURSOR-TAKENEXT-1 (`take_next` / `unmap` require `find_next`'s cursor
 * state) and ENS-PTCURSOR-TAKENEXT-1..5 (the digest summarises `take_next`'s [JUN] ensures under
 * `unmap` without ids).
 *
 * Where the digest's `unmap` ids go: the digest's `CursorMut::unmap(len)` is `vm_space`'s, a call
 * of its own built from `take_next` (operations.md §10.6, behaviour.md §2.6), so the model makes it
 * the event `cursor_mut.unmap` and puts ENS-CURSORMUT-UNMAP-1..3 on it; its panics
 * (REQ-CURSORMUT-UNMAP-1..3) are `take_next`'s own (`find_next`'s), so both events carry them.
 */
import { frameHandleFailure } from '../frame/handles.js'
import { z } from 'zod'
import { frameToIndex, MAX_PADDR, NR_LEVELS, PAGE_SIZE, pageSize, PageUsage, REF_COUNT_MAX, REF_COUNT_UNUSED, refCountName } from '../../src/arch/constants.js'
import { PageFlags, PTE_CACHE_POLICIES, pagePropertyInv, type PageProperty } from '../../src/arch/page_prop.js'
import { ptConfig, type PtConfigName } from '../../src/arch/pt_config.js'
import { editSnapshot } from '../../src/model/edit.js'
import { qualifiedPath, type ChildValue } from '../../src/model/page_table.js'
import { alignDown, cursorAt, cursorRootSlot, curVaRange, fullVa, indexAt, inLockedRange, type PtCursor } from '../../src/model/pt_cursor.js'
import { firstMappingFrom, mappingAt, type Mapping } from '../../src/model/pt_view.js'
import { isParked, ownerOf } from '../../src/model/slots.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { childPath, nodeOwnerAt } from '../../src/model/spec/page_table.js'
import { tableGet } from '../../src/model/table.js'
import { addObligation, freshId, patchOwner } from '../frame/edit.js'
import { Addr, HandleId, Usize } from '../schema.js'
import { defineEvent, err, ok, StepRecorder, type ModelEvent, type Requirement, type Result } from '../types.js'
import type { AnyEventSpec } from '../index.js'
import { childDrop, childFromFrame, childNone, childOwner, childUntracked, Level, PagePropertySchema } from './child.js'
import {
  ciFailure,
  curEntry,
  cursorOf,
  descendInto,
  findNextPanic,
  forKind,
  liveCursor,
  locksFailure,
  moveForward,
  ownerWfFailure,
  popLevel,
  propTracked,
  pushLevel,
  rangeOut,
  releaseNode,
  runFindNext,
  type MappedItemOut,
  type RangeOut,
  type VaOut,
} from './cursor.js'
import { entryDrop, entryProtect, entryReplace, entryToRef, guardEntry, ProtectMaskSchema } from './entry.js'
import { frameDrop } from '../frame/frame.js'
import { entryAllocIfNone, entrySplitIfMappedHuge } from './entry_composite.js'
import { ptGuardDrop, ptGuardNrChildren, ptGuardStrayMut, ptGuardStrayWrite } from './guard.js'
import { ptNodeDrop, ptNodeRefMakeGuard } from './node.js'

// ---- items -----------------------------------------------------------------------------------

/** A `MappedItem` in an event: a tracked frame (its `Frame` handle) or an untracked triple. */
export const MappedItemSchema = z.union([z.object({ frame: HandleId, prop: PagePropertySchema }).strict(), z.object({ pa: Addr, level: Level, prop: PagePropertySchema }).strict()])
export type MappedItemArg = z.infer<typeof MappedItemSchema>

/** `C::item_into_raw(item)`: `(pa, level, prop)` as the PTE will hold it, and whether it is tracked. */
export interface RawItem {
  readonly pa: number
  readonly level: number
  readonly prop: PageProperty
  readonly tracked: boolean
}

/** `item_into_raw` (constants.md §5): a frame is level 1; the kernel marks tracked items with AVAIL1. */
export function itemIntoRaw(s: Snapshot, config: PtConfigName, item: MappedItemArg): RawItem {
  if ('frame' in item) {
    const pa = tableGet(s.frames, item.frame)?.paddr ?? -1
    return { pa, level: 1, prop: config === 'kernel' ? { ...item.prop, flags: item.prop.flags | PageFlags.AVAIL1 } : item.prop, tracked: true }
  }
  return { pa: item.pa, level: item.level, prop: config === 'kernel' ? { ...item.prop, flags: item.prop.flags & ~PageFlags.AVAIL1 } : item.prop, tracked: false }
}

/** `map_panic_conditions(item)` read for OSTD's guard level (src/model/pt_cursor.ts), or null. */
export function mapPanic(c: PtCursor, level: number): string | null {
  const hex = (n: number): string => `0x${n.toString(16)}`
  if (c.va >= c.barrierVa.end) return `assert!(va < barrier_va.end) fails: the cursor is at ${hex(c.va)}, the range ends at ${hex(c.barrierVa.end)}`
  const highest = ptConfig(c.config).highestTranslationLevel
  if (level > highest) return `assert!(level <= HIGHEST_TRANSLATION_LEVEL) fails: item level ${level} > ${highest}`
  if (level > c.guardLevel) return `the item's level ${level} is above the cursor's guard level ${c.guardLevel}: pop_level past the guard node has no guard (a cursor over a single entry of a level-${level + 1} node cannot map a level-${level} page)`
  const size = pageSize(level)
  if (c.va % size !== 0) return `assert_eq!(va % page_size(${level}), 0) fails: ${hex(c.va)} is not aligned to ${hex(size)}`
  if (c.va + size > c.barrierVa.end) return `assert!(va + page_size(${level}) <= barrier_va.end) fails: ${hex(c.va)} + ${hex(size)} > ${hex(c.barrierVa.end)}`
  return null
}

// ---- fragments -------------------------------------------------------------------------------

/** `PageTableFrag` (API.md), with the `PageTableNode` handle of a stray sub-tree's top. */
export type PageTableFragOut =
  | { readonly kind: 'Mapped'; readonly va: VaOut; readonly item: MappedItemOut }
  | { readonly kind: 'StrayPageTable'; readonly va: VaOut; readonly len: number; readonly numFrames: number; readonly pt: number }

/**
 * `dfs_mark_stray_and_unlock(rcu_guard, sub_tree)` of a detached sub-tree the cursor holds: the
 * node's `stray` flag is set (`stray_mut` write); a level-1 node counts its present entries
 * (`nr_children`); above, every child node (in reverse) gets a guard (`make_guard_unchecked`) and
 * is marked recursively. Each node then leaves the cursor's range lock and its guard is dropped
 * (unlocked). Returns the number of 4 KiB frames mapped by the sub-tree's level-1 nodes.
 */
export function dfsMarkStrayAndUnlock(rec: StepRecorder, id: number, guard: number, level: number): number {
  const slot = frameToIndex(tableGet(rec.snapshot.pt.guards, guard)!.paddr)
  rec.run(ptGuardStrayMut, { type: 'page_table_guard.stray_mut', guard })
  rec.run(ptGuardStrayWrite, { type: 'page_table_guard.stray_mut.write', guard, value: true })
  let frames = 0
  if (level === 1) frames = rec.run(ptGuardNrChildren, { type: 'page_table_guard.nr_children', guard })
  else {
    for (let i = 511; i >= 0; i--) {
      const { entry } = rec.run(guardEntry, { type: 'page_table_guard.entry', guard, idx: i })
      const ref = rec.run(entryToRef, { type: 'entry.to_ref', entry })
      if (ref.kind === 'PageTable') {
        const child = rec.run(ptNodeRefMakeGuard, { type: 'page_table_node_ref.make_guard_unchecked', paddr: ref.paddr }).guard
        frames += dfsMarkStrayAndUnlock(rec, id, child, level - 1)
      }
      rec.run(entryDrop, { type: 'entry.drop', entry })
    }
  }
  rec.set(releaseNode(rec.snapshot, id, slot))
  rec.run(ptGuardDrop, { type: 'page_table_guard.drop', guard })
  return frames
}

/**
 * What the old child a replace returned becomes (`replace_cur_entry`): `None` is dropped (null);
 * a leaf is `C::item_from_raw`'d into the caller's item — a tracked frame's reference moves from
 * its path into a new `Frame` handle (the path leaves `paths_in_pt`, one obligation minted: rc
 * unchanged), an untracked item is the raw triple — and returned as `Mapped { va, item }`; a node
 * is detached for good: `make_guard_unchecked`, `dfs_mark_stray_and_unlock`, and its reference
 * moves into a `PageTableNode` handle returned as `StrayPageTable { va, len, numFrames, pt }`.
 * `TOP_LEVEL_CAN_UNMAP == false` panics on a root entry before anything else (REQ-CURSORMUT-MAP-5
 * excludes it for `map`).
 */
export function fragOfOld(rec: StepRecorder, id: number, old: number, va: number, level: number): PageTableFragOut | null {
  const c = cursorOf(rec.snapshot, id)
  const value: ChildValue = tableGet(rec.snapshot.pt.children, old)!
  if (value.kind === 'None') {
    rec.run(childDrop, { type: 'child.drop', child: old })
    return null
  }
  if (value.kind === 'Frame') {
    const owner = childOwner(rec.snapshot, old)!
    const tracked = owner.kind === 'frame' && owner.frame.isTracked
    const prop = c.config === 'kernel' ? { ...value.prop, flags: value.prop.flags & ~PageFlags.AVAIL1 } : value.prop
    if (!tracked) {
      rec.run(childDrop, { type: 'child.drop', child: old })
      return { kind: 'Mapped', va: fullVa(c.config, va), item: { pa: value.paddr, level: value.level, prop } }
    }
    const idx = frameToIndex(value.paddr)
    const key = qualifiedPath(owner.tree, owner.path)
    const before = rec.snapshot
    let frame = -1
    rec.set(
      editSnapshot(before, (d, t) => {
        t.ptChildren.set(old, null)
        t.ptChildOwners.set(old, null)
        patchOwner(t, before, idx, { pathsInPt: ownerOf(before, idx).pathsInPt.filter((p) => p !== key) })
        frame = freshId(d, 'frame')
        t.frames.set(frame, { paddr: value.paddr })
        addObligation(t, idx, +1)
      }),
    )
    return { kind: 'Mapped', va: fullVa(c.config, va), item: { frame, prop } }
  }
  if (!ptConfig(c.config).topLevelCanUnmap && level === NR_LEVELS) throw new Error('Unmapping shared kernel page table nodes')
  const { guard } = rec.run(ptNodeRefMakeGuard, { type: 'page_table_node_ref.make_guard_unchecked', paddr: value.paddr })
  const numFrames = dfsMarkStrayAndUnlock(rec, id, guard, level - 1)
  let pt = -1
  rec.set(
    editSnapshot(rec.snapshot, (d, t) => {
      t.ptChildren.set(old, null)
      pt = freshId(d, 'ptNode')
      t.ptNodes.set(pt, { paddr: value.paddr })
    }),
  )
  return { kind: 'StrayPageTable', va: fullVa(c.config, va), len: pageSize(level), numFrames, pt }
}

/**
 * The level adjustment of `map` (and `take_next` / `protect_next` later): pop up while below
 * `level`; go down while above it — into a child node (`make_guard_unchecked`), a new node for an
 * absent entry (`entry.alloc_if_none`) or the node a huge leaf splits into
 * (`entry.split_if_mapped_huge`) — pushing each new level.
 */
/** What `adjustToLevel` does with a huge leaf above the target level: OSTD splits it (fault variants swap this). */
export type HugeLeafStep = (rec: StepRecorder, entry: number) => { readonly guard: number } | null

const splitHugeLeaf: HugeLeafStep = (rec, entry) => rec.run(entrySplitIfMappedHuge, { type: 'entry.split_if_mapped_huge', entry })

export function adjustToLevel(rec: StepRecorder, id: number, level: number, onHugeLeaf: HugeLeafStep = splitHugeLeaf): void {
  for (;;) {
    const c = cursorOf(rec.snapshot, id)
    if (c.level === level) return
    if (c.level < level) {
      popLevel(rec, id)
      continue
    }
    const entry = curEntry(rec, id)
    const ref = rec.run(entryToRef, { type: 'entry.to_ref', entry })
    if (ref.kind === 'PageTable') {
      rec.run(entryDrop, { type: 'entry.drop', entry })
      descendInto(rec, id, ref.paddr)
      continue
    }
    const made = ref.kind === 'None' ? rec.run(entryAllocIfNone, { type: 'entry.alloc_if_none', entry }) : onHugeLeaf(rec, entry)
    rec.run(entryDrop, { type: 'entry.drop', entry })
    if (made === null) throw new Error(`map: the ${ref.kind === 'None' ? 'absent' : 'huge'} entry at level ${c.level} gave no new node`)
    rec.set(pushLevel(rec.snapshot, id, made.guard))
  }
}

// ---- cursor_mut.map --------------------------------------------------------------------------

export const CursorMutMapEvent = z.object({ type: z.literal('cursor_mut.map'), cursor: HandleId, item: MappedItemSchema })
export type CursorMutMapEvent = z.infer<typeof CursorMutMapEvent>

function cursorRaw(s: Snapshot, e: CursorMutMapEvent): { c: PtCursor; raw: RawItem } | null {
  const c = cursorAt(s, e.cursor)
  return c === null ? null : { c, raw: itemIntoRaw(s, c.config, e.item) }
}

/** Whether an item's shape is one the configuration has (`C::Item`). */
function itemShapeFailure(config: PtConfigName, item: MappedItemArg): string | null {
  const items = ptConfig(config).items
  if ('frame' in item) return items === 'untracked' ? 'the untracked configuration maps raw (pa, level, prop) items, not Frames' : null
  return items === 'tracked' ? 'the user configuration maps (Frame, prop) items, not raw (pa, level, prop)' : null
}

/** REQ-PTCURSOR-KIND-1: a `CursorMut` method is called on a `CursorMut`. */
export function cursorMutOnly<E extends ModelEvent & { cursor: number }>(): Requirement<E> {
  return {
    rule: 'REQ-PTCURSOR-KIND-1',
    kind: 'requires',
    summary: '[model] `map` (and every `CursorMut` method) is called on a `CursorMut`: a read-only `Cursor` has no such method (a type error in Rust; spec/README.md §4 item 13 notes the embedding never checks it).',
    check: (s, e) => {
      const c = cursorAt(s, e.cursor)
      return c === null || c.kind === 'CursorMut' ? null : `cursor ${e.cursor} is a read-only Cursor`
    },
  }
}

const mapRequires: Array<Requirement<CursorMutMapEvent>> = [
  liveCursor('cursor'),
  cursorMutOnly(),
  {
    rule: 'REQ-HANDLE-1',
    kind: 'requires',
    check: (s, e) => ('frame' in e.item ? frameHandleFailure(s, e.item.frame) : null),
  },
  {
    rule: 'REQ-PTCURSOR-ITEM-1',
    kind: 'requires',
    summary: "[model] The item is of the page table's `C::Item` type: `(Frame, prop)` for the user configuration, `(pa, level, prop)` for the untracked one, either for the kernel (`MappedItem::Tracked` / `Untracked`).",
    check: (s, e) => {
      const c = cursorAt(s, e.cursor)
      return c === null ? null : itemShapeFailure(c.config, e.item)
    },
  },
  forKind('any', 'REQ-CURSORMUT-MAP-5', 'panic', (s, c, e) => mapPanic(c, itemIntoRaw(s, c.config, e.item).level)),
  // [JUN] `level < guard_level` reads `level <= guard_level` (src/model/pt_cursor.ts).
  forKind('any', 'REQ-CURSORMUT-MAP-1', 'requires', (_s, c) =>
    inLockedRange(c.owner) && c.level <= c.guardLevel && c.va < c.barrierVa.end ? null : `the cursor (level ${c.level}, guard level ${c.guardLevel}, va ${c.va}) is not inside its locked range at or below its guard level`,
  ),
  forKind('any', 'REQ-CURSORMUT-MAP-2', 'requires', (s, c, e) => ciFailure(s, e.cursor, c)),
  {
    rule: 'REQ-CURSORMUT-MAP-3',
    kind: 'requires',
    check: (s, e) => {
      const cr = cursorRaw(s, e)
      if (cr === null) return null
      const { raw } = cr
      const p = raw.prop
      if (!pagePropertyInv(p) || (p.flags & PageFlags.R) === 0) return `the property ${JSON.stringify(p)} cannot be mapped: R must be set and no undefined bit (REQ-PTE-2)`
      if (!PTE_CACHE_POLICIES.includes(p.cache)) return `the cache policy ${p.cache} cannot be encoded in a PTE (REQ-PTE-3)`
      if (!(raw.level >= 1 && raw.level <= NR_LEVELS)) return `item level ${raw.level} is outside 1..=${NR_LEVELS}`
      const size = pageSize(raw.level)
      if (!(raw.pa >= 0 && raw.pa % size === 0 && raw.pa + size <= MAX_PADDR)) return `item_into_raw: ${raw.pa} is not a level-${raw.level} page below MAX_PADDR (aligned to ${size})`
      return null
    },
  },
  {
    rule: 'REQ-CURSORMUT-MAP-4',
    kind: 'requires',
    // Deviation: for tracked items only — untracked items may target any page-aligned physical
    // address below MAX_PADDR (behaviour.md §2.2, API.md), meta slot or not.
    check: (s, e) => {
      const cr = cursorRaw(s, e)
      if (cr === null || !cr.raw.tracked) return null
      const idx = frameToIndex(cr.raw.pa)
      const o = ownerOf(s, idx)
      const rc = o.innerPerms.refCount
      if (!isParked(s, idx)) return `the item's slot ${idx} is not parked`
      if (rc === REF_COUNT_UNUSED || !(rc > 0 && rc <= REF_COUNT_MAX)) return `the item's slot ${idx} has rc ${refCountName(rc)}`
      return o.usage === PageUsage.Frame ? null : `the item's slot ${idx} has usage ${o.usage}, not a data frame`
    },
  },
]

/**
 * `CursorMut::map(item)` (behaviour.md §2.5.8, operations.md §10.5):
 *
 * 1. Panics, state unchanged (REQ-CURSORMUT-MAP-5): the cursor at or past the end; the item's
 *    level above `HIGHEST_TRANSLATION_LEVEL` or above the guard level; the address not aligned to
 *    the item's page size; the page past the range end.
 * 2. The cursor goes to the item's level (`adjustToLevel`): pops, enters child nodes, allocates
 *    nodes for absent entries, splits a covering huge page.
 * 3. `replace_cur_entry(Child::Frame(pa, level, prop))`: the current Entry, the new child
 *    (`child.from_frame` of the consumed `Frame` handle, its path recorded; or `child.untracked`),
 *    `entry.replace`; the old child becomes the fragment (`fragOfOld`).
 * 4. `move_forward()`: the cursor advances to `va + page_size(level)`.
 *
 * Returns `Ok(null)` when the slot was empty, else `Err(frag)` — the new mapping is live anyway.
 *
 * Deviation (ghost): re-mapping the frame a leaf already maps at this very entry (a clone of it)
 * would put the same qualified path into the frame's `paths_in_pt` twice for an instant (OSTD's
 * one `replace`; `paths_in_pt` is a set). The model takes the old leaf out first (`replace` with a
 * `Child::None`, its item handed out), then maps the new one: the same end state.
 *
 * Requires REQ-HANDLE-1 (cursor, the item's frame), REQ-PTCURSOR-KIND-1, REQ-PTCURSOR-ITEM-1,
 * REQ-CURSORMUT-MAP-5 (panic), REQ-CURSORMUT-MAP-1..4. Owes ENS-CURSORMUT-MAP-1..6.
 */
export const cursorMutMap = defineEvent<CursorMutMapEvent, Result<null, PageTableFragOut>>({
  type: 'cursor_mut.map',
  doc: 'CursorMut::map(item): map one page of the item\'s level at the cursor (splitting, creating nodes), replace what was there (Err(frag)), advance.',
  schema: CursorMutMapEvent as unknown as z.ZodType<CursorMutMapEvent>,
  requires: mapRequires,
  reduce(s, e) {
    const c0 = cursorOf(s, e.cursor)
    const raw = itemIntoRaw(s, c0.config, e.item)
    const rec = new StepRecorder(s)
    adjustToLevel(rec, e.cursor, raw.level)
    const c = cursorOf(rec.snapshot, e.cursor)
    const node = nodeOwnerAt(rec.snapshot, c.owner.continuations[c.level - 1]!.slot)!
    const idx = indexAt(c.va, c.level)
    const position = { tree: node.tree, path: childPath(node.path, idx) }
    const va = alignDown(c.va, pageSize(raw.level))
    const newChild = (): number =>
      'frame' in e.item
        ? rec.run(childFromFrame, { type: 'child.from_frame', frame: e.item.frame, prop: raw.prop, ...position, parentLevel: 1 }).child
        : rec.run(childUntracked, { type: 'child.untracked', paddr: raw.pa, level: raw.level, prop: raw.prop, ...position })
            .child
    let frag: PageTableFragOut | null
    const entry = curEntry(rec, e.cursor)
    if (raw.tracked && ownerOf(rec.snapshot, frameToIndex(raw.pa)).pathsInPt.includes(qualifiedPath(position.tree, position.path))) {
      // The deviation above: the old leaf (this very frame) out first, then the new one in.
      const none = rec.run(childNone, { type: 'child.none', ...position, parentLevel: c.level })
      const old = rec.run(entryReplace, { type: 'entry.replace', entry, child: none.child }).child
      frag = fragOfOld(rec, e.cursor, old, va, c.level)
      const again = rec.run(entryReplace, { type: 'entry.replace', entry, child: newChild() }).child
      rec.run(childDrop, { type: 'child.drop', child: again })
    } else {
      const old = rec.run(entryReplace, { type: 'entry.replace', entry, child: newChild() }).child
      frag = fragOfOld(rec, e.cursor, old, va, c.level)
    }
    rec.run(entryDrop, { type: 'entry.drop', entry })
    moveForward(rec, e.cursor)
    return { snapshot: rec.snapshot, result: frag === null ? ok(null) : err(frag), steps: rec.steps }
  },
})

// ---- cursor_mut.take_next ----------------------------------------------------------------------

export const CursorMutTakeNextEvent = z.object({ type: z.literal('cursor_mut.take_next'), cursor: HandleId, len: Usize })
export type CursorMutTakeNextEvent = z.infer<typeof CursorMutTakeNextEvent>
export const CursorMutUnmapEvent = z.object({ type: z.literal('cursor_mut.unmap'), cursor: HandleId, len: Usize })
export type CursorMutUnmapEvent = z.infer<typeof CursorMutUnmapEvent>
type WindowEvent = ModelEvent & { cursor: number; len: number }

/**
 * The preconditions of `take_next(len)` and of `unmap(len)`, which is built from it. `take_next`
 * has no ids of its own in the digest; its panics are `find_next`'s (behaviour.md §2.5.9), which
 * are `unmap`'s REQ-CURSORMUT-UNMAP-1 (`len` page-aligned) and -3 (`va + len` within the range:
 * the digest states the bound as `KERNEL_VADDR_RANGE.end` and notes that the exec panic is at
 * `barrier_va.end`, which is what OSTD checks and the model enforces), with -2 (`va` page-aligned).
 * What the cursor must satisfy is `find_next`'s (REQ-PTCURSOR-TAKENEXT-1).
 */
function windowRequires<E extends WindowEvent>(): Array<Requirement<E>> {
  return [
    liveCursor<E>('cursor'),
    cursorMutOnly<E>(),
    forKind<E>('any', 'REQ-CURSORMUT-UNMAP-1', 'panic', (_s, _c, e) => (e.len % PAGE_SIZE === 0 ? null : `assert_eq!(len % PAGE_SIZE, 0) fails: len ${e.len} is not page-aligned`)),
    forKind<E>('any', 'REQ-CURSORMUT-UNMAP-3', 'panic', (_s, c, e) => (c.va + e.len <= c.barrierVa.end ? null : `assert!(va + len <= barrier_va.end) fails: ${c.va} + ${e.len} is past the range end ${c.barrierVa.end}`)),
    forKind<E>('any', 'REQ-CURSORMUT-UNMAP-2', 'requires', (_s, c) => (Number.isSafeInteger(c.va) && c.va % PAGE_SIZE === 0 ? null : `the cursor's address ${c.va} is not page-aligned`)),
    {
      rule: 'REQ-PTCURSOR-TAKENEXT-1',
      kind: 'requires',
      summary:
        "[model] `take_next` / `unmap` require of the cursor what `find_next` requires (REQ-CURSORMUT-FINDNEXT-1..3, read for OSTD's guard level): `owner.inv()`, `wf`, `regions.inv()`, `level <= guard_level`, `!popped_too_high`, `children_not_locked`, `nodes_locked`, `relate_region` — the digest gives `take_next` no requires of its own ([JUN] verifies it under `find_next_impl`'s).",
      check: (s, e) => {
        const c = cursorAt(s, e.cursor)
        if (c === null) return null
        if (c.owner.poppedTooHigh) return 'the cursor popped above its guard level (popped_too_high)'
        if (!(c.level <= c.guardLevel)) return `level ${c.level} is above the guard level ${c.guardLevel}`
        return ownerWfFailure(s, e.cursor, c) ?? locksFailure(s, e.cursor, c)
      },
    },
  ]
}

/**
 * `replace_cur_entry(Child::None)`: the current entry's child is replaced by a `Child::None`
 * positioned there (`child.none`, `entry.replace`; the Entry, a temporary, is dropped), and the old
 * child becomes the fragment (`fragOfOld`).
 */
function takeCurEntry(rec: StepRecorder, id: number): PageTableFragOut | null {
  const c = cursorOf(rec.snapshot, id)
  const node = nodeOwnerAt(rec.snapshot, c.owner.continuations[c.level - 1]!.slot)!
  const position = { tree: node.tree, path: childPath(node.path, indexAt(c.va, c.level)) }
  const entry = curEntry(rec, id)
  const none = rec.run(childNone, { type: 'child.none', ...position, parentLevel: c.level })
  const old = rec.run(entryReplace, { type: 'entry.replace', entry, child: none.child }).child
  rec.run(entryDrop, { type: 'entry.drop', entry })
  return fragOfOld(rec, id, old, c.va, c.level)
}

/**
 * `CursorMut::take_next(len)` (behaviour.md §2.5.9; operations.md §10.6, the [JUN] `take_next`):
 *
 * 1. Panics, state unchanged, as `find_next` does: `len` not page-aligned, `va + len` past the
 *    range end.
 * 2. `find_next_impl(len, find_unmap_subtree = true, split_huge = true)`: the walk over the window
 *    stops at the first leaf, or at the first child-node entry whose whole span lies in the window
 *    and starts at the current address (a root entry never, when the configuration cannot unmap
 *    top-level entries); a huge leaf only partly in the window is split first
 *    (`entry.split_if_mapped_huge`) and the walk goes on in the new node. Only entries inside the
 *    guard node are considered.
 * 3. Nothing found: `None` (null), the cursor at the window end (behaviour.md; `find_next` itself may
 *    stop past it — `FindNextOptions.stopAtEnd`).
 * 4. Found: `replace_cur_entry(Child::None)` — a leaf becomes `Mapped { va, item }` (a tracked
 *    frame's reference moves from its path into a new `Frame` handle the caller owns); a node is
 *    detached (`dfs_mark_stray_and_unlock`: marked stray, unlocked, leaving the cursor's range lock)
 *    and becomes `StrayPageTable { va, len = span of the entry, numFrames, pt }` — `numFrames` the
 *    present entries of its level-1 nodes (huge leaves not counted), `pt` a `PageTableNode` handle
 *    the caller drops. Then `move_forward()` past the removed entry.
 *
 * Requires REQ-HANDLE-1, REQ-PTCURSOR-KIND-1, REQ-CURSORMUT-UNMAP-1/3 (panics), REQ-CURSORMUT-UNMAP-2,
 * REQ-PTCURSOR-TAKENEXT-1. Owes ENS-PTCURSOR-TAKENEXT-1..5.
 */
export const cursorMutTakeNext = defineEvent<CursorMutTakeNextEvent, PageTableFragOut | null>({
  type: 'cursor_mut.take_next',
  doc: 'CursorMut::take_next(len): remove the first leaf, or the first child sub-tree lying wholly in [va, va + len) at the address (splitting a partly covered huge leaf); return it as a fragment and advance past it; null at the window end otherwise.',
  schema: CursorMutTakeNextEvent,
  requires: windowRequires<CursorMutTakeNextEvent>(),
  reduce(s, e) {
    const rec = new StepRecorder(s)
    const found = runFindNext(rec, e.cursor, e.len, { findUnmapSubtree: true, splitHuge: true, stopAtEnd: true })
    if (found === null) return { snapshot: rec.snapshot, result: null, steps: rec.steps }
    const frag = takeCurEntry(rec, e.cursor)
    moveForward(rec, e.cursor)
    return { snapshot: rec.snapshot, result: frag, steps: rec.steps }
  },
})

// ---- cursor_mut.unmap ------------------------------------------------------------------------------

/**
 * `CursorMut::unmap(len)` → the number of 4 KiB frames unmapped (operations.md §10.6, the seed's
 * `vm_space::CursorMut::unmap`; behaviour.md §2.6). The digest's unmap is this call of its own —
 * a loop over `take_next` — so the model makes it an event whose internal steps are the
 * `cursor_mut.take_next` calls (each checked on its own) and the drops of what they return:
 * until `take_next(end - va)` gives `None`, a `Mapped` item counts 1 and its tracked frame is
 * dropped (`frame.drop`: rc − 1, torn down at the last reference); a `StrayPageTable` counts its
 * `numFrames` and its node is dropped (`page_table_node.drop`: the sub-tree is freed recursively
 * through `on_drop`). The cursor ends at `va + len`. TLB flushing is not modelled here (the seed
 * comments it out; the VmSpace layer owns the flusher), so fragments are released at once.
 *
 * Requires what `take_next` requires (REQ-CURSORMUT-UNMAP-1..3, REQ-PTCURSOR-TAKENEXT-1). Owes
 * ENS-CURSORMUT-UNMAP-1..3.
 */
export const cursorMutUnmap = defineEvent<CursorMutUnmapEvent, number>({
  type: 'cursor_mut.unmap',
  doc: 'CursorMut::unmap(len): take_next until the window [va, va + len) is empty, dropping what it returns; the number of 4 KiB frames unmapped.',
  schema: CursorMutUnmapEvent,
  requires: windowRequires<CursorMutUnmapEvent>(),
  reduce(s, e) {
    const rec = new StepRecorder(s)
    const end = cursorOf(s, e.cursor).va + e.len
    let count = 0
    for (;;) {
      const va = cursorOf(rec.snapshot, e.cursor).va
      const frag = rec.run(cursorMutTakeNext, { type: 'cursor_mut.take_next', cursor: e.cursor, len: Math.max(0, end - va) })
      if (frag === null) break
      // A take_next that returns a fragment moves past it; a variant that does not would loop forever.
      if (cursorOf(rec.snapshot, e.cursor).va <= va) break
      if (frag.kind === 'Mapped') {
        count += 1
        if ('frame' in frag.item) rec.run(frameDrop, { type: 'frame.drop', frame: frag.item.frame })
      } else {
        count += frag.numFrames
        rec.run(ptNodeDrop, { type: 'page_table_node.drop', node: frag.pt })
      }
    }
    return { snapshot: rec.snapshot, result: count, steps: rec.steps }
  },
})

// ---- cursor_mut.protect_next -------------------------------------------------------------------------

export const CursorMutProtectNextEvent = z.union([
  z.object({ type: z.literal('cursor_mut.protect_next'), cursor: HandleId, len: Usize, prop: PagePropertySchema }),
  z.object({ type: z.literal('cursor_mut.protect_next'), cursor: HandleId, len: Usize, mask: ProtectMaskSchema }),
])
export type CursorMutProtectNextEvent = z.infer<typeof CursorMutProtectNextEvent>

/** `op(p)` of a protect_next event (entry.protect's encoding: the new property, or a flags edit). */
export function protectNextOp(e: CursorMutProtectNextEvent, p: PageProperty): PageProperty {
  return 'prop' in e ? e.prop : { ...p, flags: (p.flags & ~e.mask.clear) | e.mask.set }
}

/**
 * The leaf `protect_next(len)` would protect, as the PTE words map it: the first mapping
 * overlapping `[va, va + len)` (the one containing `va` included), or null.
 */
export function protectTarget(s: Snapshot, c: PtCursor, len: number): Mapping | null {
  const root = cursorRootSlot(s, c)
  if (root === null || len <= 0) return null
  const opts = { source: 'pte' as const, config: c.config }
  return mappingAt(s, root, c.va, opts) ?? firstMappingFrom(s, root, c.va, c.va + len, opts)
}

/**
 * `CursorMut::protect_next(len, op)` (behaviour.md §2.5.10; operations.md §10.7):
 *
 * 1. Panics, state unchanged, as `find_next` does (REQ-CURSORMUT-PROTECTNEXT-4).
 * 2. `find_next_impl(len, false, split_huge = true)`: the first leaf in the window; a huge leaf not
 *    wholly inside it is split (into 512 pieces of contiguous PAs and the same property) down to
 *    the piece at the address that fits. None: `None` (null), nothing changes but the cursor,
 *    which ends at or past the window end.
 * 3. `cur_entry().protect(op)` (`entry.protect`): `op` applied to that leaf's PTE property — one
 *    slot per call; then `move_forward()` past it. Returns `Some(slot range)`.
 *
 * `op` is carried as its result, like `entry.protect`'s: `prop` (the new property) or `mask`
 * (`flags := (flags & ~clear) | set`). It applies to the PTE's property, as OSTD's does (for the
 * kernel configuration that includes AVAIL1, which `op` must keep: REQ-CURSORMUT-PROTECTNEXT-5).
 *
 * Deviations (behaviour.md wins): REQ-CURSORMUT-PROTECTNEXT-2 (`!cur_entry_owner().is_absent()`)
 * is not enforced — `protect_next` over a window whose current entry is absent is an ordinary call
 * that returns `None` or protects a later leaf (§2.5.10; VmSpace callers loop until `None`); -3's
 * `in_locked_range()` is not required (`protect_next(0)` at the end is `None`), as for `find_next`.
 * -4's `level < NR_LEVELS` is read for OSTD's guard level: `level <= guard_level`.
 *
 * Requires REQ-HANDLE-1, REQ-PTCURSOR-KIND-1, REQ-CURSORMUT-PROTECTNEXT-4 (panic), -1, -3, -5.
 * Owes ENS-CURSORMUT-PROTECTNEXT-1..3.
 */
export const cursorMutProtectNext = defineEvent<CursorMutProtectNextEvent, RangeOut | null>({
  type: 'cursor_mut.protect_next',
  doc: 'CursorMut::protect_next(len, op): apply op to the first leaf in [va, va + len) (splitting a huge leaf not wholly inside), advance past it, return its range; null when the window holds no mapping.',
  schema: CursorMutProtectNextEvent as unknown as z.ZodType<CursorMutProtectNextEvent>,
  requires: [
    liveCursor('cursor'),
    cursorMutOnly(),
    forKind<CursorMutProtectNextEvent>('any', 'REQ-CURSORMUT-PROTECTNEXT-4', 'panic', (_s, c, e) =>
      findNextPanic(c, e.len) ?? (c.level <= c.guardLevel ? null : `level ${c.level} is above the guard level ${c.guardLevel}`),
    ),
    forKind('any', 'REQ-CURSORMUT-PROTECTNEXT-1', 'requires', (s, c, e) => ownerWfFailure(s, e.cursor, c)),
    forKind('any', 'REQ-CURSORMUT-PROTECTNEXT-3', 'requires', (s, c, e) => (c.owner.poppedTooHigh ? 'the cursor popped above its guard level (popped_too_high)' : locksFailure(s, e.cursor, c))),
    forKind<CursorMutProtectNextEvent>('any', 'REQ-CURSORMUT-PROTECTNEXT-5', 'requires', (s, c, e) => {
      const m = protectTarget(s, c, e.len)
      if (m === null) return null
      const p = protectNextOp(e, m.property)
      if (!pagePropertyInv(p) || (p.flags & PageFlags.R) === 0) return `op returns ${JSON.stringify(p)} for the leaf at ${m.vaRange.start}: a PTE property needs R set and no undefined bit (REQ-PTE-2)`
      if (!PTE_CACHE_POLICIES.includes(p.cache)) return `op returns cache policy ${p.cache} for the leaf at ${m.vaRange.start}, which a PTE cannot encode (REQ-PTE-3)`
      return propTracked(c.config, p) === propTracked(c.config, m.property) ? null : `op changes whether the leaf at ${m.vaRange.start} is a tracked item (AVAIL1 of the ${c.config} configuration)`
    }),
  ],
  reduce(s, e) {
    const rec = new StepRecorder(s)
    const found = runFindNext(rec, e.cursor, e.len, { splitHuge: true })
    if (found === null) return { snapshot: rec.snapshot, result: null, steps: rec.steps }
    const entry = curEntry(rec, e.cursor)
    rec.run(entryProtect, 'prop' in e ? { type: 'entry.protect', entry, prop: e.prop } : { type: 'entry.protect', entry, mask: e.mask })
    rec.run(entryDrop, { type: 'entry.drop', entry })
    const c = cursorOf(rec.snapshot, e.cursor)
    const range = rangeOut(c.config, curVaRange(c))
    moveForward(rec, e.cursor)
    return { snapshot: rec.snapshot, result: range, steps: rec.steps }
  },
})

export const ptCursorMutEvents: readonly AnyEventSpec[] = [cursorMutMap, cursorMutTakeNext, cursorMutUnmap, cursorMutProtectNext] as unknown as readonly AnyEventSpec[]
