/**
 * `Child` / `ChildRef` values (ostd::mm::page_table::node::child; spec/operations.md §1.5,
 * state.md §6.4): the owned and the borrowed decoded form of a PTE, `PageTable(node)` |
 * `Frame(pa, level, prop)` | `None`.
 *
 * A `Child` held by code is one entry of `pt.children` (counter `ptChild`). Its ghost owner (an
 * `EntryOwner` with `in_scope == true`, MD-4) is the node's own record in `pt.owners` for a
 * `Child::PageTable`, and `pt.childOwners[id]` for a `Frame` / `None` child. A `ChildRef` is plain
 * data returned by `Entry::to_ref` (no reference changes).
 *
 * Events:
 *   child.from_pte     `Child::from_pte(pte, level)`: takes what a PTE owns (internal step of replace)
 *   child.into_pte     `Child::into_pte(self)`: gives the child to a PTE (internal step of replace)
 *   child_ref.from_pte `ChildRef::from_pte(&pte, level)`: borrows what a PTE points to (step of to_ref)
 *   child.none         `Child::None`, positioned for the entry it will replace
 *   child.from_node    `Child::PageTable(node)`: a PageTableNode handle moves into the child
 *   child.from_frame   `Child::Frame(C::item_into_raw((frame, prop)))` of a tracked frame
 *   child.untracked    `Child::Frame(pa, level, prop)` of an untracked item
 *   child.drop         drops a Child (a node or tracked frame releases its reference)
 *
 * Model rules (not in the digest): REQ-HANDLE-1 (live handles), REQ-CHILD-POS-1,
 * REQ-CHILD-FROMNODE-1, REQ-CHILD-FROMFRAME-1, REQ-CHILD-UNTRACKED-1, REQ-CHILD-DROP-1, and the ENS-CHILD-NONE /
 * FROMNODE / FROMFRAME / UNTRACKED / DROP postconditions (src/check/rules/page_table/entry.ts).
 */
import { z } from 'zod'
import { frameToIndex, MAX_PADDR, NR_ENTRIES, NR_LEVELS, PAGE_SIZE, pageSize } from '../../src/arch/constants.js'
import { CACHE_POLICIES, pagePropertyEquals, type PageProperty } from '../../src/arch/page_prop.js'
import { isLast, isPresent, newAbsentPte, newPage, newPt, ptePaddr, pteFromHex, pteProp, pteToHex, type Pte } from '../../src/arch/pte.js'
import type { PtConfigName } from '../../src/arch/pt_config.js'
import { editSnapshot } from '../../src/model/edit.js'
import { qualifiedPath, type ChildValue, type LeafEntryOwner, type PtNodeOwner } from '../../src/model/page_table.js'
import { ownerOf } from '../../src/model/slots.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import type { Finding } from '../../src/model/spec/finding.js'
import {
  childOwnerView,
  entryInvBase,
  matchPte,
  metaregionSound,
  nodeEntryView,
  nodeOwnerAt,
  pathInv,
  pathLength,
  type EntryOwnerView,
} from '../../src/model/spec/page_table.js'
import { tableGet, tableWith, type Table } from '../../src/model/table.js'
import { addObligation, freshId, patchOwner } from '../frame/edit.js'
import { frameDrop } from '../frame/frame.js'
import { frameHandleFailure, HANDLE_SUMMARY } from '../frame/handles.js'
import { hex, regionInvAt } from '../frame/meta.js'
import { Addr, HandleId } from '../schema.js'
import { defineEvent, StepRecorder, type ModelEvent, type Requirement } from '../types.js'
import type { AnyEventSpec } from '../index.js'
import { PteHex } from './guard.js'
import { nodeHandleFailure, ptNodeDrop } from './node.js'

// ---- schemas -------------------------------------------------------------------------------

/** A `PageProperty` in an event (its bits are checked by the rules, not the schema). */
export const PagePropertySchema: z.ZodType<PageProperty> = z.object({
  flags: z.number().int().nonnegative(),
  cache: z.enum(CACHE_POLICIES),
  privFlags: z.number().int().nonnegative(),
})

/** A `TreePath` key: `""` or dot-separated indices (`"3.0.511"`); `path.inv()` is a requirement. */
export const PathKeySchema = z.string().regex(/^(\d+(\.\d+)*)?$/, 'expected a tree path key: "" or dot-separated indices such as "3.0.511"')

