/**
 * Rules of page-table cursors (reducers/page_table/cursor.ts, cursor_mut.ts; spec/state.md §9–§10,
 * operations.md §8.2, §9–§10; behaviour.md §2.5). The cursor state and the spec predicates are in
 * src/model/pt_cursor.ts, whose module comment gives the modelling decisions (OSTD's guard level,
 * the locked range, continuations over the flat owner tree, several cursors at once).
 *
 * Invariants (group B, MD-12: a composite breaks them between its steps):
 * - INV-CURSOR-1..14 (scope `ptCursors`, per cursor): `CursorOwner::inv` (1–11), `Cursor::inv`
 *   (12), `Cursor::wf` (13), and INV-CURSOR-14's own clauses — `nodes_locked`,
 *   `children_not_locked`, `!popped_too_high`; its other conjuncts are the rules above and the
 *   INV-SLOT / INV-REGIONS / INV-SOUND rules.
 * - INV-VIEW-3 (scope `ptEntry`): `CursorView::inv` — every mapping lies within the
 *   configuration's VA bounds. A cursor's view is its page table's whole view (`view_mappings()`
 *   of all continuations), so the clause is checked on every page table's frame entries (a cursor
 *   may be made over any of them at any time); "every mapping `inv()`" is INV-VIEW-1 and
 *   VA-disjointness holds by construction (view VAs are tree positions).
 * - INV-PTCURSOR-1 (model, scope `ptNode`): the range lock — a node a cursor holds is held by one
 *   cursor only, is a tree-owned node of that cursor's page table, inside its guard node's
 *   sub-tree (at most the guard level, inside the span at `prefix`), and its span overlaps the
 *   cursor's range.
 *
 * Postconditions: ENS-VMSPACE-CURSOR-1..4 (`Cursor::new`'s [JUN] spec, operations.md §8.2, on
 * `page_table.cursor` / `page_table.cursor_mut`), ENS-CURSOR-QUERY/FINDNEXT/JUMP/VIRTADDR-* for a
 * `Cursor` and their ENS-CURSORMUT-* aliases for a `CursorMut`, ENS-CURSORMUT-MAP-1..6,
 * ENS-CURSORMUT-PROTECTNEXT-1..3 (`protect_spec`), ENS-CURSORMUT-UNMAP-1..3 (on `cursor_mut.unmap`:
 * `unmap_spec`, the count, the references released), and the model's ENS-PTCURSOR-NEW-1,
 * ENS-PTCURSOR-DROP-1, ENS-PTCURSOR-NEXT-1, ENS-PTCURSOR-MAP-1, ENS-PTCURSOR-TAKENEXT-1..5 (the
 * [JUN] `take_next` ensures operations.md §10.6 summarises without ids, and behaviour.md §2.5.9:
 * which entry is taken, the fragment, the cursor, the references).
 *
 * `take_next` / `protect_next` are checked against a walk of the pre-state's owner tree
 * (`walkFind`): where `find_next_impl` stops — the first leaf, or for `take_next` the first child
 * node wholly in the window at the address — read from the ghost tree, not the PTE words or the
 * reducer's steps; `protect_spec` is checked on the view alone (the first mapping overlapping the
 * window, split to the piece OSTD's walk stops at, `fittingSize`).
 *
 * The semantic specification: every cursor event is checked against the abstract view
 * (src/model/pt_view.ts, from the owner tree) before and after — `query_item_spec` (query),
 * `find_next_spec` (find_next), `jump_spec` and unchanged mappings (jump, query, find_next,
 * creation, drop), `map_spec` per MD-9 (map). Checks are local: the view is read in the window the
 * operation may touch, and every entry the step changed must lie in it.
 *
 * Deviations (behaviour.md wins): `query`'s [FEB] ENS-3 wants an absent slot's range to start at
 * the cursor's address; OSTD returns the slot's range at the level the descent stopped (§2.5.4),
 * so the clause is read as "the range contains the address". `find_next_spec` moves the view's
 * cursor to the end of the found mapping and ignores a mapping that starts before the cursor;
 * OSTD leaves the cursor at the leaf (§2.5.7) and finds the leaf the cursor is inside (returning
 * the cursor's own address), which ENS-CURSOR-FINDNEXT-3/5 check. `protect_spec` likewise finds the
 * mapping the cursor is inside, and its `None` case (`cur_va += len`) is read as "at or past the
 * window end" (OSTD's walk may stop past it); `take_next`'s `None` stops exactly at the window end
 * (behaviour.md §2.5.9, ENS-PTCURSOR-TAKENEXT-4), which `unmap_spec`'s `cur_va' >= cur_va + len`
 * allows.
 */
import equal from 'fast-deep-equal/es6/index.js'
import { frameToIndex, NR_ENTRIES, NR_LEVELS, PAGE_SIZE, pageSize, REF_COUNT_MAX, REF_COUNT_UNUSED, refCountName } from '../../../arch/constants.js'
import { PageFlags, type PageProperty } from '../../../arch/page_prop.js'
import { ptConfig, type PtConfigName } from '../../../arch/pt_config.js'
import { qualifiedPath, splitQualifiedPath, type ChildEntryOwner, type PtNodeOwner } from '../../../model/page_table.js'
import {
  alignDown,
  continuationAt,
  coveredNodes,
  curVaRange,
  cursorAt,
  cursorExecInv,
  cursorInvariants,
  cursorOwnerInv,
  cursorRootSlot,
  cursorWf,
  descentOf,
  fullVa,
  holdersOf,
  indexAt,
  inLockedRange,
  managedViewRange,
  nodeSpan,
  type PtCursor,
} from '../../../model/pt_cursor.js'
import { entryMapping, firstMappingFrom, mappingAt, mappingsIn, pathVaddr, positionedAsInPageTable, type Mapping, type VaRange } from '../../../model/pt_view.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { childPath, nodeOwnerAt, pathLength } from '../../../model/spec/page_table.js'
import { obligationsOf, ownerOf, slotOf } from '../../../model/slots.js'
import type { Snapshot } from '../../../model/snapshot.js'
import { emptyTable, tableDiff, tableForEach, tableGet, type Table } from '../../../model/table.js'
import type { CursorMutProtectNextEvent, MappedItemArg, PageTableFragOut } from '../../../../reducers/page_table/cursor_mut.js'
import type { MappedItemOut, QueryValue, RangeOut } from '../../../../reducers/page_table/cursor.js'
import { expectedCursorRange, expectedQueryPanic, leafIsTracked, protectedProperty, rawOfMapArg } from './cursor_args.js'
import { pageTableHandle } from '../../../model/pt_tables.js'
import type { EnsContext, EnsRule, InvRule } from '../../rule.js'
import { ens, inv, isErrResult, isOkResult, num, obligationsChanged, parkingChanged } from '../helpers.js'

// ---- invariants ------------------------------------------------------------------------------

/** All INV-CURSOR findings of a cursor, computed once per snapshot and cursor. */
let findingsFor: Snapshot | null = null
let findingsCache = new Map<number, Finding[]>()

function cursorFindings(s: Snapshot, id: number): Finding[] {
  if (findingsFor !== s) {
    findingsFor = s
    findingsCache = new Map()
  }
  let out = findingsCache.get(id)
  if (out === undefined) {
    const c = cursorAt(s, id)
    out = c === null ? [] : cursorInvariants(s, id, c)
    findingsCache.set(id, out)
  }
  return out
}

const cursorInvariantRules: InvRule[] = Array.from({ length: 14 }, (_, k) => {
  const id = `INV-CURSOR-${k + 1}`
  return inv(id, 'B', 'ptCursors', (s, unit) => cursorFindings(s, unit).filter((f) => f.rule === id))
})

/** Per record: where its entries map (base VA, page size) and the configuration's bounds, or null when it is no page table's. */
const recordBounds = new WeakMap<PtNodeOwner, { base: number; size: number; bounds: VaRange } | null>()

/** A pure function of the record (so the verdict is its unit's own: incremental checking agrees). */
function boundsOf(node: PtNodeOwner): { base: number; size: number; bounds: VaRange } | null {
  let b = recordBounds.get(node)
  if (b === undefined) {
    b = positionedAsInPageTable(node) ? { base: pathVaddr(node.path), size: pageSize(node.level), bounds: managedViewRange(node.config) } : null
    recordBounds.set(node, b)
  }
  return b
}

/** INV-VIEW-3: a frame entry of a page table's tree maps inside the configuration's VA bounds. */
function viewBounds(s: Snapshot, unit: number): Finding[] {
  const slot = Math.floor(unit / NR_ENTRIES)
  const idx = unit - slot * NR_ENTRIES
  const node = nodeOwnerAt(s, slot)
  if (node === null) return []
  const c = tableGet(node.children, idx)
  if (c === null || c.kind !== 'frame') return []
  const b = boundsOf(node)
  if (b === null) return []
  const start = b.base + idx * b.size
  return start >= b.bounds.start && start + b.size <= b.bounds.end
    ? []
    : [finding('INV-VIEW-3', `pt.owners[${slot}].children[${idx}]`, `the mapping [${start}, ${start + b.size}) lies outside the ${node.config} configuration's VA range [${b.bounds.start}, ${b.bounds.end})`, b.bounds, { start, end: start + b.size })]
}

/** INV-PTCURSOR-1 at a node: the cursors holding it hold it legitimately. */
function rangeLockAt(s: Snapshot, slot: number): Finding[] {
  if (s.pt.cursors.count === 0) return []
  const holders = holdersOf(s, slot)
  if (holders.length === 0) return []
  const rule = 'INV-PTCURSOR-1'
  const out: Finding[] = []
  if (holders.length > 1) out.push(finding(rule, `pt.cursors@${slot}`, `node ${slot} is held by cursors ${holders.join(', ')} at once`, 1, holders.length))
  for (const id of holders) {
    const c = cursorAt(s, id)!
    const at = `pt.cursors[${id}].locked[${slot}]`
    const r = nodeOwnerAt(s, slot)
    const root = cursorRootSlot(s, c)
    if (r === null || r.inScope || r.tree !== root) {
      out.push(finding(rule, at, `cursor ${id} holds node ${slot}, which is not a tree-owned node of its page table`, { tree: root, inScope: false }, r === null ? null : { tree: r.tree, inScope: r.inScope }))
      continue
    }
    // Inside the guard node's sub-tree: at most the guard level, within the guard node's span
    // (`prefix`, `page_size(guard_level + 1)`); and overlapping the range.
    const span = nodeSpan(r)
    const g = c.owner.guardLevel
    const guardSpan = { start: c.owner.prefix, end: c.owner.prefix + pageSize(g + 1) }
    if (!(r.level <= g && span.start >= guardSpan.start && span.end <= guardSpan.end) || !(span.start < c.barrierVa.end && c.barrierVa.start < span.end)) {
      out.push(finding(rule, at, `cursor ${id} holds node ${slot} (span [${span.start}, ${span.end})), which is not below its guard node overlapping its range [${c.barrierVa.start}, ${c.barrierVa.end})`))
    }
  }
  return out
}

