/**
 * `Entry` (ostd::mm::page_table::node::entry, seed 001; spec/operations.md §3.1, §5.1–§5.5, §5.8):
 * a handle on one PTE slot of a locked node, made by `PageTableGuard::entry(idx)`.
 *
 * An `Entry` is one entry of `pt.entries` (counter `ptEntry`): the guard it borrows, the index,
 * and the PTE word read when it was made (`pte`, hex). Its ghost owner is the tree owner of that
 * position (`childOwnerView` of the guard's node record); the parent's `NodeOwner` is that record.
 *
 * Events:
 *   page_table_guard.entry  `PageTableGuard::entry(idx)` (asserts idx < 512; internal entry.new_at)
 *   entry.new_at            `Entry::new_at(guard, idx)`: reads the PTE
 *   entry.drop              the Entry goes out of scope (its borrow of the guard ends)
 *   entry.is_none / entry.is_node / entry.to_ref (internal child_ref.from_pte)
 *   entry.protect           `Entry::protect(op)`, with `op`'s result as data
 *   entry.replace           `Entry::replace(new_child)` (internal child.from_pte, child.into_pte)
 *
 * Borrowing (model rules): an Entry borrows its guard mutably (`&'a mut PageTableGuard`), so
 * - REQ-ENTRY-BORROW-1: an Entry is used only while its guard is live (else it panics);
 * - REQ-ENTRY-UNIQUE-1: at most one Entry of a guard is live at a time (drop it with `entry.drop`
 *   before taking another; Rust ends the borrow implicitly, the model asks for the drop).
 */
import { z } from 'zod'
import { NR_ENTRIES, PAGE_SIZE, REF_COUNT_UNUSED, refCountName } from '../../src/arch/constants.js'
import { PageFlags, PTE_CACHE_POLICIES, pagePropertyInv, type PageProperty } from '../../src/arch/page_prop.js'
import { isLast, isPresent, pteFromHex, pteProp, pteToHex, setProp, type Pte } from '../../src/arch/pte.js'
import { editSnapshot, type Tables } from '../../src/model/edit.js'
import { readPte } from '../../src/model/memory.js'
import { qualifiedPath, type ChildEntryOwner, type ChildValue, type PtEntryHandle, type PtNodeOwner } from '../../src/model/page_table.js'
import { isParked, ownerOf, slotOf } from '../../src/model/slots.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import {
  absentChild,
  childOwnerView,
  childPath,
  entryInvBase,
  matchPte,
  metaregionSound,
  nodeOwnerAt,
  nodeOwnerInv,
  type EntryOwnerView,
} from '../../src/model/spec/page_table.js'
import { tableGet, TableEditor, tableForEach } from '../../src/model/table.js'
import equal from 'fast-deep-equal/es6/index.js'
import { freshId, ownerNow, patchOwner } from '../frame/edit.js'
import { regionInvAt } from '../frame/meta.js'
import { HandleId } from '../schema.js'
import { defineEvent, StepRecorder, type ModelEvent, type Requirement } from '../types.js'
import type { AnyEventSpec } from '../index.js'
import {
  childFromPte,
  childIntoPte,
  childInvariantsFailure,
  childOwner,
  childRefFromPte,
  firstFailure,
  Index,
  livePtHandle,
  PagePropertySchema,
  regionsInvFor,
} from './child.js'
import { ptGuardNrChildrenWrite, ptGuardReadPte, ptGuardWritePte } from './guard.js'
import { itemTracked } from './node.js'

// ---- reading an Entry ----------------------------------------------------------------------

/** An Entry with what it stands for: its guard's node, the tree owner of its position, the words. */
export interface EntryContext {
  readonly id: number
  readonly entry: PtEntryHandle
  /** The slot of the node the guard locks. */
  readonly slot: number
  /** The node's record (the parent `NodeOwner`), or null. */
  readonly node: PtNodeOwner | null
  /** The entry's owner (the tree owner of `(slot, idx)`), or null. */
  readonly view: EntryOwnerView | null
  /** The PTE word the Entry caches. */
  readonly cached: Pte
  /** The PTE word stored in the node's memory (0 when `idx` is out of range). */
  readonly stored: Pte
}

/** The guard's node slot, or null when the guard is not live. */
export function guardSlot(s: Snapshot, guard: number): number | null {
  const g = tableGet(s.pt.guards, guard)
  return g === null ? null : Math.floor(g.paddr / PAGE_SIZE)
}

/** The context of live Entry `id` whose guard is live, or null. */
export function entryContext(s: Snapshot, id: number): EntryContext | null {
  const entry = tableGet(s.pt.entries, id)
  if (entry === null) return null
  const slot = guardSlot(s, entry.guard)
  if (slot === null) return null
  const node = nodeOwnerAt(s, slot)
  const inRange = Number.isInteger(entry.idx) && entry.idx >= 0 && entry.idx < NR_ENTRIES
  return {
    id,
    entry,
    slot,
    node,
    view: node === null || !inRange ? null : childOwnerView(s, node, entry.idx),
    cached: pteFromHex(entry.pte),
    stored: inRange ? readPte(s, slot, entry.idx) : 0n,
  }
}

