/**
 * Page-table cursors (ostd::mm::page_table::cursor, upstream a1accf430; behaviour.md §2.4–§2.5;
 * spec/operations.md §9–§10, state.md §9–§10): creation and drop, and the read-only operations
 * every cursor has. `CursorMut::map` is in cursor_mut.ts. The cursor state and its spec
 * predicates are in src/model/pt_cursor.ts (read its module comment for the modelling decisions:
 * OSTD's guard level, the locked range, continuations over the flat owner tree).
 *
 * Events (each a composite: its reducer runs the entry-level steps OSTD runs, so they are checked
 * and visible in the history):
 *   page_table.cursor / page_table.cursor_mut  {pageTable, vaStart, vaEnd}: `Cursor::new` / `CursorMut::new`
 *   cursor.virt_addr   {cursor}        the current address
 *   cursor.query       {cursor}        `query()`: `Ok([range, item | null])` or `Err(InvalidVaddr)`; does not move
 *   cursor.next        {cursor}        `Iterator::next`: query, then advance to the end of the slot; null at the end
 *   cursor.jump        {cursor, va}    `jump(va)`
 *   cursor.find_next   {cursor, len}   `find_next(len)`: the first leaf in the window, never splits
 *   cursor.drop        {cursor}        drop: `unlock_range` (`dfs_release_lock`)
 *   cursor.forget_guard {cursor, guard}  internal: `ManuallyDrop::new(guard)` — the lock stays, held by the cursor
 *
 * Cursor movement (`push_level`, `pop_level`, `move_forward`) is bookkeeping on the cursor record
 * between the steps; a pop forgets the level's guard through `cursor.forget_guard`.
 *
 * Items (`MappedItem`, API.md): user `{ frame, prop }` (a `Frame` handle), untracked
 * `{ pa, level, prop }`, kernel either. A query's item is a new reference the caller owns (a
 * tracked frame is cloned: `rc + 1`, a new `Frame` handle).
 *
 * Addresses in events and results: the configuration's full addresses (a number, or `0x` hex
 * when it does not fit one — kernel addresses); the cursor keeps view addresses.
 *
 * Model rules (not in the digest): REQ-HANDLE-1 (live handles), REQ-PTCURSOR-NEW-1 (creation
 * would wait forever for a lock: OSTD blocks, the model panics), REQ-PTCURSOR-NEW-2 (creation
 * would lock a node marked stray: OSTD retries forever, the model panics), REQ-PTCURSOR-FORGET-1; the
 * postconditions ENS-PTCURSOR-NEW-1, ENS-PTCURSOR-DROP-1, ENS-PTCURSOR-NEXT-1 and the invariant
 * INV-PTCURSOR-1 (src/check/rules/page_table/cursor.ts).
 */
import { z } from 'zod'
import { frameToIndex, NR_LEVELS, PAGE_SIZE, pageSize, PageUsage, REF_COUNT_MAX, refCountName } from '../../src/arch/constants.js'
import { PageFlags, type PageProperty } from '../../src/arch/page_prop.js'
import { isLast, isPresent, ptePaddr } from '../../src/arch/pte.js'
import { readPte } from '../../src/model/memory.js'
import { ptConfig, type PtConfigName } from '../../src/arch/pt_config.js'
import { editSnapshot } from '../../src/model/edit.js'
import type { ChildValue } from '../../src/model/page_table.js'
import {
  alignDown,
  coveredNodes,
  cursorAt,
  cursorInvariants,
  cursorOwnerInv,
  cursorExecInv,
  cursorWf,
  cursorLocksInv,
  cursorRootSlot,
  curVaRange,
  descentOf,
  firstMessage,
  fullVa,
  fullVaBig,
  guardNodeSpan,
  heldByCursor,
  idxRange,
  indexAt,
  isValidRange,
  nodeSpan,
  viewVaOf,
  type CursorContinuation,
  type CursorKind,
  type PtCursor,
} from '../../src/model/pt_cursor.js'
import { pageTableHandle } from '../../src/model/pt_tables.js'
import { mappingAt, type VaRange } from '../../src/model/pt_view.js'
import { vaBig } from '../../src/model/pt_walk.js'
import { isParked, ownerOf, slotOf } from '../../src/model/slots.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { nodeOwnerAt, nodeOwnerInv } from '../../src/model/spec/page_table.js'
import { emptyTable, tableGet, tableWith } from '../../src/model/table.js'
import { addObligation, freshId } from '../frame/edit.js'
import { HANDLE_SUMMARY } from '../frame/handles.js'
import { getFromInUse } from '../frame/meta.js'
import { HandleId, Usize } from '../schema.js'
import { embCursor } from '../embedding/requires.js'
import { defineEvent, err, ok, StepRecorder, type EventSpec, type ModelEvent, type Requirement, type Result } from '../types.js'
import type { AnyEventSpec } from '../index.js'
import { firstFailure, livePtHandle } from './child.js'
import { entryDrop, entryIsNode, entryIsNone, entryToRef, guardEntry } from './entry.js'
import { entryAllocIfNone, entrySplitIfMappedHuge } from './entry_composite.js'
import { ptGuardDrop, ptGuardNrChildren, ptGuardStrayMut } from './guard.js'
import { ptNodeRefLock, ptNodeRefMakeGuard } from './node.js'
import { livePageTable, VaddrSchema, vaOf, type VaddrArg } from './page_table.js'

// ---- results -------------------------------------------------------------------------------

/** A virtual address in a result: the configuration's full address (number, or `0x` hex). */
export type VaOut = number | string

/** A range of full addresses. */
export interface RangeOut {
  readonly start: VaOut
  readonly end: VaOut
}

/** `MappedItem` (API.md): a tracked frame (a `Frame` handle the caller owns) or an untracked triple. */
export type MappedItemOut = { readonly frame: number; readonly prop: PageProperty } | { readonly pa: number; readonly level: number; readonly prop: PageProperty }

/** `PageTableError` (API.md). */
export type PageTableError = { readonly kind: 'InvalidVaddrRange'; readonly start: VaddrArg; readonly end: VaddrArg } | { readonly kind: 'UnalignedVaddr' } | { readonly kind: 'InvalidVaddr'; readonly va: VaOut }

/** What `query()` returns on success: the slot's range and its item. */
export type QueryValue = readonly [RangeOut, MappedItemOut | null]

export function rangeOut(config: PtConfigName, r: VaRange): RangeOut {
  return { start: fullVa(config, r.start), end: fullVa(config, r.end) }
}

// ---- reading -------------------------------------------------------------------------------

/** The live cursor of an event (call after its REQ-HANDLE-1). */
export function cursorOf(s: Snapshot, id: number): PtCursor {
  return cursorAt(s, id)!
}

/** REQ-HANDLE-1 on a cursor handle. */
export function liveCursor<E extends ModelEvent>(field: keyof E & string): Requirement<E> {
  return {
    rule: 'REQ-HANDLE-1',
    kind: 'requires',
    summary: HANDLE_SUMMARY,
    check: (s, e) => (cursorAt(s, e[field] as number) === null ? `Cursor ${String(e[field])} is not a live handle (dropped, or never created)` : null),
  }
}

/** A precondition that applies to cursors of one kind (the spec's `Cursor` / `CursorMut` ids), skipped when the cursor is not live. */
export function forKind<E extends ModelEvent & { cursor: number }>(kind: CursorKind | 'any', rule: string, reqKind: 'panic' | 'requires', check: (s: Snapshot, c: PtCursor, e: E) => string | null): Requirement<E> {
  return {
    rule,
    kind: reqKind,
    check: (s, e) => {
      const c = cursorAt(s, e.cursor)
      return c === null || (kind !== 'any' && c.kind !== kind) ? null : check(s, c, e)
    },
  }
}