const invariantRules: InvRule[] = [
  ...cursorInvariantRules,
  inv('INV-VIEW-3', 'B', 'ptEntry', viewBounds),
  inv(
    'INV-PTCURSOR-1',
    'B',
    'ptNode',
    rangeLockAt,
    "[model] A cursor's range lock (the nodes it holds without a guard after `dfs_acquire_lock`, and the nodes it created) is its own: a node is held by at most one cursor, and it is a tree-owned node of that cursor's page table, inside the cursor's guard-node sub-tree, whose span overlaps the cursor's range.",
  ),
]

// ---- shared pieces of the postconditions ----------------------------------------------------------

function cursorId(ctx: EnsContext): number {
  return num(ctx.event, 'cursor')
}

/** The cursor of the event in the pre-state, when it has the given kind (the spec's Cursor / CursorMut ids). */
function preCursor(ctx: EnsContext, kind: 'Cursor' | 'CursorMut' | 'any'): PtCursor | null {
  const c = cursorAt(ctx.pre, cursorId(ctx))
  return c === null || (kind !== 'any' && c.kind !== kind) ? null : c
}

/** The cursor's findings after the step, mapped to the ENS id (the "holds afterwards" clauses). */
function holdsAfter(ctx: EnsContext, rule: string, which: (s: Snapshot, id: number, c: PtCursor) => Finding[]): Finding[] {
  const id = cursorId(ctx)
  const c = cursorAt(ctx.post, id)
  if (c === null) return [finding(rule, `pt.cursors[${id}]`, 'the cursor is gone after the step')]
  return which(ctx.post, id, c).map((f) => finding(rule, f.path, `${f.rule}: ${f.message}`, f.expected, f.actual))
}

const ownerWf = (s: Snapshot, id: number, c: PtCursor): Finding[] => [...cursorOwnerInv(s, id, c), ...cursorWf(id, c), ...cursorExecInv(id, c)]
const allCi = (s: Snapshot, id: number, c: PtCursor): Finding[] => cursorInvariants(s, id, c)

/** The entry owner at `(slot, idx)` of a record (null = the canonical absent entry). */
function ownerAt(r: PtNodeOwner | null, idx: number): ChildEntryOwner | null {
  return r === null ? null : tableGet(r.children, idx)
}

/** The view span of entry `idx` of a record positioned in the page table rooted at `root`, or null. */
function entrySpan(r: PtNodeOwner | null, idx: number, root: number): VaRange | null {
  if (r === null || r.tree !== root || !positionedAsInPageTable(r)) return null
  const size = pageSize(r.level)
  const start = pathVaddr(r.path) + idx * size
  return { start, end: start + size }
}

interface ViewChange {
  readonly unit: number
  readonly span: VaRange
  readonly before: ChildEntryOwner | null
  readonly after: ChildEntryOwner | null
}

/**
 * The entries of the page table rooted at `root` whose owner changed in the step and that the view
 * reads: a frame before or after, or a node before (its sub-tree left). Found by diffing the owner
 * records (unchanged chunks are skipped), so the cost follows what changed.
 */
function viewChanges(ctx: EnsContext, root: number): ViewChange[] {
  const out: ViewChange[] = []
  const visit = (slot: number, idx: number, rb: PtNodeOwner | null, ra: PtNodeOwner | null, b: ChildEntryOwner | null, a: ChildEntryOwner | null): void => {
    const reads = b?.kind === 'frame' || b?.kind === 'node' || a?.kind === 'frame'
    if (!reads) return
    const span = (b?.kind === 'frame' || b?.kind === 'node' ? entrySpan(rb, idx, root) : null) ?? (a?.kind === 'frame' ? entrySpan(ra, idx, root) : null)
    if (span !== null) out.push({ unit: slot * NR_ENTRIES + idx, span, before: b, after: a })
  }
  const none = emptyTable<ChildEntryOwner>(NR_ENTRIES)
  tableDiff(ctx.pre.pt.owners, ctx.post.pt.owners, (slot, rb, ra) => {
    const moved = rb === null || ra === null || rb.tree !== ra.tree || rb.path !== ra.path || rb.level !== ra.level
    if (moved) {
      // a record added, removed or moved: every entry it has on either side
      const idxs = new Set<number>()
      tableForEach(rb?.children ?? none, (_c, i) => idxs.add(i))
      tableForEach(ra?.children ?? none, (_c, i) => idxs.add(i))
      for (const i of idxs) visit(slot, i, rb, ra, ownerAt(rb, i), ownerAt(ra, i))
    } else if (rb.children !== ra.children) {
      tableDiff(rb.children, ra.children, (i, b, a) => visit(slot, i, rb, ra, b, a))
    }
  })
  return out
}

/** "`owner@.mappings` unchanged": no entry of the page table's view changed. */
function mappingsUnchanged(ctx: EnsContext, rule: string, root: number | null): Finding[] {
  if (root === null) return []
  const changed = viewChanges(ctx, root)
  if (changed.length === 0) return []
  const c = changed[0]!
  return [finding(rule, `pt.owners[${Math.floor(c.unit / NR_ENTRIES)}].children[${c.unit % NR_ENTRIES}]`, `the page table's mappings changed at [${c.span.start}, ${c.span.end})`, c.before, c.after)]
}

/** No slot, parking or obligation changed (`regions` unchanged). */
function regionsUnchanged(ctx: EnsContext, rule: string): Finding[] {
  const ch = ctx.changes
  const touched = [...ch.slotCells, ...ch.parking, ...ch.obligations]
  return touched.length === 0 ? [] : [finding(rule, `regions.slotOwners[${touched[0]}]`, `slot ${touched[0]} changed (regions must be unchanged)`, ownerOf(ctx.pre, touched[0]!), ownerOf(ctx.post, touched[0]!))]
}

/** A full address of a result as a view address. */
function toView(config: PtConfigName, va: number | string): number {
  return Number(BigInt(va) - BigInt(fullVa(config, 0)))
}

function rangeOutOf(config: PtConfigName, r: VaRange): RangeOut {
  return { start: fullVa(config, r.start), end: fullVa(config, r.end) }
}

/** The raw `(pa, size, prop)` of a result item (`item_into_raw`), with whether it is tracked. */
function rawOfItem(ctx: EnsContext, config: PtConfigName, item: MappedItemOut): { pa: number; size: number; prop: PageProperty; tracked: boolean } | null {
  if ('frame' in item) {
    const f = tableGet(ctx.post.frames, item.frame)
    if (f === null) return null
    return { pa: f.paddr, size: PAGE_SIZE, prop: config === 'kernel' ? { ...item.prop, flags: item.prop.flags | PageFlags.AVAIL1 } : item.prop, tracked: true }
  }
  return { pa: item.pa, size: pageSize(item.level), prop: item.prop, tracked: false }
}

/**
 * `query_item_spec(item) == Some(query_range())`: the item is the mapping `m` (pa, size, property)
 * — and one `item_from_raw` returns: a `Frame` exactly when the configuration tracks the leaf
 * (constants.md §5: every leaf of the user configuration, none of the untracked one, the kernel's
 * by AVAIL1), and in the kernel configuration AVAIL1 marks a tracked item in the PTE only, so an
 * item whose property carries it is none.
 */
function itemIsMapping(ctx: EnsContext, config: PtConfigName, item: MappedItemOut, m: Mapping): boolean {
  if (config === 'kernel' && (item.prop.flags & PageFlags.AVAIL1) !== 0) return false
  const raw = rawOfItem(ctx, config, item)
  return raw !== null && raw.tracked === leafIsTracked(config, m.property) && raw.pa === m.paRange.start && raw.size === m.pageSize && equal(raw.prop, m.property)
}

// ---- creation --------------------------------------------------------------------------------

const NEW_EVENTS = ['page_table.cursor', 'page_table.cursor_mut']

interface NewContext {
  readonly config: PtConfigName
  readonly root: number
  readonly range: VaRange | null
}

function newContext(ctx: EnsContext): NewContext | null {
  const h = pageTableHandle(ctx.pre, num(ctx.event, 'pageTable'))
  if (h === null) return null
  const r = expectedCursorRange(h.config, ctx.event as unknown as { vaStart: number; vaEnd: number })
  return { config: h.config, root: frameToIndex(h.rootPaddr), range: r.ok ? r.value : null }
}

function newCursorOf(ctx: EnsContext, rule: string): { id: number; c: PtCursor } | Finding[] {
  if (!isOkResult(ctx.result)) return [finding(rule, 'result', 'the creation failed', 'Ok', ctx.result)]
  const id = (ctx.result.value as { cursor: number }).cursor
  const c = cursorAt(ctx.post, id)
  if (c === null || cursorAt(ctx.pre, id) !== null) return [finding(rule, `pt.cursors[${id}]`, 'the result names no new live cursor')]
  return { id, c }
}

