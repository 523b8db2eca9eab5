/**
 * The two composite `Entry` operations (ostd::mm::page_table::node::entry, seed 001 lines
 * 430–1009; spec/operations.md §5.6, §5.7): `Entry::alloc_if_none` and
 * `Entry::split_if_mapped_huge`. Each runs its internal steps through a `StepRecorder`, so every
 * step is checked and visible in the history; the ghost side (owner records, `paths_in_pt`, the
 * Entry's cached word) is written explicitly between them, as the seed's proof blocks do.
 *
 * Events:
 *   entry.alloc_if_none        `Entry::alloc_if_none(rcu_guard)` → the new node's guard, or null
 *   entry.split_if_mapped_huge `Entry::split_if_mapped_huge(rcu_guard)` → the new node's guard, or null
 *
 * Both allocate the new node **one level below** the entry's node (MD-6: `alloc(level - 1)`; the
 * seed's `split_if_mapped_huge` passes `level` under the older [APR] convention). The new node
 * is allocated detached (its own tree, in scope), locked, filled (split), then positioned at the
 * entry — its record and its children's records and paths rebased there (`positionNode`, as
 * `Entry::replace` does for a node child) — and installed with `Child::PageTable(node).into_pte()`
 * and the parent's `write_pte`.
 *
 * Postconditions: src/check/rules/page_table/entry_composite.ts.
 */
import { z } from 'zod'
import { frameToIndex, NR_ENTRIES, NR_LEVELS, PAGE_SIZE, pageSize, PageUsage, REF_COUNT_MAX, refCountName } from '../../src/arch/constants.js'
import { isLast, isPresent, newPage, ptePaddr, pteProp, pteToHex } from '../../src/arch/pte.js'
import { editSnapshot } from '../../src/model/edit.js'
import { qualifiedPath, type LeafEntryOwner, type PtNodeOwner } from '../../src/model/page_table.js'
import { isParked, ownerOf } from '../../src/model/slots.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { childOwnerView, childPath, entryInvBase, nodeOwnerAt, nodeOwnerInv, pathLength, type EntryOwnerView } from '../../src/model/spec/page_table.js'
import { tableForEach } from '../../src/model/table.js'
import { ownerNow, patchOwner } from '../frame/edit.js'
import { getFromInUse, hex } from '../frame/meta.js'
import { HandleId } from '../schema.js'
import { defineEvent, StepRecorder, type EventSpec, type ModelEvent, type Requirement } from '../types.js'
import type { AnyEventSpec } from '../index.js'
import { childDrop, childFromNode, childFromPte, childIntoPte, firstFailure, regionsInvFor } from './child.js'
import {
  entryContext,
  entryInvariantsFailure,
  entryRequires,
  entryWfFailure,
  guardLevel,
  nodeMatchingFailure,
  ownerInvFailure,
  positionNode,
  relateGuardFailure,
  setChild,
  type EntryContext,
} from './entry.js'
import { ptGuardNrChildrenWrite, ptGuardWritePte } from './guard.js'
import { itemTracked, ptNodeAlloc, ptNodeRefLock } from './node.js'

// ---- shared ----------------------------------------------------------------------------------

/** What both composites return: the new node's `PageTableGuard`, or `None`. */
export type CompositeResult = { readonly guard: number } | null

type EntryEvent = ModelEvent & { entry: number }

function ctxOf(s: Snapshot, e: EntryEvent): EntryContext {
  return entryContext(s, e.entry)!
}

/**
 * A precondition on the Entry's context, skipped when the Entry or its guard is not live
 * (REQ-HANDLE-1 / REQ-ENTRY-BORROW-1 report that; the checker evaluates each precondition on its
 * own, not only after the earlier ones held).
 */
function onEntry<E extends EntryEvent>(rule: string, check: (s: Snapshot, ctx: EntryContext) => string | null): Requirement<E> {
  return {
    rule,
    kind: 'requires',
    check: (s, e) => {
      const ctx = entryContext(s, e.entry)
      return ctx === null || ctx.node === null || ctx.view === null ? null : check(s, ctx)
    },
  }
}

function whereOf(ctx: EntryContext): string {
  return `pt.owners[${ctx.slot}].children[${ctx.entry.idx}]`
}