/** A slot index or entry index as the event gives it (bounds are preconditions, not schema). */
export const Index = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)

/** A paging level argument (1..4). */
export const Level = z.number().int().min(1).max(NR_LEVELS)

// ---- reading Child values and their owners ---------------------------------------------------

/** The first finding as a precondition message, or null. */
export function firstFailure(findings: readonly Finding[]): string | null {
  const f = findings[0]
  return f === undefined ? null : `${f.rule}: ${f.message}`
}

/** The configuration of the tree whose root record is at `tree` (null when there is none). */
export function treeConfig(s: Snapshot, tree: number): PtConfigName | null {
  return nodeOwnerAt(s, tree)?.config ?? null
}

/**
 * Why `tree` names no live tree a Child can be positioned in: the slot holds no node record, or the
 * record of a node inside some tree (a root record is at path "" of its own tree). Null when it does.
 */
function rootRecordFailure(s: Snapshot, tree: number): string | null {
  const r = nodeOwnerAt(s, tree)
  if (r === null) return `tree ${tree} is not a live page table (no root record at slot ${tree})`
  return r.path === '' && r.tree === tree ? null : `tree ${tree} is not a root: slot ${tree} holds the node at path ${JSON.stringify(r.path)} of tree ${r.tree}`
}

/** The configuration a Child value belongs to: a frame's own (`Child<C>`), else its tree's. */
export function childConfig(s: Snapshot, c: ChildValue, view: EntryOwnerView): PtConfigName | null {
  return c.kind === 'Frame' ? c.config : treeConfig(s, view.tree)
}

/** The ghost owner of the `Child` value `id` (its node's record, or `pt.childOwners[id]`). */
export function childOwner(s: Snapshot, id: number): EntryOwnerView | null {
  const c = tableGet(s.pt.children, id)
  if (c === null) return null
  if (c.kind === 'PageTable') {
    const r = nodeOwnerAt(s, frameToIndex(c.paddr))
    return r === null ? null : nodeEntryView(r)
  }
  return tableGet(s.pt.childOwners, id)
}

/** The tree owner of entry `idx` of the node whose record is at `slot`, with that record. */
export function treeEntryOwner(s: Snapshot, slot: number, idx: number): { node: PtNodeOwner; view: EntryOwnerView | null } | null {
  const node = nodeOwnerAt(s, slot)
  if (node === null || !(Number.isInteger(idx) && idx >= 0 && idx < NR_ENTRIES)) return null
  return { node, view: childOwnerView(s, node, idx) }
}

/** `from_pte_spec(pte, level)`: what a PTE holds at `level`. */
export function fromPteSpec(pte: Pte, level: number, config: PtConfigName): ChildValue {
  if (!isPresent(pte)) return { kind: 'None' }
  if (!isLast(pte, level)) return { kind: 'PageTable', paddr: ptePaddr(pte) }
  return { kind: 'Frame', paddr: ptePaddr(pte), level, prop: pteProp(pte), config }
}

/** `Child::into_pte` as a word: `new_pt(pa)`, `new_page(pa, level, prop)` or `new_absent()` (the codec panics on bad input). */
export function intoPteWord(c: ChildValue): Pte {
  if (c.kind === 'PageTable') return newPt(c.paddr)
  if (c.kind === 'Frame') return newPage(c.paddr, c.level, c.prop)
  return newAbsentPte()
}

/**
 * `Child::wf(owner)` / `ChildRef::wf(owner)` (state.md §6.4): `PageTable(n)` ⟹ the owner is the
 * node at `n`; `Frame(pa, lvl, prop)` ⟹ a frame owner mapping `pa` with `prop`, `lvl ==
 * parent_level`; `None` ⟹ an absent owner. Returns why it fails, or null.
 */
export function childWfFailure(c: ChildValue, view: EntryOwnerView | null): string | null {
  if (view === null) return `the ${c.kind} child has no ghost owner`
  if (c.kind === 'PageTable') {
    if (view.kind !== 'node') return `a PageTable child's owner is ${view.kind}, not a node`
    return view.node.slotIndex * PAGE_SIZE === c.paddr ? null : `a PageTable child of ${hex(c.paddr)} is owned by the node at ${hex(view.node.slotIndex * PAGE_SIZE)}`
  }
  if (c.kind === 'Frame') {
    if (view.kind !== 'frame') return `a Frame child's owner is ${view.kind}, not a frame`
    if (view.frame.mappedPa !== c.paddr) return `a Frame child of ${hex(c.paddr)} is owned by a frame owner of ${hex(view.frame.mappedPa)}`
    if (!pagePropertyEquals(view.frame.prop, c.prop)) return `a Frame child's property ${JSON.stringify(c.prop)} differs from its owner's ${JSON.stringify(view.frame.prop)}`
    return c.level === view.parentLevel ? null : `a Frame child of level ${c.level} is owned at parent level ${view.parentLevel}`
  }
  return view.kind === 'absent' ? null : `a None child's owner is ${view.kind}, not absent`
}