const newRules: EnsRule[] = [
  ens('ENS-VMSPACE-CURSOR-1', NEW_EVENTS, (ctx) => {
    const rule = 'ENS-VMSPACE-CURSOR-1'
    const n = newContext(ctx)
    if (n === null || n.range === null) return []
    const got = newCursorOf(ctx, rule)
    if (Array.isArray(got)) return got
    const { id, c } = got
    const out = cursorInvariants(ctx.post, id, c).map((f) => finding(rule, f.path, `c.invariants fails: ${f.rule}: ${f.message}`, f.expected, f.actual))
    if (!(inLockedRange(c.owner) && c.level === c.guardLevel && c.va === n.range.start && c.va < c.barrierVa.end && equal(c.barrierVa, n.range))) {
      out.push(finding(rule, `pt.cursors[${id}]`, 'the new cursor is not at the start of the requested range at its guard level (in_locked_range, level == guard_level, va == va.start, barrier_va == va)', { va: n.range.start, barrierVa: n.range, level: c.guardLevel }, { va: c.va, barrierVa: c.barrierVa, level: c.level }))
    }
    if (c.pageTable !== num(ctx.event, 'pageTable')) out.push(finding(rule, `pt.cursors[${id}].pageTable`, 'the cursor is over another page table', num(ctx.event, 'pageTable'), c.pageTable))
    out.push(...mappingsUnchanged(ctx, rule, n.root))
    return out
  }),
  ens('ENS-VMSPACE-CURSOR-2', NEW_EVENTS, (ctx) => {
    const rule = 'ENS-VMSPACE-CURSOR-2'
    const n = newContext(ctx)
    if (n === null || n.range !== null) return []
    const want = expectedCursorRange(n.config, ctx.event as unknown as { vaStart: number; vaEnd: number })
    const out: Finding[] = []
    if (!isErrResult(ctx.result) || !equal(ctx.result, want)) out.push(finding(rule, 'result', 'an invalid or unaligned range must be refused with the error OSTD checks first (InvalidVaddrRange, then UnalignedVaddr)', want, ctx.result))
    if (ctx.pre !== ctx.post) out.push(finding(rule, 'snapshot', 'the failed creation changed the state'))
    return out
  }),
  ens('ENS-VMSPACE-CURSOR-3', NEW_EVENTS, (ctx) => {
    const rule = 'ENS-VMSPACE-CURSOR-3'
    const out: Finding[] = []
    for (const i of ctx.changes.slotCells) {
      const a = ownerOf(ctx.pre, i)
      if (a.innerPerms.refCount === REF_COUNT_UNUSED) continue
      const b = ownerOf(ctx.post, i)
      if (!equal(a.pathsInPt, b.pathsInPt) || a.innerPerms.refCount !== b.innerPerms.refCount || a.usage !== b.usage) {
        out.push(finding(rule, `regions.slotOwners[${i}]`, `slot ${i}, in use before, changed its paths_in_pt, rc or usage`, { pathsInPt: a.pathsInPt, rc: refCountName(a.innerPerms.refCount), usage: a.usage }, { pathsInPt: b.pathsInPt, rc: refCountName(b.innerPerms.refCount), usage: b.usage }))
      }
    }
    return out
  }),
  ens('ENS-VMSPACE-CURSOR-4', NEW_EVENTS, (ctx) => {
    const rule = 'ENS-VMSPACE-CURSOR-4'
    const out: Finding[] = []
    for (const i of ctx.changes.slotCells) {
      const a = slotOf(ctx.pre, i).refCount
      const b = slotOf(ctx.post, i).refCount
      if ((a >= REF_COUNT_MAX) !== (b >= REF_COUNT_MAX) || (a >= REF_COUNT_MAX && a !== b)) out.push(finding(rule, `metaSlots[${i}].refCount`, `slot ${i}'s saturation (rc >= REF_COUNT_MAX) changed`, refCountName(a), refCountName(b)))
    }
    return out
  }),
  ens(
    'ENS-PTCURSOR-NEW-1',
    NEW_EVENTS,
    (ctx) => {
      const rule = 'ENS-PTCURSOR-NEW-1'
      const n = newContext(ctx)
      if (n === null || n.range === null) return []
      const got = newCursorOf(ctx, rule)
      if (Array.isArray(got)) return got
      const { id, c } = got
      const out: Finding[] = []
      const kind = ctx.event.type === 'page_table.cursor' ? 'Cursor' : 'CursorMut'
      if (c.kind !== kind) out.push(finding(rule, `pt.cursors[${id}].kind`, `${ctx.event.type} made a ${c.kind}`, kind, c.kind))
      const d = descentOf(ctx.post, n.root, n.range)
      const g = c.owner.continuations[c.guardLevel - 1]
      if (d.missingAt !== null || g === null || g === undefined || g.slot !== d.slot || c.guardLevel !== d.level) {
        out.push(finding(rule, `pt.cursors[${id}].guardLevel`, 'the guard node is not where the descent stops (the range spans two entries, level 1, or a huge leaf; missing nodes allocated)', { slot: d.slot, level: d.level }, { slot: g?.slot ?? null, level: c.guardLevel }))
        return out
      }
      const want = coveredNodes(ctx.post, d.slot, d.level, n.range).sort((a, b) => a - b)
      const have: number[] = []
      tableForEach(c.locked, (_v, slot) => have.push(slot))
      if (!equal(want, have)) out.push(finding(rule, `pt.cursors[${id}].locked`, 'the cursor does not hold exactly the covered sub-tree (the guard node and every node below it overlapping the range)', want, have))
      const newLocks: number[] = []
      tableDiff(ctx.pre.pt.locks, ctx.post.pt.locks, (slot, b, a) => {
        if (b === null && a !== null) newLocks.push(slot)
        else out.push(finding(rule, `pt.locks[${slot}]`, `Guards lost node ${slot}`))
      })
      if (!equal(newLocks, [d.slot])) out.push(finding(rule, 'pt.locks', 'Guards must gain exactly the guard node (the other covered nodes are held without a guard)', [d.slot], newLocks))
      if (handlesChanged(ctx.pre.pt.entries, ctx.post.pt.entries) || handlesChanged(ctx.pre.pt.children, ctx.post.pt.children)) out.push(finding(rule, 'pt.entries', 'an Entry or Child value is left behind'))
      tableDiff(ctx.pre.pt.cursors, ctx.post.pt.cursors, (other) => {
        if (other !== id) out.push(finding(rule, `pt.cursors[${other}]`, `cursor ${other} changed`))
      })
      return out
    },
    "[model] `Cursor::new` holds the covered sub-tree: the new cursor has the event's kind, its guard node is where OSTD's descent stops (behaviour.md §2.5.2), its range lock is exactly the guard node and every node below it overlapping the range (`dfs_acquire_lock`), `Guards` gains exactly the guard node; no Entry or Child value is left and no other cursor changes.",
  ),
]

// ---- drop ------------------------------------------------------------------------------------

const dropRules: EnsRule[] = [
  ens(
    'ENS-PTCURSOR-DROP-1',
    ['cursor.drop'],
    (ctx) => {
      const rule = 'ENS-PTCURSOR-DROP-1'
      const id = cursorId(ctx)
      const c = cursorAt(ctx.pre, id)!
      const out: Finding[] = []
      if (cursorAt(ctx.post, id) !== null) out.push(finding(rule, `pt.cursors[${id}]`, 'the cursor is still live'))
      tableForEach(c.locked, (_v, slot) => {
        const st = slotOf(ctx.post, slot).storage
        if ((st?.kind === 'PTNode' && st.lock !== 0) || tableGet(ctx.post.pt.locks, slot) !== null) out.push(finding(rule, `metaSlots[${slot}].storage.lock`, `node ${slot}, which the cursor held, is still locked`, 0, st?.kind === 'PTNode' ? st.lock : null))
      })
      for (const g of c.path) if (g !== null && tableGet(ctx.post.pt.guards, g) !== null) out.push(finding(rule, `pt.guards[${g}]`, `the cursor's path guard ${g} is still live`))
      tableDiff(ctx.pre.pt.cursors, ctx.post.pt.cursors, (other) => {
        if (other !== id) out.push(finding(rule, `pt.cursors[${other}]`, `cursor ${other} changed`))
      })
      if (ctx.pre.pt.owners !== ctx.post.pt.owners || ctx.changes.memory.size > 0) out.push(finding(rule, 'pt.owners', "the drop changed the page table's tree"))
      if (handlesChanged(ctx.pre.pt.entries, ctx.post.pt.entries) || handlesChanged(ctx.pre.pt.children, ctx.post.pt.children)) out.push(finding(rule, 'pt.entries', 'an Entry or Child value is left behind'))
      return out
    },
    "[model] Drop of a cursor (`unlock_range`): the cursor leaves the registry, every node it held is unlocked (lock byte 0, not in Guards), its path guards are gone; the tree, the other cursors and the handles are unchanged.",
  ),
]

// ---- virt_addr ---------------------------------------------------------------------------------

function virtAddrRule(id: string, kind: 'Cursor' | 'CursorMut'): EnsRule {
  return ens(id, ['cursor.virt_addr'], (ctx) => {
    const c = preCursor(ctx, kind)
    if (c === null) return []
    const out: Finding[] = []
    const want = fullVa(c.config, c.va)
    if (!equal(ctx.result, want)) out.push(finding(id, 'result', 'virt_addr does not return the current address', want, ctx.result))
    if (ctx.pre !== ctx.post) out.push(finding(id, 'snapshot', 'virt_addr changed the state'))
    return out
  })
}

// ---- query -----------------------------------------------------------------------------------

type QueryResult = { ok: true; value: QueryValue } | { ok: false; error: unknown }

function queryRules(prefix: 'ENS-CURSOR-QUERY' | 'ENS-CURSORMUT-QUERY', kind: 'Cursor' | 'CursorMut'): EnsRule[] {
  const on = (n: number, check: (ctx: EnsContext, c: PtCursor, r: QueryResult, rule: string) => Finding[]): EnsRule =>
    ens(`${prefix}-${n}`, ['cursor.query'], (ctx) => {
      const c = preCursor(ctx, kind)
      return c === null ? [] : check(ctx, c, ctx.result as QueryResult, `${prefix}-${n}`)
    })
  const present = (ctx: EnsContext, c: PtCursor): Mapping | null => {
    const root = cursorRootSlot(ctx.pre, c)
    return root === null ? null : mappingAt(ctx.pre, root, c.va, { source: 'ghost', config: c.config })
  }
  return [
    on(1, (ctx, _c, _r, rule) => holdsAfter(ctx, rule, allCi)),
    on(2, (_ctx, c, r, rule) => {
      if (c.va >= c.barrierVa.start && c.va < c.barrierVa.end) return r.ok ? [] : [finding(rule, 'result', 'a query inside the range failed', 'Ok', r)]
      // At or past the end (§9.1(a)1, behaviour.md §2.5.4): `Err(InvalidVaddr(va))`, the cursor's own address.
      const want = { ok: false, error: { kind: 'InvalidVaddr', va: fullVa(c.config, c.va) } }
      return equal(r, want) ? [] : [finding(rule, 'result', 'a query at or past the end of the range must return Err(InvalidVaddr(va)) with the cursor\'s address', want, r)]
    }),
    on(3, (ctx, c, r, rule) => {
      if (!r.ok) return []
      const [range, item] = r.value
      const m = present(ctx, c)
      if (m !== null) {
        const raw = item === null ? null : rawOfItem(ctx, c.config, item)
        return equal(range, rangeOutOf(c.config, m.vaRange)) && raw !== null && raw.pa === m.paRange.start
          ? []
          : [finding(rule, 'result', 'query_item_spec: the range is not the mapping at the address, or the item is not its frame', { range: rangeOutOf(c.config, m.vaRange), pa: m.paRange.start }, r.value)]
      }
      const start = toView(c.config, range.start)
      const end = toView(c.config, range.end)
      return item === null && start <= c.va && c.va < end ? [] : [finding(rule, 'result', 'nothing is mapped at the address: the item must be None and the range must contain the address', { item: null, contains: fullVa(c.config, c.va) }, r.value)]
    }),
    on(4, (ctx, c, r, rule) => {
      if (!inLockedRange(c.owner)) return []
      const out: Finding[] = []
      if (!r.ok) out.push(finding(rule, 'result', 'a query in the locked range failed', 'Ok', r))
      const panic = expectedQueryPanic(ctx.pre, c)
      if (panic !== null) out.push(finding(rule, 'result', `the query returned although its panic condition holds: ${panic}`))
      return out
    }),
    on(5, (ctx, c, r, rule) => {
      if (!r.ok) return []
      const [range, item] = r.value
      const m = present(ctx, c)
      const after = cursorAt(ctx.post, cursorId(ctx))
      if (m === null) return item === null ? [] : [finding(rule, 'result', 'nothing is mapped at the address but the query returned an item', null, item)]
      const out: Finding[] = []
      if (after !== null && !equal(range, rangeOutOf(c.config, curVaRange(after)))) out.push(finding(rule, 'result[0]', "the range is not the cursor's current slot (cur_va_range at the level the query reached)", rangeOutOf(c.config, curVaRange(after)), range))
      if (item === null || !itemIsMapping(ctx, c.config, item, m)) out.push(finding(rule, 'result[1]', 'query_item_spec(item) != Some(query_range()): the item is not the mapping at the address', { pa: m.paRange.start, pageSize: m.pageSize, prop: m.property }, item))
      return out
    }),
    on(6, (ctx, c, _r, rule) => {
      const out = mappingsUnchanged(ctx, rule, cursorRootSlot(ctx.pre, c))
      const after = cursorAt(ctx.post, cursorId(ctx))
      if (after === null || after.va !== c.va || after.owner.va !== c.owner.va) out.push(finding(rule, `pt.cursors[${cursorId(ctx)}].va`, 'the query moved the cursor', c.va, after?.va ?? null))
      return out
    }),
    on(7, (ctx, _c, r, rule) => {
      const item = r.ok ? r.value[1] : null
      const expected = new Map<number, number>()
      if (item !== null && 'frame' in item) {
        const f = tableGet(ctx.post.frames, item.frame)
        if (f === null || tableGet(ctx.pre.frames, item.frame) !== null) return [finding(rule, 'result[1].frame', 'the tracked item is not a new Frame handle')]
        expected.set(frameToIndex(f.paddr), 1)
      }
      const out: Finding[] = []
      for (const i of new Set([...ctx.changes.slotCells, ...ctx.changes.obligations, ...expected.keys()])) {
        const d = expected.get(i) ?? 0
        const rcA = slotOf(ctx.pre, i).refCount
        const rcB = slotOf(ctx.post, i).refCount
        const ghostA = ownerOf(ctx.pre, i)
        const ghostB = ownerOf(ctx.post, i)
        if (rcB !== rcA + d || ghostB.innerPerms.refCount !== ghostA.innerPerms.refCount + d || obligationsOf(ctx.post, i) !== obligationsOf(ctx.pre, i) + d || !equal(ghostA.pathsInPt, ghostB.pathsInPt)) {
          out.push(finding(rule, `regions.slotOwners[${i}]`, d === 1 ? `the cloned frame's slot ${i} must gain exactly one reference and one obligation` : `slot ${i} changed although the query clones nothing there`, { rc: refCountName(rcA + d), obligations: obligationsOf(ctx.pre, i) + d }, { rc: refCountName(rcB), obligations: obligationsOf(ctx.post, i) }))
        }
      }
      return out
    }),
  ]
}