/** `guard.level()`: the level in the node's metadata (the exec value), else its record's. */
export function guardLevel(s: Snapshot, slot: number): number {
  const storage = slotOf(s, slot).storage
  return storage?.kind === 'PTNode' ? storage.level : (nodeOwnerAt(s, slot)?.level ?? 0)
}

/** `owner.relate_guard(guard)`: the guard locks the node whose record is at its slot. */
export function relateGuardFailure(s: Snapshot, guard: number): string | null {
  const slot = guardSlot(s, guard)
  if (slot === null) return `PageTableGuard ${guard} is not live`
  const node = nodeOwnerAt(s, slot)
  if (node === null) return `the node at slot ${slot} that guard ${guard} locks has no owner record`
  if (node.slotIndex !== slot) return `the record at slot ${slot} names slot ${node.slotIndex}`
  return tableGet(s.pt.locks, slot) === null ? `the lock of node ${slot} is not held (not in Guards)` : null
}

/** The live entries of `guard`. */
export function liveEntriesOf(s: Snapshot, guard: number): number[] {
  const out: number[] = []
  tableForEach(s.pt.entries, (e, id) => {
    if (e.guard === guard) out.push(id)
  })
  return out
}

/** `owner.inv()`: `inv_base` and `!in_scope`. */
export function ownerInvFailure(s: Snapshot, view: EntryOwnerView, config: PtNodeOwner['config'] | null, where: string): string | null {
  return firstFailure(entryInvBase(s, view, where, config)) ?? (view.inScope ? `the entry owner at ${where} is in_scope (held by code)` : null)
}

/** `self.wf(owner)`: `idx < 512`, and the owner matches the cached PTE at its parent level. */
export function entryWfFailure(ctx: EntryContext, where: string): string | null {
  if (!(ctx.entry.idx < NR_ENTRIES)) return `index ${ctx.entry.idx} is not below ${NR_ENTRIES}`
  if (ctx.view === null) return `the entry at ${where} has no owner`
  return firstFailure(matchPte(ctx.view, ctx.cached, ctx.view.parentLevel, `${where} (cached ${pteToHex(ctx.cached)})`))
}

/** `self.invariants(owner, regions)`: `owner.inv()`, `regions.inv()`, `wf`, `metaregion_sound`. */
export function entryInvariantsFailure(s: Snapshot, ctx: EntryContext, where: string): string | null {
  if (ctx.node === null || ctx.view === null) return `the entry at ${where} has no owner (no node record)`
  return ownerInvFailure(s, ctx.view, ctx.node.config, where) ?? regionsInvFor(s, ctx.view) ?? entryWfFailure(ctx, where) ?? firstFailure(metaregionSound(s, ctx.view, where))
}

/**
 * `node_matching(owner, parent, guard_perm)` (NM, state.md §6.3): `parent.level ==
 * owner.parent_level`, `parent.inv()`, the guard relates to the parent, and the owner matches the
 * PTE stored at `parent.ptes[idx]`.
 */
export function nodeMatchingFailure(s: Snapshot, ctx: EntryContext, where: string): string | null {
  const related = relateGuardFailure(s, ctx.entry.guard)
  if (related !== null) return related
  const node = ctx.node!
  if (ctx.view === null) return `the entry at ${where} has no owner`
  if (node.level !== ctx.view.parentLevel) return `the parent's level ${node.level} is not the owner's parent level ${ctx.view.parentLevel}`
  return firstFailure(nodeOwnerInv(s, node, ctx.slot, `pt.owners[${ctx.slot}]`)) ?? firstFailure(matchPte(ctx.view, ctx.stored, ctx.view.parentLevel, `${where} (stored)`))
}

const where = (ctx: EntryContext): string => `pt.owners[${ctx.slot}].children[${ctx.entry.idx}]`

// ---- requirements --------------------------------------------------------------------------

type EntryEvent = ModelEvent & { entry: number }

/** REQ-ENTRY-BORROW-1: the guard the Entry borrows is live. */
const guardBorrowed: Requirement<EntryEvent> = {
  rule: 'REQ-ENTRY-BORROW-1',
  kind: 'requires',
  summary: "[model] An Entry is used only while the PageTableGuard it borrows is live (Rust's lifetime `'a` of `&'a mut PageTableGuard`): using it after the guard is dropped panics.",
  check: (s, e) => {
    const entry = tableGet(s.pt.entries, e.entry)
    if (entry === null) return null // REQ-HANDLE-1 (the checker evaluates each precondition on its own)
    return tableGet(s.pt.guards, entry.guard) === null ? `Entry ${e.entry} borrows PageTableGuard ${entry.guard}, which is no longer live` : null
  },
}

/** The common head of every Entry method: a live Entry whose guard is live. */
export function entryRequires<E extends EntryEvent>(): Array<Requirement<E>> {
  return [livePtHandle<E>('entries', 'entry'), guardBorrowed as Requirement<E>]
}

function ctxOf(s: Snapshot, e: EntryEvent): EntryContext {
  return entryContext(s, e.entry)!
}