/** The slot an owner references (node or mapped frame), or null. */
export function referencedSlot(view: EntryOwnerView): number | null {
  if (view.kind === 'node') return view.node.slotIndex
  if (view.kind === 'frame') return frameToIndex(view.frame.mappedPa)
  return null
}

/** `regions.inv()` where the owner relies on it: at the slot it references (local check). */
export function regionsInvFor(s: Snapshot, view: EntryOwnerView): string | null {
  const idx = referencedSlot(view)
  return idx === null || !(idx >= 0 && idx < s.nrFrames) ? null : regionInvAt(s, idx)
}

/**
 * `EntryOwner::pte_invariants(pte, regions)` (state.md §6.4): `inv()` (so `!in_scope`),
 * `regions.inv()`, `match_pte(pte, parent_level)`, `metaregion_sound(regions)`. A `locked` owner
 * (a sub-tree a cursor holds) is refused: `from_pte` could not give a `Child` that `wf`s it.
 */
export function pteInvariantsFailure(s: Snapshot, view: EntryOwnerView | null, pte: Pte, config: PtConfigName | null, where: string): string | null {
  if (view === null) return `the entry at ${where} has no owner (its node record is missing)`
  if (view.kind === 'locked') return `the entry at ${where} is locked by a cursor; its child cannot be taken`
  return (
    firstFailure(entryInvBase(s, view, where, config)) ??
    (view.inScope ? `the entry at ${where} is in_scope (held by code), not owned by the tree` : null) ??
    regionsInvFor(s, view) ??
    firstFailure(matchPte(view, pte, view.parentLevel, where)) ??
    firstFailure(metaregionSound(s, view, where))
  )
}

/** `Child::invariants(owner, regions)`: `inv_base`, `regions.inv()`, `wf`, `metaregion_sound`, `in_scope`. */
export function childInvariantsFailure(s: Snapshot, id: number): string | null {
  const c = tableGet(s.pt.children, id)
  if (c === null) return `Child ${id} is not a live value`
  const view = childOwner(s, id)
  const where = `pt.children[${id}]`
  if (view === null) return `Child ${id} (${c.kind}) has no ghost owner`
  return (
    firstFailure(entryInvBase(s, view, where, childConfig(s, c, view))) ??
    (view.inScope ? null : `the owner of Child ${id} is not in_scope`) ??
    regionsInvFor(s, view) ??
    childWfFailure(c, view) ??
    firstFailure(metaregionSound(s, view, where))
  )
}

// ---- requirements shared by the page-table events ----------------------------------------

/** REQ-HANDLE-1 on a page-table registry (`pt.nodes`, `pt.guards`, `pt.entries`, `pt.children`) or `frames`. */
export function livePtHandle<E extends ModelEvent>(registry: 'nodes' | 'guards' | 'entries' | 'children' | 'frames', field: keyof E & string): Requirement<E> {
  const kind = { nodes: 'PageTableNode', guards: 'PageTableGuard', entries: 'Entry', children: 'Child', frames: 'Frame' }[registry]
  return {
    rule: 'REQ-HANDLE-1',
    kind: 'requires',
    summary: HANDLE_SUMMARY,
    check: (s, e) => {
      const id = e[field] as number
      // a Frame / node a TLB flusher keeps was moved there (issue_tlb_flush_with); a root node, into its PageTable
      if (registry === 'frames') return frameHandleFailure(s, id)
      if (registry === 'nodes') return nodeHandleFailure(s, id)
      return tableGet(s.pt[registry] as Table<unknown>, id) === null ? `${kind} ${id} is not a live handle (dropped, moved, or never created)` : null
    },
  }
}

