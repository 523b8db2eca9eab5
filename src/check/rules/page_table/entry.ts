/**
 * Rules of the page-table entry and child layer (operations.md §1.5, §3.1, §5.1–§5.5, §5.8;
 * state.md §6): the postconditions of `PageTableGuard::entry`, `Entry::{new_at, is_none, is_node,
 * to_ref, protect, replace}`, `Child::{from_pte, into_pte}`, `ChildRef::from_pte` and the model's
 * Child events, and the entry invariants.
 *
 * Invariants, over every PTE slot of every node record (scope `ptEntry`, unit `slot * 512 +
 * idx`; the owner is `childOwnerView`, the word `readPte`, `parent_level` the node's level):
 * INV-ENTRY-1..4, 6 (group A), INV-ENTRY-5 (`in_scope == false` in the tree), INV-MATCH-1..4 and
 * INV-SOUND-1..3 (group B: `replace` breaks them between its internal steps, MD-12). Over every
 * `Child` value held by code (scope `ptChildren`): INV-CHILD-1 (group A, model: `Child::wf` and
 * the owner's `inv_base`, whose failures carry the INV-ENTRY IDs) and INV-CHILD-2 (group B,
 * model: the owner is in scope and sound, failures carry INV-ENTRY-5 / INV-SOUND-1..3) — one
 * rule per ID and scope is what the registry allows, so the spec IDs are registered on the
 * `ptEntry` scope and the `ptChildren` evaluations are these two model rules.
 *
 * INV-SOUND-4 ("absent / locked / borrowed entries are trivially sound") is in tree.ts with the
 * other owner-tree rules: `metaregion_sound` asks nothing of such an owner, so what is checked is
 * that only absent / locked owners naming no slot take that branch (always also INV-ENTRY-1).
 *
 * Finding paths of the slot-level clauses (INV-SOUND) are prefixed with the entry or child they
 * were evaluated for (`pt.owners[3].children[7] @ regions.slotOwners[12]…`), so that a frame
 * mapped at several entries gets one finding per entry and each unit's verdict stays its own
 * (full == incremental).
 */
import equal from 'fast-deep-equal/es6/index.js'
import { frameToIndex, NR_ENTRIES, NR_LEVELS, PAGE_SIZE, pageSize, REF_COUNT_UNUSED, refCountName } from '../../../arch/constants.js'
import { pagePropertyEquals, type PageProperty } from '../../../arch/page_prop.js'
import { isPresent, newPt, pteFromHex, pteProp, pteToHex, setProp, type Pte } from '../../../arch/pte.js'
import { changedPteIndices, readPte } from '../../../model/memory.js'
import { qualifiedPath, type ChildValue, type LeafEntryOwner, type PtNodeOwner } from '../../../model/page_table.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import {
  absentChild,
  childOwnerView,
  childPath,
  childValuesEqual,
  entryInvBase,
  entryScope,
  matchPte,
  metaregionSound,
  nodeEntryView,
  nodeOwnerAt,
  pathInv,
  pathLength,
  type EntryOwnerView,
} from '../../../model/spec/page_table.js'
import { isParked, obligationsOf, ownerOf, slotOf } from '../../../model/slots.js'
import { isSharedKernelEntry } from '../../../model/pt_tables.js'
import type { Counters, MetaSlotCells, MetaSlotOwner, Snapshot } from '../../../model/snapshot.js'
import { tableDiff, tableForEach, tableGet, type Table } from '../../../model/table.js'
import {
  childOwner,
  childConfig,
  childWfFailure,
  fromPteSpec,
  intoPteWord,
  pteInvariantsFailure,
  referencedSlot,
  treeConfig,
  type IntoPteResult,
} from '../../../../reducers/page_table/child.js'
import { relateGuardFailure, type EntryContext, type EntryProtectEvent } from '../../../../reducers/page_table/entry.js'
import { entryAt, lockedSlotOf, nodeLevelAt } from './entry_reads.js'
import { protectedProperty } from './cursor_args.js'
import { regionInvAt } from '../../../../reducers/frame/meta.js'
import type { EnsContext, EnsRule, InvRule, Rule, UmbrellaRule } from '../../rule.js'
import { ens, ids, inv, obligationsChanged, otherSlotsChanged, parkingChanged } from '../helpers.js'

// ---- invariants ------------------------------------------------------------------------------

type EntryFamily = 'base' | 'scope' | 'match' | 'sound'

/** Per-snapshot caches of the findings of a unit, one per family (several rules filter one evaluation). */
const unitCache = new WeakMap<Snapshot, Array<Map<number, Finding[]>>>()
const NO_FINDINGS: readonly Finding[] = Object.freeze([])

function cached(s: Snapshot, family: number, unit: number, compute: () => Finding[]): readonly Finding[] {
  let perSnapshot = unitCache.get(s)
  if (perSnapshot === undefined) unitCache.set(s, (perSnapshot = [new Map(), new Map(), new Map(), new Map(), new Map(), new Map()]))
  const map = perSnapshot[family]!
  let out = map.get(unit)
  if (out === undefined) map.set(unit, (out = compute()))
  return out
}

/**
 * A node, with which of its 512 entries are non-trivial: a stored owner or a non-zero PTE word.
 * The others are the canonical absent owner over an absent PTE, for which every clause holds but
 * the path's (INV-ENTRY-4, a function of the node's path). Computed once per snapshot and node:
 * incremental mode visits any entry a step touched, whatever it holds.
 */
interface NodeInfo {
  readonly node: PtNodeOwner
  readonly busy: Uint8Array
  /** The canonical absent entries' paths are well-formed. */
  readonly pathOk: boolean
}

let infoFor: Snapshot | null = null
let infos = new Map<number, NodeInfo | null>()

function nodeInfo(s: Snapshot, slot: number): NodeInfo | null {
  if (infoFor !== s) {
    infoFor = s
    infos = new Map()
  }
  let info = infos.get(slot)
  if (info !== undefined) return info
  const node = nodeOwnerAt(s, slot)
  if (node === null) info = null
  else {
    const busy = new Uint8Array(NR_ENTRIES)
    tableForEach(node.children, (_c, k) => {
      if (k < NR_ENTRIES) busy[k] = 1
    })
    const page = tableGet(s.memory, slot)
    if (page !== null) {
      const words = new Uint32Array(page.buffer, page.byteOffset, NR_ENTRIES * 2)
      for (let k = 0; k < NR_ENTRIES; k++) if ((words[2 * k]! | words[2 * k + 1]!) !== 0) busy[k] = 1
    }
    info = { node, busy, pathOk: pathInv(node.path) && pathLength(node.path) < NR_LEVELS }
  }
  infos.set(slot, info)
  return info
}

/** Makes the path of a slot-level finding specific to the entry or child it was evaluated for. */
function at(where: string, fs: readonly Finding[]): Finding[] {
  return fs.map((f) => (f.path.startsWith(where) ? f : { ...f, path: `${where} @ ${f.path}` }))
}

function only(id: string, fs: readonly Finding[]): Finding[] {
  return fs.length === 0 ? (NO_FINDINGS as Finding[]) : fs.filter((f) => f.rule === id)
}

const FAMILY: Readonly<Record<EntryFamily, number>> = { base: 0, scope: 1, match: 2, sound: 3 }

/** The findings of one family of clauses at PTE slot `unit`. */
function entryFamily(s: Snapshot, unit: number, family: EntryFamily): readonly Finding[] {
  const slot = Math.floor(unit / NR_ENTRIES)
  const idx = unit - slot * NR_ENTRIES
  const info = nodeInfo(s, slot)
  if (info === null) return NO_FINDINGS
  const node = info.node
  if (info.busy[idx] === 0) {
    return family === 'base' && !info.pathOk ? entryInvBase(s, absentChild(node, idx), `pt.owners[${slot}].children[${idx}]`, node.config) : NO_FINDINGS
  }
  return cached(s, FAMILY[family], unit, () => {
    const where = `pt.owners[${slot}].children[${idx}]`
    const view = childOwnerView(s, node, idx)
    if (view === null) {
      const target = (tableGet(node.children, idx) as { slot?: number } | null)?.slot
      return family === 'base' ? [finding('INV-ENTRY-1', where, `the entry is a node entry whose node record (slot ${target}) does not exist`)] : []
    }
    switch (family) {
      case 'base':
        return entryInvBase(s, view, where, node.config)
      case 'scope':
        return entryScope(view, false, where)
      case 'match':
        // A user root's shared kernel half: kernel words over absent ghost entries (src/model/pt_tables.ts).
        return isSharedKernelEntry(s, slot, idx) ? [] : matchPte(view, readPte(s, slot, idx), node.level, where)
      case 'sound':
        return at(where, metaregionSound(s, view, where))
    }
  })
}