/**
 * `OwnerSubtree::inv()` of the entry's sub-tree: the value's `inv()` (`inv_base`, not in scope),
 * and for a node, every entry below it (bounded by the tree depth): its `inv()`, its position
 * (`path == parent path ++ [i]`, same tree) and `parent_level == parent node level`, and every
 * node record below it `NodeOwner::inv`.
 */
export function subtreeInvFailure(s: Snapshot, view: EntryOwnerView, config: PtNodeOwner['config'] | null, where: string): string | null {
  const own = ownerInvFailure(s, view, config, where)
  if (own !== null || view.kind !== 'node') return own
  const walk = (node: PtNodeOwner, at: string, depth: number): string | null => {
    if (depth > NR_LEVELS) return `${at}: the sub-tree is deeper than ${NR_LEVELS} levels`
    const inv = firstFailure(nodeOwnerInv(s, node, node.slotIndex, `pt.owners[${node.slotIndex}]`))
    if (inv !== null) return inv
    let bad: string | null = null
    tableForEach(node.children, (c, i) => {
      if (bad !== null) return
      const childAt = `pt.owners[${node.slotIndex}].children[${i}]`
      const v = childOwnerView(s, node, i)
      if (v === null) {
        bad = `${childAt}: the node entry's record (slot ${(c as { slot?: number }).slot}) does not exist`
        return
      }
      bad =
        firstFailure(entryInvBase(s, v, childAt, node.config)) ??
        (v.inScope ? `${childAt}: the entry owner is in scope (held by code) inside the tree` : null) ??
        (v.parentLevel !== node.level ? `${childAt}: parent_level ${v.parentLevel} is not the node's level ${node.level}` : null) ??
        (v.tree !== node.tree || v.path !== childPath(node.path, i) ? `${childAt}: the owner is at ${qualifiedPath(v.tree, v.path)}, not ${qualifiedPath(node.tree, childPath(node.path, i))}` : null) ??
        (v.kind === 'node' ? walk(v.node, childAt, depth + 1) : null)
    })
    return bad
  }
  return walk(view.node, where, 1)
}

/** Replaces the Entry's cached word (`self.pte = …`). */
function cachePte(s: Snapshot, ctx: EntryContext, pte: string): Snapshot {
  return editSnapshot(s, (_d, t) => t.ptEntries.set(ctx.id, { ...ctx.entry, pte }))
}

/**
 * Installs the node at `newSlot` (positioned already, its PTE written) in the parent's record at
 * the entry: the ghost `owner.value = new_node_owner.value` of the seed.
 */
function recordNodeChild(s: Snapshot, ctx: EntryContext, newSlot: number): Snapshot {
  return editSnapshot(s, (_d, t) => setChild(t, ctx.slot, nodeOwnerAt(s, ctx.slot)!, ctx.entry.idx, { kind: 'node', slot: newSlot }))
}

// ---- alloc_if_none ---------------------------------------------------------------------------

export const EntryAllocIfNoneEvent = z.object({ type: z.literal('entry.alloc_if_none'), entry: HandleId })
export type EntryAllocIfNoneEvent = z.infer<typeof EntryAllocIfNoneEvent>

/**
 * `Entry::alloc_if_none(rcu_guard)` (seed 001 lines 430–613) — if the entry is present, or its
 * node is at level 1, nothing changes and the result is `None` (null). Otherwise, as internal
 * steps:
 *
 * 1. `page_table_node.alloc` at `level - 1` (MD-6), with the ghost `parent` / `parentIdx` the
 *    seed passes (ENS-NODE-ALLOC-11's announcement is checked at the end of this event, MD-13);
 * 2. `child.from_node` (`Child::PageTable(new_page)`), the node positioned at the entry (ghost:
 *    `path = old path`, `parent_level = level`, `paths_in_pt(new) = {path}`), and `child.into_pte`
 *    (`self.pte = new_pt(pa)`; the handle is forgotten into the PTE);
 * 3. `page_table_node_ref.lock` of the new node ("lock before writing the PTE");
 * 4. `page_table_guard.write_pte(idx, self.pte)` on the parent, then
 *    `page_table_guard.nr_children_mut.write` (`nr_children + 1`);
 * 5. ghost: the parent's record holds the new node at `idx`.
 *
 * Returns `{ guard }`, the new node's `PageTableGuard`.
 *
 * REQ-ENTRY-ALLOCIFNONE-4 (`owner.level < INC_LEVELS - 1`) is the entry's tree level, i.e. its
 * path length (state.md §7: `level` = path length; the model's paths are relative to the tree's
 * root). In a page table that is every entry of a level-1 node (path length 4); an entry of a
 * detached level-1 node (path length 1) passes and gets OSTD's `None` (ENS-ENTRY-ALLOCIFNONE-15).
 *
 * Requires REQ-HANDLE-1, REQ-ENTRY-BORROW-1, REQ-ENTRY-ALLOCIFNONE-1..4. Owes
 * ENS-ENTRY-ALLOCIFNONE-1..16 (and, through its steps, ENS-NODE-ALLOC-*, ENS-CHILD-FROMNODE-1,
 * ENS-CHILD-INTOPTE-*, ENS-NODE-LOCK-*, ENS-GUARD-WRITEPTE-*, ENS-GUARD-NRCHWRITE-1).
 */