/** A position `(tree, path, parentLevel)` a Child owner is created at (REQ-CHILD-POS-1). */
function positionFailure(tree: number, path: string, parentLevel: number): string | null {
  if (!pathInv(path) || pathLength(path) === 0) return `the path ${JSON.stringify(path)} is not a non-empty tree path (at most ${NR_LEVELS} indices below ${NR_ENTRIES})`
  if (!(Number.isInteger(parentLevel) && parentLevel >= 1 && parentLevel <= NR_LEVELS)) return `parent level ${parentLevel} is outside 1..${NR_LEVELS}`
  if (!Number.isSafeInteger(tree) || tree < 0) return `tree ${tree} is not a node slot`
  return null
}

const POS_SUMMARY =
  '[model] A Child\'s ghost owner is created at a well-formed position (`EntryOwner::new_absent` / `new_frame` take the entry\'s path and parent level): a non-empty tree path of at most 4 indices below 512, and a parent level 1..4.'

// ---- child.from_pte ----------------------------------------------------------------------

export const ChildFromPteEvent = z.object({ type: z.literal('child.from_pte'), pte: PteHex, level: Level, node: Index, idx: Index })
export type ChildFromPteEvent = z.infer<typeof ChildFromPteEvent>

function fromPteOwnerFailure(s: Snapshot, e: { pte: string; node: number; idx: number }): string | null {
  const at = treeEntryOwner(s, e.node, e.idx)
  const where = `pt.owners[${e.node}].children[${e.idx}]`
  if (at === null) return `no entry ${e.idx} of a node record at slot ${e.node}`
  return pteInvariantsFailure(s, at.view, pteFromHex(e.pte), at.node.config, where)
}

/**
 * `Child::from_pte(pte, level)` — takes ownership of what the PTE points to: `None` (absent),
 * `PageTable(Frame::from_raw(pa))` (a node: `raw_count := 0`, one obligation minted — the [APR]
 * and [JUN] rules), or `Frame(pa, level, prop)`. The entry's owner (the tree owner of entry `idx`
 * of the node at slot `node`) gets `in_scope := true` and becomes the Child's owner; the tree
 * keeps it, in scope, until `replace` puts the new owner there. No PTE is written.
 *
 * Requires REQ-CHILD-FROMPTE-1, REQ-CHILD-FROMPTE-2. Owes ENS-CHILD-FROMPTE-1..3.
 */
export const childFromPte = defineEvent<ChildFromPteEvent, { child: number }>({
  type: 'child.from_pte',
  doc: 'Child::from_pte: take ownership of what a PTE points to (the owner leaves the tree, in scope).',
  schema: ChildFromPteEvent,
  requires: [
    { rule: 'REQ-CHILD-FROMPTE-1', kind: 'requires', check: (s, e) => fromPteOwnerFailure(s, e) },
    {
      rule: 'REQ-CHILD-FROMPTE-2',
      kind: 'requires',
      check: (s, e) => {
        const view = treeEntryOwner(s, e.node, e.idx)!.view!
        return e.level === view.parentLevel ? null : `level ${e.level} is not the owner's parent level ${view.parentLevel}`
      },
    },
  ],
  reduce(s, e) {
    const pte = pteFromHex(e.pte)
    const { node, view } = treeEntryOwner(s, e.node, e.idx)!
    const value = fromPteSpec(pte, e.level, node.config)
    let child = -1
    const snapshot = editSnapshot(s, (d, t) => {
      child = freshId(d, 'ptChild')
      t.ptChildren.set(child, value)
      if (view!.kind === 'node') {
        const slot = view!.node.slotIndex
        t.ptOwners.set(slot, { ...view!.node, inScope: true })
        patchOwner(t, s, slot, { rawCount: 0 })
        addObligation(t, slot, +1)
      } else {
        const owner = { ...(view as LeafEntryOwner), inScope: true }
        t.ptChildOwners.set(child, owner)
        t.ptOwners.set(e.node, { ...node, children: tableWith(node.children, e.idx, owner) })
      }
    })
    return { snapshot, result: { child } }
  },
})

// ---- child.into_pte ----------------------------------------------------------------------

export const ChildIntoPteEvent = z.object({ type: z.literal('child.into_pte'), child: HandleId })
export type ChildIntoPteEvent = z.infer<typeof ChildIntoPteEvent>

/** What `into_pte` returns: the word, and the owner it hands back with `in_scope = false` (null for a node: its record). */
export interface IntoPteResult {
  readonly pte: string
  readonly owner: LeafEntryOwner | null
}