/** The findings at Child value `id`: group A (`Child::wf`, `inv_base`) or group B (scope, soundness). */
function childFamily(s: Snapshot, id: number, group: 'A' | 'B'): readonly Finding[] {
  return cached(s, group === 'A' ? 4 : 5, id, () => {
    const c = tableGet(s.pt.children, id)
    if (c === null) return []
    const where = `pt.children[${id}]`
    const view = childOwner(s, id)
    if (view === null) return group === 'A' ? [finding('INV-CHILD-1', where, `the ${c.kind} child has no ghost owner`)] : []
    if (group === 'B') return [...entryScope(view, true, `${where}.owner`), ...at(where, metaregionSound(s, view, `${where}.owner`))]
    const wf = childWfFailure(c, view)
    return [...(wf === null ? [] : [finding('INV-CHILD-1', where, wf)]), ...entryInvBase(s, view, `${where}.owner`, childConfig(s, c, view))]
  })
}

const ENTRY_BASE_IDS = ['INV-ENTRY-1', 'INV-ENTRY-2', 'INV-ENTRY-3', 'INV-ENTRY-4', 'INV-ENTRY-6']

export const ptEntryInvariants: InvRule[] = [
  ...ENTRY_BASE_IDS.map((id) => inv(id, 'A', 'ptEntry', (s, u) => only(id, entryFamily(s, u, 'base')))),
  inv('INV-ENTRY-5', 'B', 'ptEntry', (s, u) => entryFamily(s, u, 'scope') as Finding[]),
  ...ids('INV-MATCH', 1, 4).map((id) => inv(id, 'B', 'ptEntry', (s, u) => only(id, entryFamily(s, u, 'match')))),
  ...ids('INV-SOUND', 1, 3).map((id) => inv(id, 'B', 'ptEntry', (s, u) => only(id, entryFamily(s, u, 'sound')))),
  inv(
    'INV-CHILD-1',
    'A',
    'ptChildren',
    (s, id) => childFamily(s, id, 'A') as Finding[],
    "[model] `Child::invariants` of every Child value held by code, structural part (state.md §6.4): the value has a ghost owner and `Child::wf(owner)` holds (PageTable: the node's record; Frame: a frame owner with the same paddr and property, level == parent_level; None: absent) — reported as INV-CHILD-1 — and the owner's `inv_base` holds (reported as INV-ENTRY-1..4, 6).",
  ),
  inv(
    'INV-CHILD-2',
    'B',
    'ptChildren',
    (s, id) => childFamily(s, id, 'B') as Finding[],
    '[model] `Child::invariants` of every Child value held by code, ownership part: its owner is in scope (`in_scope == true`, reported as INV-ENTRY-5) and `metaregion_sound` (reported as INV-SOUND-1..3). Group B: `from_pte` / `into_pte` hold it only at the boundary of `replace` (MD-12).',
  ),
]

// ---- helpers for postconditions --------------------------------------------------------------

function evt<T>(ctx: EnsContext): T {
  return ctx.event as unknown as T
}

/** The id a step returned in `{ entry }` / `{ child }`, or null. */
function resultId(ctx: EnsContext, key: 'entry' | 'child'): number | null {
  const r = ctx.result as Record<string, unknown> | null
  return r !== null && typeof r === 'object' && typeof r[key] === 'number' ? (r[key] as number) : null
}

export function relabel(rule: string, fs: readonly Finding[]): Finding[] {
  return fs.map((f) => ({ ...f, rule }))
}

function keysDiff<T>(a: Table<T>, b: Table<T>): number[] {
  const out: number[] = []
  tableDiff(a, b, (i) => out.push(i))
  return out
}

/** What a page-table step may change besides what it names (its "frame rule"). */
export interface Allowed {
  readonly slots?: Iterable<number>
  readonly parking?: Iterable<number>
  readonly obligations?: Iterable<number>
  readonly memory?: Iterable<number>
  readonly frames?: Iterable<number>
  readonly nodes?: Iterable<number>
  readonly entries?: Iterable<number>
  readonly children?: Iterable<number>
  readonly owners?: Iterable<number>
  readonly counters?: ReadonlyArray<keyof Counters>
  readonly guards?: Iterable<number>
  readonly locks?: Iterable<number>
  /** The step may take a frame from the allocator (a composite that allocates a node). */
  readonly allocator?: boolean
}

/** Everything outside `allowed` is unchanged (the implicit frame rule of operations.md §0). */
export function onlyChanged(ctx: EnsContext, rule: string, allowed: Allowed = {}): Finding[] {
  if (ctx.pre === ctx.post) return []
  const out: Finding[] = []
  const { pre, post, changes: c } = ctx
  const check = (what: string, changed: Iterable<number>, ok: Iterable<number> | undefined, path: (i: number) => string): void => {
    const allow = new Set(ok ?? [])
    for (const i of new Set(changed)) if (!allow.has(i)) out.push(finding(rule, path(i), `${what} ${i} changed although the operation does not touch it`))
  }
  check('slot', c.slotCells, allowed.slots, (i) => `regions.slotOwners[${i}]`)
  check('the parking of slot', c.parking, allowed.parking, (i) => `regions.slots[${i}]`)
  check('frame_obligations at slot', c.obligations, allowed.obligations, (i) => `regions.frameObligations[${i}]`)
  check('the memory page of slot', c.memory, allowed.memory, (i) => `memory[${i}]`)
  check('the unique owner of slot', c.uniqueOwners, [], (i) => `uniqueOwners[${i}]`)
  check('Frame handle', c.frames, allowed.frames, (i) => `frames[${i}]`)
  check('segment', c.segments, [], (i) => `segments[${i}]`)
  check('UniqueFrame handle', c.uniqueFrames, [], (i) => `uniqueFrames[${i}]`)
  check('linked list', keysDiff(pre.lists, post.lists), [], (i) => `lists[${i}]`)
  check('VmReader/VmWriter', c.vmIos, [], (i) => `vmIos[${i}]`)
  check('PageTableNode handle', keysDiff(pre.pt.nodes, post.pt.nodes), allowed.nodes, (i) => `pt.nodes[${i}]`)
  check('PageTableGuard handle', keysDiff(pre.pt.guards, post.pt.guards), allowed.guards, (i) => `pt.guards[${i}]`)
  check('Entry', keysDiff(pre.pt.entries, post.pt.entries), allowed.entries, (i) => `pt.entries[${i}]`)
  check('Child', [...keysDiff(pre.pt.children, post.pt.children), ...keysDiff(pre.pt.childOwners, post.pt.childOwners)], allowed.children, (i) => `pt.children[${i}]`)
  check('the owner record of node', keysDiff(pre.pt.owners, post.pt.owners), allowed.owners, (i) => `pt.owners[${i}]`)
  check('the lock of node', keysDiff(pre.pt.locks, post.pt.locks), allowed.locks, (i) => `pt.locks[${i}]`)
  const counters = new Set<string>(allowed.counters ?? [])
  for (const k of Object.keys(pre.counters) as Array<keyof Counters>) {
    if (pre.counters[k] !== post.counters[k] && !counters.has(k)) out.push(finding(rule, `counters.${k}`, `the ${k} counter changed`, pre.counters[k], post.counters[k]))
  }
  if (allowed.allocator !== true && !equal(pre.allocator, post.allocator)) out.push(finding(rule, 'allocator', 'the allocator changed'))
  return out
}

/** Node metadata cells a guard writes through its own permission (`nr_children`, `stray`, `lock`), blanked. */
function sansNodeMeta(cells: MetaSlotCells): MetaSlotCells {
  const st = cells.storage
  return st?.kind === 'PTNode' ? { ...cells, storage: { ...st, nrChildren: 0, stray: false, lock: 0 } } : cells
}

export function ownerSansNodeMeta(o: MetaSlotOwner): MetaSlotOwner {
  return { ...o, innerPerms: sansNodeMeta(o.innerPerms) }
}

/**
 * "Every previously parked slot is still parked with an identical permission": no slot leaves
 * `parked`, and the exec cells of a parked slot are unchanged — except the node metadata cells
 * (`nr_children`, `stray`, `lock`), which Verus keeps behind the node's own `PCell` permission,
 * not in the `PointsTo<MetaSlot>` value.
 */
function parkedPermsKept(ctx: EnsContext, rule: string): Finding[] {
  const out: Finding[] = []
  for (const i of ctx.changes.parking) {
    if (isParked(ctx.pre, i) && !isParked(ctx.post, i)) out.push(finding(rule, `regions.slots[${i}]`, `slot ${i} was parked and is no longer`, true, false))
  }
  for (const i of ctx.changes.slotCells) {
    if (isParked(ctx.pre, i) && !equal(sansNodeMeta(slotOf(ctx.pre, i)), sansNodeMeta(slotOf(ctx.post, i)))) {
      out.push(finding(rule, `metaSlots[${i}]`, `the permission of parked slot ${i} changed`, slotOf(ctx.pre, i), slotOf(ctx.post, i)))
    }
  }
  return out
}