/** `regions.inv()` at the cursor's path nodes (the whole-state clause is the INV-SLOT / INV-REGIONS invariants'). */
function regionsAtPath(s: Snapshot, c: PtCursor): string | null {
  for (let L = c.owner.level; L <= NR_LEVELS; L++) {
    const k = c.owner.continuations[L - 1]
    if (k === null || k === undefined) continue
    if (!isParked(s, k.slot)) return `the level-${L} node ${k.slot} is not parked`
    const o = ownerOf(s, k.slot)
    if (o.usage !== PageUsage.PageTable || !(o.innerPerms.refCount >= 1 && o.innerPerms.refCount <= REF_COUNT_MAX)) return `the level-${L} node ${k.slot} is not a live page-table node (rc ${refCountName(o.innerPerms.refCount)})`
  }
  return null
}

/** `metaregion_sound` of the continuations' own entries (`NodeOwner::inv` of the path nodes). */
function soundAtPath(s: Snapshot, c: PtCursor): string | null {
  for (let L = c.owner.level; L <= NR_LEVELS; L++) {
    const k = c.owner.continuations[L - 1]
    const r = k === null || k === undefined ? null : nodeOwnerAt(s, k.slot)
    if (r === null) continue
    const bad = firstFailure(nodeOwnerInv(s, r, k!.slot, `pt.owners[${k!.slot}]`))
    if (bad !== null) return bad
  }
  return null
}

/** CI (operations.md §9): `Cursor::invariants(owner, regions, guards)` at the cursor. */
export function ciFailure(s: Snapshot, id: number, c: PtCursor): string | null {
  return firstMessage(cursorInvariants(s, id, c)) ?? regionsAtPath(s, c) ?? soundAtPath(s, c)
}

/** `owner.inv() ∧ self.wf(owner) ∧ regions.inv() ∧ self.inv()` (without the lock clauses). */
export function ownerWfFailure(s: Snapshot, id: number, c: PtCursor): string | null {
  return firstMessage([...cursorOwnerInv(s, id, c), ...cursorWf(id, c), ...cursorExecInv(id, c)]) ?? regionsAtPath(s, c)
}

/** `children_not_locked ∧ nodes_locked ∧ relate_region` (MD-7: `metaregion_sound`). */
export function locksFailure(s: Snapshot, id: number, c: PtCursor): string | null {
  return firstMessage(cursorLocksInv(s, id, c).filter((f) => !f.path.endsWith('poppedTooHigh'))) ?? soundAtPath(s, c)
}

// ---- cursor record edits (bookkeeping between steps) -------------------------------------------

function putCursor(s: Snapshot, id: number, c: PtCursor): Snapshot {
  return editSnapshot(s, (_d, t) => t.ptCursors.set(id, c))
}

function withContinuation(c: PtCursor, level: number, k: CursorContinuation | null): PtCursor['owner'] {
  const continuations = [...c.owner.continuations]
  continuations[level - 1] = k
  return { ...c.owner, continuations }
}

/**
 * `push_level(child_guard)`: the cursor moves one level down into the node `guard` locks, which
 * becomes the current continuation (its index: the address's); the node joins the nodes the
 * cursor holds (a node it created; a covered node already is).
 */
export function pushLevel(s: Snapshot, id: number, guard: number): Snapshot {
  const c = cursorOf(s, id)
  const slot = frameToIndex(tableGet(s.pt.guards, guard)!.paddr)
  const level = c.level - 1
  const path = [...c.path]
  path[level - 1] = guard
  const cont: CursorContinuation = { slot, idx: indexAt(c.owner.va, level), guard }
  const owner = { ...withContinuation(c, level, cont), level }
  return putCursor(s, id, { ...c, level, path, owner, locked: tableWith(c.locked, slot, true) })
}

/**
 * `pop_level()`: the level's guard is forgotten (`ManuallyDrop`: the lock stays, held by the
 * cursor; internal step `cursor.forget_guard`), the cursor moves one level up.
 */
export function popLevel(rec: StepRecorder, id: number): void {
  const c = cursorOf(rec.snapshot, id)
  const guard = c.path[c.level - 1]!
  rec.run(cursorForgetGuard, { type: 'cursor.forget_guard', cursor: id, guard })
  const now = cursorOf(rec.snapshot, id)
  const level = now.level + 1
  rec.set(putCursor(rec.snapshot, id, { ...now, level, owner: { ...withContinuation(now, now.level, null), level } }))
}

/** Sets the cursor's address (exec and ghost) and the current continuation's index. */
export function setVa(s: Snapshot, id: number, va: number): Snapshot {
  const c = cursorOf(s, id)
  const k = c.owner.continuations[c.level - 1]!
  const owner = { ...withContinuation(c, c.level, { ...k, idx: indexAt(va, c.level) }), va }
  return putCursor(s, id, { ...c, va, owner })
}

/**
 * `move_forward()`: `next_va = cur_va_range().end`; pop while below the guard level and
 * `pte_index(next_va, level) == 0`; then `va = next_va`.
 */
export function moveForward(rec: StepRecorder, id: number): void {
  const next = curVaRange(cursorOf(rec.snapshot, id)).end
  for (;;) {
    const c = cursorOf(rec.snapshot, id)
    if (!(c.level < c.guardLevel && indexAt(next, c.level) === 0)) break
    popLevel(rec, id)
  }
  rec.set(setVa(rec.snapshot, id, next))
}

/** `cur_entry()`: the Entry of the current index in the current node (internal `page_table_guard.entry`). */
export function curEntry(rec: StepRecorder, id: number): number {
  const c = cursorOf(rec.snapshot, id)
  return rec.run(guardEntry, { type: 'page_table_guard.entry', guard: c.path[c.level - 1]!, idx: indexAt(c.va, c.level) }).entry
}

/** `cur_entry().to_ref()`, the Entry a temporary dropped after it. */
export function curChildRef(rec: StepRecorder, id: number): ChildValue {
  const entry = curEntry(rec, id)
  const ref = rec.run(entryToRef, { type: 'entry.to_ref', entry })
  rec.run(entryDrop, { type: 'entry.drop', entry })
  return ref
}

/** `make_guard_unchecked` on a child node the cursor holds, then `push_level`. */
export function descendInto(rec: StepRecorder, id: number, paddr: number): void {
  const { guard } = rec.run(ptNodeRefMakeGuard, { type: 'page_table_node_ref.make_guard_unchecked', paddr })
  rec.set(pushLevel(rec.snapshot, id, guard))
}

/**
 * Whether `C::item_from_raw(pa, level, prop)` is a tracked item: always for the user
 * configuration, never for the untracked one, by `AVAIL1` for the kernel (constants.md §5).
 */
export function propTracked(config: PtConfigName, prop: PageProperty): boolean {
  const items = ptConfig(config).items
  return items === 'tracked' || (items === 'both' && (prop.flags & PageFlags.AVAIL1) !== 0)
}

/**
 * `C::item_from_raw(pa, level, prop)` of a leaf, cloned (`query`): a tracked frame takes one more
 * reference (internal `meta_slot.get_from_in_use`, which panics at `REF_COUNT_MAX`) held by a new
 * `Frame` handle (one obligation minted); an untracked item is the raw triple. The kernel
 * configuration tells them apart by `AVAIL1` (constants.md §5) and returns the property without it.
 */