type GuardIdxEvent = ModelEvent & { guard: number; idx: number }

const onlyEntry: Requirement<GuardIdxEvent> = {
  rule: 'REQ-ENTRY-UNIQUE-1',
  kind: 'requires',
  summary:
    '[model] At most one Entry of a guard is live at a time: `PageTableGuard::entry(&mut self, idx)` borrows the guard mutably for the Entry\'s lifetime (the model asks for `entry.drop` where Rust ends the borrow implicitly).',
  check: (s, e) => {
    const others = liveEntriesOf(s, e.guard)
    return others.length === 0 ? null : `Entry ${others.join(', ')} of guard ${e.guard} is still live (drop it first)`
  },
}

function atIdx(s: Snapshot, e: GuardIdxEvent): { node: PtNodeOwner; view: EntryOwnerView | null; slot: number } {
  const slot = guardSlot(s, e.guard)!
  const node = nodeOwnerAt(s, slot)!
  return { node, slot, view: childOwnerView(s, node, e.idx) }
}

// ---- PageTableGuard::entry / Entry::new_at -------------------------------------------------

export const EntryNewAtEvent = z.object({ type: z.literal('entry.new_at'), guard: HandleId, idx: Index })
export type EntryNewAtEvent = z.infer<typeof EntryNewAtEvent>

/**
 * `Entry::new_at(guard, idx)` — reads `guard.read_pte(idx)` (internal step
 * `page_table_guard.read_pte`) and returns `Entry { pte, idx, node: guard }`: a new Entry handle
 * caching the stored word. Nothing else changes.
 *
 * Requires REQ-HANDLE-1, REQ-ENTRY-NEWAT-3, REQ-ENTRY-UNIQUE-1, REQ-ENTRY-NEWAT-2,
 * REQ-ENTRY-NEWAT-1, REQ-ENTRY-NEWAT-4. Owes ENS-ENTRY-NEWAT-1..2.
 */
export const entryNewAt = defineEvent<EntryNewAtEvent, { entry: number }>({
  type: 'entry.new_at',
  doc: 'Entry::new_at: an Entry handle on PTE idx of the guard\'s node, caching the stored word.',
  schema: EntryNewAtEvent,
  requires: [
    livePtHandle('guards', 'guard'),
    { rule: 'REQ-ENTRY-NEWAT-3', kind: 'requires', check: (_s, e) => (e.idx < NR_ENTRIES ? null : `index ${e.idx} is not below ${NR_ENTRIES}`) },
    onlyEntry as Requirement<EntryNewAtEvent>,
    {
      rule: 'REQ-ENTRY-NEWAT-2',
      kind: 'requires',
      check: (s, e) => relateGuardFailure(s, e.guard) ?? firstFailure(nodeOwnerInv(s, atIdx(s, e).node, atIdx(s, e).slot, `pt.owners[${atIdx(s, e).slot}]`)),
    },
    {
      rule: 'REQ-ENTRY-NEWAT-1',
      kind: 'requires',
      check: (s, e) => {
        const { node, view, slot } = atIdx(s, e)
        return view === null ? `entry ${e.idx} of node ${slot} has no owner` : ownerInvFailure(s, view, node.config, `pt.owners[${slot}].children[${e.idx}]`)
      },
    },
    {
      rule: 'REQ-ENTRY-NEWAT-4',
      kind: 'requires',
      check: (s, e) => {
        const { view, slot } = atIdx(s, e)
        return firstFailure(matchPte(view!, readPte(s, slot, e.idx), view!.parentLevel, `pt.owners[${slot}].children[${e.idx}]`))
      },
    },
  ],
  reduce(s, e) {
    const rec = new StepRecorder(s)
    const pte = rec.run(ptGuardReadPte, { type: 'page_table_guard.read_pte', guard: e.guard, idx: e.idx })
    let entry = -1
    const snapshot = editSnapshot(rec.snapshot, (d, t) => {
      entry = freshId(d, 'ptEntry')
      t.ptEntries.set(entry, { guard: e.guard, idx: e.idx, pte })
    })
    return { snapshot, result: { entry }, steps: rec.steps }
  },
})

export const GuardEntryEvent = z.object({ type: z.literal('page_table_guard.entry'), guard: HandleId, idx: Index })
export type GuardEntryEvent = z.infer<typeof GuardEntryEvent>

/**
 * `PageTableGuard::entry(idx)` — `assert!(idx < nr_subpage_per_huge::<C>())` (panics), then
 * `Entry::new_at(self, idx)` as an internal step. The guard is unchanged.
 *
 * Requires REQ-HANDLE-1, REQ-GUARD-ENTRY-6 (panic), REQ-ENTRY-UNIQUE-1, REQ-GUARD-ENTRY-3,
 * REQ-GUARD-ENTRY-1, REQ-GUARD-ENTRY-5, REQ-GUARD-ENTRY-2, REQ-GUARD-ENTRY-4. Owes
 * ENS-GUARD-ENTRY-1..3.
 */