function slotOwnersUnchanged(ctx: EnsContext, rule: string): Finding[] {
  const out: Finding[] = []
  tableDiff(ctx.pre.regions.slotOwners, ctx.post.regions.slotOwners, (i) => {
    if (!equal(ownerOf(ctx.pre, i), ownerOf(ctx.post, i))) out.push(finding(rule, `regions.slotOwners[${i}]`, `slot_owners[${i}] changed`, ownerOf(ctx.pre, i), ownerOf(ctx.post, i)))
  })
  return out
}

/** The fields of a slot `metaregion_sound` reads (parking, rc, self_addr, usage, raw_count, paths_in_pt). */
function soundFields(s: Snapshot, i: number): unknown {
  const o = ownerOf(s, i)
  return { parked: isParked(s, i), rc: o.innerPerms.refCount, selfAddr: o.selfAddr, usage: o.usage, rawCount: o.rawCount, paths: o.pathsInPt }
}

/** Slots whose sound-relevant fields the step changed. */
export function soundChangedSlots(ctx: EnsContext): number[] {
  const out: number[] = []
  for (const i of new Set([...ctx.changes.slotCells, ...ctx.changes.parking])) if (!equal(soundFields(ctx.pre, i), soundFields(ctx.post, i))) out.push(i)
  return out
}

function slotsOutside(rule: string, changed: readonly number[], allowed: ReadonlySet<number>, why: string): Finding[] {
  return changed.filter((i) => !allowed.has(i)).map((i) => finding(rule, `regions.slotOwners[${i}]`, `slot ${i} changed in a field metaregion_sound reads, ${why}`))
}

/** Two owners are equal except `inScope`, which the second has as `inScope`; node owners by their records (sub-tree aside). */
function sameOwner(a: EntryOwnerView, b: EntryOwnerView | null, inScope: boolean, position?: { tree: number; path: string }): string | null {
  if (b === null) return 'the owner is missing'
  if (b.inScope !== inScope) return `in_scope is ${b.inScope}, expected ${inScope}`
  if (a.kind === 'node' || b.kind === 'node') {
    if (a.kind !== 'node' || b.kind !== 'node') return `the owner is ${b.kind}, expected ${a.kind}`
    const x: PtNodeOwner = a.node
    const y: PtNodeOwner = b.node
    const want = { tree: position?.tree ?? x.tree, path: position?.path ?? x.path, parentLevel: x.parentLevel, level: x.level, treeLevel: x.treeLevel, slotIndex: x.slotIndex, metaOwn: x.metaOwn, config: x.config }
    const got = { tree: y.tree, path: y.path, parentLevel: y.parentLevel, level: y.level, treeLevel: y.treeLevel, slotIndex: y.slotIndex, metaOwn: y.metaOwn, config: y.config }
    return equal(want, got) ? null : `the node owner is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`
  }
  const want = { ...a, inScope }
  return equal(want, b) ? null : `the owner is ${JSON.stringify(b)}, expected ${JSON.stringify(want)}`
}

function fail(rule: string, path: string, why: string | null, expected?: unknown, actual?: unknown): Finding[] {
  return why === null ? [] : [finding(rule, path, why, expected, actual)]
}

/** The slots a node's sub-tree references below it (node slots and tracked frames), bounded depth. */
function subtreeSlots(s: Snapshot, slot: number, into: Set<number>, nodes: Set<number>, depth = 0): void {
  const r = nodeOwnerAt(s, slot)
  if (r === null || depth > 4) return
  tableForEach(r.children, (c) => {
    if (c.kind === 'node') {
      into.add(c.slot)
      nodes.add(c.slot)
      subtreeSlots(s, c.slot, into, nodes, depth + 1)
    } else if (c.kind === 'frame' && c.frame.isTracked) into.add(frameToIndex(c.frame.mappedPa))
  })
}

function safe<T>(f: () => T): T | null {
  try {
    return f()
  } catch {
    return null
  }
}

// ---- PageTableGuard::entry / Entry::new_at / entry.drop ----------------------------------------

type GuardIdx = { guard: number; idx: number }

/** `res.wf(owner)` of a new Entry: it caches `owner.ptes[idx]`, which the owner matches. */
function newEntryWf(ctx: EnsContext, rule: string): Finding[] {
  const e = evt<GuardIdx>(ctx)
  const id = resultId(ctx, 'entry')
  const h = id === null ? null : tableGet(ctx.post.pt.entries, id)
  if (id === null || h === null || tableGet(ctx.pre.pt.entries, id) !== null) return [finding(rule, 'result.entry', 'no fresh Entry was registered', 'a new Entry', ctx.result)]
  const slot = lockedSlotOf(ctx.pre, e.guard)!
  const view = childOwnerView(ctx.pre, nodeOwnerAt(ctx.pre, slot)!, e.idx)!
  const stored = readPte(ctx.pre, slot, e.idx)
  const cachedPte = safe(() => pteFromHex(h.pte))
  if (cachedPte !== stored) return [finding(rule, `pt.entries[${id}].pte`, `the Entry caches ${h.pte}, the node stores ${pteToHex(stored)} at ${e.idx}`, pteToHex(stored), h.pte)]
  return relabel(rule, matchPte(view, cachedPte, view.parentLevel, `pt.entries[${id}]`))
}

function newEntryFields(ctx: EnsContext, rule: string, fields: ReadonlyArray<'guard' | 'idx'>): Finding[] {
  const e = evt<GuardIdx>(ctx)
  const id = resultId(ctx, 'entry')
  const h = id === null ? null : tableGet(ctx.post.pt.entries, id)
  if (h === null) return [finding(rule, 'result.entry', 'no Entry was registered')]
  return fields.filter((f) => h[f] !== e[f]).map((f) => finding(rule, `pt.entries[${id}].${f}`, `the Entry's ${f} is ${h[f]}, not ${e[f]}`, e[f], h[f]))
}

function entryFrame(ctx: EnsContext, rule: string): Finding[] {
  const id = resultId(ctx, 'entry')
  return onlyChanged(ctx, rule, { entries: id === null ? [] : [id], counters: ['ptEntry'] })
}

const GUARD_ENTRY = ['page_table_guard.entry']
const NEW_AT = ['entry.new_at']

const entryCreationRules: EnsRule[] = [
  ens('ENS-GUARD-ENTRY-1', GUARD_ENTRY, (ctx) => newEntryWf(ctx, 'ENS-GUARD-ENTRY-1')),
  ens('ENS-GUARD-ENTRY-2', GUARD_ENTRY, (ctx) => newEntryFields(ctx, 'ENS-GUARD-ENTRY-2', ['idx'])),
  ens('ENS-GUARD-ENTRY-3', GUARD_ENTRY, (ctx) => [...newEntryFields(ctx, 'ENS-GUARD-ENTRY-3', ['guard']), ...entryFrame(ctx, 'ENS-GUARD-ENTRY-3')]),
  ens('ENS-ENTRY-NEWAT-1', NEW_AT, (ctx) => newEntryWf(ctx, 'ENS-ENTRY-NEWAT-1')),
  ens('ENS-ENTRY-NEWAT-2', NEW_AT, (ctx) => [...newEntryFields(ctx, 'ENS-ENTRY-NEWAT-2', ['guard', 'idx']), ...entryFrame(ctx, 'ENS-ENTRY-NEWAT-2')]),
  ens(
    'ENS-ENTRY-DROP-1',
    ['entry.drop'],
    (ctx) => {
      const id = evt<{ entry: number }>(ctx).entry
      const left = tableGet(ctx.post.pt.entries, id)
      return [...(left === null ? [] : [finding('ENS-ENTRY-DROP-1', `pt.entries[${id}]`, `Entry ${id} is still registered`, null, left)]), ...onlyChanged(ctx, 'ENS-ENTRY-DROP-1', { entries: [id] })]
    },
    '[model] Dropping an Entry removes it from `pt.entries` (its borrow of the guard ends); nothing else changes.',
  ),
]

// ---- is_none / is_node / to_ref / ChildRef::from_pte ---------------------------------------

function preEntry(ctx: EnsContext): EntryContext {
  return entryAt(ctx.pre, evt<{ entry: number }>(ctx).entry)!
}