export const entryAllocIfNone: EventSpec<EntryAllocIfNoneEvent, CompositeResult> = defineEvent<EntryAllocIfNoneEvent, CompositeResult>({
  type: 'entry.alloc_if_none',
  doc: 'Entry::alloc_if_none: if the entry is absent (and its node above level 1), allocate a node one level down, install it and return its locked guard.',
  schema: EntryAllocIfNoneEvent,
  requires: [
    ...entryRequires<EntryAllocIfNoneEvent>(),
    {
      rule: 'REQ-ENTRY-ALLOCIFNONE-1',
      kind: 'requires',
      check: (s, e) => {
        const ctx = entryContext(s, e.entry)
        return ctx === null ? null : entryInvariantsFailure(s, ctx, whereOf(ctx))
      },
    },
    onEntry('REQ-ENTRY-ALLOCIFNONE-2', (s, ctx) => subtreeInvFailure(s, ctx.view!, ctx.node!.config, whereOf(ctx))),
    onEntry('REQ-ENTRY-ALLOCIFNONE-3', (s, ctx) => nodeMatchingFailure(s, ctx, whereOf(ctx))),
    onEntry('REQ-ENTRY-ALLOCIFNONE-4', (_s, ctx) => {
      const treeLevel = pathLength(ctx.view!.path)
      return treeLevel < NR_LEVELS ? null : `the entry's tree level ${treeLevel} (path ${JSON.stringify(ctx.view!.path)}) is not below INC_LEVELS - 1 = ${NR_LEVELS}`
    }),
  ],
  reduce(s, e) {
    const ctx = ctxOf(s, e)
    const level = guardLevel(s, ctx.slot)
    if (isPresent(ctx.cached) || level <= 1) return { snapshot: s, result: null }
    const view = ctx.view!
    const parent = nodeOwnerAt(s, ctx.slot)!
    const rec = new StepRecorder(s)
    const made = rec.run(ptNodeAlloc, { type: 'page_table_node.alloc', level: level - 1, config: parent.config, parent: ctx.slot * PAGE_SIZE, parentIdx: ctx.entry.idx })
    const newSlot = frameToIndex(made.paddr)
    const { child } = rec.run(childFromNode, { type: 'child.from_node', node: made.node })
    // Ghost: the new owner takes the entry's position (path, parent_level) before into_pte,
    // whose pte_invariants need it (as Entry::replace does for a node child).
    const unplaced = rec.snapshot
    rec.set(editSnapshot(unplaced, (_d, t) => positionNode(t, unplaced, newSlot, view.tree, view.path)))
    const into = rec.run(childIntoPte, { type: 'child.into_pte', child })
    rec.set(cachePte(rec.snapshot, ctx, into.pte))
    const { guard } = rec.run(ptNodeRefLock, { type: 'page_table_node_ref.lock', paddr: made.paddr })
    rec.run(ptGuardWritePte, { type: 'page_table_guard.write_pte', guard: ctx.entry.guard, idx: ctx.entry.idx, pte: into.pte })
    rec.run(ptGuardNrChildrenWrite, { type: 'page_table_guard.nr_children_mut.write', guard: ctx.entry.guard, value: nodeOwnerAt(rec.snapshot, ctx.slot)!.metaOwn.nrChildren + 1 })
    const snapshot = recordNodeChild(rec.snapshot, ctx, newSlot)
    return { snapshot, result: { guard }, steps: rec.steps }
  },
})