/**
 * `Child::into_pte(self)` — consumes the Child and returns its PTE word: `new_pt(pa)` (the node
 * handle is forgotten into the PTE: `raw_count += 1`, one obligation redeemed), `new_page(pa,
 * level, prop)`, or `new_absent()`. Ghost: `owner.in_scope := false` — a node's record in place,
 * a Frame / None owner is handed back in the result for the caller to put into the tree.
 *
 * Requires REQ-HANDLE-1, REQ-CHILD-INTOPTE-1. Owes ENS-CHILD-INTOPTE-1..4.
 */
export const childIntoPte = defineEvent<ChildIntoPteEvent, IntoPteResult>({
  type: 'child.into_pte',
  doc: 'Child::into_pte: turn the child into a PTE word (a node handle is forgotten into it); the owner leaves scope.',
  schema: ChildIntoPteEvent,
  requires: [livePtHandle('children', 'child'), { rule: 'REQ-CHILD-INTOPTE-1', kind: 'requires', check: (s, e) => childInvariantsFailure(s, e.child) }],
  reduce(s, e) {
    const value = tableGet(s.pt.children, e.child)!
    const view = childOwner(s, e.child)!
    const pte = intoPteWord(value)
    let owner: LeafEntryOwner | null = null
    const snapshot = editSnapshot(s, (_d, t) => {
      t.ptChildren.set(e.child, null)
      if (view.kind === 'node') {
        const slot = view.node.slotIndex
        t.ptOwners.set(slot, { ...view.node, inScope: false })
        patchOwner(t, s, slot, { rawCount: ownerOf(s, slot).rawCount + 1 })
        addObligation(t, slot, -1)
      } else {
        owner = { ...(view as LeafEntryOwner), inScope: false }
        t.ptChildOwners.set(e.child, null)
      }
    })
    return { snapshot, result: { pte: pteToHex(pte), owner } }
  },
})

// ---- child_ref.from_pte ------------------------------------------------------------------

export const ChildRefFromPteEvent = z.object({ type: z.literal('child_ref.from_pte'), pte: PteHex, level: Level, node: Index, idx: Index })
export type ChildRefFromPteEvent = z.infer<typeof ChildRefFromPteEvent>

/**
 * `ChildRef::from_pte(&pte, level)` — borrows what the PTE points to: `None`, `Frame(pa, level,
 * prop)`, or `PageTable(PageTableNodeRef::borrow_paddr(pa))`. No reference count, path or owner
 * changes (the borrow is plain data in the model).
 *
 * Requires REQ-CHILDREF-FROMPTE-1. Owes ENS-CHILDREF-FROMPTE-1.
 */
export const childRefFromPte = defineEvent<ChildRefFromPteEvent, ChildValue>({
  type: 'child_ref.from_pte',
  doc: 'ChildRef::from_pte: borrow what a PTE points to (no reference changes).',
  schema: ChildRefFromPteEvent,
  requires: [
    {
      rule: 'REQ-CHILDREF-FROMPTE-1',
      kind: 'requires',
      check: (s, e) => {
        const failure = fromPteOwnerFailure(s, e)
        if (failure !== null) return failure
        const view = treeEntryOwner(s, e.node, e.idx)!.view!
        return e.level === view.parentLevel ? null : `level ${e.level} is not the owner's parent level ${view.parentLevel}`
      },
    },
  ],
  reduce(s, e) {
    return { snapshot: s, result: fromPteSpec(pteFromHex(e.pte), e.level, nodeOwnerAt(s, e.node)!.config) }
  },
})

// ---- child.none --------------------------------------------------------------------------

export const ChildNoneEvent = z.object({ type: z.literal('child.none'), tree: Index, path: PathKeySchema, parentLevel: Level })
export type ChildNoneEvent = z.infer<typeof ChildNoneEvent>

/**
 * `Child::None`, with its ghost owner `EntryOwner::new_absent(path, parent_level)` (in scope)
 * positioned for the entry it will replace (REQ-ENTRY-REPLACE-4 requires the same position).
 *
 * Requires REQ-CHILD-POS-1. Owes ENS-CHILD-NONE-1.
 */