export function clonedItem(rec: StepRecorder, config: PtConfigName, ref: Extract<ChildValue, { kind: 'Frame' }>): MappedItemOut {
  const tracked = propTracked(config, ref.prop)
  const prop = config === 'kernel' ? { ...ref.prop, flags: ref.prop.flags & ~PageFlags.AVAIL1 } : ref.prop
  if (!tracked) return { pa: ref.paddr, level: ref.level, prop }
  rec.run(getFromInUse, { type: 'meta_slot.get_from_in_use', paddr: ref.paddr })
  let frame = -1
  rec.set(
    editSnapshot(rec.snapshot, (d, t) => {
      frame = freshId(d, 'frame')
      t.frames.set(frame, { paddr: ref.paddr })
      addObligation(t, frameToIndex(ref.paddr), +1)
    }),
  )
  return { frame, prop }
}

// ---- cursor.forget_guard -----------------------------------------------------------------------

export const CursorForgetGuardEvent = z.object({ type: z.literal('cursor.forget_guard'), cursor: HandleId, guard: HandleId })
export type CursorForgetGuardEvent = z.infer<typeof CursorForgetGuardEvent>

/**
 * `let _ = ManuallyDrop::new(guard)` inside a cursor (`dfs_acquire_lock`, `pop_level`,
 * `unlock_range`, a skipped empty child in `find_next`): the `PageTableGuard` handle leaves the
 * registry and its node leaves `Guards`, but the lock byte stays 1 — the lock is now held by the
 * cursor's range lock (the node joins `locked`), until `dfs_release_lock` takes it back at the
 * drop. A guard that was the cursor's path guard leaves the path (and its continuation).
 *
 * Requires REQ-HANDLE-1 (cursor, guard), REQ-PTCURSOR-FORGET-1. Owes nothing of its own (the
 * lock invariants INV-GUARD-1, INV-PTGUARD-1 after the step; INV-PTCURSOR-1 at the boundary).
 */
export const cursorForgetGuard = defineEvent<CursorForgetGuardEvent, null>({
  type: 'cursor.forget_guard',
  doc: "ManuallyDrop::new(guard) in a cursor: the guard is forgotten, its node's lock stays held by the cursor's range lock.",
  schema: CursorForgetGuardEvent,
  requires: [
    liveCursor('cursor'),
    livePtHandle('guards', 'guard'),
    {
      rule: 'REQ-PTCURSOR-FORGET-1',
      kind: 'requires',
      summary:
        "[model] A cursor forgets only guards of nodes its range lock covers (the lock it keeps is part of that lock, released by `dfs_release_lock` at the drop): a node of its own page table inside the guard node's span, overlapping the cursor's range.",
      check: (s, e) => {
        const c = cursorAt(s, e.cursor)
        const g = tableGet(s.pt.guards, e.guard)
        if (c === null || g === null) return null
        const slot = frameToIndex(g.paddr)
        const r = nodeOwnerAt(s, slot)
        const root = cursorRootSlot(s, c)
        if (r === null || r.tree !== root) return `guard ${e.guard} locks node ${slot}, which is not a node of PageTable ${c.pageTable}`
        // Every internal use (dfs_acquire_lock, pop_level, unlock_range, find_next's skipped
        // child) forgets a node below the guard node overlapping the range; a node outside would
        // leave a lock the drop's dfs_release_lock never visits (INV-PTCURSOR-1 afterwards).
        // Inside the guard node's span puts it at most at the guard level (a node's span grows with its level).
        const span = nodeSpan(r)
        const guardSpan = guardNodeSpan(c)
        const inGuardSpan = span.start >= guardSpan.start && span.end <= guardSpan.end
        const overlaps = span.start < c.barrierVa.end && c.barrierVa.start < span.end
        return inGuardSpan && overlaps
          ? null
          : `guard ${e.guard} locks node ${slot} (level ${r.level}, span [${span.start}, ${span.end})), outside cursor ${e.cursor}'s range lock (guard level ${c.guardLevel}, range [${c.barrierVa.start}, ${c.barrierVa.end}))`
      },
    },
  ],
  reduce(s, e) {
    const c = cursorOf(s, e.cursor)
    const slot = frameToIndex(tableGet(s.pt.guards, e.guard)!.paddr)
    let next = { ...c, locked: tableWith(c.locked, slot, true) }
    const L = c.path.indexOf(e.guard) + 1
    if (L > 0) {
      const path = [...c.path]
      path[L - 1] = null
      const k = c.owner.continuations[L - 1]
      next = { ...next, path, owner: k === null || k === undefined ? next.owner : withContinuation(next, L, { ...k, guard: null }) }
    }
    const snapshot = editSnapshot(s, (_d, t) => {
      t.ptGuards.set(e.guard, null)
      t.ptLocks.set(slot, null)
      t.ptCursors.set(e.cursor, next)
    })
    return { snapshot, result: null }
  },
})

// ---- creation ------------------------------------------------------------------------------

const NewFields = { pageTable: HandleId, vaStart: VaddrSchema, vaEnd: VaddrSchema }
export const CursorNewEvent = z.object({ type: z.literal('page_table.cursor'), ...NewFields })
export type CursorNewEvent = z.infer<typeof CursorNewEvent>
export const CursorMutNewEvent = z.object({ type: z.literal('page_table.cursor_mut'), ...NewFields })
export type CursorMutNewEvent = z.infer<typeof CursorMutNewEvent>
type NewEvent = CursorNewEvent | CursorMutNewEvent

/** The validated range of a creation event (view addresses), or the error OSTD returns. */
export function validatedRange(config: PtConfigName, e: { vaStart: VaddrArg; vaEnd: VaddrArg }): Result<VaRange, PageTableError> {
  const start = vaBig(vaOf(e.vaStart))
  const end = vaBig(vaOf(e.vaEnd))
  if (!isValidRange(config, start, end) || start >= end) return err({ kind: 'InvalidVaddrRange', start: e.vaStart, end: e.vaEnd })
  if (start % BigInt(PAGE_SIZE) !== 0n || end % BigInt(PAGE_SIZE) !== 0n) return err({ kind: 'UnalignedVaddr' })
  // A valid non-empty range of the configuration has its leading bits, except a kernel range
  // ending exactly at 2^64 - which a u64 range cannot express: it has none.
  const vs = viewVaOf(config, start)
  const ve = end === start ? vs : viewVaOf(config, end - 1n)
  if (vs === null || ve === null) return err({ kind: 'InvalidVaddrRange', start: e.vaStart, end: e.vaEnd })
  return ok({ start: vs, end: ve + 1 })
}

/** The lock byte of a node (exec). */
function lockByte(s: Snapshot, slot: number): number {
  const st = slotOf(s, slot).storage
  return st?.kind === 'PTNode' ? st.lock : 0
}

/**
 * The node marked stray that creating a cursor over `range` would lock, or null. The descent
 * locks one node that exists before it — where it stops, or the node lacking the child it
 * allocates (the nodes below that are new) — and `try_traverse_and_lock_subtree_root` gives up
 * when that node's `stray` flag is set.
 */
export function strayLockTarget(s: Snapshot, root: number, range: VaRange): number | null {
  const { slot } = descentOf(s, root, range)
  const st = slotOf(s, slot).storage
  return st?.kind === 'PTNode' && st.stray ? slot : null
}

/**
 * The first lock creating a cursor over `range` would wait for, or null: the node the descent
 * locks to allocate a missing child, or else the guard node and every node below it overlapping
 * the range (`dfs_acquire_lock`). A spin lock waits for any lock byte 1.
 */
