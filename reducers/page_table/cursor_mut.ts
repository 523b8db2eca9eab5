/**
 * `CursorMut::map` (ostd::mm::page_table::cursor, upstream a1accf430; behaviour.md §2.5.8;
 * spec/operations.md §10.5): maps exactly one page of the item's level at the cursor, splitting a
 * covering huge page and creating nodes on the way, replaces what was there and advances. The
 * cursor state and the movement helpers are in cursor.ts; `take_next` and `protect_next` join
 * this module as further events built from the same pieces (`dfsMarkStrayAndUnlock`,
 * `fragOfOld`, the level adjustment).
 *
 * Events:
 *   cursor_mut.map {cursor, item}   item: `{ frame, prop }` (a tracked `Frame` handle, consumed) or
 *                                   `{ pa, level, prop }` (untracked); `Ok(null)` or `Err(frag)`
 *
 * `PageTableFrag` (API.md): `{ kind: 'Mapped', va, item }` — the replaced leaf, a new reference the
 * caller owns (a tracked frame as a `Frame` handle) — or `{ kind: 'StrayPageTable', va, len,
 * numFrames, pt }` — a replaced sub-tree, detached, marked stray and unlocked; `pt` is the
 * `PageTableNode` handle of its top, which the caller drops (OSTD's `frag.pt`).
 *
 * Model rules (not in the digest): REQ-PTCURSOR-KIND-1, REQ-PTCURSOR-ITEM-1 and REQ-HANDLE-1 on
 * the item's frame.
 */
import { z } from 'zod'
import { frameToIndex, MAX_PADDR, NR_LEVELS, pageSize, PageUsage, REF_COUNT_MAX, REF_COUNT_UNUSED, refCountName } from '../../src/arch/constants.js'
import { PageFlags, PTE_CACHE_POLICIES, pagePropertyInv, type PageProperty } from '../../src/arch/page_prop.js'
import { ptConfig, type PtConfigName } from '../../src/arch/pt_config.js'
import { editSnapshot } from '../../src/model/edit.js'
import { qualifiedPath, type ChildValue } from '../../src/model/page_table.js'
import { alignDown, cursorAt, fullVa, indexAt, inLockedRange, type PtCursor } from '../../src/model/pt_cursor.js'
import { isParked, ownerOf } from '../../src/model/slots.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { childPath, nodeOwnerAt } from '../../src/model/spec/page_table.js'
import { tableGet } from '../../src/model/table.js'
import { addObligation, freshId, patchOwner } from '../frame/edit.js'
import { Addr, HandleId } from '../schema.js'
import { defineEvent, err, ok, StepRecorder, type Requirement, type Result } from '../types.js'
import type { AnyEventSpec } from '../index.js'
import { childDrop, childFromFrame, childNone, childOwner, childUntracked, Level, PagePropertySchema } from './child.js'
import {
  ciFailure,
  curEntry,
  cursorOf,
  descendInto,
  forKind,
  liveCursor,
  moveForward,
  popLevel,
  pushLevel,
  releaseNode,
  type MappedItemOut,
  type VaOut,
} from './cursor.js'
import { entryDrop, entryReplace, entryToRef, guardEntry } from './entry.js'
import { entryAllocIfNone, entrySplitIfMappedHuge } from './entry_composite.js'
import { ptGuardDrop, ptGuardNrChildren, ptGuardStrayMut, ptGuardStrayWrite } from './guard.js'
import { ptNodeRefMakeGuard } from './node.js'

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
export function adjustToLevel(rec: StepRecorder, id: number, level: number): void {
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
    const made = ref.kind === 'None' ? rec.run(entryAllocIfNone, { type: 'entry.alloc_if_none', entry }) : rec.run(entrySplitIfMappedHuge, { type: 'entry.split_if_mapped_huge', entry })
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

const mapRequires: Array<Requirement<CursorMutMapEvent>> = [
  liveCursor('cursor'),
  {
    rule: 'REQ-PTCURSOR-KIND-1',
    kind: 'requires',
    summary: '[model] `map` (and every `CursorMut` method) is called on a `CursorMut`: a read-only `Cursor` has no such method (a type error in Rust; spec/README.md §4 item 13 notes the embedding never checks it).',
    check: (s, e) => {
      const c = cursorAt(s, e.cursor)
      return c === null || c.kind === 'CursorMut' ? null : `cursor ${e.cursor} is a read-only Cursor`
    },
  },
  {
    rule: 'REQ-HANDLE-1',
    kind: 'requires',
    check: (s, e) => ('frame' in e.item && tableGet(s.frames, e.item.frame) === null ? `Frame ${e.item.frame} is not a live handle (dropped, moved, or never created)` : null),
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

export const ptCursorMutEvents: readonly AnyEventSpec[] = [cursorMutMap] as unknown as readonly AnyEventSpec[]