const nextRules: EnsRule[] = [
  ens(
    'ENS-PTCURSOR-NEXT-1',
    ['cursor.next'],
    (ctx) => {
      const rule = 'ENS-PTCURSOR-NEXT-1'
      const c = preCursor(ctx, 'any')!
      const after = cursorAt(ctx.post, cursorId(ctx))
      if (c.va >= c.barrierVa.end) {
        const out: Finding[] = []
        if (ctx.result !== null) out.push(finding(rule, 'result', 'next() past the end must be None', null, ctx.result))
        if (ctx.pre !== ctx.post) out.push(finding(rule, 'snapshot', 'next() past the end changed the state'))
        return out
      }
      const r = ctx.result as QueryValue | null
      if (r === null) return [finding(rule, 'result', 'next() inside the range returned None')]
      const query = ctx.steps?.find((st) => st.event.type === 'cursor.query')
      if (query === undefined || !isOkResult(query.result) || !equal(query.result.value, r)) return [finding(rule, 'result', 'next() does not return what its query() returned', query?.result, r)]
      const root = cursorRootSlot(ctx.pre, c)
      const m = root === null ? null : mappingAt(ctx.pre, root, c.va, { source: 'ghost', config: c.config })
      const want = m === null ? toView(c.config, r[0].end) : m.vaRange.end
      return after !== null && after.va === want && after.owner.va === want ? [] : [finding(rule, `pt.cursors[${cursorId(ctx)}].va`, 'next() does not advance the cursor to the end of the slot it returned', want, after?.va ?? null)]
    },
    "[model] `Iterator::next`: past the end None and nothing changes; otherwise the result of its `query()` (an internal step) and the cursor advanced to the end of the returned slot (`move_forward`; the end of the mapping when one is there).",
  ),
]

// ---- jump ------------------------------------------------------------------------------------

function jumpRules(prefix: 'ENS-CURSOR-JUMP' | 'ENS-CURSORMUT-JUMP', kind: 'Cursor' | 'CursorMut'): EnsRule[] {
  const target = (ctx: EnsContext, c: PtCursor): number | null => {
    const v = BigInt((ctx.event as unknown as { va: number | string }).va) - BigInt(fullVa(c.config, 0))
    return v >= 0n && v < 1n << 48n && Number(v) >= c.barrierVa.start && Number(v) < c.barrierVa.end ? Number(v) : null
  }
  const on = (n: number, check: (ctx: EnsContext, c: PtCursor, rule: string) => Finding[]): EnsRule =>
    ens(`${prefix}-${n}`, ['cursor.jump'], (ctx) => {
      const c = preCursor(ctx, kind)
      return c === null ? [] : check(ctx, c, `${prefix}-${n}`)
    })
  return [
    on(1, (ctx, _c, rule) => holdsAfter(ctx, rule, allCi)),
    on(2, (ctx, c, rule) => {
      const v = target(ctx, c)
      if (v === null) return []
      const after = cursorAt(ctx.post, cursorId(ctx))
      return isOkResult(ctx.result) && after !== null && after.va === v && after.owner.va === v ? [] : [finding(rule, `pt.cursors[${cursorId(ctx)}].va`, 'a jump inside the range must succeed and move the cursor there', { ok: true, va: v }, { result: ctx.result, va: after?.va ?? null })]
    }),
    on(3, (ctx, c, rule) => {
      if (target(ctx, c) !== null) return []
      const out: Finding[] = []
      // §9.3(a): `Err(InvalidVaddr(va))`, the address jumped to, as the caller gave it.
      const want = { ok: false, error: { kind: 'InvalidVaddr', va: (ctx.event as unknown as { va: number | string }).va } }
      if (!equal(ctx.result, want)) out.push(finding(rule, 'result', 'a jump outside the range must return Err(InvalidVaddr(va)) with the address jumped to', want, ctx.result))
      if (ctx.pre !== ctx.post) out.push(finding(rule, 'snapshot', 'the failed jump changed the state'))
      return out
    }),
    on(4, (ctx, c, rule) => [...mappingsUnchanged(ctx, rule, cursorRootSlot(ctx.pre, c)), ...regionsUnchanged(ctx, rule)]),
  ]
}

// ---- find_next -------------------------------------------------------------------------------

function findNextRules(prefix: 'ENS-CURSOR-FINDNEXT' | 'ENS-CURSORMUT-FINDNEXT', kind: 'Cursor' | 'CursorMut'): EnsRule[] {
  const on = (n: number, check: (ctx: EnsContext, c: PtCursor, rule: string) => Finding[]): EnsRule =>
    ens(`${prefix}-${n}`, ['cursor.find_next'], (ctx) => {
      const c = preCursor(ctx, kind)
      return c === null ? [] : check(ctx, c, `${prefix}-${n}`)
    })
  const resultView = (c: PtCursor, r: unknown): number | null => (r === null ? null : toView(c.config, r as number | string))
  return [
    on(1, (ctx, _c, rule) => holdsAfter(ctx, rule, ownerWf)),
    on(2, (ctx, _c, rule) => holdsAfter(ctx, rule, allCi)),
    on(3, (ctx, c, rule) => {
      const v = resultView(c, ctx.result)
      if (v === null) return []
      const after = cursorAt(ctx.post, cursorId(ctx))
      if (after === null) return []
      const k = after.owner.continuations[after.level - 1]
      const r = k === null || k === undefined ? null : nodeOwnerAt(ctx.post, k.slot)
      const cur = ownerAt(r, indexAt(after.va, after.level))
      const out: Finding[] = []
      if (after.va !== v || after.level > after.guardLevel || !inLockedRange(after.owner)) out.push(finding(rule, `pt.cursors[${cursorId(ctx)}].va`, 'Some(v): the cursor must be at v, in its locked range, at or below its guard level', v, { va: after.va, level: after.level }))
      if (cur?.kind !== 'frame') out.push(finding(rule, `pt.cursors[${cursorId(ctx)}]`, "Some(v): the cursor's current entry must be a mapped frame", 'frame', cur?.kind ?? 'absent'))
      return out
    }),
    on(4, (ctx, c, rule) => {
      if (ctx.result !== null) return []
      const after = cursorAt(ctx.post, cursorId(ctx))
      const len = num(ctx.event, 'len')
      return after !== null && after.va >= c.va + len ? [] : [finding(rule, `pt.cursors[${cursorId(ctx)}].va`, 'None: the cursor must end at or past the window end', `>= ${c.va + len}`, after?.va ?? null)]
    }),
    on(5, (ctx, c, rule) => {
      const root = cursorRootSlot(ctx.pre, c)
      if (root === null) return []
      const out = mappingsUnchanged(ctx, rule, root)
      const len = num(ctx.event, 'len')
      const opts = { source: 'ghost' as const, config: c.config }
      // find_next_spec, as OSTD behaves (§2.5.7): the first mapping overlapping the window.
      const inside = mappingAt(ctx.pre, root, c.va, opts)
      const first = inside ?? (len === 0 ? null : firstMappingFrom(ctx.pre, root, c.va, c.va + len, opts))
      const want = first === null ? null : fullVa(c.config, Math.max(first.vaRange.start, c.va))
      if (len === 0 ? ctx.result !== null : !equal(ctx.result, want)) out.push(finding(rule, 'result', 'the result is not the first mapping in [va, va + len) (find_next_spec)', len === 0 ? null : want, ctx.result))
      const after = cursorAt(ctx.post, cursorId(ctx))
      if (after !== null && after.va > c.va) {
        const skipped = firstMappingFrom(ctx.pre, root, c.va, after.va, opts)
        if (skipped !== null) out.push(finding(rule, `pt.cursors[${cursorId(ctx)}].va`, `the cursor passed the mapping at [${skipped.vaRange.start}, ${skipped.vaRange.end})`))
      }
      return out
    }),
  ]
}

// ---- map -------------------------------------------------------------------------------------

interface MapContext {
  readonly c: PtCursor
  readonly root: number
  readonly level: number
  readonly size: number
  /** The slot range the new page occupies. */
  readonly slot: VaRange
  /** The region the map may change: the huge mapping it splits, else the slot. */
  readonly window: VaRange
  /** The mapping covering the address before, when larger than the new page (split). */
  readonly split: Mapping | null
  readonly pa: number
  readonly prop: PageProperty
  readonly tracked: boolean
}