export function blockingLock(s: Snapshot, root: number, range: VaRange): number | null {
  const d = descentOf(s, root, range)
  if (d.missingAt !== null) return lockByte(s, d.slot) === 1 ? d.slot : null
  for (const slot of coveredNodes(s, d.slot, d.level, range)) if (lockByte(s, slot) === 1) return slot
  return null
}

function describeHolder(s: Snapshot, slot: number, pageTable: number, range: VaRange): string {
  const holder = heldByCursor(s, slot)
  if (holder === null) return `node ${slot} is locked by a PageTableGuard`
  const c = cursorAt(s, holder)!
  const overlap = c.pageTable === pageTable && c.barrierVa.start < range.end && range.start < c.barrierVa.end
  return `node ${slot} is held by cursor ${holder} over [${c.barrierVa.start}, ${c.barrierVa.end})${overlap ? ', which overlaps the new range' : ' (its guard node covers the new range)'}`
}

function newRequires<E extends NewEvent>(): Array<Requirement<E>> {
  /** The creation's validated range and its page table's root slot; null without a live table or for a range OSTD answers with `Err`. */
  const target = (s: Snapshot, e: E): { root: number; range: VaRange } | null => {
    const h = pageTableHandle(s, e.pageTable)
    if (h === null) return null
    const r = validatedRange(h.config, e)
    return r.ok ? { root: frameToIndex(h.rootPaddr), range: r.value } : null
  }
  /** A creation that would never return panics with `rule`: `find` names the node in the way for the range (a held lock, a stray node), `why` says it. */
  const neverEnds = (
    rule: string,
    summary: string,
    find: (s: Snapshot, root: number, range: VaRange) => number | null,
    why: (s: Snapshot, slot: number, e: E, range: VaRange) => string,
  ): Requirement<E> => ({
    rule,
    kind: 'panic',
    summary,
    check: (s, e) => {
      const t = target(s, e)
      const slot = t === null ? null : find(s, t.root, t.range)
      return slot === null ? null : why(s, slot, e, t!.range)
    },
  })
  return [
    livePageTable<E>('pageTable'),
    {
      rule: 'REQ-VMSPACE-CURSOR-1',
      kind: 'requires',
      check: (s, e) => {
        const h = pageTableHandle(s, e.pageTable)
        if (h === null) return null
        const slot = frameToIndex(h.rootPaddr)
        const r = nodeOwnerAt(s, slot)
        if (r === null || r.path !== '' || r.inScope || r.level !== NR_LEVELS) return `the root of PageTable ${e.pageTable} is not a tree-owned level-4 root (pt_own.inv())`
        const bad = firstFailure(nodeOwnerInv(s, r, slot, `pt.owners[${slot}]`))
        if (bad !== null) return bad
        const range = target(s, e)?.range
        if (range === undefined) return null
        const bound = ptConfig(h.config).lockedEndBound
        return fullVaBig(h.config, range.end) <= bound ? null : `va.end ${fullVa(h.config, range.end)} is beyond LOCKED_END_BOUND 0x${bound.toString(16)}`
      },
    },
    neverEnds(
      'REQ-PTCURSOR-NEW-1',
      "[model] Creating a cursor whose locking would wait for a lock that is held (a live cursor's range lock or a PageTableGuard) panics, state unchanged: OSTD spins forever. Two live cursors over overlapping ranges of one page table always meet such a lock; so do cursors sharing a guard node (behaviour.md §2.5.13).",
      blockingLock,
      (s, slot, e, range) => `the cursor would block forever: ${describeHolder(s, slot, e.pageTable, range)}`,
    ),
    neverEnds(
      'REQ-PTCURSOR-NEW-2',
      "[model] Creating a cursor whose descent locks a node marked stray panics, state unchanged: OSTD's `lock_range` retries from the root for ever (a node of a live tree is stray only after a `stray_mut` write on it, and nothing in a single-threaded history clears the mark).",
      strayLockTarget,
      (_s, slot, e) => `the cursor would retry for ever: the descent locks node ${slot}, which is marked stray although it is in PageTable ${e.pageTable}'s tree`,
    ),
  ]
}

/** The result of creation: the new cursor. */
export interface CursorNewResult {
  readonly cursor: number
}

/** `try_traverse_and_lock_subtree_root` (one attempt): the guard node's guard, or null when it met a stray node. */
function traverseAndLock(rec: StepRecorder, rootSlot: number, range: VaRange): number | null {
  let slot = rootSlot
  // `cur_node_guard`: the guard of the node allocated one level up, kept for the next level.
  let held: number | null = null
  const stray = (guard: number): boolean => {
    rec.run(ptGuardStrayMut, { type: 'page_table_guard.stray_mut', guard })
    const st = slotOf(rec.snapshot, frameToIndex(tableGet(rec.snapshot.pt.guards, guard)!.paddr)).storage
    return st?.kind === 'PTNode' && st.stray
  }
  for (let level = NR_LEVELS; level >= 1; level--) {
    const startIdx = indexAt(range.start, level)
    const tooHigh = level > 1 && startIdx === indexAt(range.end - 1, level)
    if (!tooHigh) break
    // The unlocked read of PTE `startIdx` (an atomic load without a guard: no event).
    const pte = readPte(rec.snapshot, slot, startIdx)
    if (isPresent(pte)) {
      if (isLast(pte, level)) break
      slot = frameToIndex(ptePaddr(pte))
      if (held !== null) rec.run(ptGuardDrop, { type: 'page_table_guard.drop', guard: held })
      held = null
      continue
    }
    // Absent: lock the node (or keep the guard of the node just allocated) and allocate a child.
    const guard: number = held ?? rec.run(ptNodeRefLock, { type: 'page_table_node_ref.lock', paddr: slot * PAGE_SIZE }).guard
    held = null
    if (stray(guard)) {
      rec.run(ptGuardDrop, { type: 'page_table_guard.drop', guard })
      return null
    }
    const entry: number = rec.run(guardEntry, { type: 'page_table_guard.entry', guard, idx: startIdx }).entry
    if (rec.run(entryIsNone, { type: 'entry.is_none', entry })) {
      const made: { guard: number } = rec.run(entryAllocIfNone, { type: 'entry.alloc_if_none', entry })!
      rec.run(entryDrop, { type: 'entry.drop', entry })
      rec.run(ptGuardDrop, { type: 'page_table_guard.drop', guard })
      held = made.guard
      slot = frameToIndex(tableGet(rec.snapshot.pt.guards, made.guard)!.paddr)
      continue
    }
    // Filled meanwhile (another thread in OSTD; never in a single-threaded history).
    const ref = rec.run(entryIsNode, { type: 'entry.is_node', entry }) ? rec.run(entryToRef, { type: 'entry.to_ref', entry }) : null
    rec.run(entryDrop, { type: 'entry.drop', entry })
    rec.run(ptGuardDrop, { type: 'page_table_guard.drop', guard })
    if (ref?.kind === 'PageTable') {
      slot = frameToIndex(ref.paddr)
      continue
    }
    break
  }
  const guard = held ?? rec.run(ptNodeRefLock, { type: 'page_table_node_ref.lock', paddr: slot * PAGE_SIZE }).guard
  if (stray(guard)) {
    rec.run(ptGuardDrop, { type: 'page_table_guard.drop', guard })
    return null
  }
  return guard
}

/**
 * `dfs_acquire_lock(guard, cur_node, cur_node_va, range)`: for every entry of the node that
 * overlaps the range, a child node is locked, its sub-tree locked recursively, and its guard
 * forgotten into the cursor's range lock.
 */