export const guardEntry = defineEvent<GuardEntryEvent, { entry: number }>({
  type: 'page_table_guard.entry',
  doc: 'PageTableGuard::entry: borrow the entry at idx of a locked node (panics when idx >= 512).',
  schema: GuardEntryEvent,
  requires: [
    livePtHandle('guards', 'guard'),
    { rule: 'REQ-GUARD-ENTRY-6', kind: 'panic', check: (_s, e) => (e.idx < NR_ENTRIES ? null : `index ${e.idx} is out of bounds (nr_subpage_per_huge = ${NR_ENTRIES})`) },
    onlyEntry as Requirement<GuardEntryEvent>,
    { rule: 'REQ-GUARD-ENTRY-3', kind: 'requires', check: (s, e) => relateGuardFailure(s, e.guard) },
    {
      rule: 'REQ-GUARD-ENTRY-1',
      kind: 'requires',
      check: (s, e) => {
        const { node, slot } = atIdx(s, e)
        return firstFailure(nodeOwnerInv(s, node, slot, `pt.owners[${slot}]`))
      },
    },
    {
      rule: 'REQ-GUARD-ENTRY-5',
      kind: 'requires',
      check: (s, e) => {
        const { slot } = atIdx(s, e)
        return isParked(s, slot) ? regionInvAt(s, slot) : `node slot ${slot} is not parked`
      },
    },
    {
      rule: 'REQ-GUARD-ENTRY-2',
      kind: 'requires',
      check: (s, e) => {
        const { node, view, slot } = atIdx(s, e)
        return view === null ? `entry ${e.idx} of node ${slot} has no owner` : ownerInvFailure(s, view, node.config, `pt.owners[${slot}].children[${e.idx}]`)
      },
    },
    {
      rule: 'REQ-GUARD-ENTRY-4',
      kind: 'requires',
      check: (s, e) => {
        const { view, slot } = atIdx(s, e)
        return firstFailure(matchPte(view!, readPte(s, slot, e.idx), view!.parentLevel, `pt.owners[${slot}].children[${e.idx}]`))
      },
    },
  ],
  reduce(s, e) {
    const rec = new StepRecorder(s)
    const result = rec.run(entryNewAt, { type: 'entry.new_at', guard: e.guard, idx: e.idx })
    return { snapshot: rec.snapshot, result, steps: rec.steps }
  },
})

// ---- entry.drop ----------------------------------------------------------------------------

export const EntryDropEvent = z.object({ type: z.literal('entry.drop'), entry: HandleId })
export type EntryDropEvent = z.infer<typeof EntryDropEvent>

/**
 * The Entry goes out of scope: it leaves `pt.entries` and its borrow of the guard ends. Allowed
 * after the guard was dropped. Requires REQ-HANDLE-1. Owes ENS-ENTRY-DROP-1.
 */
export const entryDrop = defineEvent<EntryDropEvent, null>({
  type: 'entry.drop',
  doc: 'Drop an Entry (its borrow of the guard ends).',
  schema: EntryDropEvent,
  requires: [livePtHandle('entries', 'entry')],
  reduce(s, e) {
    return { snapshot: editSnapshot(s, (_d, t) => t.ptEntries.set(e.entry, null)), result: null }
  },
})

// ---- is_none / is_node -----------------------------------------------------------------------

export const EntryIsNoneEvent = z.object({ type: z.literal('entry.is_none'), entry: HandleId })
export type EntryIsNoneEvent = z.infer<typeof EntryIsNoneEvent>

/** `Entry::is_none()` — `!pte.is_present()` of the cached word. Requires REQ-HANDLE-1, REQ-ENTRY-BORROW-1, REQ-ENTRY-ISNONE-1. Owes ENS-ENTRY-ISNONE-1. */
export const entryIsNone = defineEvent<EntryIsNoneEvent, boolean>({
  type: 'entry.is_none',
  doc: 'Entry::is_none: whether the entry maps nothing (the cached PTE is not present).',
  schema: EntryIsNoneEvent,
  requires: [
    ...entryRequires<EntryIsNoneEvent>(),
    {
      rule: 'REQ-ENTRY-ISNONE-1',
      kind: 'requires',
      check: (s, e) => {
        const ctx = ctxOf(s, e)
        if (ctx.node === null || ctx.view === null) return `the entry at ${where(ctx)} has no owner`
        return entryWfFailure(ctx, where(ctx)) ?? ownerInvFailure(s, ctx.view, ctx.node.config, where(ctx))
      },
    },
  ],
  reduce(s, e) {
    return { snapshot: s, result: !isPresent(ctxOf(s, e).cached) }
  },
})

export const EntryIsNodeEvent = z.object({ type: z.literal('entry.is_node'), entry: HandleId })
export type EntryIsNodeEvent = z.infer<typeof EntryIsNodeEvent>

/**
 * `Entry::is_node()` — `pte.is_present() && !pte.is_last(guard.level())` of the cached word.
 * Requires REQ-HANDLE-1, REQ-ENTRY-BORROW-1, REQ-ENTRY-ISNODE-1, REQ-ENTRY-ISNODE-2. Owes
 * ENS-ENTRY-ISNODE-1.
 */