// ---- split_if_mapped_huge --------------------------------------------------------------------

export const EntrySplitIfMappedHugeEvent = z.object({ type: z.literal('entry.split_if_mapped_huge'), entry: HandleId })
export type EntrySplitIfMappedHugeEvent = z.infer<typeof EntrySplitIfMappedHugeEvent>

/** Whether the Entry's cached word is a huge leaf of its node (`is_last(level) && level > 1`). */
export function isHugeLeaf(s: Snapshot, ctx: EntryContext): boolean {
  const level = guardLevel(s, ctx.slot)
  return isPresent(ctx.cached) && isLast(ctx.cached, level) && level > 1
}

/**
 * REQ-ENTRY-SPLIT-4 for a tracked huge frame: every 4 KiB page of it — the seed's sub-pages
 * `0 < j < page_size(level) / 4096`, and (model) the head `j = 0`, which the seed covers by the
 * frame's own `metaregion_sound` — is parked, shared (`rc` neither UNUSED nor UNIQUE: the split
 * takes one more reference on each 4 KiB page it maps, `get_from_in_use`) and a data frame.
 */
export function subPagesFailure(s: Snapshot, view: EntryOwnerView, execTracked: boolean): string | null {
  if (view.kind !== 'frame' || !(view.frame.isTracked || execTracked) || view.parentLevel <= 1) return null
  const first = frameToIndex(view.frame.mappedPa)
  const n = pageSize(view.parentLevel) / PAGE_SIZE
  // An untracked owner whose PTE the configuration reads as tracked (AVAIL1 set on an MMIO leaf of a
  // kernel table by an entry-level protect): the body revives each sub-page as a Frame all the same.
  const what = view.frame.isTracked ? 'the huge frame' : 'the untracked huge frame (its PTE reads as tracked: item_from_raw revives its sub-pages)'
  for (let j = 0; j < n; j++) {
    const idx = first + j
    const o = ownerOf(s, idx)
    const rc = o.innerPerms.refCount
    if (!isParked(s, idx)) return `sub-page ${j} (slot ${idx}) of ${what} at ${hex(view.frame.mappedPa)} is not parked`
    if (!(rc > 0 && rc <= REF_COUNT_MAX)) return `sub-page ${j} (slot ${idx}) of ${what} at ${hex(view.frame.mappedPa)} has rc ${refCountName(rc)}`
    if (o.usage !== PageUsage.Frame) return `sub-page ${j} (slot ${idx}) of ${what} at ${hex(view.frame.mappedPa)} has usage ${o.usage}, not Frame`
  }
  return null
}