function dfsAcquireLock(rec: StepRecorder, id: number, guard: number, level: number, nodeVa: number, range: VaRange): void {
  if (level === 1) return
  const { start, end } = idxRange(level, nodeVa, range)
  const size = pageSize(level)
  for (let i = start; i < end; i++) {
    const { entry } = rec.run(guardEntry, { type: 'page_table_guard.entry', guard, idx: i })
    const ref = rec.run(entryToRef, { type: 'entry.to_ref', entry })
    if (ref.kind === 'PageTable') {
      const child = rec.run(ptNodeRefLock, { type: 'page_table_node_ref.lock', paddr: ref.paddr }).guard
      const childVa = nodeVa + i * size
      dfsAcquireLock(rec, id, child, level - 1, childVa, { start: Math.max(range.start, childVa), end: Math.min(range.end, childVa + size) })
      rec.run(cursorForgetGuard, { type: 'cursor.forget_guard', cursor: id, guard: child })
    }
    rec.run(entryDrop, { type: 'entry.drop', entry })
  }
}

/**
 * `Cursor::new(pt, guard, va)` / `CursorMut::new` (upstream `lock_range`):
 *
 * 1. Validation, in OSTD's order: `!is_valid_range ∨ start >= end` → `Err(InvalidVaddrRange)`
 *    (`0..0` passes the range check and fails as empty); then `start` or `end` not 4 KiB-aligned →
 *    `Err(UnalignedVaddr)`. Nothing changes.
 * 2. `try_traverse_and_lock_subtree_root`: from the root, while the range falls into one entry of
 *    the current node (above level 1): a child node is followed (unlocked reads); a huge leaf
 *    stops the descent; an absent entry is filled — the node is locked (`page_table_node_ref.lock`,
 *    or the guard of the node allocated one level up is kept), its `stray` flag read, the entry
 *    made, `entry.alloc_if_none` installs a node one level down (locked), the Entry and the
 *    parent's guard are dropped. The node where the descent stops is the guard node, locked.
 * 3. The cursor record: at `range.start`, `level == guard_level` = the guard node's level, its
 *    guard in `path`, the ghost owner's continuations from the guard node up to the root.
 * 4. `dfs_acquire_lock`: every node below the guard node whose span overlaps the range is
 *    locked and its guard forgotten (`cursor.forget_guard`): the cursor holds the covered sub-tree.
 *
 * Returns `Ok({ cursor })`. Panics (state unchanged) when it would wait for a lock
 * (REQ-PTCURSOR-NEW-1): an overlapping live cursor, a cursor sharing the guard node, or a guard;
 * and when the node it locks is marked stray (REQ-PTCURSOR-NEW-2: OSTD retries for ever).
 *
 * Requires REQ-HANDLE-1, REQ-VMSPACE-CURSOR-1, REQ-PTCURSOR-NEW-1, REQ-PTCURSOR-NEW-2. Owes ENS-VMSPACE-CURSOR-1..4
 * (`Cursor::new`'s [JUN] spec, operations.md §8.2) and ENS-PTCURSOR-NEW-1.
 */
function cursorNewSpec<E extends NewEvent>(type: E['type'], kind: CursorKind, schema: z.ZodType<E>): EventSpec<E, Result<CursorNewResult, PageTableError>> {
  return defineEvent<E, Result<CursorNewResult, PageTableError>>({
    type,
    doc: `${kind}::new(pt, range): validate the range (InvalidVaddrRange, then UnalignedVaddr), descend to the guard node allocating missing nodes, lock the covered sub-tree.`,
    schema,
    requires: newRequires<E>(),
    reduce(s, e) {
      const h = pageTableHandle(s, e.pageTable)!
      const checked = validatedRange(h.config, e)
      if (!checked.ok) return { snapshot: s, result: checked }
      const range = checked.value
      const rootSlot = frameToIndex(h.rootPaddr)
      for (let attempt = 0; attempt < 2; attempt++) {
        const rec = new StepRecorder(s)
        const guard = traverseAndLock(rec, rootSlot, range)
        if (guard === null) continue // a stray node: OSTD retries from the root
        const guardSlot = frameToIndex(tableGet(rec.snapshot.pt.guards, guard)!.paddr)
        const guardLevel = nodeOwnerAt(rec.snapshot, guardSlot)!.level
        const continuations: Array<CursorContinuation | null> = [null, null, null, null]
        let slot = rootSlot
        for (let L = NR_LEVELS; L >= guardLevel; L--) {
          continuations[L - 1] = { slot, idx: indexAt(range.start, L), guard: L === guardLevel ? guard : null }
          if (L > guardLevel) {
            const c = tableGet(nodeOwnerAt(rec.snapshot, slot)!.children, indexAt(range.start, L))
            slot = c !== null && c.kind === 'node' ? c.slot : slot
          }
        }
        const path: Array<number | null> = [null, null, null, null]
        path[guardLevel - 1] = guard
        const prefix = alignDown(range.start, pageSize(guardLevel + 1))
        const cursor: PtCursor = {
          kind,
          pageTable: e.pageTable,
          config: h.config,
          va: range.start,
          level: guardLevel,
          guardLevel,
          barrierVa: range,
          path,
          owner: {
            level: guardLevel,
            guardLevel,
            va: range.start,
            leadingBits: ptConfig(h.config).leadingBits,
            prefix,
            poppedTooHigh: false,
            continuations,
            lockedRange: range,
          },
          locked: tableWith(emptyTable<true>(), guardSlot, true),
        }
        let id = -1
        rec.set(
          editSnapshot(rec.snapshot, (d, t) => {
            id = freshId(d, 'ptCursor')
            t.ptCursors.set(id, cursor)
          }),
        )
        dfsAcquireLock(rec, id, guard, guardLevel, prefix, range)
        return { snapshot: rec.snapshot, result: ok({ cursor: id }), steps: rec.steps }
      }
      // REQ-PTCURSOR-NEW-2 refuses every state where this is reached (the one pre-existing node
      // the descent locks is stray); a variant run without preconditions gets here.
      throw new Error(`cursor creation met a stray node on every attempt: the page table's tree is corrupted (OSTD would retry forever)`)
    },
  })
}

export const pageTableCursor = cursorNewSpec<CursorNewEvent>('page_table.cursor', 'Cursor', CursorNewEvent)
export const pageTableCursorMut = cursorNewSpec<CursorMutNewEvent>('page_table.cursor_mut', 'CursorMut', CursorMutNewEvent)

// ---- drop ----------------------------------------------------------------------------------

export const CursorDropEvent = z.object({ type: z.literal('cursor.drop'), cursor: HandleId })
export type CursorDropEvent = z.infer<typeof CursorDropEvent>

/** The cursor gives up its hold on a node whose guard a step has just made (before the guard's drop unlocks it). */
export function releaseNode(s: Snapshot, id: number, slot: number): Snapshot {
  const c = cursorOf(s, id)
  return putCursor(s, id, { ...c, locked: tableWith(c.locked, slot, null) })
}

/**
 * `dfs_release_lock(guard, cur_node, cur_node_va, range)`: the children overlapping the range, in
 * reverse, get a guard again (`make_guard_unchecked`) and are released recursively; then the node
 * leaves the cursor's range lock and its guard is dropped (the lock byte 0).
 */