export const entryIsNode = defineEvent<EntryIsNodeEvent, boolean>({
  type: 'entry.is_node',
  doc: 'Entry::is_node: whether the entry points to a child page-table node.',
  schema: EntryIsNodeEvent,
  requires: [
    ...entryRequires<EntryIsNodeEvent>(),
    {
      rule: 'REQ-ENTRY-ISNODE-1',
      kind: 'requires',
      check: (s, e) => {
        const ctx = ctxOf(s, e)
        if (ctx.node === null || ctx.view === null) return `the entry at ${where(ctx)} has no owner`
        return ownerInvFailure(s, ctx.view, ctx.node.config, where(ctx)) ?? entryWfFailure(ctx, where(ctx))
      },
    },
    {
      rule: 'REQ-ENTRY-ISNODE-2',
      kind: 'requires',
      check: (s, e) => {
        const ctx = ctxOf(s, e)
        const node = ctx.node!
        return (
          relateGuardFailure(s, ctx.entry.guard) ??
          firstFailure(nodeOwnerInv(s, node, ctx.slot, `pt.owners[${ctx.slot}]`)) ??
          (node.level === ctx.view!.parentLevel ? null : `the parent's level ${node.level} is not the owner's parent level ${ctx.view!.parentLevel}`)
        )
      },
    },
  ],
  reduce(s, e) {
    const ctx = ctxOf(s, e)
    return { snapshot: s, result: isPresent(ctx.cached) && !isLast(ctx.cached, guardLevel(s, ctx.slot)) }
  },
})

// ---- to_ref ----------------------------------------------------------------------------------

export const EntryToRefEvent = z.object({ type: z.literal('entry.to_ref'), entry: HandleId })
export type EntryToRefEvent = z.infer<typeof EntryToRefEvent>

/**
 * `Entry::to_ref()` — `ChildRef::from_pte(&self.pte, guard.level())` as an internal step: the
 * borrowed child as data (`{ kind: 'PageTable', paddr }` | `{ kind: 'Frame', paddr, level, prop }`
 * | `{ kind: 'None' }`). No reference count changes.
 *
 * Requires REQ-HANDLE-1, REQ-ENTRY-BORROW-1, REQ-ENTRY-TOREF-3, REQ-ENTRY-TOREF-1, REQ-ENTRY-TOREF-2
 * (`!in_scope` first: `owner.inv()` in TOREF-1 implies it). Owes ENS-ENTRY-TOREF-1..4.
 */
export const entryToRef = defineEvent<EntryToRefEvent, ChildValue>({
  type: 'entry.to_ref',
  doc: 'Entry::to_ref: the child the entry points to, borrowed (ChildRef as data).',
  schema: EntryToRefEvent,
  requires: [
    ...entryRequires<EntryToRefEvent>(),
    { rule: 'REQ-ENTRY-TOREF-3', kind: 'requires', check: (s, e) => (ctxOf(s, e).view?.inScope === true ? `the entry owner at ${where(ctxOf(s, e))} is in_scope` : null) },
    { rule: 'REQ-ENTRY-TOREF-1', kind: 'requires', check: (s, e) => entryInvariantsFailure(s, ctxOf(s, e), where(ctxOf(s, e))) },
    { rule: 'REQ-ENTRY-TOREF-2', kind: 'requires', check: (s, e) => nodeMatchingFailure(s, ctxOf(s, e), where(ctxOf(s, e))) },
  ],
  reduce(s, e) {
    const ctx = ctxOf(s, e)
    const rec = new StepRecorder(s)
    const result = rec.run(childRefFromPte, { type: 'child_ref.from_pte', pte: ctx.entry.pte, level: guardLevel(s, ctx.slot), node: ctx.slot, idx: ctx.entry.idx })
    return { snapshot: rec.snapshot, result, steps: rec.steps }
  },
})

// ---- protect ---------------------------------------------------------------------------------

/** `op`'s result as data: the new property, or a flags edit `(flags & ~clear) | set` of the old one. */
export const ProtectMaskSchema = z.object({ clear: z.number().int().nonnegative(), set: z.number().int().nonnegative() })

export const EntryProtectEvent = z.union([
  z.object({ type: z.literal('entry.protect'), entry: HandleId, prop: PagePropertySchema }),
  z.object({ type: z.literal('entry.protect'), entry: HandleId, mask: ProtectMaskSchema }),
])
export type EntryProtectEvent = z.infer<typeof EntryProtectEvent>

/** `op(p)` for a protect event. */
export function protectOp(e: EntryProtectEvent, p: PageProperty): PageProperty {
  return 'prop' in e ? e.prop : { ...p, flags: (p.flags & ~e.mask.clear) | e.mask.set }
}