const queryRules: EnsRule[] = [
  ens('ENS-ENTRY-ISNONE-1', ['entry.is_none'], (ctx) => {
    const want = preEntry(ctx).view?.kind === 'absent'
    return [
      ...(ctx.result === want ? [] : [finding('ENS-ENTRY-ISNONE-1', 'result', `is_none returned ${String(ctx.result)}, the owner is ${preEntry(ctx).view?.kind}`, want, ctx.result)]),
      ...onlyChanged(ctx, 'ENS-ENTRY-ISNONE-1'),
    ]
  }),
  ens('ENS-ENTRY-ISNODE-1', ['entry.is_node'], (ctx) => {
    // A `locked` owner (a sub-tree a cursor holds) keeps its node PTE in the parent: the exec
    // result is true there, so it counts as a node (see the report: owner.is_node() is false).
    const kind = preEntry(ctx).view?.kind
    const want = kind === 'node' || kind === 'locked'
    return [
      ...(ctx.result === want ? [] : [finding('ENS-ENTRY-ISNODE-1', 'result', `is_node returned ${String(ctx.result)}, the owner is ${kind}`, want, ctx.result)]),
      ...onlyChanged(ctx, 'ENS-ENTRY-ISNODE-1'),
    ]
  }),
  ens('ENS-ENTRY-TOREF-1', ['entry.to_ref'], (ctx) => fail('ENS-ENTRY-TOREF-1', 'result', childWfFailure(ctx.result as ChildValue, preEntry(ctx).view), preEntry(ctx).view, ctx.result)),
  ens('ENS-ENTRY-TOREF-2', ['entry.to_ref'], (ctx) => slotOwnersUnchanged(ctx, 'ENS-ENTRY-TOREF-2')),
  ens('ENS-ENTRY-TOREF-3', ['entry.to_ref'], (ctx) => parkedPermsKept(ctx, 'ENS-ENTRY-TOREF-3')),
  ens('ENS-ENTRY-TOREF-4', ['entry.to_ref'], (ctx) => {
    const out: Finding[] = []
    for (const i of new Set([...ctx.changes.slotCells, ...ctx.changes.parking])) {
      const bad = i >= 0 && i < ctx.post.nrFrames ? regionInvAt(ctx.post, i) : null
      if (bad !== null) out.push(finding('ENS-ENTRY-TOREF-4', `regions.slotOwners[${i}]`, bad))
    }
    return out
  }),
  ens('ENS-CHILDREF-FROMPTE-1', ['child_ref.from_pte'], (ctx) => {
    const rule = 'ENS-CHILDREF-FROMPTE-1'
    const e = evt<{ pte: string; level: number; node: number; idx: number }>(ctx)
    const view = childOwnerView(ctx.pre, nodeOwnerAt(ctx.pre, e.node)!, e.idx)
    const want = fromPteSpec(pteFromHex(e.pte), e.level, nodeOwnerAt(ctx.pre, e.node)!.config)
    const res = ctx.result as ChildValue
    return [
      ...(childValuesEqual(want, res) ? [] : [finding(rule, 'result', 'the ChildRef is not from_pte_spec(pte, level)', want, res)]),
      ...fail(rule, 'result', childWfFailure(res, view)),
      ...slotOwnersUnchanged(ctx, rule),
      ...parkedPermsKept(ctx, rule),
      ...obligationsChanged(ctx, rule, new Map()),
    ]
  }),
]

// ---- protect -----------------------------------------------------------------------------------

interface ProtectFacts {
  readonly pre: EntryContext
  readonly post: EntryContext | null
  readonly present: boolean
  readonly prop: ReturnType<typeof protectedProperty> | null
}

const protectCache = new WeakMap<EnsContext, ProtectFacts>()

function protectFacts(ctx: EnsContext): ProtectFacts {
  let f = protectCache.get(ctx)
  if (f === undefined) {
    const pre = preEntry(ctx)
    const present = isPresent(pre.cached)
    f = { pre, post: entryAt(ctx.post, pre.id), present, prop: present ? protectedProperty(evt<EntryProtectEvent>(ctx), pteProp(pre.cached)) : null }
    protectCache.set(ctx, f)
  }
  return f
}

function parentPermsPreserved(ctx: EnsContext, rule: string, pre: EntryContext): Finding[] {
  const out: Finding[] = []
  for (const i of ctx.changes.memory) {
    if (i !== pre.slot) continue
    for (const k of changedPteIndices(tableGet(ctx.pre.memory, i), tableGet(ctx.post.memory, i))) {
      if (k !== pre.entry.idx) out.push(finding(rule, `memory[${i}].pte[${k}]`, `PTE ${k} of the parent changed (only ${pre.entry.idx} may)`, pteToHex(readPte(ctx.pre, i, k)), pteToHex(readPte(ctx.post, i, k))))
    }
  }
  const g = pre.entry.guard
  if (tableGet(ctx.pre.pt.guards, g) !== tableGet(ctx.post.pt.guards, g)) out.push(finding(rule, `pt.guards[${g}]`, `the guard ${g} changed`, tableGet(ctx.pre.pt.guards, g), tableGet(ctx.post.pt.guards, g)))
  if (tableGet(ctx.post.pt.locks, pre.slot) === null) out.push(finding(rule, `pt.locks[${pre.slot}]`, `the lock of the parent node ${pre.slot} is no longer held`))
  return out
}

const PROTECT = ['entry.protect']

const protectRules: EnsRule[] = [
  ens('ENS-ENTRY-PROTECT-1', PROTECT, (ctx) => {
    const rule = 'ENS-ENTRY-PROTECT-1'
    const { pre, post } = protectFacts(ctx)
    if (post === null || post.view === null || post.node === null) return [finding(rule, `pt.entries[${pre.id}]`, 'the Entry or its owner is gone after protect')]
    return [
      ...(post.cached === post.stored ? [] : [finding(rule, `pt.entries[${pre.id}].pte`, 'the Entry caches a word the node does not store (self.wf / NM)', pteToHex(post.stored), pteToHex(post.cached))]),
      ...(post.node.level === post.view.parentLevel ? [] : [finding(rule, `pt.owners[${post.slot}].level`, "the parent's level is not the owner's parent level (NM)", post.view.parentLevel, post.node.level)]),
      ...fail(rule, `pt.guards[${pre.entry.guard}]`, relateGuardFailure(ctx.post, pre.entry.guard)),
    ]
  }),
  ens('ENS-ENTRY-PROTECT-2', PROTECT, (ctx) => parentPermsPreserved(ctx, 'ENS-ENTRY-PROTECT-2', protectFacts(ctx).pre)),
  ens('ENS-ENTRY-PROTECT-3', PROTECT, (ctx) => {
    const rule = 'ENS-ENTRY-PROTECT-3'
    const { pre, post } = protectFacts(ctx)
    if (post === null) return [finding(rule, `pt.entries[${pre.id}]`, 'the Entry is gone after protect')]
    const out: Finding[] = []
    if (post.entry.idx !== pre.entry.idx || post.entry.guard !== pre.entry.guard) out.push(finding(rule, `pt.entries[${pre.id}]`, "the Entry's index or guard changed", pre.entry, post.entry))
    const a = pre.view!
    const b = post.view
    if (a.kind !== 'frame') return [...out, ...fail(rule, `pt.owners[${pre.slot}].children[${pre.entry.idx}]`, equal(a, b) ? null : 'protecting an absent entry changed its owner', a, b)]
    if (b === null || b.kind !== 'frame') return [...out, finding(rule, `pt.owners[${pre.slot}].children[${pre.entry.idx}]`, `the owner is ${b?.kind ?? 'missing'} after protect, not a frame`)]
    const keep = (o: typeof a) => ({ mappedPa: o.frame.mappedPa, size: o.frame.size, isTracked: o.frame.isTracked, tree: o.tree, path: o.path, parentLevel: o.parentLevel, inScope: o.inScope })
    if (!equal(keep(a), keep(b))) out.push(finding(rule, `pt.owners[${pre.slot}].children[${pre.entry.idx}]`, 'protect changed more of the owner than its property', keep(a), keep(b)))
    return out
  }),
  ens('ENS-ENTRY-PROTECT-4', PROTECT, (ctx) => {
    const rule = 'ENS-ENTRY-PROTECT-4'
    const { pre, post, present } = protectFacts(ctx)
    if (!present || pre.view?.kind !== 'frame') return []
    const want = protectedProperty(evt<EntryProtectEvent>(ctx), pre.view.frame.prop)
    const got = post?.view?.kind === 'frame' ? post.view.frame.prop : null
    return got !== null && pagePropertyEquals(want, got) ? [] : [finding(rule, `pt.owners[${pre.slot}].children[${pre.entry.idx}].frame.prop`, "the owner's property is not op(old property)", want, got)]
  }),
  ens('ENS-ENTRY-PROTECT-5', PROTECT, (ctx) => {
    const rule = 'ENS-ENTRY-PROTECT-5'
    const { pre, post, present, prop } = protectFacts(ctx)
    const want = present ? safe(() => setProp(pre.cached, prop!)) : pre.cached
    const out: Finding[] = []
    const stored = readPte(ctx.post, pre.slot, pre.entry.idx)
    if (want === null || stored !== want || post?.cached !== want) {
      out.push(finding(rule, `memory[${pre.slot}].pte[${pre.entry.idx}]`, 'parent.ptes[idx] == self.pte == set_prop(old pte, op(old prop)) fails', want === null ? null : pteToHex(want), { stored: pteToHex(stored), cached: post === null ? null : pteToHex(post.cached) }))
    }
    const m0 = nodeOwnerAt(ctx.pre, pre.slot)?.metaOwn
    const m1 = nodeOwnerAt(ctx.post, pre.slot)?.metaOwn
    if (!equal(m0, m1)) out.push(finding(rule, `pt.owners[${pre.slot}].metaOwn`, "the parent's nr_children / stray changed", m0, m1))
    out.push(...onlyChanged(ctx, rule, { memory: [pre.slot], entries: [pre.id], owners: [pre.slot] }))
    return out
  }),
]