export function dfsReleaseLock(rec: StepRecorder, id: number, guard: number, level: number, nodeVa: number, range: VaRange): void {
  const slot = frameToIndex(tableGet(rec.snapshot.pt.guards, guard)!.paddr)
  if (level > 1) {
    const { start, end } = idxRange(level, nodeVa, range)
    const size = pageSize(level)
    for (let i = end - 1; i >= start; i--) {
      const { entry } = rec.run(guardEntry, { type: 'page_table_guard.entry', guard, idx: i })
      const ref = rec.run(entryToRef, { type: 'entry.to_ref', entry })
      if (ref.kind === 'PageTable') {
        const child = rec.run(ptNodeRefMakeGuard, { type: 'page_table_node_ref.make_guard_unchecked', paddr: ref.paddr }).guard
        const childVa = nodeVa + i * size
        dfsReleaseLock(rec, id, child, level - 1, childVa, { start: Math.max(range.start, childVa), end: Math.min(range.end, childVa + size) })
      }
      rec.run(entryDrop, { type: 'entry.drop', entry })
    }
  }
  rec.set(releaseNode(rec.snapshot, id, slot))
  rec.run(ptGuardDrop, { type: 'page_table_guard.drop', guard })
}

/**
 * Drop of a cursor (`unlock_range`): the path guards below the guard level are forgotten
 * (`cursor.forget_guard`), then `dfs_release_lock` from the guard node over `barrier_va` unlocks
 * every node the cursor holds (children first, in reverse), and the cursor leaves the registry.
 *
 * Requires REQ-HANDLE-1. Owes ENS-PTCURSOR-DROP-1.
 */
export const cursorDrop = defineEvent<CursorDropEvent, null>({
  type: 'cursor.drop',
  doc: 'Drop of a cursor: unlock_range releases every lock of the covered sub-tree (dfs_release_lock).',
  schema: CursorDropEvent,
  requires: [liveCursor('cursor')],
  reduce(s, e) {
    const rec = new StepRecorder(s)
    const c = cursorOf(s, e.cursor)
    for (let L = c.guardLevel - 1; L >= 1; L--) {
      const g = cursorOf(rec.snapshot, e.cursor).path[L - 1]
      if (g !== null && g !== undefined) rec.run(cursorForgetGuard, { type: 'cursor.forget_guard', cursor: e.cursor, guard: g })
    }
    const guard = cursorOf(rec.snapshot, e.cursor).path[c.guardLevel - 1]!
    dfsReleaseLock(rec, e.cursor, guard, c.guardLevel, guardNodeSpan(c).start, c.barrierVa)
    rec.set(editSnapshot(rec.snapshot, (_d, t) => t.ptCursors.set(e.cursor, null)))
    return { snapshot: rec.snapshot, result: null, steps: rec.steps }
  },
})

// ---- virt_addr -----------------------------------------------------------------------------

export const CursorVirtAddrEvent = z.object({ type: z.literal('cursor.virt_addr'), cursor: HandleId })
export type CursorVirtAddrEvent = z.infer<typeof CursorVirtAddrEvent>

/** `virt_addr()`: the current address. No state change. Requires REQ-EMB-VIRTADDR-1 (the embedding's id existence, first), REQ-HANDLE-1. Owes ENS-CURSOR-VIRTADDR-1 / ENS-CURSORMUT-VIRTADDR-1. */
export const cursorVirtAddr = defineEvent<CursorVirtAddrEvent, VaOut>({
  type: 'cursor.virt_addr',
  doc: "Cursor::virt_addr(): the cursor's current virtual address.",
  schema: CursorVirtAddrEvent,
  requires: [embCursor<CursorVirtAddrEvent>('REQ-EMB-VIRTADDR-1'), liveCursor('cursor')],
  reduce(s, e) {
    const c = cursorOf(s, e.cursor)
    return { snapshot: s, result: fullVa(c.config, c.va) }
  },
})

// ---- query / next --------------------------------------------------------------------------

export const CursorQueryEvent = z.object({ type: z.literal('cursor.query'), cursor: HandleId })
export type CursorQueryEvent = z.infer<typeof CursorQueryEvent>
export const CursorNextEvent = z.object({ type: z.literal('cursor.next'), cursor: HandleId })
export type CursorNextEvent = z.infer<typeof CursorNextEvent>
type CursorEvent = ModelEvent & { cursor: number }

/**
 * `query_panic_condition` ([JUN]): in range, a leaf is mapped at the address, its item is tracked
 * and its slot's count is at `REF_COUNT_MAX` (the clone would overflow).
 */
export function queryPanic(s: Snapshot, c: PtCursor): string | null {
  if (c.va >= c.barrierVa.end) return null
  const root = cursorRootSlot(s, c)
  if (root === null) return null
  const m = mappingAt(s, root, c.va, { source: 'pte', config: c.config })
  if (m === null) return null
  if (!propTracked(c.config, m.property)) return null
  const rc = slotOf(s, frameToIndex(m.paRange.start)).refCount
  return rc >= REF_COUNT_MAX ? `cloning the mapped frame at ${m.paRange.start} would pass REF_COUNT_MAX (rc ${refCountName(rc)})` : null
}

/** The query preconditions (also `next`'s): REQ-CURSOR-QUERY-1/2 for a `Cursor`, REQ-CURSORMUT-QUERY-1/2 for a `CursorMut`. */
function queryRequires<E extends CursorEvent>(): Array<Requirement<E>> {
  return [
    liveCursor<E>('cursor'),
    forKind<E>('Cursor', 'REQ-CURSOR-QUERY-1', 'requires', (s, c, e) => ciFailure(s, e.cursor, c)),
    forKind<E>('CursorMut', 'REQ-CURSORMUT-QUERY-1', 'requires', (s, c, e) => ownerWfFailure(s, e.cursor, c)),
    // Deviation: [JUN] also requires in_locked_range(); behaviour.md §2.5.4 makes a query at or
    // past the end return Err(InvalidVaddr), so the position is not a precondition.
    forKind<E>('CursorMut', 'REQ-CURSORMUT-QUERY-2', 'requires', (s, c, e) => (c.owner.poppedTooHigh ? 'the cursor popped above its guard level' : locksFailure(s, e.cursor, c))),
    // The overflow panic of the clone, for both kinds (CursorMut::query delegates to the same code).
    forKind<E>('any', 'REQ-CURSOR-QUERY-2', 'panic', (s, c) => queryPanic(s, c)),
  ]
}

/**
 * `query()` as steps, on the running snapshot: `Err(InvalidVaddr(va))` at or past the end;
 * otherwise descend through child nodes (`make_guard_unchecked` + `push_level`) until a leaf or
 * an absent entry, and return the slot's range at that level and its item (cloned).
 */
export function runQuery(rec: StepRecorder, id: number): Result<QueryValue, PageTableError> {
  const c0 = cursorOf(rec.snapshot, id)
  if (c0.va >= c0.barrierVa.end) return err({ kind: 'InvalidVaddr', va: fullVa(c0.config, c0.va) })
  for (;;) {
    const ref = curChildRef(rec, id)
    const c = cursorOf(rec.snapshot, id)
    if (ref.kind === 'PageTable') {
      descendInto(rec, id, ref.paddr)
      continue
    }
    const range = rangeOut(c.config, curVaRange(c))
    return ok([range, ref.kind === 'None' ? null : clonedItem(rec, c.config, ref)] as const)
  }
}

/**
 * `Cursor::query()` / `CursorMut::query()` (operations.md §9.1): at or past the end of the range
 * `Err(InvalidVaddr(va))`; otherwise the cursor descends through existing child nodes to the leaf
 * or empty entry at its address and returns `Ok([slot range at that level, item | null])` — a
 * query inside a 2 MiB leaf returns the whole 2 MiB range. The address does not move (the level
 * may go down). A tracked item is a clone: `rc + 1`, a new `Frame` handle the caller owns.
 *
 * Requires REQ-EMB-QUERY-1 (the embedding's id existence, first), REQ-HANDLE-1, REQ-CURSOR-QUERY-1 (Cursor) / REQ-CURSORMUT-QUERY-1..2 (CursorMut),
 * REQ-CURSOR-QUERY-2 (panic). Owes ENS-CURSOR-QUERY-1..7 / ENS-CURSORMUT-QUERY-1..7.
 */