export const childNone = defineEvent<ChildNoneEvent, { child: number }>({
  type: 'child.none',
  doc: 'Child::None: an empty child, positioned (ghost) for the entry it will replace.',
  schema: ChildNoneEvent,
  requires: [{ rule: 'REQ-CHILD-POS-1', kind: 'requires', summary: POS_SUMMARY, check: (_s, e) => positionFailure(e.tree, e.path, e.parentLevel) }],
  reduce(s, e) {
    let child = -1
    const snapshot = editSnapshot(s, (d, t) => {
      child = freshId(d, 'ptChild')
      t.ptChildren.set(child, { kind: 'None' })
      t.ptChildOwners.set(child, { kind: 'absent', tree: e.tree, path: e.path, parentLevel: e.parentLevel, inScope: true })
    })
    return { snapshot, result: { child } }
  },
})

// ---- child.from_node ---------------------------------------------------------------------

export const ChildFromNodeEvent = z.object({ type: z.literal('child.from_node'), node: HandleId })
export type ChildFromNodeEvent = z.infer<typeof ChildFromNodeEvent>

/**
 * `Child::PageTable(node)` — the `PageTableNode` handle moves into the Child: the handle leaves
 * `pt.nodes`, the Child holds its reference (rc and obligations unchanged: both count handles and
 * `Child::PageTable` values). The owner is the node's record, unchanged.
 *
 * Requires REQ-HANDLE-1, REQ-CHILD-FROMNODE-1. Owes ENS-CHILD-FROMNODE-1.
 */
export const childFromNode = defineEvent<ChildFromNodeEvent, { child: number }>({
  type: 'child.from_node',
  doc: 'Child::PageTable(node): a PageTableNode handle moves into a Child value.',
  schema: ChildFromNodeEvent,
  requires: [
    livePtHandle('nodes', 'node'),
    {
      rule: 'REQ-CHILD-FROMNODE-1',
      kind: 'requires',
      summary:
        "[model] The PageTableNode moved into a `Child::PageTable` is one code holds: its node record exists and is in scope — not the root of a page table (owned by its tree; `PageTable`'s root cannot be moved out) nor a node installed in a PTE.",
      check: (s, e) => {
        const slot = frameToIndex(tableGet(s.pt.nodes, e.node)!.paddr)
        const r = nodeOwnerAt(s, slot)
        if (r === null) return `the node at slot ${slot} has no owner record`
        return r.inScope ? null : `the node at slot ${slot} is owned by a tree (${r.path === '' ? 'the root of a page table' : `installed at ${qualifiedPath(r.tree, r.path)}`}), not held by code`
      },
    },
  ],
  reduce(s, e) {
    const { paddr } = tableGet(s.pt.nodes, e.node)!
    let child = -1
    const snapshot = editSnapshot(s, (d, t) => {
      t.ptNodes.set(e.node, null)
      child = freshId(d, 'ptChild')
      t.ptChildren.set(child, { kind: 'PageTable', paddr })
    })
    return { snapshot, result: { child } }
  },
})

// ---- child.from_frame --------------------------------------------------------------------

export const ChildFromFrameEvent = z.object({
  type: z.literal('child.from_frame'),
  frame: HandleId,
  prop: PagePropertySchema,
  tree: Index,
  path: PathKeySchema,
  parentLevel: Level,
})
export type ChildFromFrameEvent = z.infer<typeof ChildFromFrameEvent>

/**
 * `Child::Frame(C::item_into_raw((frame, prop)))` for a tracked item: the `Frame` handle is
 * consumed (one obligation redeemed) and its reference moves to the path the child is positioned
 * for, which is inserted into the slot's `paths_in_pt` (H − 1, P + 1: rc unchanged — the
 * conventions of src/model/page_table.ts; the caller's insertion of REQ-ENTRY-REPLACE-2). The
 * item is a 4 KiB page (`Frame::map_level() == 1`).
 *
 * Requires REQ-HANDLE-1, REQ-CHILD-POS-1, REQ-CHILD-FROMFRAME-1. Owes ENS-CHILD-FROMFRAME-1.
 */