// ---- Child::from_pte / Child::into_pte ----------------------------------------------------------

type FromPteEvent = { pte: string; level: number; node: number; idx: number }

const FROM_PTE = ['child.from_pte']
const INTO_PTE = ['child.into_pte']

function fromPteView(ctx: EnsContext): EntryOwnerView {
  const e = evt<FromPteEvent>(ctx)
  return childOwnerView(ctx.pre, nodeOwnerAt(ctx.pre, e.node)!, e.idx)!
}

function intoPteOwner(ctx: EnsContext): { value: ChildValue; before: EntryOwnerView; after: EntryOwnerView | null; res: IntoPteResult } {
  const id = evt<{ child: number }>(ctx).child
  const value = tableGet(ctx.pre.pt.children, id)!
  const before = childOwner(ctx.pre, id)!
  const res = ctx.result as IntoPteResult
  const rec = value.kind === 'PageTable' ? nodeOwnerAt(ctx.post, frameToIndex(value.paddr)) : null
  const after = value.kind === 'PageTable' ? (rec === null ? null : nodeEntryView(rec)) : res.owner
  return { value, before, after, res }
}

/** ENS-CHILD-*-3: regions change only at a node child's slot, by `rawCount` (set or delta) and obligations. */
function nodeRegions(ctx: EnsContext, rule: string, slot: number | null, raw: { set?: number; delta?: number }, fo: number): Finding[] {
  if (slot === null) return [...otherSlotsChanged(ctx, rule, []), ...parkingChanged(ctx, rule), ...obligationsChanged(ctx, rule, new Map())]
  const out = [...otherSlotsChanged(ctx, rule, [slot]), ...parkingChanged(ctx, rule), ...obligationsChanged(ctx, rule, new Map([[slot, fo]]))]
  const r0 = ownerOf(ctx.pre, slot).rawCount
  const r1 = ownerOf(ctx.post, slot).rawCount
  const want = raw.set ?? r0 + (raw.delta ?? 0)
  if (r1 !== want) out.push(finding(rule, `regions.slotOwners[${slot}].rawCount`, `raw_count of node slot ${slot} is ${r1}, expected ${want}`, want, r1))
  if (!isParked(ctx.post, slot)) out.push(finding(rule, `regions.slots[${slot}]`, `node slot ${slot} is not parked`, true, false))
  const a = ownerOf(ctx.pre, slot)
  const b = ownerOf(ctx.post, slot)
  if (!equal({ ...a, rawCount: 0 }, { ...b, rawCount: 0 })) out.push(finding(rule, `regions.slotOwners[${slot}]`, `slot ${slot} changed beyond its raw_count`, a, b))
  return out
}

const childPteRules: EnsRule[] = [
  ens('ENS-CHILD-FROMPTE-1', FROM_PTE, (ctx) => {
    const rule = 'ENS-CHILD-FROMPTE-1'
    const e = evt<FromPteEvent>(ctx)
    const id = resultId(ctx, 'child')
    const value = id === null ? null : tableGet(ctx.post.pt.children, id)
    if (id === null || value === null || tableGet(ctx.pre.pt.children, id) !== null) return [finding(rule, 'result.child', 'no fresh Child value was registered', 'a new Child', ctx.result)]
    const want = fromPteSpec(pteFromHex(e.pte), e.level, nodeOwnerAt(ctx.pre, e.node)!.config)
    return [
      ...(childValuesEqual(want, value) ? [] : [finding(rule, `pt.children[${id}]`, 'the Child is not from_pte_spec(pte, level)', want, value)]),
      ...fail(rule, `pt.children[${id}]`, childWfFailure(value, childOwner(ctx.post, id))),
    ]
  }),
  ens('ENS-CHILD-FROMPTE-2', FROM_PTE, (ctx) => {
    const id = resultId(ctx, 'child')
    const owner = id === null ? null : childOwner(ctx.post, id)
    return fail('ENS-CHILD-FROMPTE-2', `pt.children[${id}].owner`, sameOwner(fromPteView(ctx), owner, true), { ...fromPteView(ctx), inScope: true }, owner)
  }),
  ens('ENS-CHILD-FROMPTE-3', FROM_PTE, (ctx) => {
    const view = fromPteView(ctx)
    return nodeRegions(ctx, 'ENS-CHILD-FROMPTE-3', view.kind === 'node' ? view.node.slotIndex : null, { set: 0 }, +1)
  }),
  ens('ENS-CHILD-INTOPTE-1', INTO_PTE, (ctx) => {
    const rule = 'ENS-CHILD-INTOPTE-1'
    const { after, res } = intoPteOwner(ctx)
    const pte = safe(() => pteFromHex(res.pte))
    if (pte === null) return [finding(rule, 'result.pte', `into_pte returned ${JSON.stringify(res?.pte)}, not a PTE word`)]
    return fail(rule, 'result', pteInvariantsFailure(ctx.post, after, pte, after === null ? null : treeConfig(ctx.post, after.tree), 'the owner of the child'))
  }),
  ens('ENS-CHILD-INTOPTE-2', INTO_PTE, (ctx) => {
    const rule = 'ENS-CHILD-INTOPTE-2'
    const id = evt<{ child: number }>(ctx).child
    const { before, after } = intoPteOwner(ctx)
    const out = fail(rule, `pt.children[${id}].owner`, sameOwner(before, after, false), { ...before, inScope: false }, after)
    if (tableGet(ctx.post.pt.children, id) !== null || tableGet(ctx.post.pt.childOwners, id) !== null) out.push(finding(rule, `pt.children[${id}]`, 'the Child (or its owner entry) is still registered after into_pte'))
    return out
  }),
  ens('ENS-CHILD-INTOPTE-3', INTO_PTE, (ctx) => {
    const { value } = intoPteOwner(ctx)
    return nodeRegions(ctx, 'ENS-CHILD-INTOPTE-3', value.kind === 'PageTable' ? frameToIndex(value.paddr) : null, { delta: +1 }, -1)
  }),
  ens('ENS-CHILD-INTOPTE-4', INTO_PTE, (ctx) => {
    const { value, res } = intoPteOwner(ctx)
    if (value.kind !== 'PageTable') return []
    const want = pteToHex(newPt(value.paddr))
    return res?.pte === want ? [] : [finding('ENS-CHILD-INTOPTE-4', 'result.pte', 'a node child is not new_pt(node paddr)', want, res?.pte)]
  }),
]

// ---- replace ---------------------------------------------------------------------------------

interface ReplaceFacts {
  readonly pre: EntryContext
  readonly post: EntryContext | null
  readonly idx: number
  readonly slot: number
  readonly level: number
  readonly childId: number
  readonly neu: ChildValue
  readonly neuOwner: EntryOwnerView
  readonly oldValue: ChildValue
  readonly oldView: EntryOwnerView
  readonly oldSlot: number | null
  readonly newSlot: number | null
  readonly oldIsNode: boolean
  readonly newIsNode: boolean
  readonly position: { readonly tree: number; readonly path: string }
  readonly resId: number | null
  /** Slots referenced inside the new node's sub-tree when it was moved (their qualified paths move with it). */
  readonly rebasedRefs: ReadonlySet<number>
  readonly rebasedNodes: ReadonlySet<number>
}

const replaceCache = new WeakMap<EnsContext, ReplaceFacts>()