function mapContext(ctx: EnsContext): MapContext | null {
  const c = cursorAt(ctx.pre, cursorId(ctx))
  if (c === null) return null
  const root = cursorRootSlot(ctx.pre, c)
  if (root === null) return null
  const raw = rawOfMapArg(ctx.pre, c.config, (ctx.event as unknown as { item: MappedItemArg }).item)
  const size = pageSize(raw.level)
  const start = c.va - (c.va % size)
  const slot = { start, end: start + size }
  const covering = mappingAt(ctx.pre, root, c.va, { source: 'ghost', config: c.config })
  const split = covering !== null && covering.pageSize > size ? covering : null
  return { c, root, level: raw.level, size, slot, window: split?.vaRange ?? slot, split, pa: raw.pa, prop: raw.prop, tracked: raw.tracked }
}

/** `split_index`: the `n`-th piece of size `size` of mapping `m`. */
function piece(m: Mapping, size: number, n: number): Mapping {
  return { vaRange: { start: m.vaRange.start + n * size, end: m.vaRange.start + (n + 1) * size }, paRange: { start: m.paRange.start + n * size, end: m.paRange.start + (n + 1) * size }, pageSize: size, property: m.property }
}

/**
 * `split_while_huge(size)` at `va` (state.md §10): while the mapping containing `va` is larger than
 * `size`, it is replaced by its 512 pieces of the next page size. Sorted input, sorted output.
 */
function splitWhileHuge(pre: readonly Mapping[], va: number, size: number): Mapping[] {
  let ms = [...pre]
  for (;;) {
    const at = ms.findIndex((x) => x.vaRange.start <= va && va < x.vaRange.end)
    const x = at < 0 ? null : ms[at]!
    if (x === null || x.pageSize <= size) return ms
    const next = x.pageSize === pageSize(3) ? pageSize(2) : PAGE_SIZE
    ms = [...ms.slice(0, at), ...Array.from({ length: x.pageSize / next }, (_, n) => piece(x, next, n)), ...ms.slice(at + 1)]
  }
}

/** `map_spec(pa, size, prop)` (MD-9, [JUN]) restricted to the map's window. */
function mapSpec(pre: readonly Mapping[], m: MapContext): Mapping[] {
  let ms = splitWhileHuge(pre, m.c.va, m.size)
  // remove_subtree(size), then the new mapping
  ms = ms.filter((x) => !(x.vaRange.start >= m.slot.start && x.vaRange.start < m.slot.end))
  ms.push({ vaRange: m.slot, paRange: { start: m.pa, end: m.pa + m.size }, pageSize: m.size, property: m.prop })
  return ms.sort((a, b) => a.vaRange.start - b.vaRange.start)
}

/** The 4 KiB slots of a tracked huge mapping a split re-references. */
function splitPages(m: MapContext): Set<number> {
  const out = new Set<number>()
  if (m.split === null || !leafIsTracked(m.c.config, m.split.property)) return out
  for (let pa = m.split.paRange.start; pa < m.split.paRange.end; pa += PAGE_SIZE) out.add(frameToIndex(pa))
  return out
}

/** The pre-state node at the item's level on the address's path (walking the tree from the root), or null. */
function nodeAtLevel(s: Snapshot, m: MapContext): PtNodeOwner | null {
  let node: PtNodeOwner | null = nodeOwnerAt(s, m.root)
  for (let L = NR_LEVELS; L > m.level && node !== null; L--) {
    const ch = tableGet(node.children, indexAt(m.slot.start, L))
    node = ch !== null && ch.kind === 'node' ? nodeOwnerAt(s, ch.slot) : null
  }
  return node !== null && node.level === m.level ? node : null
}

/**
 * The leaf the map replaced: a mapping exactly at the slot, or — when the map split a huge mapping
 * down to the item's size — the piece of it at the slot (`split_while_huge`); else null.
 */
function replacedLeaf(ctx: EnsContext, m: MapContext): Mapping | null {
  if (m.split !== null) return piece(m.split, m.size, (m.slot.start - m.split.vaRange.start) / m.size)
  const at = mappingAt(ctx.pre, m.root, m.slot.start, { source: 'ghost', config: m.c.config })
  return at !== null && at.vaRange.start === m.slot.start && at.pageSize === m.size ? at : null
}

function mapRule(n: number, check: (ctx: EnsContext, m: MapContext, rule: string) => Finding[], summary?: string): EnsRule {
  const id = `ENS-CURSORMUT-MAP-${n}`
  return ens(
    id,
    ['cursor_mut.map'],
    (ctx) => {
      const m = mapContext(ctx)
      return m === null ? [] : check(ctx, m, id)
    },
    summary,
  )
}

const mapRules: EnsRule[] = [
  mapRule(1, (ctx, _m, rule) => holdsAfter(ctx, rule, allCi)),
  mapRule(2, (ctx, m, rule) => {
    const opts = { source: 'ghost' as const, config: m.c.config }
    const want = mapSpec(mappingsIn(ctx.pre, m.root, m.window, opts), m)
    const have = mappingsIn(ctx.post, m.root, m.window, opts)
    const out: Finding[] = []
    if (!equal(want, have)) out.push(finding(rule, `view[${m.window.start}, ${m.window.end})`, "model(owner') != model(owner).map_spec(pa, size, prop): the mappings in the affected region differ", want, have))
    for (const ch of viewChanges(ctx, m.root)) {
      if (ch.span.start < m.window.start || ch.span.end > m.window.end) {
        out.push(finding(rule, `pt.owners[${Math.floor(ch.unit / NR_ENTRIES)}].children[${ch.unit % NR_ENTRIES}]`, `map changed a mapping at [${ch.span.start}, ${ch.span.end}), outside [${m.window.start}, ${m.window.end})`, ch.before, ch.after))
        break
      }
    }
    const after = cursorAt(ctx.post, cursorId(ctx))
    if (after === null || after.va !== m.slot.end || after.owner.va !== m.slot.end) out.push(finding(rule, `pt.cursors[${cursorId(ctx)}].va`, "the view's cursor must advance to align_down(va, size) + size", m.slot.end, after?.va ?? null))
    return out
  }),
  mapRule(3, (ctx, m, rule) => {
    const c = m.c
    const k = c.owner.continuations[c.level - 1]
    const cur = k === null || k === undefined ? null : ownerAt(nodeOwnerAt(ctx.pre, k.slot), indexAt(c.va, c.level))
    const absent = cur === null || cur.kind === 'absent'
    return m.level <= c.level && absent && !isOkResult(ctx.result) ? [finding(rule, 'result', 'the current entry was absent at or above the item level, so map must return Ok', 'Ok', ctx.result)] : []
  }),
  mapRule(4, (ctx, m, rule) => {
    const frag = isErrResult(ctx.result) ? (ctx.result.error as PageTableFragOut) : null
    return frag?.kind === 'StrayPageTable' && m.level <= 1 ? [finding(rule, 'result', 'a level-1 map cannot replace a page table', 'Mapped', frag)] : []
  }),
  mapRule(5, (ctx, m, rule) => {
    const out: Finding[] = []
    const exempt = splitPages(m)
    const old = replacedLeaf(ctx, m)
    if (old !== null && leafIsTracked(m.c.config, old.property)) exempt.add(frameToIndex(old.paRange.start))
    const paIdx = frameToIndex(m.pa)
    for (const i of ctx.changes.slotCells) {
      const a = ownerOf(ctx.pre, i)
      const b = ownerOf(ctx.post, i)
      if (a.innerPerms.refCount === REF_COUNT_UNUSED) continue
      if (b.innerPerms.refCount === REF_COUNT_UNUSED) out.push(finding(rule, `regions.slotOwners[${i}].innerPerms.refCount`, `slot ${i}, in use before, became UNUSED`, refCountName(a.innerPerms.refCount), 'UNUSED'))
      else if (i !== paIdx && !exempt.has(i) && (!equal(a.pathsInPt, b.pathsInPt) || a.innerPerms.refCount !== b.innerPerms.refCount)) {
        out.push(finding(rule, `regions.slotOwners[${i}]`, `slot ${i}, in use and not the item's, changed its paths_in_pt or rc`, { pathsInPt: a.pathsInPt, rc: refCountName(a.innerPerms.refCount) }, { pathsInPt: b.pathsInPt, rc: refCountName(b.innerPerms.refCount) }))
      }
    }
    if (m.tracked && ownerOf(ctx.pre, paIdx).innerPerms.refCount > 0 && !(ownerOf(ctx.post, paIdx).innerPerms.refCount > 0)) out.push(finding(rule, `regions.slotOwners[${paIdx}].innerPerms.refCount`, "the item's slot lost its last reference"))
    if (ctx.changes.parking.size > 0) out.push(finding(rule, `regions.slots[${[...ctx.changes.parking][0]}]`, 'the parked slots changed'))
    const after = cursorAt(ctx.post, cursorId(ctx))
    if (after === null || after.guardLevel !== m.c.guardLevel || !equal(after.barrierVa, m.c.barrierVa)) out.push(finding(rule, `pt.cursors[${cursorId(ctx)}]`, 'guard_level or barrier_va changed'))
    return out
  }),
  mapRule(6, (ctx, m, rule) => {
    const out: Finding[] = []
    const paIdx = frameToIndex(m.pa)
    const exempt = splitPages(m)
    if (m.tracked) {
      if (!exempt.has(paIdx) && ownerOf(ctx.pre, paIdx).innerPerms.refCount !== ownerOf(ctx.post, paIdx).innerPerms.refCount) {
        out.push(finding(rule, `regions.slotOwners[${paIdx}].innerPerms.refCount`, "the item's rc changed (its Frame's reference moves into the PTE)", refCountName(ownerOf(ctx.pre, paIdx).innerPerms.refCount), refCountName(ownerOf(ctx.post, paIdx).innerPerms.refCount)))
      }
      const r = nodeAtLevel(ctx.post, m)
      const key = r === null ? null : qualifiedPath(r.tree, childPath(r.path, indexAt(m.slot.start, m.level)))
      if (key === null || !ownerOf(ctx.post, paIdx).pathsInPt.includes(key)) out.push(finding(rule, `regions.slotOwners[${paIdx}].pathsInPt`, "the item's slot does not record the new mapping's path", key, ownerOf(ctx.post, paIdx).pathsInPt))
    }
    for (const i of ctx.changes.slotCells) {
      const a = ownerOf(ctx.pre, i)
      const b = ownerOf(ctx.post, i)
      if (a.innerPerms.refCount !== REF_COUNT_UNUSED || b.innerPerms.refCount === REF_COUNT_UNUSED) continue
      if (b.usage !== 'PageTable' || b.innerPerms.refCount !== 1) out.push(finding(rule, `regions.slotOwners[${i}]`, `slot ${i}, newly in use, is not a new page-table node (usage PageTable, rc 1)`, { usage: 'PageTable', rc: 1 }, { usage: b.usage, rc: refCountName(b.innerPerms.refCount) }))
    }
    const old = replacedLeaf(ctx, m)
    if (old !== null && leafIsTracked(m.c.config, old.property)) {
      const idx = frameToIndex(old.paRange.start)
      const node = nodeAtLevel(ctx.pre, m)
      const leafPath = node === null ? null : qualifiedPath(node.tree, childPath(node.path, indexAt(m.slot.start, m.level)))
      const still = leafPath === null ? -1 : ownerOf(ctx.post, idx).pathsInPt.filter((p) => p === leafPath).length
      const again = idx === paIdx ? 1 : 0
      if (still !== again) out.push(finding(rule, `regions.slotOwners[${idx}].pathsInPt`, "the replaced frame's path must leave its paths_in_pt (its reference moves into the returned item)", again, still))
    }
    return out
  }),
  ens(
    'ENS-PTCURSOR-MAP-1',
    ['cursor_mut.map'],
    (ctx) => {
      const m = mapContext(ctx)
      if (m === null) return []
      const rule = 'ENS-PTCURSOR-MAP-1'
      const opts = { source: 'ghost' as const, config: m.c.config }
      const old = replacedLeaf(ctx, m)
      const node = nodeAtLevel(ctx.pre, m)
      const slotEntry = node === null ? null : ownerAt(node, indexAt(m.slot.start, m.level))
      const va = fullVa(m.c.config, m.slot.start)
      if (slotEntry?.kind === 'node') {
        const frames = mappingsIn(ctx.pre, m.root, m.slot, opts).filter((x) => x.pageSize === PAGE_SIZE).length
        const frag = isErrResult(ctx.result) ? (ctx.result.error as PageTableFragOut) : null
        const want = { kind: 'StrayPageTable', va, len: m.size, numFrames: frames }
        if (frag === null || frag.kind !== 'StrayPageTable' || !equal({ kind: frag.kind, va: frag.va, len: frag.len, numFrames: frag.numFrames }, want)) return [finding(rule, 'result', 'replacing a page table must return StrayPageTable { va, len = page size, num_frames = 4 KiB frames of its level-1 nodes }', want, ctx.result)]
        const h = tableGet(ctx.post.pt.nodes, frag.pt)
        const st = slotOf(ctx.post, slotEntry.slot).storage
        const out: Finding[] = []
        if (h === null || h.paddr !== slotEntry.slot * PAGE_SIZE) out.push(finding(rule, 'result.pt', 'the fragment does not hold the detached node', slotEntry.slot * PAGE_SIZE, h?.paddr ?? null))
        if (!(st?.kind === 'PTNode' && st.stray && st.lock === 0)) out.push(finding(rule, `metaSlots[${slotEntry.slot}].storage`, 'the detached node must be marked stray and unlocked', { stray: true, lock: 0 }, st))
        return out
      }
      if (old === null) return isOkResult(ctx.result) ? [] : [finding(rule, 'result', 'the slot was empty: map must return Ok', 'Ok', ctx.result)]
      const frag = isErrResult(ctx.result) ? (ctx.result.error as PageTableFragOut) : null
      if (frag === null || frag.kind !== 'Mapped' || frag.va !== va || !itemIsMapping(ctx, m.c.config, frag.item, old)) {
        return [finding(rule, 'result', 'replacing a leaf must return Mapped { va, item } with the old item', { kind: 'Mapped', va, pa: old.paRange.start, prop: old.property }, ctx.result)]
      }
      return []
    },
    "[model] `map`'s result (behaviour.md §2.5.8): Ok when the slot was empty; a replaced leaf is `Err(Mapped { va, item })` with the old item (a tracked frame as a new Frame handle); a replaced page table is `Err(StrayPageTable { va, len, numFrames, pt })` — `len` the page size, `numFrames` the 4 KiB frames its level-1 nodes mapped, `pt` a PageTableNode handle of the detached node, which is marked stray and unlocked.",
  ),
]