/**
 * `Entry::split_if_mapped_huge(rcu_guard)` (seed 001 lines 615–1009) — if the entry is not a
 * huge leaf (`!(is_last(level) && level > 1)`: absent, a node, or a 4 KiB leaf), nothing changes
 * and the result is `None` (null). Otherwise, with `pa`, `prop` of the huge leaf and `level` its
 * node's level, as internal steps:
 *
 * 1. `page_table_node.alloc` at `level - 1` (MD-6) with the ghost `parent` / `parentIdx`, then
 *    `page_table_node_ref.lock` of the new node;
 * 2. for each `i < 512`, `small_pa = pa + i * page_size(level - 1)`: for a tracked item (the
 *    configuration tracks it, as `item_from_raw` does) `meta_slot.get_from_in_use(small_pa)` —
 *    the reference the new PTE holds —, the ghost `EntryOwner::new_frame(small_pa, [i], level - 1,
 *    prop)` in the new node's record with its path inserted into `paths_in_pt(small_pa)`
 *    (tracked only), and `page_table_guard.write_pte(i, new_page(small_pa, level - 1, prop))` on
 *    the new node; after the loop `page_table_guard.nr_children_mut.write(512)`;
 * 3. `child.from_pte` of the huge leaf (its reference leaves the tree as a `Child::Frame`);
 * 4. the new node positioned at the entry (its record, its children and their paths rebased),
 *    `child.from_node` + `child.into_pte` (`self.pte = new_pt(new pa)`), and the parent's
 *    `write_pte(idx, self.pte)` (`nr_children` unchanged: present → present); ghost: the parent's
 *    record holds the new node at `idx`;
 * 5. `child.drop` of the huge leaf: a tracked one releases its reference and its head path.
 *
 * Returns `{ guard }`, the new node's `PageTableGuard`.
 *
 * Deviations (reported): (a) Reference accounting of a tracked huge leaf. The spec (§5.7 (a))
 * says no reference count changes and the head slot keeps the huge frame's stale path. In this
 * model a PTE mapping a tracked item holds one reference on its head slot, counted in `rc` and
 * recorded in `paths_in_pt` (src/model/page_table.ts; INV-ACCT-3 `rc == H + P + cover + R`, and
 * `on_drop` releases one reference per leaf), so each of the 512 new leaves takes a reference
 * (`get_from_in_use`) and records its path, and the huge leaf's reference and head path are
 * released (`child.drop`); dropping the tree afterwards returns every slot to its state. Untracked
 * items hold nothing: no slot is touched. (b) REQ-ENTRY-SPLIT-4 is evaluated for tracked frames
 * only (untracked items may target any address, behaviour.md §2.2; the model's INV-SOUND-3 is
 * tracked-only too), over all 4 KiB pages (`subPagesFailure`) — tracked by the owner, or by the
 * PTE as `item_from_raw` reads it: in the kernel configuration an entry-level `protect` may set
 * AVAIL1 on an untracked (MMIO) leaf (only the cursor's REQ-CURSORMUT-PROTECTNEXT-5 forbids it),
 * and the body would then take references on slots that are not frames. (c) Granularity: the seed's loop
 * body is `guard.entry(i).replace(Child::Frame(small_pa, level - 1, prop))`; the model records
 * its exec effects (the reference, the PTE write) as steps and its ghost effects as explicit
 * edits, and writes `nr_children` once (512) after the loop: ~11 checked steps per sub-page
 * would make a split cost 5 600 checked steps.
 *
 * Requires REQ-HANDLE-1, REQ-ENTRY-BORROW-1, REQ-ENTRY-SPLIT-1..4 (and REQ-META-GETINUSE-2, the
 * `rc >= REF_COUNT_MAX` panic of a sub-page's new reference, through its steps). Owes
 * ENS-ENTRY-SPLIT-1..13 with ENS-ENTRY-SPLIT-8 and -12 as corrected (spec/README.md §4 item 3).
 */