function replaceFacts(ctx: EnsContext): ReplaceFacts {
  let f = replaceCache.get(ctx)
  if (f !== undefined) return f
  const e = evt<{ entry: number; child: number }>(ctx)
  const pre = entryAt(ctx.pre, e.entry)!
  const node = pre.node!
  const level = nodeLevelAt(ctx.pre, pre.slot)
  const neu = tableGet(ctx.pre.pt.children, e.child)!
  const neuOwner = childOwner(ctx.pre, e.child)!
  const oldView = pre.view!
  const newIsNode = neuOwner.kind === 'node'
  const position = { tree: node.tree, path: childPath(node.path, pre.entry.idx) }
  const rebasedRefs = new Set<number>()
  const rebasedNodes = new Set<number>()
  if (neuOwner.kind === 'node' && (neuOwner.node.tree !== position.tree || neuOwner.node.path !== position.path)) {
    subtreeSlots(ctx.pre, neuOwner.node.slotIndex, rebasedRefs, rebasedNodes)
    subtreeSlots(ctx.post, neuOwner.node.slotIndex, rebasedRefs, rebasedNodes)
  }
  f = {
    pre,
    post: entryAt(ctx.post, e.entry),
    idx: pre.entry.idx,
    slot: pre.slot,
    level,
    childId: e.child,
    neu,
    neuOwner,
    oldValue: fromPteSpec(pre.cached, level, node.config),
    oldView,
    oldSlot: referencedSlot(oldView),
    newSlot: referencedSlot(neuOwner),
    oldIsNode: oldView.kind === 'node',
    newIsNode,
    position,
    resId: resultId(ctx, 'child'),
    rebasedRefs,
    rebasedNodes,
  }
  replaceCache.set(ctx, f)
  return f
}

const REPLACE = ['entry.replace']

function setOf(...xs: Array<number | null>): Set<number> {
  return new Set(xs.filter((x): x is number => x !== null))
}

const replaceRules: EnsRule[] = [
  ens('ENS-ENTRY-REPLACE-1', REPLACE, (ctx) => {
    const rule = 'ENS-ENTRY-REPLACE-1'
    const { pre, post } = replaceFacts(ctx)
    if (post === null || post.view === null) return [finding(rule, `pt.entries[${pre.id}]`, 'the Entry or its owner is gone after replace')]
    return relabel(rule, matchPte(post.view, post.cached, post.view.parentLevel, `pt.entries[${pre.id}] (cached ${pteToHex(post.cached)})`))
  }),
  ens('ENS-ENTRY-REPLACE-2', REPLACE, (ctx) => {
    const rule = 'ENS-ENTRY-REPLACE-2'
    const { resId, oldValue } = replaceFacts(ctx)
    const value = resId === null ? null : tableGet(ctx.post.pt.children, resId)
    if (resId === null || value === null || tableGet(ctx.pre.pt.children, resId) !== null) return [finding(rule, 'result.child', 'the old child was not returned as a fresh Child value', 'a new Child', ctx.result)]
    return [
      ...(childValuesEqual(value, oldValue) ? [] : [finding(rule, `pt.children[${resId}]`, 'the returned Child is not the old child (from_pte of the old PTE)', oldValue, value)]),
      ...fail(rule, `pt.children[${resId}]`, childWfFailure(value, childOwner(ctx.post, resId))),
    ]
  }),
  ens('ENS-ENTRY-REPLACE-3', REPLACE, (ctx) => {
    const rule = 'ENS-ENTRY-REPLACE-3'
    const { pre, post } = replaceFacts(ctx)
    if (post === null || post.view === null || post.node === null) return [finding(rule, `pt.entries[${pre.id}]`, 'the Entry, its parent or its owner is gone after replace')]
    return [
      ...(post.node.level === post.view.parentLevel ? [] : [finding(rule, `pt.owners[${post.slot}].level`, "the parent's level is not the new owner's parent level", post.view.parentLevel, post.node.level)]),
      ...fail(rule, `pt.guards[${pre.entry.guard}]`, relateGuardFailure(ctx.post, pre.entry.guard)),
    ]
  }),
  ens('ENS-ENTRY-REPLACE-4', REPLACE, (ctx) => {
    const { pre, post } = replaceFacts(ctx)
    return post !== null && post.entry.idx === pre.entry.idx && post.entry.guard === pre.entry.guard
      ? []
      : [finding('ENS-ENTRY-REPLACE-4', `pt.entries[${pre.id}]`, "the Entry's index (or guard) changed", pre.entry, post?.entry ?? null)]
  }),
  ens('ENS-ENTRY-REPLACE-5', REPLACE, (ctx) => {
    const { resId, oldView } = replaceFacts(ctx)
    const owner = resId === null ? null : childOwner(ctx.post, resId)
    return fail('ENS-ENTRY-REPLACE-5', `pt.children[${resId}].owner`, sameOwner(oldView, owner, true), { ...oldView, inScope: true }, owner)
  }),
  ens('ENS-ENTRY-REPLACE-6', REPLACE, (ctx) => {
    const rule = 'ENS-ENTRY-REPLACE-6'
    const { neuOwner, position, childId, slot, idx } = replaceFacts(ctx)
    const at = `pt.owners[${slot}].children[${idx}]`
    const node = nodeOwnerAt(ctx.post, slot)
    const now = node === null ? null : childOwnerView(ctx.post, node, idx)
    const out = fail(rule, at, sameOwner(neuOwner, now, false, neuOwner.kind === 'node' ? position : undefined), neuOwner, now)
    if (tableGet(ctx.post.pt.children, childId) !== null || tableGet(ctx.post.pt.childOwners, childId) !== null) out.push(finding(rule, `pt.children[${childId}]`, 'the new child is still held by code after replace'))
    return out
  }),
  ens('ENS-ENTRY-REPLACE-7', REPLACE, (ctx) => {
    const f = replaceFacts(ctx)
    return slotsOutside('ENS-ENTRY-REPLACE-7', soundChangedSlots(ctx), new Set([...setOf(f.oldSlot, f.newSlot), ...f.rebasedRefs]), "which is neither the old nor the new child's")
  }),
  ens('ENS-ENTRY-REPLACE-8', REPLACE, (ctx) => {
    const f = replaceFacts(ctx)
    return f.newIsNode ? [] : slotsOutside('ENS-ENTRY-REPLACE-8', soundChangedSlots(ctx), setOf(f.oldSlot), "the new child is not a node and the slot is not the old child's")
  }),
  ens('ENS-ENTRY-REPLACE-9', REPLACE, (ctx) => {
    const f = replaceFacts(ctx)
    return f.oldIsNode || f.newIsNode ? [] : slotsOutside('ENS-ENTRY-REPLACE-9', soundChangedSlots(ctx), new Set(), 'although neither child is a node')
  }),
  ens('ENS-ENTRY-REPLACE-10', REPLACE, (ctx) => {
    const f = replaceFacts(ctx)
    if (!f.newIsNode || f.newSlot === null) return []
    const want = [qualifiedPath(f.position.tree, f.position.path)]
    const got = ownerOf(ctx.post, f.newSlot).pathsInPt
    return equal(want, got) ? [] : [finding('ENS-ENTRY-REPLACE-10', `regions.slotOwners[${f.newSlot}].pathsInPt`, 'the installed node does not record exactly its path (path_tracked_pred)', want, got)]
  }),
  ens('ENS-ENTRY-REPLACE-11', REPLACE, (ctx) => {
    const rule = 'ENS-ENTRY-REPLACE-11'
    const f = replaceFacts(ctx)
    const owners = new Set([f.slot, ...setOf(f.oldIsNode ? f.oldSlot : null, f.newIsNode ? f.newSlot : null), ...f.rebasedNodes])
    return [
      ...parentPermsPreserved(ctx, rule, f.pre),
      ...onlyChanged(ctx, rule, {
        slots: ctx.changes.slotCells,
        parking: ctx.changes.parking,
        obligations: ctx.changes.obligations,
        memory: [f.slot],
        entries: [f.pre.id],
        children: setOf(f.childId, f.resId),
        owners,
        counters: ['ptChild'],
      }),
    ]
  }),
  ens('ENS-ENTRY-REPLACE-12', REPLACE, (ctx) => {
    const f = replaceFacts(ctx)
    const allowed = new Set([...setOf(f.newIsNode ? f.newSlot : null), ...f.rebasedRefs])
    const out: Finding[] = []
    for (const i of ctx.changes.slotCells) {
      if (allowed.has(i)) continue
      const a = ownerOf(ctx.pre, i).pathsInPt
      const b = ownerOf(ctx.post, i).pathsInPt
      if (!equal(a, b)) out.push(finding('ENS-ENTRY-REPLACE-12', `regions.slotOwners[${i}].pathsInPt`, `paths_in_pt of slot ${i} changed (only the new node's may)`, a, b))
    }
    return out
  }),
  ens('ENS-ENTRY-REPLACE-13', REPLACE, (ctx) => {
    const out: Finding[] = []
    for (const i of ctx.changes.parking) if (isParked(ctx.pre, i) && !isParked(ctx.post, i)) out.push(finding('ENS-ENTRY-REPLACE-13', `regions.slots[${i}]`, `slot ${i} left the parked set`, true, false))
    return out
  }),
  ens('ENS-ENTRY-REPLACE-14', REPLACE, (ctx) => {
    const f = replaceFacts(ctx)
    if (f.oldIsNode || f.newIsNode) return []
    const out = parkingChanged(ctx, 'ENS-ENTRY-REPLACE-14')
    for (const i of ctx.changes.slotCells) {
      if (!equal(ownerSansNodeMeta(ownerOf(ctx.pre, i)), ownerSansNodeMeta(ownerOf(ctx.post, i)))) out.push(finding('ENS-ENTRY-REPLACE-14', `regions.slotOwners[${i}]`, `slot_owners[${i}] changed although neither child is a node`, ownerOf(ctx.pre, i), ownerOf(ctx.post, i)))
    }
    return out
  }),
  ens('ENS-ENTRY-REPLACE-15', REPLACE, (ctx) => {
    const f = replaceFacts(ctx)
    return f.oldView.kind === 'absent' && !f.newIsNode ? parkedPermsKept(ctx, 'ENS-ENTRY-REPLACE-15') : []
  }),
  ens('ENS-ENTRY-REPLACE-16', REPLACE, (ctx) => {
    const f = replaceFacts(ctx)
    const parentLevel = f.pre.node!.level
    if (f.neu.kind === 'PageTable') {
      const st = slotOf(ctx.pre, frameToIndex(f.neu.paddr)).storage
      const lv = st?.kind === 'PTNode' ? st.level : null
      return lv === parentLevel - 1 ? [] : [finding('ENS-ENTRY-REPLACE-16', 'event.child', `replace_nonpanic_condition: the node child has level ${lv}, the parent ${parentLevel}`, parentLevel - 1, lv)]
    }
    if (f.neu.kind === 'Frame') {
      return f.neuOwner.parentLevel === parentLevel ? [] : [finding('ENS-ENTRY-REPLACE-16', 'event.child', `replace_nonpanic_condition: the frame child's parent level ${f.neuOwner.parentLevel} is not the parent's level ${parentLevel}`, parentLevel, f.neuOwner.parentLevel)]
    }
    return []
  }),
  ens('ENS-ENTRY-REPLACE-17', REPLACE, (ctx) => {
    const f = replaceFacts(ctx)
    const want = safe(() => intoPteWord(f.neu))
    const stored = readPte(ctx.post, f.slot, f.idx)
    const cachedPte: Pte | null = f.post?.cached ?? null
    return want !== null && stored === want && cachedPte === want
      ? []
      : [finding('ENS-ENTRY-REPLACE-17', `memory[${f.slot}].pte[${f.idx}]`, 'parent.ptes[idx] == self.pte == into_pte(new_child) fails', want === null ? null : pteToHex(want), { stored: pteToHex(stored), cached: cachedPte === null ? null : pteToHex(cachedPte) })]
  }),
  ens('ENS-ENTRY-REPLACE-18', REPLACE, (ctx) => {
    const rule = 'ENS-ENTRY-REPLACE-18'
    const f = replaceFacts(ctx)
    const delta = f.oldValue.kind === 'None' && f.neu.kind !== 'None' ? 1 : f.oldValue.kind !== 'None' && f.neu.kind === 'None' ? -1 : 0
    const out: Finding[] = []
    const cells = [
      ['metaSlots', (s: Snapshot) => slotOf(s, f.slot).storage],
      ['regions.slotOwners.innerPerms', (s: Snapshot) => ownerOf(s, f.slot).innerPerms.storage],
    ] as const
    for (const [name, get] of cells) {
      const a = get(ctx.pre)
      const b = get(ctx.post)
      const n0 = a?.kind === 'PTNode' ? a.nrChildren : null
      const n1 = b?.kind === 'PTNode' ? b.nrChildren : null
      if (n0 === null || n1 !== n0 + delta) out.push(finding(rule, `${name}[${f.slot}].storage.nrChildren`, `nr_children went from ${n0} to ${n1}, expected a change of ${delta}`, n0 === null ? null : n0 + delta, n1))
    }
    const m0 = nodeOwnerAt(ctx.pre, f.slot)?.metaOwn.nrChildren
    const m1 = nodeOwnerAt(ctx.post, f.slot)?.metaOwn.nrChildren
    if (m0 === undefined || m1 !== m0 + delta) out.push(finding(rule, `pt.owners[${f.slot}].metaOwn.nrChildren`, `meta_own.nr_children went from ${m0} to ${m1}, expected a change of ${delta}`, m0 === undefined ? null : m0 + delta, m1))
    return out
  }),
  ens('ENS-ENTRY-REPLACE-19', REPLACE, (ctx) => {
    const rule = 'ENS-ENTRY-REPLACE-19'
    const f = replaceFacts(ctx)
    const out: Finding[] = []
    for (const i of ctx.changes.slotCells) {
      const a = [slotOf(ctx.pre, i).refCount, ownerOf(ctx.pre, i).innerPerms.refCount]
      const b = [slotOf(ctx.post, i).refCount, ownerOf(ctx.post, i).innerPerms.refCount]
      if (!equal(a, b)) out.push(finding(rule, `regions.slotOwners[${i}].innerPerms.refCount`, `the ref count of slot ${i} changed (${a.map(refCountName).join('/')} -> ${b.map(refCountName).join('/')})`, a, b))
      const want = f.oldIsNode && i === f.oldSlot ? 0 : ownerOf(ctx.pre, i).rawCount + (f.newIsNode && i === f.newSlot ? 1 : 0)
      if (ownerOf(ctx.post, i).rawCount !== want) out.push(finding(rule, `regions.slotOwners[${i}].rawCount`, `raw_count of slot ${i} is ${ownerOf(ctx.post, i).rawCount}, expected ${want}`, want, ownerOf(ctx.post, i).rawCount))
    }
    for (const [i, want] of [[f.oldIsNode ? f.oldSlot : null, 0], [f.newIsNode ? f.newSlot : null, ownerOf(ctx.pre, f.newSlot ?? 0).rawCount + 1]] as const) {
      if (i !== null && !ctx.changes.slotCells.has(i) && ownerOf(ctx.post, i).rawCount !== want) out.push(finding(rule, `regions.slotOwners[${i}].rawCount`, `raw_count of slot ${i} is ${ownerOf(ctx.post, i).rawCount}, expected ${want}`, want, ownerOf(ctx.post, i).rawCount))
    }
    const fo = new Map<number, number>()
    if (f.oldIsNode && f.oldSlot !== null) fo.set(f.oldSlot, (fo.get(f.oldSlot) ?? 0) + 1)
    if (f.newIsNode && f.newSlot !== null) fo.set(f.newSlot, (fo.get(f.newSlot) ?? 0) - 1)
    out.push(...obligationsChanged(ctx, rule, fo))
    return out
  }),
]