// ---- take_next / protect_next / unmap: the walk they share ------------------------------------------

/** The page sizes a leaf can have, largest first. */
const LEAF_SIZES = [pageSize(3), pageSize(2), PAGE_SIZE]

/**
 * The size of the piece of leaf `m` that `find_next_impl(split_huge = true)` stops at when it meets
 * `m` at `cur` with the window ending at `end`: `m` itself when it fits (it starts at `cur` and ends
 * by `end`), else the largest smaller page size aligned at `cur` that ends by `end` (the split goes
 * down one level at a time until the piece at `cur` fits; 4 KiB always does).
 */
function fittingSize(m: Mapping, cur: number, end: number): number {
  for (const size of LEAF_SIZES) if (size <= m.pageSize && cur % size === 0 && cur + size <= end) return size
  return PAGE_SIZE
}

/** The piece of size `size` of `m` that starts at `va`. */
function pieceAt(m: Mapping, size: number, va: number): Mapping {
  return piece(m, size, (va - m.vaRange.start) / size)
}

/** Where `find_next_impl` stops, read off the pre-state's owner tree. */
type Found =
  | { readonly kind: 'None'; readonly va: number }
  /** A leaf: `leaf` is the mapping of its entry; the walk stops at `va` on the piece of `size` there. */
  | { readonly kind: 'Mapped'; readonly va: number; readonly leaf: Mapping; readonly size: number }
  /** A child node (`slot`) whose entry spans `[va, va + len)`. */
  | { readonly kind: 'StrayPageTable'; readonly va: number; readonly len: number; readonly slot: number }

function hasChildren(r: PtNodeOwner): boolean {
  let any = false
  tableForEach(r.children, (e) => {
    if (e.kind !== 'absent') any = true
  })
  return any
}

/**
 * The walk of `find_next_impl(len, find_unmap_subtree, split_huge = true)` (behaviour.md §2.5.9–10)
 * over the ghost owner tree of `s`, from the cursor: entry by entry from the cursor's level, up as
 * `move_forward` pops. A leaf stops it (a huge one not fitting the window would be split: the walk
 * stops on the piece at the address, `fittingSize`); a child node stops it when `findUnmapSubtree`
 * and its span lies in the window starting at the address (never a root entry of a configuration
 * that cannot unmap them); a child node with children is entered; an absent entry or an empty node
 * is skipped. `None`'s `va` is where the cursor ends (the window end when `stopAtEnd`, else the end
 * of the last slot skipped).
 */
function walkFind(s: Snapshot, c: PtCursor, len: number, findUnmapSubtree: boolean, stopAtEnd: boolean): Found {
  const end = c.va + len
  const canUnmapTop = ptConfig(c.config).topLevelCanUnmap
  const slots: number[] = []
  for (let L = c.level; L <= c.guardLevel; L++) slots[L] = continuationAt(c.owner, L)?.slot ?? -1
  let level = c.level
  let va = c.va
  while (va < end) {
    const slot = slots[level]
    const r = slot === undefined || slot < 0 ? null : nodeOwnerAt(s, slot)
    if (r === null) break
    const size = pageSize(level)
    const start = alignDown(va, size)
    const idx = indexAt(va, level)
    const e = tableGet(r.children, idx)
    if (e?.kind === 'frame') {
      const leaf = entryMapping(r, idx)!
      return { kind: 'Mapped', va, leaf, size: fittingSize(leaf, va, end) }
    }
    if (e?.kind === 'node') {
      if (findUnmapSubtree && va === start && start + size <= end && (canUnmapTop || level !== NR_LEVELS)) return { kind: 'StrayPageTable', va, len: size, slot: e.slot }
      const child = nodeOwnerAt(s, e.slot)
      if (child !== null && hasChildren(child) && level > 1) {
        level -= 1
        slots[level] = e.slot
        continue
      }
    }
    const next = start + size
    if (stopAtEnd && next > end) return { kind: 'None', va: end }
    while (level < c.guardLevel && indexAt(next, level) === 0) level++
    va = next
  }
  return { kind: 'None', va }
}

/** The node slots of the sub-tree whose top is `slot` (pre-order). */
function subtreeSlots(s: Snapshot, slot: number, out: number[] = []): number[] {
  const r = nodeOwnerAt(s, slot)
  if (r === null || out.length > 4 * NR_ENTRIES) return out
  out.push(slot)
  tableForEach(r.children, (e) => {
    if (e.kind === 'node') subtreeSlots(s, e.slot, out)
  })
  return out
}

/** `num_frames` of a sub-tree: the present (frame) entries of its level-1 nodes. */
function framesOfSubtree(s: Snapshot, slot: number): number {
  let n = 0
  for (const k of subtreeSlots(s, slot)) {
    const r = nodeOwnerAt(s, k)!
    if (r.level === 1) tableForEach(r.children, (e) => void (e.kind === 'frame' && n++))
  }
  return n
}

/** A finding for the first entry of the page table's view that changed outside `region`, or none. */
function changedOutside(ctx: EnsContext, rule: string, root: number, region: VaRange, what: string): Finding[] {
  for (const ch of viewChanges(ctx, root)) {
    if (ch.span.start < region.start || ch.span.end > region.end) {
      return [finding(rule, `pt.owners[${Math.floor(ch.unit / NR_ENTRIES)}].children[${ch.unit % NR_ENTRIES}]`, `${what} changed a mapping at [${ch.span.start}, ${ch.span.end}), outside [${region.start}, ${region.end})`, ch.before, ch.after)]
    }
  }
  return []
}

/** The cursor's guard level and range are unchanged (`guard_level`, `barrier_va`). */
function boundsKept(ctx: EnsContext, rule: string, c: PtCursor): Finding[] {
  const after = cursorAt(ctx.post, cursorId(ctx))
  return after !== null && after.guardLevel === c.guardLevel && equal(after.barrierVa, c.barrierVa) ? [] : [finding(rule, `pt.cursors[${cursorId(ctx)}]`, 'guard_level or barrier_va changed', { guardLevel: c.guardLevel, barrierVa: c.barrierVa }, after === null ? null : { guardLevel: after.guardLevel, barrierVa: after.barrierVa })]
}

/** The cursor's address after the step (exec and ghost) is `want`. */
function cursorAtVa(ctx: EnsContext, rule: string, want: number, what: string): Finding[] {
  const after = cursorAt(ctx.post, cursorId(ctx))
  return after !== null && after.va === want && after.owner.va === want ? [] : [finding(rule, `pt.cursors[${cursorId(ctx)}].va`, what, want, after === null ? null : { va: after.va, ownerVa: after.owner.va })]
}

/** Slot changes other than formerly UNUSED slots becoming new page-table nodes (rc 1). */
function notNewNode(ctx: EnsContext, i: number): boolean {
  const a = ownerOf(ctx.pre, i)
  const b = ownerOf(ctx.post, i)
  return !(a.innerPerms.refCount === REF_COUNT_UNUSED && b.usage === 'PageTable' && b.innerPerms.refCount === 1 && slotOf(ctx.post, i).refCount === 1)
}

// ---- take_next -------------------------------------------------------------------------------

interface TakeContext {
  readonly c: PtCursor
  readonly root: number
  readonly len: number
  readonly found: Found
}

const takeContexts = new WeakMap<EnsContext, TakeContext | null>()