/**
 * `Entry::protect(op)` — on a mapped leaf: `p' = op(prop(pte))`,
 * `pte := set_prop(pte, p')`, `guard.write_pte(idx, pte)` (internal step), ghost
 * `owner.frame.prop := p'`. The
 * closure `op` is carried as its result: `prop` (the new property) or `mask` (`flags := (flags &
 * ~clear) | set`). No metadata, reference count or path changes.
 *
 * REQ-ENTRY-PROTECT-2 (`op.requires`) includes, besides the PTE codec's REQ-PTE-2/3, that `op`
 * keeps the item's trackedness as `C::item_from_raw` reads it (AVAIL1 in the kernel
 * configuration): that is the `op` OSTD's only caller passes (REQ-CURSORMUT-PROTECTNEXT-5), and
 * without it a kernel leaf's PTE and its owner's `is_tracked` disagree, so a later split or
 * `on_drop` would take or release references on slots that hold none.
 *
 * REQ-ENTRY-PROTECT-3 (`owner.is_frame()`) refuses an absent entry as well as a node: the Verus
 * contract admits only mapped leaves (OSTD's cursor calls it on nothing else), so protecting an
 * absent entry is a caller error reported with the rule, the state unchanged. The body's early
 * return on an absent PTE (seed: "It only modifies the properties if the entry is present") is
 * kept for variants that run without preconditions.
 *
 * Requires REQ-HANDLE-1, REQ-ENTRY-BORROW-1, REQ-ENTRY-PROTECT-1, REQ-ENTRY-PROTECT-3,
 * REQ-ENTRY-PROTECT-2. Owes ENS-ENTRY-PROTECT-1..5.
 */
export const entryProtect = defineEvent<EntryProtectEvent, null>({
  type: 'entry.protect',
  doc: 'Entry::protect: apply op to the property of a mapped leaf.',
  schema: EntryProtectEvent as unknown as z.ZodType<EntryProtectEvent>,
  requires: [
    ...entryRequires<EntryProtectEvent>(),
    {
      rule: 'REQ-ENTRY-PROTECT-1',
      kind: 'requires',
      check: (s, e) => {
        const ctx = ctxOf(s, e)
        if (ctx.node === null || ctx.view === null) return `the entry at ${where(ctx)} has no owner`
        return ownerInvFailure(s, ctx.view, ctx.node.config, where(ctx)) ?? entryWfFailure(ctx, where(ctx)) ?? nodeMatchingFailure(s, ctx, where(ctx))
      },
    },
    {
      rule: 'REQ-ENTRY-PROTECT-3',
      kind: 'requires',
      check: (s, e) => {
        const kind = ctxOf(s, e).view!.kind
        return kind === 'frame' ? null : `the entry is ${kind === 'absent' ? 'absent' : `a ${kind} entry`}, not a mapped frame (owner.is_frame())`
      },
    },
    {
      rule: 'REQ-ENTRY-PROTECT-2',
      kind: 'requires',
      check: (s, e) => {
        const ctx = ctxOf(s, e)
        if (!isPresent(ctx.cached)) return null
        const p = protectOp(e, pteProp(ctx.cached))
        if (!pagePropertyInv(p) || (p.flags & PageFlags.R) === 0) return `op returns ${JSON.stringify(p)}: REQ-PTE-2 needs R set and no undefined bits`
        if (!PTE_CACHE_POLICIES.includes(p.cache)) return `op returns cache policy ${p.cache}, which the PTE cannot encode (REQ-PTE-3)`
        const config = ctx.node!.config
        return itemTracked(config, setProp(ctx.cached, p)) === itemTracked(config, ctx.cached)
          ? null
          : `op changes whether the leaf is a tracked item (AVAIL1 of the ${config} configuration): op.requires of the cursor's op, REQ-CURSORMUT-PROTECTNEXT-5`
      },
    },
  ],
  reduce(s, e) {
    const ctx = ctxOf(s, e)
    if (!isPresent(ctx.cached)) return { snapshot: s, result: null }
    const p = protectOp(e, pteProp(ctx.cached))
    const pte = setProp(ctx.cached, p)
    const rec = new StepRecorder(s)
    rec.run(ptGuardWritePte, { type: 'page_table_guard.write_pte', guard: ctx.entry.guard, idx: ctx.entry.idx, pte: pteToHex(pte) })
    const cur = rec.snapshot
    const owner = ctx.view!
    const snapshot = editSnapshot(cur, (_d, t) => {
      t.ptEntries.set(ctx.id, { ...ctx.entry, pte: pteToHex(pte) })
      if (owner.kind === 'frame') setChild(t, ctx.slot, nodeOwnerAt(cur, ctx.slot)!, ctx.entry.idx, { ...owner, frame: { ...owner.frame, prop: p } })
    })
    return { snapshot, result: null, steps: rec.steps }
  },
})

/** Writes entry `idx` of the record at `slot` (the canonical absent entry is stored as no entry). */
export function setChild(t: Tables, slot: number, node: PtNodeOwner, idx: number, owner: ChildEntryOwner): void {
  const canonical = owner.kind === 'absent' && equal(owner, absentChild(node, idx))
  const children = new TableEditor(node.children)
  children.set(idx, canonical ? null : owner)
  t.ptOwners.set(slot, { ...node, children: children.done() })
}

// ---- replace ---------------------------------------------------------------------------------

export const EntryReplaceEvent = z.object({ type: z.literal('entry.replace'), entry: HandleId, child: HandleId })
export type EntryReplaceEvent = z.infer<typeof EntryReplaceEvent>