// ---- the model's Child events --------------------------------------------------------------

/** The fresh Child the step registered, with its owner. */
function freshChild(ctx: EnsContext, rule: string, want: ChildValue, owner: LeafEntryOwner | null): Finding[] {
  const id = resultId(ctx, 'child')
  const value = id === null ? null : tableGet(ctx.post.pt.children, id)
  if (id === null || value === null || tableGet(ctx.pre.pt.children, id) !== null) return [finding(rule, 'result.child', 'no fresh Child value was registered', want, ctx.result)]
  const out: Finding[] = []
  if (!childValuesEqual(want, value)) out.push(finding(rule, `pt.children[${id}]`, 'the Child value is not the one made', want, value))
  const got = tableGet(ctx.post.pt.childOwners, id)
  if (!equal(owner, got)) out.push(finding(rule, `pt.childOwners[${id}]`, "the Child's ghost owner is not the one made", owner, got))
  return out
}

function childIdList(ctx: EnsContext): number[] {
  const id = resultId(ctx, 'child')
  return id === null ? [] : [id]
}

const childEventRules: EnsRule[] = [
  ens(
    'ENS-CHILD-NONE-1',
    ['child.none'],
    (ctx) => {
      const e = evt<{ tree: number; path: string; parentLevel: number }>(ctx)
      return [
        ...freshChild(ctx, 'ENS-CHILD-NONE-1', { kind: 'None' }, { kind: 'absent', tree: e.tree, path: e.path, parentLevel: e.parentLevel, inScope: true }),
        ...onlyChanged(ctx, 'ENS-CHILD-NONE-1', { children: childIdList(ctx), counters: ['ptChild'] }),
      ]
    },
    '[model] `child.none` registers a fresh `Child::None` whose owner is `EntryOwner::new_absent(path, parent_level)` in scope at the given position; nothing else changes.',
  ),
  ens(
    'ENS-CHILD-FROMNODE-1',
    ['child.from_node'],
    (ctx) => {
      const rule = 'ENS-CHILD-FROMNODE-1'
      const node = evt<{ node: number }>(ctx).node
      const h = tableGet(ctx.pre.pt.nodes, node)!
      const out = freshChild(ctx, rule, { kind: 'PageTable', paddr: h.paddr }, null)
      if (tableGet(ctx.post.pt.nodes, node) !== null) out.push(finding(rule, `pt.nodes[${node}]`, 'the PageTableNode handle was not consumed', null, tableGet(ctx.post.pt.nodes, node)))
      out.push(...onlyChanged(ctx, rule, { nodes: [node], children: childIdList(ctx), counters: ['ptChild'] }))
      return out
    },
    '[model] `child.from_node` moves the PageTableNode handle into a fresh `Child::PageTable` of the same node: the handle leaves `pt.nodes`; rc, obligations, the slot and the node\'s record are unchanged.',
  ),
  ens(
    'ENS-CHILD-FROMFRAME-1',
    ['child.from_frame'],
    (ctx) => {
      const rule = 'ENS-CHILD-FROMFRAME-1'
      const e = evt<{ frame: number; prop: PageProperty; tree: number; path: string; parentLevel: number }>(ctx)
      const { paddr } = tableGet(ctx.pre.frames, e.frame)!
      const idx = frameToIndex(paddr)
      const key = qualifiedPath(e.tree, e.path)
      const out = freshChild(ctx, rule, { kind: 'Frame', paddr, level: 1, prop: e.prop, config: treeConfig(ctx.pre, e.tree)! }, {
        kind: 'frame',
        frame: { mappedPa: paddr, size: PAGE_SIZE, prop: e.prop, isTracked: true },
        tree: e.tree,
        path: e.path,
        parentLevel: 1,
        inScope: true,
      })
      if (tableGet(ctx.post.frames, e.frame) !== null) out.push(finding(rule, `frames[${e.frame}]`, 'the Frame handle was not consumed'))
      const a = ownerOf(ctx.pre, idx)
      const b = ownerOf(ctx.post, idx)
      const want = [...a.pathsInPt, key].sort()
      if (!equal(b.pathsInPt, want)) out.push(finding(rule, `regions.slotOwners[${idx}].pathsInPt`, `the path ${key} was not inserted exactly once`, want, b.pathsInPt))
      if (!equal({ ...a, pathsInPt: [] }, { ...b, pathsInPt: [] }) || !equal(slotOf(ctx.pre, idx), slotOf(ctx.post, idx))) out.push(finding(rule, `regions.slotOwners[${idx}]`, `slot ${idx} changed beyond its paths_in_pt (rc is unchanged: H − 1, P + 1)`, a, b))
      out.push(...obligationsChanged(ctx, rule, new Map([[idx, -1]])))
      out.push(...onlyChanged(ctx, rule, { frames: [e.frame], slots: [idx], obligations: [idx], children: childIdList(ctx), counters: ['ptChild'] }))
      return out
    },
    "[model] `child.from_frame` (`item_into_raw` of a tracked Frame) consumes the Frame handle (one obligation redeemed), inserts the child's qualified path into the slot's `paths_in_pt` (rc and every other slot field unchanged), and registers a fresh `Child::Frame(pa, 1, prop)` with an in-scope tracked frame owner at that position; nothing else changes.",
  ),
  ens(
    'ENS-CHILD-UNTRACKED-1',
    ['child.untracked'],
    (ctx) => {
      const e = evt<{ paddr: number; level: number; prop: PageProperty; tree: number; path: string }>(ctx)
      return [
        ...freshChild(ctx, 'ENS-CHILD-UNTRACKED-1', { kind: 'Frame', paddr: e.paddr, level: e.level, prop: e.prop, config: treeConfig(ctx.pre, e.tree)! }, {
          kind: 'frame',
          frame: { mappedPa: e.paddr, size: pageSize(e.level), prop: e.prop, isTracked: false },
          tree: e.tree,
          path: e.path,
          parentLevel: e.level,
          inScope: true,
        }),
        ...onlyChanged(ctx, 'ENS-CHILD-UNTRACKED-1', { children: childIdList(ctx), counters: ['ptChild'] }),
      ]
    },
    '[model] `child.untracked` registers a fresh `Child::Frame(pa, level, prop)` whose owner is an untracked frame owner (`is_tracked == false`, size `page_size(level)`) in scope at parent level `level`; no slot, reference or path changes.',
  ),
  ens(
    'ENS-CHILD-DROP-1',
    ['child.drop'],
    (ctx) => {
      const rule = 'ENS-CHILD-DROP-1'
      const id = evt<{ child: number }>(ctx).child
      const out: Finding[] = []
      if (tableGet(ctx.post.pt.children, id) !== null || tableGet(ctx.post.pt.childOwners, id) !== null) out.push(finding(rule, `pt.children[${id}]`, 'the Child (or its owner) is still registered after its drop'))
      const value = tableGet(ctx.pre.pt.children, id)!
      const owner = childOwner(ctx.pre, id)
      const releases = value.kind === 'PageTable' || (owner?.kind === 'frame' && owner.frame.isTracked)
      if (!releases) out.push(...onlyChanged(ctx, rule, { children: [id] }))
      return out
    },
    '[model] Dropping a Child removes the value and its ghost owner; a `None` or untracked `Frame` child releases nothing, so nothing else changes.',
  ),
  ens(
    'ENS-CHILD-DROP-2',
    ['child.drop'],
    (ctx) => {
      const rule = 'ENS-CHILD-DROP-2'
      const id = evt<{ child: number }>(ctx).child
      const owner = childOwner(ctx.pre, id)
      if (owner?.kind !== 'frame' || !owner.frame.isTracked) return []
      const idx = frameToIndex(owner.frame.mappedPa)
      const key = qualifiedPath(owner.tree, owner.path)
      const out: Finding[] = []
      const rc = ownerOf(ctx.pre, idx).innerPerms.refCount
      const want = rc === 1 ? REF_COUNT_UNUSED : rc - 1
      const got = ownerOf(ctx.post, idx).innerPerms.refCount
      if (got !== want) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.refCount`, `dropping the child's reference left rc ${refCountName(got)}`, want, got))
      if (ownerOf(ctx.post, idx).pathsInPt.includes(key)) out.push(finding(rule, `regions.slotOwners[${idx}].pathsInPt`, `the dropped child's path ${key} is still recorded`))
      out.push(...otherSlotsChanged(ctx, rule, [idx]), ...obligationsChanged(ctx, rule, new Map()))
      if (!equal(keysDiff(ctx.pre.frames, ctx.post.frames).filter((f) => tableGet(ctx.pre.frames, f) !== null || tableGet(ctx.post.frames, f) !== null), [])) out.push(finding(rule, 'frames', 'the Frame handles changed'))
      return out
    },
    '[model] Dropping a tracked `Child::Frame` releases the reference its path holds (`item_from_raw` + drop): the path leaves `paths_in_pt`, rc − 1 (UNUSED at the last reference), obligations and Frame handles end as they were, no other slot changes.',
  ),
  ens(
    'ENS-CHILD-DROP-3',
    ['child.drop'],
    (ctx) => {
      const rule = 'ENS-CHILD-DROP-3'
      const id = evt<{ child: number }>(ctx).child
      const value = tableGet(ctx.pre.pt.children, id)!
      if (value.kind !== 'PageTable') return []
      const idx = frameToIndex(value.paddr)
      const rc = ownerOf(ctx.pre, idx).innerPerms.refCount
      const want = rc === 1 ? REF_COUNT_UNUSED : rc - 1
      const got = ownerOf(ctx.post, idx).innerPerms.refCount
      const out: Finding[] = []
      if (got !== want) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.refCount`, `dropping the node child left rc ${refCountName(got)}`, want, got))
      const fo = obligationsOf(ctx.post, idx) - obligationsOf(ctx.pre, idx)
      if (fo !== -1) out.push(finding(rule, `regions.frameObligations[${idx}]`, `frame_obligations at the node changed by ${fo}, expected -1`, obligationsOf(ctx.pre, idx) - 1, obligationsOf(ctx.post, idx)))
      if (!equal(keysDiff(ctx.pre.pt.nodes, ctx.post.pt.nodes).filter((n) => tableGet(ctx.pre.pt.nodes, n) !== null || tableGet(ctx.post.pt.nodes, n) !== null), [])) out.push(finding(rule, 'pt.nodes', 'the PageTableNode handles changed'))
      return out
    },
    '[model] Dropping a `Child::PageTable` drops its PageTableNode: the node slot loses one reference (rc − 1; the last one tears it down, UNUSED) and one obligation; the PageTableNode handles end as they were.',
  ),
]

export const ptEntryRules: ReadonlyArray<Rule | UmbrellaRule> = [
  ...ptEntryInvariants,
  ...entryCreationRules,
  ...queryRules,
  ...protectRules,
  ...childPteRules,
  ...replaceRules,
  ...childEventRules,
]