function takeContext(ctx: EnsContext): TakeContext | null {
  let t = takeContexts.get(ctx)
  if (t === undefined) {
    const c = cursorAt(ctx.pre, cursorId(ctx))
    const root = c === null ? null : cursorRootSlot(ctx.pre, c)
    const len = num(ctx.event, 'len')
    t = c === null || root === null ? null : { c, root, len, found: walkFind(ctx.pre, c, len, true, true) }
    takeContexts.set(ctx, t)
  }
  return t
}

function takeRule(n: number, summary: string, check: (ctx: EnsContext, t: TakeContext, rule: string) => Finding[]): EnsRule {
  const id = `ENS-PTCURSOR-TAKENEXT-${n}`
  return ens(
    id,
    ['cursor_mut.take_next'],
    (ctx) => {
      const t = takeContext(ctx)
      return t === null ? [] : check(ctx, t, id)
    },
    summary,
  )
}

const takeRules: EnsRule[] = [
  takeRule(1, "[model] `take_next` keeps the cursor's invariants: `Cursor::invariants` (CI, INV-CURSOR-1..14) holds afterwards, `guard_level` and `barrier_va` are unchanged.", (ctx, t, rule) => [
    ...holdsAfter(ctx, rule, allCi),
    ...boundsKept(ctx, rule, t.c),
  ]),
  takeRule(
    2,
    "[model] `take_next`'s view ([JUN] `take_next` ensures, operations.md §10.6): nothing found ⟹ the mappings are unchanged; `Mapped { va_m, item }` ⟹ the new mappings are `split_while_huge(old, m.page_size) \\ {m}` for the mapping `m` of the item; `StrayPageTable { va_s, len_s }` ⟹ the new mappings are the old minus those in `[va_s, va_s + len_s)`; nothing else changes.",
    (ctx, t, rule) => {
      const f = t.found
      if (f.kind === 'None') return mappingsUnchanged(ctx, rule, t.root)
      const opts = { source: 'ghost' as const, config: t.c.config }
      const region = f.kind === 'Mapped' ? f.leaf.vaRange : { start: f.va, end: f.va + f.len }
      const want = f.kind === 'Mapped' ? splitWhileHuge(mappingsIn(ctx.pre, t.root, region, opts), f.va, f.size).filter((x) => x.vaRange.start !== f.va) : []
      const have = mappingsIn(ctx.post, t.root, region, opts)
      const out: Finding[] = []
      if (!equal(want, have)) out.push(finding(rule, `view[${region.start}, ${region.end})`, f.kind === 'Mapped' ? "the mappings are not split_while_huge(old) without the taken one" : 'mappings of the taken sub-tree are left in the view', want, have))
      out.push(...changedOutside(ctx, rule, t.root, region, 'take_next'))
      return out
    },
  ),
  takeRule(
    3,
    "[model] `take_next`'s result (behaviour.md §2.5.9): the first leaf in the window, or the first child-node entry wholly inside it starting at the address (entries inside the guard node only; a huge leaf partly inside split to the piece at the address). A leaf is `Mapped { va, item }` with the piece's item (a tracked frame as a new Frame handle); a node is `StrayPageTable { va, len = the entry's span, numFrames = the present entries of its level-1 nodes, pt }` with `pt` a new PageTableNode handle of the node, and every node of the sub-tree marked stray, unlocked and held by no cursor; nothing ⟹ None.",
    (ctx, t, rule) => {
      const f = t.found
      const r = ctx.result as PageTableFragOut | null
      const config = t.c.config
      if (f.kind === 'None') return r === null ? [] : [finding(rule, 'result', 'the window holds nothing to take: the result must be None', null, r)]
      const va = fullVa(config, f.va)
      if (f.kind === 'Mapped') {
        const m = pieceAt(f.leaf, f.size, f.va)
        const newHandle = r?.kind === 'Mapped' && 'frame' in r.item ? tableGet(ctx.pre.frames, r.item.frame) === null && tableGet(ctx.post.frames, r.item.frame) !== null : true
        return r?.kind === 'Mapped' && r.va === va && itemIsMapping(ctx, config, r.item, m) && newHandle
          ? []
          : [finding(rule, 'result', 'the first leaf in the window must be returned as Mapped { va, item } with its item (a tracked frame as a new Frame handle)', { kind: 'Mapped', va, pa: m.paRange.start, pageSize: m.pageSize, prop: m.property }, r)]
      }
      const want = { kind: 'StrayPageTable', va, len: f.len, numFrames: framesOfSubtree(ctx.pre, f.slot) }
      if (r?.kind !== 'StrayPageTable' || !equal({ kind: r.kind, va: r.va, len: r.len, numFrames: r.numFrames }, want)) {
        return [finding(rule, 'result', 'the first sub-tree wholly in the window must be returned as StrayPageTable { va, len, numFrames = present entries of its level-1 nodes }', want, r)]
      }
      const out: Finding[] = []
      const h = tableGet(ctx.post.pt.nodes, r.pt)
      if (h === null || tableGet(ctx.pre.pt.nodes, r.pt) !== null || h.paddr !== f.slot * PAGE_SIZE) out.push(finding(rule, 'result.pt', 'the fragment must hold a new PageTableNode handle of the detached node', f.slot * PAGE_SIZE, h?.paddr ?? null))
      for (const slot of subtreeSlots(ctx.pre, f.slot)) {
        const st = slotOf(ctx.post, slot).storage
        const held = holdersOf(ctx.post, slot)
        if (!(st?.kind === 'PTNode' && st.stray && st.lock === 0) || held.length > 0 || tableGet(ctx.post.pt.locks, slot) !== null) {
          out.push(finding(rule, `metaSlots[${slot}].storage`, `node ${slot} of the detached sub-tree must be marked stray and unlocked (dfs_mark_stray_and_unlock)`, { stray: true, lock: 0, heldBy: [] }, { stray: st?.kind === 'PTNode' ? st.stray : null, lock: st?.kind === 'PTNode' ? st.lock : null, heldBy: held }))
          break
        }
      }
      return out
    },
  ),
  takeRule(4, "[model] `take_next` moves the cursor past what it removed (`move_forward`): to the end of the leaf piece or of the sub-tree's span; when nothing is found, to the window end (behaviour.md §2.5.9).", (ctx, t, rule) => {
    const f = t.found
    const want = f.kind === 'None' ? f.va : f.va + (f.kind === 'Mapped' ? f.size : f.len)
    return cursorAtVa(ctx, rule, want, f.kind === 'None' ? 'nothing found: the cursor must stop at the window end' : 'the cursor must move to the end of what it removed')
  }),
  takeRule(
    5,
    "[model] `take_next`'s regions: a taken tracked frame's reference moves from its path to the returned Frame handle (its path leaves `paths_in_pt`, rc unchanged, one obligation more); a taken sub-tree's reference moves to the returned PageTableNode handle (rc unchanged, one obligation more); nodes a split allocates are new page-table nodes (rc 1); no other in-use slot changes its rc or `paths_in_pt`, or its obligations; the parked slots are unchanged.",
    (ctx, t, rule) => {
      const f = t.found
      const out: Finding[] = []
      const expected = new Map<number, number>()
      let taken: number | null = null
      if (f.kind === 'Mapped' && leafIsTracked(t.c.config, f.leaf.property)) expected.set((taken = frameToIndex(pieceAt(f.leaf, f.size, f.va).paRange.start)), 1)
      if (f.kind === 'StrayPageTable') expected.set(f.slot, 1)
      out.push(...obligationsChanged(ctx, rule, expected))
      out.push(...parkingChanged(ctx, rule))
      for (const i of ctx.changes.slotCells) {
        const a = ownerOf(ctx.pre, i)
        const b = ownerOf(ctx.post, i)
        if (a.innerPerms.refCount === REF_COUNT_UNUSED) {
          if (notNewNode(ctx, i)) out.push(finding(rule, `regions.slotOwners[${i}]`, `slot ${i}, unused before, is not a new page-table node (usage PageTable, rc 1)`, { usage: 'PageTable', rc: 1 }, { usage: b.usage, rc: refCountName(b.innerPerms.refCount) }))
          continue
        }
        const rcKept = a.innerPerms.refCount === b.innerPerms.refCount && slotOf(ctx.pre, i).refCount === slotOf(ctx.post, i).refCount
        const pathsOk = i === taken ? b.pathsInPt.length === a.pathsInPt.length - 1 && b.pathsInPt.every((p) => a.pathsInPt.includes(p)) : equal(a.pathsInPt, b.pathsInPt)
        if (!rcKept || !pathsOk) {
          out.push(finding(rule, `regions.slotOwners[${i}]`, i === taken ? "the taken frame's slot must lose exactly the taken path and keep its rc" : `slot ${i} changed its rc or paths_in_pt`, { pathsInPt: i === taken ? 'one path fewer' : a.pathsInPt, rc: refCountName(a.innerPerms.refCount) }, { pathsInPt: b.pathsInPt, rc: refCountName(b.innerPerms.refCount) }))
        }
      }
      return out
    },
  ),
]

// ---- protect_next ----------------------------------------------------------------------------

interface ProtectContext {
  readonly c: PtCursor
  readonly root: number
  readonly len: number
  /** The mapping `protect_spec` finds: the first one overlapping the window, or null. */
  readonly leaf: Mapping | null
  /** Where the walk meets it, and the size of the piece protected there. */
  readonly cur: number
  readonly size: number
}

function protectContext(ctx: EnsContext): ProtectContext | null {
  const c = cursorAt(ctx.pre, cursorId(ctx))
  const root = c === null ? null : cursorRootSlot(ctx.pre, c)
  if (c === null || root === null) return null
  const len = num(ctx.event, 'len')
  const end = c.va + len
  const opts = { source: 'ghost' as const, config: c.config }
  const leaf = len === 0 ? null : (mappingAt(ctx.pre, root, c.va, opts) ?? firstMappingFrom(ctx.pre, root, c.va, end, opts))
  const cur = leaf === null ? c.va : Math.max(c.va, leaf.vaRange.start)
  return { c, root, len, leaf, cur, size: leaf === null ? 0 : fittingSize(leaf, cur, end) }
}

function protectRule(n: number, check: (ctx: EnsContext, p: ProtectContext, rule: string) => Finding[]): EnsRule {
  const id = `ENS-CURSORMUT-PROTECTNEXT-${n}`
  return ens(id, ['cursor_mut.protect_next'], (ctx) => {
    const p = protectContext(ctx)
    return p === null ? [] : check(ctx, p, id)
  })
}