export const childFromFrame = defineEvent<ChildFromFrameEvent, { child: number }>({
  type: 'child.from_frame',
  doc: 'Child::Frame of a tracked item (Frame, prop): the handle is consumed and its reference moves to the path it will be mapped at.',
  schema: ChildFromFrameEvent,
  requires: [
    livePtHandle('frames', 'frame'),
    { rule: 'REQ-CHILD-POS-1', kind: 'requires', summary: POS_SUMMARY, check: (_s, e) => positionFailure(e.tree, e.path, e.parentLevel) },
    {
      rule: 'REQ-CHILD-FROMFRAME-1',
      kind: 'requires',
      summary:
        '[model] `C::item_into_raw` of a tracked `Frame`: the tree the child is positioned for is named by its root record (a live root, not a node inside a tree), its configuration has `Frame` items (not the untracked one, whose items are raw `(pa, level, prop)`), the item is a 4 KiB page (`map_level() == 1`, so parent level 1), and the frame\'s slot does not already record the path (`paths_in_pt` is a set: one reference per path).',
      check: (s, e) => {
        const notRoot = rootRecordFailure(s, e.tree)
        if (notRoot !== null) return notRoot
        const config = treeConfig(s, e.tree)
        if (config === 'untracked') return `tree ${e.tree} is an untracked page table: its items are raw (pa, level, prop), not Frames`
        if (e.parentLevel !== 1) return `a Frame handle is a level-1 item (map_level() == 1), not positioned at parent level ${e.parentLevel}`
        const idx = frameToIndex(tableGet(s.frames, e.frame)!.paddr)
        const key = qualifiedPath(e.tree, e.path)
        return ownerOf(s, idx).pathsInPt.includes(key) ? `slot ${idx} already records the path ${key}` : null
      },
    },
  ],
  reduce(s, e) {
    const { paddr } = tableGet(s.frames, e.frame)!
    const idx = frameToIndex(paddr)
    const key = qualifiedPath(e.tree, e.path)
    let child = -1
    const snapshot = editSnapshot(s, (d, t) => {
      t.frames.set(e.frame, null)
      addObligation(t, idx, -1)
      patchOwner(t, s, idx, { pathsInPt: [...ownerOf(s, idx).pathsInPt, key].sort() })
      child = freshId(d, 'ptChild')
      t.ptChildren.set(child, { kind: 'Frame', paddr, level: 1, prop: e.prop, config: treeConfig(s, e.tree)! })
      t.ptChildOwners.set(child, {
        kind: 'frame',
        frame: { mappedPa: paddr, size: PAGE_SIZE, prop: e.prop, isTracked: true },
        tree: e.tree,
        path: e.path,
        parentLevel: 1,
        inScope: true,
      })
    })
    return { snapshot, result: { child } }
  },
})

// ---- child.untracked ---------------------------------------------------------------------

export const ChildUntrackedEvent = z.object({
  type: z.literal('child.untracked'),
  paddr: Addr,
  level: Level,
  prop: PagePropertySchema,
  tree: Index,
  path: PathKeySchema,
})
export type ChildUntrackedEvent = z.infer<typeof ChildUntrackedEvent>

/**
 * `Child::Frame(pa, level, prop)` of an untracked item (MMIO, the untracked configuration): no
 * reference is held and no path is recorded. The owner is a frame owner with `is_tracked ==
 * false`, positioned at parent level `level`.
 *
 * Requires REQ-CHILD-POS-1, REQ-CHILD-UNTRACKED-1. Owes ENS-CHILD-UNTRACKED-1.
 */
export const childUntracked = defineEvent<ChildUntrackedEvent, { child: number }>({
  type: 'child.untracked',
  doc: 'Child::Frame of an untracked item (pa, level, prop): no reference, no path.',
  schema: ChildUntrackedEvent,
  requires: [
    { rule: 'REQ-CHILD-POS-1', kind: 'requires', summary: POS_SUMMARY, check: (_s, e) => positionFailure(e.tree, e.path, e.level) },
    {
      rule: 'REQ-CHILD-UNTRACKED-1',
      kind: 'requires',
      summary:
        '[model] An untracked item is what `item_into_raw` ensures for a leaf — level 1..3, `pa` aligned to `page_size(level)`, `pa + page_size(level) <= MAX_PADDR` — of a configuration that has untracked items (not the user one, whose items are tracked `Frame`s), in a tree named by its root record (a live root, not a node inside a tree).',
      check: (s, e) => {
        const notRoot = rootRecordFailure(s, e.tree)
        if (notRoot !== null) return notRoot
        const config = treeConfig(s, e.tree)
        if (config === 'user') return `tree ${e.tree} is a user page table: its items are tracked Frames, not raw (pa, level, prop)`
        if (e.level > NR_LEVELS - 1) return `a leaf is mapped at levels 1..3, not ${e.level}`
        const size = pageSize(e.level)
        if (e.paddr % size !== 0) return `${hex(e.paddr)} is not aligned to the level-${e.level} page size ${hex(size)}`
        return e.paddr + size <= MAX_PADDR ? null : `${hex(e.paddr)} + ${hex(size)} is beyond MAX_PADDR`
      },
    },
  ],
  reduce(s, e) {
    let child = -1
    const snapshot = editSnapshot(s, (d, t) => {
      child = freshId(d, 'ptChild')
      t.ptChildren.set(child, { kind: 'Frame', paddr: e.paddr, level: e.level, prop: e.prop, config: treeConfig(s, e.tree)! })
      t.ptChildOwners.set(child, {
        kind: 'frame',
        frame: { mappedPa: e.paddr, size: pageSize(e.level), prop: e.prop, isTracked: false },
        tree: e.tree,
        path: e.path,
        parentLevel: e.level,
        inScope: true,
      })
    })
    return { snapshot, result: { child } }
  },
})