export const entrySplitIfMappedHuge: EventSpec<EntrySplitIfMappedHugeEvent, CompositeResult> = defineEvent<EntrySplitIfMappedHugeEvent, CompositeResult>({
  type: 'entry.split_if_mapped_huge',
  doc: 'Entry::split_if_mapped_huge: if the entry maps a huge page, replace it by a node one level down mapping the same range with 512 smaller pages; return its locked guard.',
  schema: EntrySplitIfMappedHugeEvent,
  requires: [
    ...entryRequires<EntrySplitIfMappedHugeEvent>(),
    {
      rule: 'REQ-ENTRY-SPLIT-1',
      kind: 'requires',
      check: (s, e) => {
        const ctx = entryContext(s, e.entry)
        if (ctx === null) return null
        if (ctx.node === null || ctx.view === null) return `the entry at ${whereOf(ctx)} has no owner (no node record)`
        return regionsInvFor(s, ctx.view) ?? subtreeInvFailure(s, ctx.view, ctx.node.config, whereOf(ctx)) ?? entryWfFailure(ctx, whereOf(ctx))
      },
    },
    onEntry('REQ-ENTRY-SPLIT-2', (s, ctx) => {
      const node = ctx.node!
      return (
        relateGuardFailure(s, ctx.entry.guard) ??
        firstFailure(nodeOwnerInv(s, node, ctx.slot, `pt.owners[${ctx.slot}]`)) ??
        (node.level === ctx.view!.parentLevel ? null : `the parent's level ${node.level} is not the owner's parent level ${ctx.view!.parentLevel}`)
      )
    }),
    onEntry('REQ-ENTRY-SPLIT-3', (_s, ctx) => {
      const level = ctx.node!.level
      return level < NR_LEVELS ? null : `the entry's node is at level ${level}, not below NR_LEVELS = ${NR_LEVELS} (a root entry is never split)`
    }),
    onEntry('REQ-ENTRY-SPLIT-4', (s, ctx) => subPagesFailure(s, ctx.view!, itemTracked(ctx.node!.config, ctx.cached))),
  ],
  reduce(s, e) {
    const ctx = ctxOf(s, e)
    if (!isHugeLeaf(s, ctx)) return { snapshot: s, result: null }
    const level = guardLevel(s, ctx.slot)
    const parent = nodeOwnerAt(s, ctx.slot)!
    const view = ctx.view!
    const pa = ptePaddr(ctx.cached)
    const prop = pteProp(ctx.cached)
    // Exec: whether C::item_from_raw revives a reference; ghost: the owner's own record of it.
    const tracked = itemTracked(parent.config, ctx.cached)
    const ghostFrame = view.kind === 'frame' ? view.frame : { prop, isTracked: tracked }
    const small = level - 1
    const smallSize = pageSize(small)

    const rec = new StepRecorder(s)
    const made = rec.run(ptNodeAlloc, { type: 'page_table_node.alloc', level: small, config: parent.config, parent: ctx.slot * PAGE_SIZE, parentIdx: ctx.entry.idx })
    const newSlot = frameToIndex(made.paddr)
    const { guard } = rec.run(ptNodeRefLock, { type: 'page_table_node_ref.lock', paddr: made.paddr })
    for (let i = 0; i < NR_ENTRIES; i++) {
      const smallPa = pa + i * smallSize
      if (tracked) {
        const taken = rec.run(getFromInUse, { type: 'meta_slot.get_from_in_use', paddr: smallPa })
        if (!taken.ok) throw new Error(`split_if_mapped_huge: sub-page ${hex(smallPa)} was checked in use (REQ-ENTRY-SPLIT-4) but get_from_in_use refused it: ${taken.error}`)
      }
      // Ghost (the seed's proof block): the new child owner, and its path in the slot.
      const before = rec.snapshot
      const owner: LeafEntryOwner = {
        kind: 'frame',
        frame: { mappedPa: smallPa, size: smallSize, prop: ghostFrame.prop, isTracked: ghostFrame.isTracked },
        tree: newSlot,
        path: String(i),
        parentLevel: small,
        inScope: false,
      }
      rec.set(
        editSnapshot(before, (_d, t) => {
          setChild(t, newSlot, t.ptOwners.get(newSlot)!, i, owner)
          if (ghostFrame.isTracked) {
            const idx = frameToIndex(smallPa)
            patchOwner(t, before, idx, { pathsInPt: [...ownerNow(t, before, idx).pathsInPt, qualifiedPath(newSlot, String(i))].sort() })
          }
        }),
      )
      rec.run(ptGuardWritePte, { type: 'page_table_guard.write_pte', guard, idx: i, pte: pteToHex(newPage(smallPa, small, prop)) })
    }
    rec.run(ptGuardNrChildrenWrite, { type: 'page_table_guard.nr_children_mut.write', guard, value: NR_ENTRIES })
    const old = rec.run(childFromPte, { type: 'child.from_pte', pte: ctx.entry.pte, level, node: ctx.slot, idx: ctx.entry.idx })
    const unplaced = rec.snapshot
    rec.set(editSnapshot(unplaced, (_d, t) => positionNode(t, unplaced, newSlot, view.tree, view.path)))
    const { child } = rec.run(childFromNode, { type: 'child.from_node', node: made.node })
    const into = rec.run(childIntoPte, { type: 'child.into_pte', child })
    rec.set(cachePte(rec.snapshot, ctx, into.pte))
    rec.run(ptGuardWritePte, { type: 'page_table_guard.write_pte', guard: ctx.entry.guard, idx: ctx.entry.idx, pte: into.pte })
    rec.set(recordNodeChild(rec.snapshot, ctx, newSlot))
    rec.run(childDrop, { type: 'child.drop', child: old.child })
    return { snapshot: rec.snapshot, result: { guard }, steps: rec.steps }
  },
})

export const ptEntryCompositeEvents: readonly AnyEventSpec[] = [entryAllocIfNone, entrySplitIfMappedHuge] as unknown as readonly AnyEventSpec[]