const protectRules: EnsRule[] = [
  protectRule(1, (ctx, p, rule) => [...holdsAfter(ctx, rule, allCi), ...boundsKept(ctx, rule, p.c)]),
  // protect_spec(len, op, target_page_size) [JUN]: the target size is the piece OSTD's split leaves at the address.
  // Deviation (as for find_next): None moves the view's cursor by len; OSTD's walk may stop past the window end (>=).
  protectRule(2, (ctx, p, rule) => {
    const out: Finding[] = []
    if (p.leaf === null) {
      if (ctx.result !== null) out.push(finding(rule, 'result', 'the window holds no mapping: protect_next must return None', null, ctx.result))
      out.push(...mappingsUnchanged(ctx, rule, p.root))
      const after = cursorAt(ctx.post, cursorId(ctx))
      if (after === null || after.va < p.c.va + p.len) out.push(finding(rule, `pt.cursors[${cursorId(ctx)}].va`, 'None: the cursor must end at or past the window end', `>= ${p.c.va + p.len}`, after?.va ?? null))
      return out
    }
    const opts = { source: 'ghost' as const, config: p.c.config }
    const region = p.leaf.vaRange
    const e = ctx.event as unknown as CursorMutProtectNextEvent
    const want = splitWhileHuge(mappingsIn(ctx.pre, p.root, region, opts), p.cur, p.size).map((x) => (x.vaRange.start === p.cur ? { ...x, property: protectedProperty(e, x.property) } : x))
    const have = mappingsIn(ctx.post, p.root, region, opts)
    if (!equal(want, have)) out.push(finding(rule, `view[${region.start}, ${region.end})`, "model' != model.protect_spec(len, op): the mappings differ (split_while_huge, op applied to the piece at the address only)", want, have))
    out.push(...changedOutside(ctx, rule, p.root, region, 'protect_next'))
    const range = rangeOutOf(p.c.config, { start: p.cur, end: p.cur + p.size })
    if (!equal(ctx.result, range)) out.push(finding(rule, 'result', "the result must be the protected slot's range", range, ctx.result))
    out.push(...cursorAtVa(ctx, rule, p.cur + p.size, 'the cursor must move to the end of the protected slot'))
    return out
  }),
  protectRule(3, (ctx, _p, rule) => {
    const out: Finding[] = [...parkingChanged(ctx, rule), ...obligationsChanged(ctx, rule, new Map())]
    for (const i of ctx.changes.slotCells) {
      if (notNewNode(ctx, i)) {
        out.push(finding(rule, `regions.slotOwners[${i}]`, `slot ${i} changed, and it is not a page-table node the split allocated`, ownerOf(ctx.pre, i), ownerOf(ctx.post, i)))
        break
      }
    }
    return out
  }),
]

// ---- unmap -----------------------------------------------------------------------------------

/** `y` is a piece of `x`: smaller, aligned, inside it, at the proportional physical address, with its property. */
function isPieceOf(y: Mapping, x: Mapping): boolean {
  const off = y.vaRange.start - x.vaRange.start
  return y.pageSize < x.pageSize && off >= 0 && y.vaRange.end <= x.vaRange.end && y.vaRange.start % y.pageSize === 0 && y.paRange.start === x.paRange.start + off && equal(y.property, x.property)
}

/** The view range `[va, va + size)` of a qualified path of the tree rooted at `root`, or null. */
function pathSpan(key: string, root: number): VaRange | null {
  const q = splitQualifiedPath(key)
  if (q === null || q.tree !== root) return null
  const k = pathLength(q.path)
  if (k < 1 || k > NR_LEVELS) return null
  const start = pathVaddr(q.path)
  return { start, end: start + pageSize(NR_LEVELS + 1 - k) }
}

interface UnmapContext {
  readonly c: PtCursor
  readonly root: number
  readonly window: VaRange
}

function unmapContext(ctx: EnsContext): UnmapContext | null {
  const c = cursorAt(ctx.pre, cursorId(ctx))
  const root = c === null ? null : cursorRootSlot(ctx.pre, c)
  return c === null || root === null ? null : { c, root, window: { start: c.va, end: c.va + num(ctx.event, 'len') } }
}

function unmapRule(n: number, check: (ctx: EnsContext, u: UnmapContext, rule: string) => Finding[]): EnsRule {
  const id = `ENS-CURSORMUT-UNMAP-${n}`
  return ens(id, ['cursor_mut.unmap'], (ctx) => {
    const u = unmapContext(ctx)
    return u === null ? [] : check(ctx, u, id)
  })
}

const unmapRules: EnsRule[] = [
  // unmap_spec(len, model', res) [JUN], as a relation, over the window widened to the mappings straddling its ends.
  unmapRule(1, (ctx, u, rule) => {
    const out: Finding[] = []
    const { window: w } = u
    const opts = { source: 'ghost' as const, config: u.c.config }
    const after = cursorAt(ctx.post, cursorId(ctx))
    if (after === null || after.va < w.end) out.push(finding(rule, `pt.cursors[${cursorId(ctx)}].va`, "new cur_va >= cur_va + len", `>= ${w.end}`, after?.va ?? null))
    const left = w.end > w.start ? mappingAt(ctx.pre, u.root, w.start, opts) : null
    const right = w.end > w.start ? mappingAt(ctx.pre, u.root, w.end - 1, opts) : null
    const region = { start: Math.min(w.start, left?.vaRange.start ?? w.start), end: Math.max(w.end, right?.vaRange.end ?? w.end) }
    const before = mappingsIn(ctx.pre, u.root, region, opts)
    const now = mappingsIn(ctx.post, u.root, region, opts)
    for (const x of before) {
      if ((x.vaRange.end <= w.start || x.vaRange.start >= w.end) && !now.some((y) => equal(x, y))) out.push(finding(rule, `view[${x.vaRange.start}, ${x.vaRange.end})`, 'a mapping entirely outside the window did not survive', x, null))
    }
    for (const y of now) {
      if (!before.some((x) => equal(x, y) || isPieceOf(y, x))) out.push(finding(rule, `view[${y.vaRange.start}, ${y.vaRange.end})`, 'a mapping is neither an old one nor a piece of one', null, y))
      else if (y.vaRange.start >= w.start && y.vaRange.start < w.end && !before.some((x) => x.vaRange.start < w.start && w.start < x.vaRange.end && isPieceOf(y, x))) {
        out.push(finding(rule, `view[${y.vaRange.start}, ${y.vaRange.end})`, 'a mapping starting in the window survived (only a piece of one straddling cur_va may)', null, y))
      }
    }
    out.push(...changedOutside(ctx, rule, u.root, region, 'unmap'))
    return out
  }),
  unmapRule(2, (ctx, _u, rule) => {
    let count = 0
    for (const st of ctx.steps ?? []) {
      if (st.event.type !== 'cursor_mut.take_next' || st.result === null) continue
      const frag = st.result as PageTableFragOut
      count += frag.kind === 'Mapped' ? 1 : frag.numFrames
    }
    return ctx.result === count ? [] : [finding(rule, 'result', 'the result must count the frames take_next unmapped (1 per Mapped, num_frames per StrayPageTable)', count, ctx.result)]
  }),
  unmapRule(3, (ctx, u, rule) => {
    const out: Finding[] = []
    const w = u.window
    for (const i of ctx.changes.slotCells) {
      const a = ownerOf(ctx.pre, i)
      const b = ownerOf(ctx.post, i)
      const rcA = a.innerPerms.refCount
      const rcB = b.innerPerms.refCount
      const at = `regions.slotOwners[${i}]`
      if (rcA === REF_COUNT_UNUSED) {
        if (notNewNode(ctx, i)) out.push(finding(rule, at, `slot ${i}, unused before, is not a new page-table node (a split's)`, { usage: 'PageTable', rc: 1 }, { usage: b.usage, rc: refCountName(rcB) }))
        continue
      }
      if (a.usage === 'PageTable') {
        const r = nodeOwnerAt(ctx.pre, i)
        const gone = r !== null && r.tree === u.root && nodeOwnerAt(ctx.post, i) === null
        if (gone && rcB !== REF_COUNT_UNUSED) out.push(finding(rule, at, `node ${i} of a removed sub-tree is not freed`, 'UNUSED', refCountName(rcB)))
        if (!gone && (rcA !== rcB || !equal(a.pathsInPt, b.pathsInPt))) out.push(finding(rule, at, `node ${i}, not removed, changed its rc or paths_in_pt`, { rc: refCountName(rcA), pathsInPt: a.pathsInPt }, { rc: refCountName(rcB), pathsInPt: b.pathsInPt }))
        continue
      }
      const removed = a.pathsInPt.filter((p) => !b.pathsInPt.includes(p))
      const added = b.pathsInPt.filter((p) => !a.pathsInPt.includes(p))
      const outside = removed.find((p) => {
        const span = pathSpan(p, u.root)
        return span === null || span.start < w.start || span.end > w.end
      })
      const rcWant = rcA - removed.length
      const rcOk = rcWant === 0 ? rcB === REF_COUNT_UNUSED : rcB === rcWant
      if (added.length > 0 || outside !== undefined || !rcOk) {
        out.push(finding(rule, at, `slot ${i}: every removed mapping of the window takes its path out of paths_in_pt and one reference (UNUSED at 0), nothing else`, { rc: rcWant === 0 ? 'UNUSED' : refCountName(rcWant), removedInWindow: true, added: [] }, { rc: refCountName(rcB), removed, added }))
      }
    }
    // every detached sub-tree is freed: no node of the page table is left out of it, and no handle is left behind
    tableDiff(ctx.pre.pt.owners, ctx.post.pt.owners, (slot, rb, ra) => {
      if (ra !== null && ra.tree === u.root && ra.inScope && !(rb?.inScope ?? false)) out.push(finding(rule, `pt.owners[${slot}]`, `node ${slot} was detached from the page table but not freed`, null, { inScope: true }))
    })
    if (handlesChanged(ctx.pre.pt.nodes, ctx.post.pt.nodes) || handlesChanged(ctx.pre.frames, ctx.post.frames) || handlesChanged(ctx.pre.pt.children, ctx.post.pt.children)) {
      out.push(finding(rule, 'pt.nodes', 'a fragment handle (Frame or PageTableNode) is left behind: unmap drops what it takes'))
    }
    return out
  }),
]

/** Whether a handle registry gained, lost or changed an entry (the change sets also mark units re-checked for other reasons). */
function handlesChanged<T>(before: Table<T>, after: Table<T>): boolean {
  let changed = false
  tableDiff(before, after, () => {
    changed = true
  })
  return changed
}

export const ptCursorRules: Array<EnsRule | InvRule> = [
  ...invariantRules,
  ...newRules,
  ...dropRules,
  virtAddrRule('ENS-CURSOR-VIRTADDR-1', 'Cursor'),
  virtAddrRule('ENS-CURSORMUT-VIRTADDR-1', 'CursorMut'),
  ...queryRules('ENS-CURSOR-QUERY', 'Cursor'),
  ...queryRules('ENS-CURSORMUT-QUERY', 'CursorMut'),
  ...nextRules,
  ...jumpRules('ENS-CURSOR-JUMP', 'Cursor'),
  ...jumpRules('ENS-CURSORMUT-JUMP', 'CursorMut'),
  ...findNextRules('ENS-CURSOR-FINDNEXT', 'Cursor'),
  ...findNextRules('ENS-CURSORMUT-FINDNEXT', 'CursorMut'),
  ...mapRules,
  ...takeRules,
  ...protectRules,
  ...unmapRules,
]