// ---- child.drop --------------------------------------------------------------------------

export const ChildDropEvent = z.object({ type: z.literal('child.drop'), child: HandleId })
export type ChildDropEvent = z.infer<typeof ChildDropEvent>

/**
 * Drops a `Child` value.
 *
 * - `None`, or an untracked `Frame`: nothing is released.
 * - A tracked `Frame` releases the reference its path holds, as OSTD does by reviving the item
 *   (`C::item_from_raw`) and dropping it: the path leaves `paths_in_pt` and a `Frame` handle is
 *   revived (P − 1, H + 1), then dropped by an internal `frame.drop` step (rc − 1; the last
 *   reference tears the slot down and returns it to the allocator).
 * - A `PageTable` child drops its `PageTableNode`: the reference moves back into a node handle,
 *   dropped by an internal `page_table_node.drop` step (rc − 1; the last reference runs
 *   `on_drop`).
 *
 * Requires REQ-HANDLE-1, REQ-CHILD-DROP-1. Owes ENS-CHILD-DROP-1..3.
 */
export const childDrop = defineEvent<ChildDropEvent, null>({
  type: 'child.drop',
  doc: 'Drop a Child: a node or tracked frame child releases its reference (teardown at the last one).',
  schema: ChildDropEvent,
  requires: [
    livePtHandle('children', 'child'),
    {
      rule: 'REQ-CHILD-DROP-1',
      kind: 'requires',
      summary: '[model] A Child is dropped only while `Child::invariants(owner, regions)` holds, so the reference it releases exists (its node or tracked frame is live and records it).',
      check: (s, e) => childInvariantsFailure(s, e.child),
    },
  ],
  reduce(s, e) {
    const value = tableGet(s.pt.children, e.child)!
    const view = childOwner(s, e.child)!
    const rec = new StepRecorder(s)
    if (value.kind === 'PageTable') {
      let node = -1
      rec.set(
        editSnapshot(s, (d, t) => {
          t.ptChildren.set(e.child, null)
          node = freshId(d, 'ptNode')
          t.ptNodes.set(node, { paddr: value.paddr })
        }),
      )
      rec.run(ptNodeDrop, { type: 'page_table_node.drop', node })
      return { snapshot: rec.snapshot, result: null, steps: rec.steps }
    }
    if (value.kind === 'Frame' && view.kind === 'frame' && view.frame.isTracked) {
      const idx = frameToIndex(view.frame.mappedPa)
      const key = qualifiedPath(view.tree, view.path)
      let frame = -1
      rec.set(
        editSnapshot(s, (d, t) => {
          t.ptChildren.set(e.child, null)
          t.ptChildOwners.set(e.child, null)
          patchOwner(t, s, idx, { pathsInPt: ownerOf(s, idx).pathsInPt.filter((p) => p !== key) })
          frame = freshId(d, 'frame')
          t.frames.set(frame, { paddr: view.frame.mappedPa })
          addObligation(t, idx, +1)
        }),
      )
      rec.run(frameDrop, { type: 'frame.drop', frame })
      return { snapshot: rec.snapshot, result: null, steps: rec.steps }
    }
    const snapshot = editSnapshot(s, (_d, t) => {
      t.ptChildren.set(e.child, null)
      t.ptChildOwners.set(e.child, null)
    })
    return { snapshot, result: null }
  },
})

export const ptChildEvents: readonly AnyEventSpec[] = [
  childFromPte,
  childIntoPte,
  childRefFromPte,
  childNone,
  childFromNode,
  childFromFrame,
  childUntracked,
  childDrop,
] as unknown as readonly AnyEventSpec[]