/** The level a `Child` value claims for the REQ-ENTRY-REPLACE-6 panic checks (`node.level()` / the Frame's level). */
function childLevel(s: Snapshot, c: ChildValue): number | null {
  if (c.kind === 'PageTable') {
    const storage = slotOf(s, Math.floor(c.paddr / PAGE_SIZE)).storage
    return storage?.kind === 'PTNode' ? storage.level : null
  }
  return c.kind === 'Frame' ? c.level : null
}

/**
 * `Entry::replace(new_child)` (seed 001 lines 243–428) — returns the old child.
 *
 * 1. Panics (REQ-ENTRY-REPLACE-6): a node child must be one level below the guard's node, a
 *    frame child at the guard's level.
 * 2. `Child::from_pte(self.pte, level)` (internal step `child.from_pte`): the old child, a new
 *    Child value; its owner leaves the tree (in scope).
 * 3. `nr_children` +1 (absent → present) or −1 (present → absent): a write through
 *    `nr_children_mut()` (internal step `page_table_guard.nr_children_mut.write`).
 * 4. Ghost, a node child only: it is positioned at the entry — its sub-tree rebased there
 *    (records, and the qualified paths its entries record) and its slot's `paths_in_pt :=
 *    {qualified path}`. (The seed writes `paths_in_pt` after `write_pte`; the model does it before
 *    `into_pte`, whose `pte_invariants` need it, as Verus' caller positions the owner before the
 *    call. The effect of `replace` is the same.) A frame child's path was inserted when the child
 *    was made (`child.from_frame`).
 * 5. `new_child.into_pte()` (internal step `child.into_pte`): the new child's word; its owner
 *    leaves scope.
 * 6. `guard.write_pte(idx, new_pte)` (internal step `page_table_guard.write_pte`),
 *    `self.pte := new_pte`; the new owner takes the entry's position in the tree.
 *
 * A node child cannot be the entry's node or one of its ancestors: levels decrease strictly
 * downwards, so REQ-ENTRY-REPLACE-6 already excludes a cycle (the rebase is depth-bounded anyway).
 *
 * Requires REQ-HANDLE-1, REQ-ENTRY-BORROW-1, REQ-ENTRY-REPLACE-6 (panic), REQ-ENTRY-REPLACE-5, REQ-ENTRY-REPLACE-1, REQ-ENTRY-REPLACE-3, REQ-ENTRY-REPLACE-2,
 * REQ-ENTRY-REPLACE-4. Owes ENS-ENTRY-REPLACE-1..19 (and, through its steps,
 * ENS-CHILD-FROMPTE-1..3, ENS-CHILD-INTOPTE-1..4).
 */