export const cursorQuery = defineEvent<CursorQueryEvent, Result<QueryValue, PageTableError>>({
  type: 'cursor.query',
  doc: 'Cursor::query(): the slot at the cursor (its range at the leaf level, its item cloned), or Err(InvalidVaddr) past the end; does not move.',
  schema: CursorQueryEvent,
  requires: [embCursor<CursorQueryEvent>('REQ-EMB-QUERY-1'), ...queryRequires<CursorQueryEvent>()],
  reduce(s, e) {
    const rec = new StepRecorder(s)
    const result = runQuery(rec, e.cursor)
    return { snapshot: rec.snapshot, result, steps: rec.steps }
  },
})

/**
 * `Iterator::next` of a cursor: `query()` (internal step `cursor.query`), then, on `Ok`,
 * `move_forward()` to the end of the returned slot; `None` (null) once the address is at or past
 * the end (nothing changes).
 *
 * Requires the query's preconditions. Owes ENS-PTCURSOR-NEXT-1 (and, through its step, the
 * query's).
 */
export const cursorNext = defineEvent<CursorNextEvent, QueryValue | null>({
  type: 'cursor.next',
  doc: 'Cursor::next(): query, then advance to the end of the slot; null at the end of the range.',
  schema: CursorNextEvent,
  requires: queryRequires<CursorNextEvent>(),
  reduce(s, e) {
    const c = cursorOf(s, e.cursor)
    if (c.va >= c.barrierVa.end) return { snapshot: s, result: null }
    const rec = new StepRecorder(s)
    const r = rec.run(cursorQuery, { type: 'cursor.query', cursor: e.cursor })
    if (!r.ok) return { snapshot: rec.snapshot, result: null, steps: rec.steps }
    moveForward(rec, e.cursor)
    return { snapshot: rec.snapshot, result: r.value, steps: rec.steps }
  },
})

// ---- jump ----------------------------------------------------------------------------------

export const CursorJumpEvent = z.object({ type: z.literal('cursor.jump'), cursor: HandleId, va: VaddrSchema })
export type CursorJumpEvent = z.infer<typeof CursorJumpEvent>

/** The jump target as a view address inside the barrier range, or null (outside: `Err`). */
export function jumpTarget(c: PtCursor, va: VaddrArg): number | null {
  const v = viewVaOf(c.config, vaBig(vaOf(va)))
  return v !== null && v >= c.barrierVa.start && v < c.barrierVa.end ? v : null
}

/**
 * The base of the node around the cursor at level `level` (`L + 1` span): `align_down(va, …)`,
 * except at the guard level, whose node is the guard node — the one around `barrier_va.start`.
 * Deviation from state.md §9.3, which aligns the cursor's `va` at every level: at the end position
 * of a range that ends where the guard node ends (e.g. `[4 MiB, 6 MiB)`, guard node a level-1 node),
 * `align_down(va)` is the *next* node, so `jump_panic_condition` would make every jump from the end
 * panic; behaviour.md §2.5.6 says jumping from the end position is allowed.
 */
export function nodeBaseAround(c: PtCursor, level: number): number {
  return alignDown(level >= c.guardLevel ? c.barrierVa.start : c.va, pageSize(level + 1))
}

/**
 * `jump_panic_condition(va)` (state.md §9.3): `va` not 4 KiB-aligned, or inside the barrier range
 * but in no node around the cursor from its level up to the guard level (cannot happen: the guard
 * node spans the whole range — `nodeBaseAround`).
 */
export function jumpPanic(c: PtCursor, va: VaddrArg): string | null {
  const full = vaBig(vaOf(va))
  if (full % BigInt(PAGE_SIZE) !== 0n) return `assert_eq!(va % PAGE_SIZE, 0) fails: ${typeof va === 'string' ? va : `0x${va.toString(16)}`} is not 4 KiB-aligned`
  const v = jumpTarget(c, va)
  if (v === null) return null
  for (let L = c.level; L <= c.guardLevel; L++) {
    const base = nodeBaseAround(c, L)
    if (v >= base && v < base + pageSize(L + 1)) return null
  }
  return `no node from level ${c.level} to the guard level ${c.guardLevel} around the cursor contains ${v}`
}

/**
 * `Cursor::jump(va)` / `CursorMut::jump(va)` (operations.md §9.3): panics when `va` is not
 * 4 KiB-aligned; `Err(InvalidVaddr(va))` when `va ∉ barrier_va` (the end itself included), nothing
 * changes; otherwise the cursor pops (forgetting guards) until its node contains `va` and moves
 * there. Backwards and from the end position are allowed.
 *
 * Requires REQ-EMB-JUMP-1, REQ-HANDLE-1, REQ-CURSOR-JUMP-1 (Cursor) / REQ-CURSORMUT-JUMP-1 (CursorMut),
 * REQ-CURSOR-JUMP-2, REQ-CURSOR-JUMP-3 (panic; both kinds, as operations.md §10.3 says). Owes
 * ENS-CURSOR-JUMP-1..4 / ENS-CURSORMUT-JUMP-1..4.
 */
export const cursorJump = defineEvent<CursorJumpEvent, Result<null, PageTableError>>({
  type: 'cursor.jump',
  doc: 'Cursor::jump(va): move to va inside the range (Err(InvalidVaddr) outside it, panic when unaligned).',
  schema: CursorJumpEvent,
  requires: [
    embCursor<CursorJumpEvent>('REQ-EMB-JUMP-1'),
    liveCursor('cursor'),
    // [JUN] `level < guard_level` reads `level <= guard_level` for OSTD's guard level (src/model/pt_cursor.ts).
    forKind('Cursor', 'REQ-CURSOR-JUMP-1', 'requires', (s, c, e) => ownerWfFailure(s, e.cursor, c)),
    forKind('CursorMut', 'REQ-CURSORMUT-JUMP-1', 'requires', (s, c, e) => ownerWfFailure(s, e.cursor, c)),
    // Deviation: [JUN] also requires in_locked_range(); jumping from the end position is allowed (behaviour.md §2.5.6).
    forKind('any', 'REQ-CURSOR-JUMP-2', 'requires', (s, c, e) => locksFailure(s, e.cursor, c)),
    forKind<CursorJumpEvent>('any', 'REQ-CURSOR-JUMP-3', 'panic', (_s, c, e) => jumpPanic(c, e.va)),
  ],
  reduce(s, e) {
    const c = cursorOf(s, e.cursor)
    const v = jumpTarget(c, e.va)
    if (v === null) return { snapshot: s, result: err({ kind: 'InvalidVaddr', va: e.va }) }
    const rec = new StepRecorder(s)
    for (;;) {
      const now = cursorOf(rec.snapshot, e.cursor)
      const base = nodeBaseAround(now, now.level)
      if (now.level <= now.guardLevel && v >= base && v < base + pageSize(now.level + 1)) break
      popLevel(rec, e.cursor)
    }
    rec.set(setVa(rec.snapshot, e.cursor, v))
    return { snapshot: rec.snapshot, result: ok(null), steps: rec.steps }
  },
})

// ---- find_next -----------------------------------------------------------------------------