export const entryReplace = defineEvent<EntryReplaceEvent, { child: number }>({
  type: 'entry.replace',
  doc: 'Entry::replace: put a new child into the entry and return the old one as a Child value.',
  schema: EntryReplaceEvent,
  requires: [
    ...entryRequires<EntryReplaceEvent>(),
    livePtHandle('children', 'child'),
    {
      rule: 'REQ-ENTRY-REPLACE-6',
      kind: 'panic',
      check: (s, e) => {
        const ctx = ctxOf(s, e)
        const c = tableGet(s.pt.children, e.child)!
        const level = guardLevel(s, ctx.slot)
        const lv = childLevel(s, c)
        if (c.kind === 'PageTable') return lv === level - 1 ? null : `assert!(node.level() == guard.level() - 1) fails: the node child has level ${lv ?? '(not a node)'}, the guard's node level ${level}`
        if (c.kind === 'Frame') return lv === level ? null : `assert!(level == guard.level()) fails: the frame child has level ${lv}, the guard's node level ${level}`
        return null
      },
    },
    { rule: 'REQ-ENTRY-REPLACE-5', kind: 'requires', check: (s, e) => (ctxOf(s, e).view?.inScope === true ? `the entry owner at ${where(ctxOf(s, e))} is in_scope` : null) },
    { rule: 'REQ-ENTRY-REPLACE-1', kind: 'requires', check: (s, e) => entryInvariantsFailure(s, ctxOf(s, e), where(ctxOf(s, e))) },
    { rule: 'REQ-ENTRY-REPLACE-3', kind: 'requires', check: (s, e) => nodeMatchingFailure(s, ctxOf(s, e), where(ctxOf(s, e))) },
    { rule: 'REQ-ENTRY-REPLACE-2', kind: 'requires', check: (s, e) => childInvariantsFailure(s, e.child) },
    {
      rule: 'REQ-ENTRY-REPLACE-4',
      kind: 'requires',
      check: (s, e) => {
        const ctx = ctxOf(s, e)
        const old = ctx.view!
        const neu = childOwner(s, e.child)!
        if (!neu.inScope) return 'the new child\'s owner is not in_scope'
        if (neu.parentLevel !== old.parentLevel) return `the new child's owner is at parent level ${neu.parentLevel}, the entry at ${old.parentLevel}`
        if (neu.kind === 'node') {
          // A node sub-tree is positioned by replace itself (the conventions: it is rebased).
          const idx = neu.node.slotIndex
          if (!isParked(s, idx)) return `the node child's slot ${idx} is not parked`
          const rc = ownerOf(s, idx).innerPerms.refCount
          return rc === REF_COUNT_UNUSED ? `the node child's slot ${idx} has rc ${refCountName(rc)}` : null
        }
        const want = qualifiedPath(old.tree, old.path)
        const got = qualifiedPath(neu.tree, neu.path)
        return got === want ? null : `the new child is positioned for ${got}, the entry is at ${want}`
      },
    },
  ],
  reduce(s, e) {
    const ctx = ctxOf(s, e)
    const idx = ctx.entry.idx
    const level = guardLevel(s, ctx.slot)
    const neu = tableGet(s.pt.children, e.child)!
    const rec = new StepRecorder(s)
    const old = rec.run(childFromPte, { type: 'child.from_pte', pte: ctx.entry.pte, level, node: ctx.slot, idx })
    const oldValue = tableGet(rec.snapshot.pt.children, old.child)!
    const delta = oldValue.kind === 'None' && neu.kind !== 'None' ? +1 : oldValue.kind !== 'None' && neu.kind === 'None' ? -1 : 0
    const node = nodeOwnerAt(s, ctx.slot)!
    const position = { tree: node.tree, path: childPath(node.path, idx) }
    if (delta !== 0) {
      rec.run(ptGuardNrChildrenWrite, { type: 'page_table_guard.nr_children_mut.write', guard: ctx.entry.guard, value: node.metaOwn.nrChildren + delta })
    }
    if (neu.kind === 'PageTable') {
      // Ghost: the node child is positioned at the entry before `into_pte` (Verus' caller does
      // it: new_owner_compatible requires the owner's path to be the entry's), so that
      // into_pte's `pte_invariants` hold at that step.
      const before = rec.snapshot
      rec.set(editSnapshot(before, (_d, t) => positionNode(t, before, Math.floor(neu.paddr / PAGE_SIZE), position.tree, position.path)))
    }
    const into = rec.run(childIntoPte, { type: 'child.into_pte', child: e.child })
    rec.run(ptGuardWritePte, { type: 'page_table_guard.write_pte', guard: ctx.entry.guard, idx, pte: into.pte })
    const cur = rec.snapshot
    const snapshot = editSnapshot(cur, (_d, t) => {
      t.ptEntries.set(ctx.id, { ...ctx.entry, pte: into.pte })
      setChild(t, ctx.slot, nodeOwnerAt(cur, ctx.slot)!, idx, neu.kind === 'PageTable' ? { kind: 'node', slot: Math.floor(neu.paddr / PAGE_SIZE) } : into.owner!)
    })
    return { snapshot, result: { child: old.child }, steps: rec.steps }
  },
})

/** Replaces `from` by `to` in slot `idx`'s `paths_in_pt` (kept sorted). */
function movePath(t: Tables, s: Snapshot, idx: number, from: string, to: string): void {
  const paths = ownerNow(t, s, idx).pathsInPt
  if (!paths.includes(from)) return
  patchOwner(t, s, idx, { pathsInPt: [...paths.filter((p) => p !== from), to].sort() })
}

/**
 * Positions the node at `slot` (a node child, still in scope) at `(tree, path)`: its slot records
 * exactly that path, and when the position differs from where its records are, the whole sub-tree
 * is rebased (records, and the qualified paths its entries record in their slots).
 */
export function positionNode(t: Tables, s: Snapshot, slot: number, tree: number, path: string): void {
  const top = t.ptOwners.get(slot)!
  if (top.tree !== tree || top.path !== path) t.ptOwners.set(slot, rebased(t, s, top, tree, path, 0))
  patchOwner(t, s, slot, { pathsInPt: [qualifiedPath(tree, path)] })
}

/** The record `r` moved to `(tree, path)`, its descendants rebased in `t` (bounded depth: records of a corrupted state may loop). */
function rebased(t: Tables, s: Snapshot, r: PtNodeOwner, tree: number, path: string, depth: number): PtNodeOwner {
  if (depth > 4) return { ...r, tree, path }
  const children = new TableEditor(r.children)
  tableForEach(r.children, (c, i) => {
    const at = childPath(path, i)
    if (c.kind === 'node') {
      const sub = t.ptOwners.get(c.slot)
      if (sub === null) return
      movePath(t, s, c.slot, qualifiedPath(sub.tree, sub.path), qualifiedPath(tree, at))
      t.ptOwners.set(c.slot, rebased(t, s, sub, tree, at, depth + 1))
      return
    }
    if (c.kind === 'frame' && c.frame.isTracked) movePath(t, s, Math.floor(c.frame.mappedPa / PAGE_SIZE), qualifiedPath(c.tree, c.path), qualifiedPath(tree, at))
    children.set(i, { ...c, tree, path: at })
  })
  return { ...r, tree, path, children: children.done() }
}

export const ptEntryEvents: readonly AnyEventSpec[] = [
  guardEntry,
  entryNewAt,
  entryDrop,
  entryIsNone,
  entryIsNode,
  entryToRef,
  entryProtect,
  entryReplace,
] as unknown as readonly AnyEventSpec[]