export const CursorFindNextEvent = z.object({ type: z.literal('cursor.find_next'), cursor: HandleId, len: Usize })
export type CursorFindNextEvent = z.infer<typeof CursorFindNextEvent>

/** `find_next_panic_condition(len)`: `len % 4096 != 0 ∨ va + len > barrier_va.end`. */
export function findNextPanic(c: PtCursor, len: number): string | null {
  if (len % PAGE_SIZE !== 0) return `assert_eq!(len % PAGE_SIZE, 0) fails: len ${len} is not page-aligned`
  if (c.va + len > c.barrierVa.end) return `assert!(va + len <= barrier_va.end) fails: ${c.va} + ${len} is past the range end ${c.barrierVa.end}`
  return null
}

/** The flags of `find_next_impl` (all false: `find_next`). */
export interface FindNextOptions {
  /** `find_unmap_subtree` (`take_next`): a child node whose whole span lies in the window and starts at the address stops the walk. */
  readonly findUnmapSubtree?: boolean
  /** `split_huge` (`take_next`, `protect_next`): a huge leaf not wholly in the window is split and the walk goes on in the new node. */
  readonly splitHuge?: boolean
  /**
   * behaviour.md §2.5.9 (`take_next`): when nothing is found the cursor stops at the window end —
   * a skipped slot that reaches past it leaves the cursor at the end, in that slot's node, instead
   * of moving to the slot's end (which `find_next` may do, §2.5.7).
   */
  readonly stopAtEnd?: boolean
}

/**
 * `find_next_impl(len, find_unmap_subtree, split_huge)` as steps: walks `[va, va + len)` entry by
 * entry — an absent entry is skipped (`move_forward`); a child node stops the walk when
 * `find_unmap_subtree` and it fits the window (its span inside it, starting at the address; never a
 * root entry of a configuration that cannot unmap them), else is entered (`make_guard_unchecked`;
 * `push_level` when it has children, else its guard is forgotten and the cursor moves past it); a
 * leaf stops the walk when it fits or `split_huge` is off, else it is split
 * (`entry.split_if_mapped_huge`) and the walk goes on in the new node. Returns the address where it
 * stopped (the cursor stays there) or null (the cursor ends at or past the window end).
 */
export function runFindNext(rec: StepRecorder, id: number, len: number, opts: FindNextOptions = {}): number | null {
  const end = cursorOf(rec.snapshot, id).va + len
  const skip = (): void => {
    const c = cursorOf(rec.snapshot, id)
    if (opts.stopAtEnd === true && curVaRange(c).end > end) rec.set(setVa(rec.snapshot, id, end))
    else moveForward(rec, id)
  }
  while (cursorOf(rec.snapshot, id).va < end) {
    const c = cursorOf(rec.snapshot, id)
    const slot = curVaRange(c)
    const fits = c.va === slot.start && slot.end <= end
    const entry = curEntry(rec, id)
    const ref = rec.run(entryToRef, { type: 'entry.to_ref', entry })
    if (ref.kind === 'PageTable') {
      rec.run(entryDrop, { type: 'entry.drop', entry })
      if (opts.findUnmapSubtree === true && fits && (ptConfig(c.config).topLevelCanUnmap || c.level !== NR_LEVELS)) return c.va
      const { guard } = rec.run(ptNodeRefMakeGuard, { type: 'page_table_node_ref.make_guard_unchecked', paddr: ref.paddr })
      const n = rec.run(ptGuardNrChildren, { type: 'page_table_guard.nr_children', guard })
      if (n !== 0) rec.set(pushLevel(rec.snapshot, id, guard))
      else {
        rec.run(cursorForgetGuard, { type: 'cursor.forget_guard', cursor: id, guard })
        skip()
      }
      continue
    }
    if (ref.kind === 'None') {
      rec.run(entryDrop, { type: 'entry.drop', entry })
      skip()
      continue
    }
    if (fits || opts.splitHuge !== true) {
      rec.run(entryDrop, { type: 'entry.drop', entry })
      return c.va
    }
    const made = rec.run(entrySplitIfMappedHuge, { type: 'entry.split_if_mapped_huge', entry })
    rec.run(entryDrop, { type: 'entry.drop', entry })
    // `.expect("The entry must be a huge page")`: a leaf that does not fit is above level 1.
    if (made === null) throw new Error(`find_next_impl: the leaf at level ${c.level} that does not fit the window gave no node to split into`)
    rec.set(pushLevel(rec.snapshot, id, made.guard))
  }
  return null
}

/**
 * `Cursor::find_next(len)` / `CursorMut::find_next(len)` (operations.md §9.2, behaviour.md
 * §2.5.7): panics when `len` is not page-aligned or `va + len` is past the range end; otherwise
 * the first leaf in `[va, va + len)`: `Some(address)` with the cursor there, or `None` with the
 * cursor at or past the window end. Never splits. The address returned is the cursor's when it
 * stops: the leaf's start, or the cursor's own address when it started inside the leaf (OSTD
 * returns `cur_va`).
 *
 * Requires REQ-EMB-FINDNEXT-1, REQ-HANDLE-1, REQ-CURSOR-FINDNEXT-1..4 / REQ-CURSORMUT-FINDNEXT-1..4. Owes
 * ENS-CURSOR-FINDNEXT-1..5 / ENS-CURSORMUT-FINDNEXT-1..5.
 */
export const cursorFindNext = defineEvent<CursorFindNextEvent, VaOut | null>({
  type: 'cursor.find_next',
  doc: 'Cursor::find_next(len): the first mapped leaf in [va, va + len), the cursor left there; null otherwise. Never splits.',
  schema: CursorFindNextEvent,
  requires: [
    embCursor<CursorFindNextEvent>('REQ-EMB-FINDNEXT-1'),
    liveCursor('cursor'),
    ...(['Cursor', 'CursorMut'] as const).flatMap((kind): Array<Requirement<CursorFindNextEvent>> => {
      const p = kind === 'Cursor' ? 'REQ-CURSOR-FINDNEXT' : 'REQ-CURSORMUT-FINDNEXT'
      return [
        forKind(kind, `${p}-1`, 'requires', (s, c, e) => ownerWfFailure(s, e.cursor, c)),
        // [JUN] `level < guard_level` reads `level <= guard_level` (src/model/pt_cursor.ts); its
        // `in_locked_range()` is not required: find_next(0) at the end is OSTD's None (§2.5.7).
        forKind(kind, `${p}-2`, 'requires', (_s, c) => (c.owner.poppedTooHigh ? 'the cursor popped above its guard level (popped_too_high)' : c.level <= c.guardLevel ? null : `level ${c.level} is above the guard level ${c.guardLevel}`)),
        forKind(kind, `${p}-3`, 'requires', (s, c, e) => locksFailure(s, e.cursor, c)),
        forKind<CursorFindNextEvent>(kind, `${p}-4`, 'panic', (_s, c, e) => findNextPanic(c, e.len)),
      ]
    }),
  ],
  reduce(s, e) {
    const rec = new StepRecorder(s)
    const found = runFindNext(rec, e.cursor, e.len)
    const c = cursorOf(rec.snapshot, e.cursor)
    return { snapshot: rec.snapshot, result: found === null ? null : fullVa(c.config, found), steps: rec.steps }
  },
})

export const ptCursorEvents: readonly AnyEventSpec[] = [
  pageTableCursor,
  pageTableCursorMut,
  cursorDrop,
  cursorVirtAddr,
  cursorQuery,
  cursorNext,
  cursorJump,
  cursorFindNext,
  cursorForgetGuard,
] as unknown as readonly AnyEventSpec[]
