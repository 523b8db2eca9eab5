/**
 * Rules of page-table nodes and guards (seed 000; spec/operations.md §2–§4, state.md §2, §5, §8):
 *
 * - invariants: INV-PTMETA-1..3 (node metadata), INV-NODE-1..6 (`NodeOwner::inv` of every owner
 *   record), INV-GUARD-1..2 (lock byte ⟺ `Guards` or a live cursor's range lock; only live nodes are locked), and the model's
 *   INV-PTACCT-1 (references to a node slot, as src/model/page_table.ts states them) and
 *   INV-PTGUARD-1 (guard handles hold their node's lock);
 * - postconditions: ENS-NODE-ALLOC-1..12 (-11 on the enclosing composite, MD-13),
 *   ENS-NODE-LEVEL-1, ENS-NODE-LOCK-1..4, ENS-NODE-MKGUARD-1..3, ENS-GUARD-NRCHILDREN-1,
 *   ENS-GUARD-STRAYMUT-1..2, ENS-GUARD-READPTE-1, ENS-GUARD-WRITEPTE-1..4, ENS-GUARD-NRCHMUT-1..2,
 *   ENS-PTMETA-ONDROP-1..3, and the model's ENS-PT-EMPTY-1, ENS-NODE-DROP-1..2,
 *   ENS-GUARD-DROP-1..2, ENS-GUARD-STRAYWRITE-1, ENS-GUARD-NRCHWRITE-1.
 *
 * The REQ rules come from the event specs (reducers/page_table/{node,guard}.ts).
 *
 * Clauses that restate invariants over the post-state are evaluated for what the step touched,
 * under the ENS ID, so that they are attributed to the step (the invariants report the same
 * breakage under their own IDs): ENS-GUARD-WRITEPTE-1 (`owner.inv()` afterwards = INV-NODE-1..6
 * of the guard's node), ENS-PTMETA-ONDROP-1 (`regions.inv()` = INV-SLOT-1..9 / INV-REGIONS-5..6
 * at the node's slot and every slot on_drop changed; its reader / `VmIoOwner` facts have no
 * counterpart: the model reads the node's PTEs directly). Left to the invariants:
 * ENS-NODE-ALLOC-1's `regions.inv()` (its `parent_owner.inv()` is checked here).
 *
 * Scopes: the per-node invariants are evaluated on `slot` units where their verdict also depends
 * on parking or obligations (a `ptNode` unit is not marked by those changes: INV-NODE-6 reads
 * parking, INV-PTACCT-1 the obligations), else on `ptNode` units. Every rule returns nothing for a
 * unit that full mode would not visit (`nodeUnit`, `slotVisible`), so the two modes agree.
 */
import equal from 'fast-deep-equal/es6/index.js'
import { frameToIndex, metaAddr, NR_ENTRIES, NR_LEVELS, PageUsage, REF_COUNT_MAX, REF_COUNT_UNUSED, refCountName, validFramePaddr } from '../../../arch/constants.js'
import { isPresent, newPt, pteFromHex, pteToHex } from '../../../arch/pte.js'
import type { InternalStep } from '../../../../reducers/types.js'
import { freedLast, policyFrame } from '../frame/allocator_policy.js'
import { droppedChildren, freshNodeMeta, guardsOnNode } from './node_reads.js'
import {
  childValuesAt,
  execNodeStorage,
  isInstalled,
  nodeHandlesAt,
  nodeStorage,
  type PtNodeAllocResult,
} from '../../../../reducers/page_table/node.js'
import { changedPteIndices, readPte, readPtes } from '../../../model/memory.js'
import type { PtConfigName } from '../../../arch/pt_config.js'
import type { PtNodeOwner } from '../../../model/page_table.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { metaregionSound, metaregionSoundNode, matchPte, nodeEntryView, nodeOwnerAt, nodeOwnerInv } from '../../../model/spec/page_table.js'
import { isMmioPaddr, isParked, obligationsOf, ownerOf, slotOf } from '../../../model/slots.js'
import { isSharedKernelEntry } from '../../../model/pt_tables.js'
import { heldByCursor } from '../../../model/pt_cursor.js'
import type { MetaSlotCells, Snapshot } from '../../../model/snapshot.js'
import { tableDiff, tableGet } from '../../../model/table.js'
import { REF_COUNT_UNIQUE } from '../../../arch/constants.js'
import { localRegionInv } from '../../../model/spec/slot.js'
import { isPhysicalSlot } from '../../../model/slots.js'
import type { EnsContext, EnsRule, InvRule } from '../../rule.js'
import { allocatorTook, cellsUnchanged, ens, inv, num, obligationsChanged, otherSlotsChanged, ownerFieldsUnchanged, parkingChanged, storeUnchanged } from '../helpers.js'

// ---- units ---------------------------------------------------------------------------------

/** A `ptNode` unit as full mode enumerates them: an owner record, a held lock, or node storage. */
function nodeUnit(s: Snapshot, idx: number): boolean {
  return tableGet(s.pt.owners, idx) !== null || tableGet(s.pt.locks, idx) !== null || execNodeStorage(s, idx) !== null
}

/** A `slot` unit full mode visits for sure (it has an entry in a slot table). */
function slotVisible(s: Snapshot, idx: number): boolean {
  return (
    tableGet(s.metaSlots, idx) !== null ||
    tableGet(s.regions.slotOwners, idx) !== null ||
    tableGet(s.regions.unparked, idx) !== null ||
    tableGet(s.regions.frameObligations, idx) !== null ||
    tableGet(s.uniqueOwners, idx) !== null
  )
}

const ownerPath = (idx: number): string => `pt.owners[${idx}]`
const slotPath = (idx: number): string => `regions.slotOwners[${idx}]`

/** `NodeOwner::inv` findings of the record at `idx`, computed once per snapshot. */
const nodeInvCache = new WeakMap<Snapshot, Map<number, Finding[]>>()
function nodeInvAt(s: Snapshot, idx: number): Finding[] {
  let bySlot = nodeInvCache.get(s)
  if (bySlot === undefined) nodeInvCache.set(s, (bySlot = new Map()))
  let out = bySlot.get(idx)
  if (out === undefined) {
    const r = nodeOwnerAt(s, idx)
    out = r === null ? [] : nodeOwnerInv(s, r, idx, ownerPath(idx))
    bySlot.set(idx, out)
  }
  return out
}

// ---- invariants ----------------------------------------------------------------------------

function presentCount(s: Snapshot, idx: number): number {
  let n = 0
  // A user root's shared kernel half is not counted by OSTD (raw copies, src/model/pt_tables.ts).
  readPtes(s, idx).forEach((pte, i) => {
    if (isPresent(pte) && !isSharedKernelEntry(s, idx, i)) n++
  })
  return n
}

/** The rc, obligations and raw_count a node slot must have (src/model/page_table.ts). */
function nodeAccounting(s: Snapshot, idx: number): Finding[] {
  const rule = 'INV-PTACCT-1'
  const r = nodeOwnerAt(s, idx)
  const o = ownerOf(s, idx)
  const h = nodeHandlesAt(s, idx)
  const c = childValuesAt(s, idx)
  if (r === null && o.usage !== PageUsage.PageTable && h + c === 0) return []
  const out: Finding[] = []
  if (h + c > 0 && (r === null || execNodeStorage(s, idx) === null)) {
    out.push(finding(rule, `pt.nodes@${idx}`, `${h} PageTableNode handle(s) and ${c} Child::PageTable value(s) refer to slot ${idx}, which is not a live page-table node`))
  }
  const fo = obligationsOf(s, idx)
  if (fo !== h + c) out.push(finding(rule, `regions.frameObligations[${idx}]`, `node slot ${idx} has ${fo} frame obligations but ${h} PageTableNode handle(s) and ${c} Child::PageTable value(s)`, h + c, fo))
  if (r !== null) {
    const installed = isInstalled(r) ? 1 : 0
    const rc = o.innerPerms.refCount
    if (rc !== h + c + installed) {
      out.push(finding(rule, `${slotPath(idx)}.innerPerms.refCount`, `node slot ${idx}: rc ${refCountName(rc)} != handles ${h} + Child values ${c} + parent PTE ${installed}`, h + c + installed, rc))
    }
    if (o.rawCount !== installed) {
      out.push(finding(rule, `${slotPath(idx)}.rawCount`, `node slot ${idx} ${installed ? 'installed in a PTE' : 'held by code'} has raw_count ${o.rawCount} ([APR]: 1 iff forgotten into a parent PTE)`, installed, o.rawCount))
    }
  }
  return out
}


/** The node slots below `idx` (its PTEs' child nodes, recursively) and the tracked items they map. */
function subtreeSlots(s: Snapshot, idx: number): Set<number> {
  const out = new Set<number>()
  const todo = [idx]
  while (todo.length > 0) {
    for (const c of droppedChildren(s, todo.pop()!)) {
      if (!c.tracked || out.has(c.slot)) continue
      out.add(c.slot)
      if (c.node) todo.push(c.slot)
    }
  }
  return out
}

export const ptNodeInvariants: InvRule[] = [
  inv('INV-PTMETA-1', 'A', 'ptNode', (s, idx) => {
    if (!nodeUnit(s, idx)) return []
    const m = execNodeStorage(s, idx)
    if (m === null) return []
    return Number.isInteger(m.nrChildren) && m.nrChildren >= 0 && m.nrChildren <= NR_ENTRIES && typeof m.stray === 'boolean'
      ? []
      : [finding('INV-PTMETA-1', `metaSlots[${idx}].storage`, `node metadata of slot ${idx}: nr_children ${m.nrChildren} / stray ${String(m.stray)} not initialised within 0..=512`, { nrChildren: '0..=512', stray: 'bool' }, { nrChildren: m.nrChildren, stray: m.stray })]
  }),
  inv('INV-PTMETA-2', 'B', 'ptNode', (s, idx) => {
    if (!nodeUnit(s, idx) || nodeOwnerAt(s, idx) === null) return []
    const m = execNodeStorage(s, idx)
    if (m === null) return []
    const n = presentCount(s, idx)
    return m.nrChildren === n ? [] : [finding('INV-PTMETA-2', `metaSlots[${idx}].storage.nrChildren`, `node ${idx} has nr_children ${m.nrChildren} but ${n} present PTEs`, n, m.nrChildren)]
  }),
  inv('INV-PTMETA-3', 'A', 'ptNode', (s, idx) => {
    if (!nodeUnit(s, idx)) return []
    const r = nodeOwnerAt(s, idx)
    const m = execNodeStorage(s, idx)
    if (r === null) {
      // Model: the ghost tree knows every live node (a slot with node metadata has a NodeOwner).
      return m === null ? [] : [finding('INV-PTMETA-3', ownerPath(idx), `slot ${idx} holds page-table node metadata but has no NodeOwner`)]
    }
    if (m === null) return [finding('INV-PTMETA-3', `metaSlots[${idx}].storage`, `the NodeOwner of slot ${idx} has no PTNode metadata in its slot`, 'PTNode', slotOf(s, idx).storage)]
    const out: Finding[] = []
    if (m.level !== r.level) out.push(finding('INV-PTMETA-3', `metaSlots[${idx}].storage.level`, `node ${idx}: meta.level ${m.level} != NodeOwner.level ${r.level}`, r.level, m.level))
    if (m.config !== r.config) out.push(finding('INV-PTMETA-3', `metaSlots[${idx}].storage.config`, `node ${idx}: the metadata's configuration ${m.config} != the NodeOwner's ${r.config}`, r.config, m.config))
    return out
  }),
  ...[1, 2, 3, 4, 5, 6].map((k) =>
    inv(`INV-NODE-${k}`, 'A', 'slot', (s, idx) => (slotVisible(s, idx) ? nodeInvAt(s, idx).filter((f) => f.rule === `INV-NODE-${k}`) : [])),
  ),
  inv('INV-GUARD-1', 'A', 'ptNode', (s, idx) => {
    if (!nodeUnit(s, idx)) return []
    const m = execNodeStorage(s, idx)
    if (m === null) return [] // a lock on a slot that is no node: INV-GUARD-2
    // Model: a node a live cursor holds without a guard (OSTD's `dfs_acquire_lock` forgets the
    // guards of the covered sub-tree, `ManuallyDrop`) is locked too (src/model/pt_cursor.ts).
    const inGuards = tableGet(s.pt.locks, idx) !== null
    const cursor = heldByCursor(s, idx)
    const held = inGuards || cursor !== null
    return (m.lock === 1) === held
      ? []
      : [finding('INV-GUARD-1', `metaSlots[${idx}].storage.lock`, `node ${idx}: lock byte ${m.lock} but ${inGuards ? 'in Guards' : cursor !== null ? `held by cursor ${cursor}` : 'neither in Guards nor held by a cursor'}`, held ? 1 : 0, m.lock)]
  }),
  inv('INV-GUARD-2', 'A', 'ptNode', (s, idx) => {
    if (tableGet(s.pt.locks, idx) === null) return []
    const o = ownerOf(s, idx)
    const rc = o.innerPerms.refCount
    return o.usage === PageUsage.PageTable && rc >= 1 && rc <= REF_COUNT_MAX
      ? []
      : [finding('INV-GUARD-2', `pt.locks[${idx}]`, `Guards holds slot ${idx}, which is not a live page-table node (usage ${o.usage}, rc ${refCountName(rc)})`, 'PageTable, rc >= 1', { usage: o.usage, rc })]
  }),
  inv(
    'INV-PTGUARD-1',
    'A',
    'ptNode',
    (s, idx) => {
      if (!nodeUnit(s, idx)) return []
      const n = guardsOnNode(s, idx)
      const out: Finding[] = []
      if (n > 1) out.push(finding('INV-PTGUARD-1', `pt.guards@${idx}`, `${n} PageTableGuard handles lock node ${idx}`, 1, n))
      if (n > 0 && tableGet(s.pt.locks, idx) === null) out.push(finding('INV-PTGUARD-1', `pt.guards@${idx}`, `a PageTableGuard refers to node ${idx}, whose lock is not held`, 'in Guards', 'not in Guards'))
      return out
    },
    "[model] A live `PageTableGuard` holds its node's lock: the node is in `Guards`, and no two guards lock the same node.",
  ),
  inv('INV-PTACCT-1', 'B', 'slot', (s, idx) => (slotVisible(s, idx) ? nodeAccounting(s, idx) : []), '[model] References to a page-table node slot (src/model/page_table.ts): `rc == #PageTableNode handles + #Child::PageTable values + (1 if installed in a PTE)`, `frame_obligations == #handles + #Child values` ([JUN] ledger), `raw_count == (1 if installed)` ([APR]); handles and Child values refer only to live nodes.'),
]

// ---- ENS helpers ---------------------------------------------------------------------------

/** Nothing at all changed (handles, owners, locks included). */
function stateUnchanged(ctx: EnsContext, rule: string): Finding[] {
  if (ctx.pre === ctx.post) return []
  const out = storeUnchanged(ctx, rule)
  if (out.length > 0) return out
  const pt = (['nodes', 'guards', 'entries', 'children', 'owners', 'childOwners', 'locks'] as const).filter((k) => ctx.pre.pt[k] !== ctx.post.pt[k])
  return pt.length === 0 ? [] : [finding(rule, 'pt', `the page-table state changed although the call does not change it: ${pt.join(', ')}`)]
}

/** Page-table tables that changed other than `allowed`. */
function ptTablesChanged(ctx: EnsContext, rule: string, allowed: ReadonlyArray<keyof Snapshot['pt']>): Finding[] {
  const pt = (['nodes', 'guards', 'entries', 'children', 'owners', 'childOwners', 'locks'] as const).filter((k) => !allowed.includes(k) && ctx.pre.pt[k] !== ctx.post.pt[k])
  return pt.length === 0 ? [] : [finding(rule, 'pt', `page-table state the call does not touch changed: ${pt.join(', ')}`)]
}

/** Memory pages that changed other than `allowed`. */
function memoryChanged(ctx: EnsContext, rule: string, allowed: readonly number[] = []): Finding[] {
  return [...ctx.changes.memory].filter((i) => !allowed.includes(i)).map((i) => finding(rule, `memory[${i}]`, `the contents of frame ${i} changed`))
}

/** An argument of the step's event. */
function arg<T>(ctx: EnsContext, field: string): T {
  return (ctx.event as unknown as Record<string, T>)[field]!
}

function guardIdxOf(s: Snapshot, ctx: EnsContext): number {
  return frameToIndex(tableGet(s.pt.guards, num(ctx.event, 'guard'))!.paddr)
}

function eventIdx(ctx: EnsContext): number {
  return frameToIndex(num(ctx.event, 'paddr'))
}

/** The cells of a slot with the node metadata's `field` set to `value` (both sides' expectation). */
function withMeta(cells: MetaSlotCells, patch: Partial<{ lock: number; stray: boolean; nrChildren: number }>): MetaSlotCells {
  const m = nodeStorage(cells)
  return m === null ? cells : { ...cells, storage: { ...m, ...patch } }
}

/** Exec and ghost cells of `idx` are exactly `f(pre cells)`. */
function cellsBecome(ctx: EnsContext, rule: string, idx: number, f: (c: MetaSlotCells) => MetaSlotCells, what: string): Finding[] {
  const out: Finding[] = []
  const wantExec = f(slotOf(ctx.pre, idx))
  const wantGhost = f(ownerOf(ctx.pre, idx).innerPerms)
  if (!equal(slotOf(ctx.post, idx), wantExec)) out.push(finding(rule, `metaSlots[${idx}]`, `slot ${idx}: ${what} (exec cells)`, wantExec, slotOf(ctx.post, idx)))
  if (!equal(ownerOf(ctx.post, idx).innerPerms, wantGhost)) out.push(finding(rule, `${slotPath(idx)}.innerPerms`, `slot ${idx}: ${what} (the permission's cells)`, wantGhost, ownerOf(ctx.post, idx).innerPerms))
  return out
}

/** The record of `idx` is `f(pre record)` (null: removed). */
function recordBecomes(ctx: EnsContext, rule: string, idx: number, f: (r: PtNodeOwner) => PtNodeOwner | null, what: string): Finding[] {
  const pre = nodeOwnerAt(ctx.pre, idx)
  const want = pre === null ? null : f(pre)
  const got = nodeOwnerAt(ctx.post, idx)
  return equal(got, want) ? [] : [finding(rule, ownerPath(idx), `the NodeOwner of slot ${idx}: ${what}`, want, got)]
}

/** Locks other than `idx` that were taken or released. */
function otherLocksChanged(ctx: EnsContext, rule: string, idx: number | null): Finding[] {
  const out: Finding[] = []
  tableDiff(ctx.pre.pt.locks, ctx.post.pt.locks, (i, b, a) => {
    if (i !== idx) out.push(finding(rule, `pt.locks[${i}]`, `the lock of node ${i} was ${a === null ? 'released' : 'taken'}`, b !== null, a !== null))
  })
  return out
}

/** A fresh guard handle to `paddr` is the result, and the only guard change. */
function freshGuard(ctx: EnsContext, rule: string, paddr: number): Finding[] {
  const id = (ctx.result as { guard?: unknown } | null)?.guard
  const out: Finding[] = []
  if (typeof id !== 'number' || tableGet(ctx.pre.pt.guards, id) !== null || tableGet(ctx.post.pt.guards, id)?.paddr !== paddr) {
    out.push(finding(rule, `pt.guards[${String(id)}]`, `the result is not a fresh PageTableGuard for the node at ${paddr}`, { paddr }, typeof id === 'number' ? tableGet(ctx.post.pt.guards, id) : ctx.result))
  }
  tableDiff(ctx.pre.pt.guards, ctx.post.pt.guards, (g) => {
    if (g !== id) out.push(finding(rule, `pt.guards[${g}]`, `guard ${g} changed`, tableGet(ctx.pre.pt.guards, g), tableGet(ctx.post.pt.guards, g)))
  })
  return out
}

// ---- alloc ---------------------------------------------------------------------------------

interface Allocated {
  readonly idx: number
  readonly paddr: number
  readonly node: number
  readonly record: PtNodeOwner | null
  readonly level: number
}

function allocated(ctx: EnsContext): Allocated | null {
  const r = ctx.result as Partial<PtNodeAllocResult> | null
  if (r === null || typeof r !== 'object' || typeof r.paddr !== 'number' || typeof r.node !== 'number' || !validFramePaddr(r.paddr)) return null
  const idx = frameToIndex(r.paddr)
  return { idx, paddr: r.paddr, node: r.node, record: nodeOwnerAt(ctx.post, idx), level: num(ctx.event, 'level') }
}

/** Rules on a successful alloc (`a` known); a malformed result is ENS-NODE-ALLOC-4's. */
function onAlloc(id: string, check: (ctx: EnsContext, a: Allocated) => Finding[]): EnsRule {
  return ens(id, ['page_table_node.alloc'], (ctx) => {
    const a = allocated(ctx)
    return a === null ? [] : check(ctx, a)
  })
}

function relabel(findings: readonly Finding[], rule: string): Finding[] {
  return findings.map((f) => ({ ...f, rule, message: `${f.rule}: ${f.message}` }))
}

function noRecord(rule: string, a: Allocated): Finding[] {
  return [finding(rule, ownerPath(a.idx), `no NodeOwner was created for the new node at slot ${a.idx}`)]
}

/** The PTEs of node `idx` in `s` are all absent (a zero page). */
function zeroPage(s: Snapshot, idx: number): boolean {
  const page = tableGet(s.memory, idx)
  return page === null || page.every((b) => b === 0)
}

/**
 * The frame rules of a claim: only slot `idx` changed, parking unchanged, one obligation at `idx`;
 * and [model, behaviour.md §2.7] the frame is the one the allocator policy picks (a node is
 * allocated by `FrameAllocOptions::alloc_frame`, as in ENS-FRAMEALLOC-FRAME-1), the allocator left
 * where that pick leaves it.
 */
function claimFrame(ctx: EnsContext, rule: string, a: { idx: number; level: number }, config: PtConfigName): Finding[] {
  const out: Finding[] = []
  const pick = policyFrame(ctx.pre)
  if (pick === null || pick.firstIndex !== a.idx) out.push(finding(rule, slotPath(a.idx), 'the node is not the frame the allocator policy picks (the most recently freed one, else the first never-used one)', pick?.firstIndex ?? null, a.idx))
  else out.push(...allocatorTook(ctx, rule, pick))
  const want: MetaSlotCells = { refCount: 1, storage: freshNodeMeta(a.level, config), vtablePtr: 0, inList: 0 }
  const got = ownerOf(ctx.post, a.idx).innerPerms
  if (!equal(got, want)) out.push(finding(rule, `${slotPath(a.idx)}.innerPerms`, 'the claimed slot is not rc 1 with PageTablePageMeta::new(level), vtable init, in_list 0', want, got))
  if (ownerOf(ctx.post, a.idx).usage !== PageUsage.PageTable) out.push(finding(rule, `${slotPath(a.idx)}.usage`, 'the node slot does not have usage PageTable (MD-5)', PageUsage.PageTable, ownerOf(ctx.post, a.idx).usage))
  out.push(...ownerFieldsUnchanged(ctx, rule, a.idx, ['selfAddr', 'pathsInPt']))
  out.push(...otherSlotsChanged(ctx, rule, [a.idx]), ...parkingChanged(ctx, rule))
  return out
}

const ALLOC_COMPOSITES = ['entry.alloc_if_none', 'entry.split_if_mapped_huge']

/** `page_table_node.alloc` steps inside `steps` (not inside nested composites that check their own). */
function allocStepsIn(steps: readonly InternalStep[] | undefined, out: InternalStep[] = []): InternalStep[] {
  for (const st of steps ?? []) {
    if (st.event.type === 'page_table_node.alloc') out.push(st)
    else if (!ALLOC_COMPOSITES.includes(st.event.type)) allocStepsIn(st.steps, out)
  }
  return out
}

const allocRules: EnsRule[] = [
  onAlloc('ENS-NODE-ALLOC-1', (ctx, a) => {
    void a
    const parent = arg<number | undefined>(ctx, 'parent')
    if (parent === undefined || !validFramePaddr(parent)) return []
    const pidx = frameToIndex(parent)
    const r = nodeOwnerAt(ctx.post, pidx)
    if (r === null) return [finding('ENS-NODE-ALLOC-1', ownerPath(pidx), "the parent's NodeOwner is gone after alloc")]
    return relabel(nodeOwnerInv(ctx.post, r, pidx, ownerPath(pidx)), 'ENS-NODE-ALLOC-1')
  }),
  onAlloc('ENS-NODE-ALLOC-2', (ctx, a) => {
    const rule = 'ENS-NODE-ALLOC-2'
    if (a.record === null) return noRecord(rule, a)
    const r = a.record
    const want = {
      tree: a.idx,
      path: '',
      parentLevel: a.level + 1,
      inScope: true,
      level: a.level,
      treeLevel: NR_LEVELS - a.level,
      slotIndex: a.idx,
      metaOwn: { nrChildren: 0, stray: false },
      config: arg<PtConfigName>(ctx, 'config'),
    }
    const got = { tree: r.tree, path: r.path, parentLevel: r.parentLevel, inScope: r.inScope, level: r.level, treeLevel: r.treeLevel, slotIndex: r.slotIndex, metaOwn: r.metaOwn, config: r.config }
    const out: Finding[] = []
    if (!equal(got, want)) out.push(finding(rule, ownerPath(a.idx), 'the new NodeOwner is not an empty, in-scope node at `level` with parent_level level + 1 and an empty path', want, got))
    // all 512 children absent, at paths [k], parent_level == level, owned by the tree
    for (let k = 0; k < NR_ENTRIES; k++) {
      const c = tableGet(r.children, k)
      if (c === null || c.kind === 'node') continue // absent; a node child is ENS-NODE-ALLOC-3's
      if (c.kind !== 'absent' || c.path !== String(k) || c.parentLevel !== a.level || c.inScope || c.tree !== a.idx) {
        out.push(finding(rule, `${ownerPath(a.idx)}.children[${k}]`, `child ${k} of the new node is not absent at path [${k}]`, { kind: 'absent', path: String(k), parentLevel: a.level, inScope: false, tree: a.idx }, c))
        break
      }
    }
    return out
  }),
  onAlloc('ENS-NODE-ALLOC-3', (_ctx, a) => {
    if (a.record === null) return []
    const out: Finding[] = []
    for (let k = 0; k < NR_ENTRIES; k++) {
      const c = tableGet(a.record.children, k)
      if (c?.kind === 'node') out.push(finding('ENS-NODE-ALLOC-3', `${ownerPath(a.idx)}.children[${k}]`, `child ${k} of the new node is a node (grandchildren must be None)`, null, c))
    }
    return out
  }),
  ens('ENS-NODE-ALLOC-4', ['page_table_node.alloc'], (ctx) => {
    const rule = 'ENS-NODE-ALLOC-4'
    const a = allocated(ctx)
    if (a === null) return [finding(rule, 'result', 'alloc did not return { node, paddr } with a valid frame address', '{ node, paddr }', ctx.result)]
    const out: Finding[] = []
    const h = tableGet(ctx.post.pt.nodes, a.node)
    if (tableGet(ctx.pre.pt.nodes, a.node) !== null || h?.paddr !== a.paddr) out.push(finding(rule, `pt.nodes[${a.node}]`, `the result is not a fresh PageTableNode handle to ${a.paddr}`, { paddr: a.paddr }, h))
    tableDiff(ctx.pre.pt.nodes, ctx.post.pt.nodes, (i) => {
      if (i !== a.node) out.push(finding(rule, `pt.nodes[${i}]`, `PageTableNode handle ${i} changed`, tableGet(ctx.pre.pt.nodes, i), tableGet(ctx.post.pt.nodes, i)))
    })
    if (a.record !== null && metaAddr(a.record.slotIndex) !== metaAddr(a.idx)) out.push(finding(rule, `${ownerPath(a.idx)}.slotIndex`, "res.ptr.addr() is not the owner's meta_addr_self()", metaAddr(a.idx), metaAddr(a.record.slotIndex)))
    out.push(...ptTablesChanged(ctx, rule, ['nodes', 'owners', 'locks']))
    return out
  }),
  onAlloc('ENS-NODE-ALLOC-5', (ctx, a) => (tableGet(ctx.post.pt.locks, a.idx) === null ? [] : [finding('ENS-NODE-ALLOC-5', `pt.locks[${a.idx}]`, 'the new node is locked', false, true)])),
  onAlloc('ENS-NODE-ALLOC-6', (ctx, a) => claimFrame(ctx, 'ENS-NODE-ALLOC-6', a, arg<PtConfigName>(ctx, 'config'))),
  onAlloc('ENS-NODE-ALLOC-7', (ctx, a) => obligationsChanged(ctx, 'ENS-NODE-ALLOC-7', new Map([[a.idx, 1]]))),
  onAlloc('ENS-NODE-ALLOC-8', (ctx, a) => {
    const rule = 'ENS-NODE-ALLOC-8'
    const out: Finding[] = []
    if (!isParked(ctx.pre, a.idx)) out.push(finding(rule, `regions.slots[${a.idx}]`, 'the new node slot was not parked before', true, false))
    if (isMmioPaddr(ctx.pre.config, a.paddr)) out.push(finding(rule, 'result.paddr', `the new node is on MMIO memory ${a.paddr}`))
    const rc = ownerOf(ctx.pre, a.idx).innerPerms.refCount
    if (rc !== REF_COUNT_UNUSED) out.push(finding(rule, `${slotPath(a.idx)}.innerPerms.refCount`, `the new node's slot was in use (rc ${refCountName(rc)})`, 'UNUSED', rc))
    return out
  }),
  onAlloc('ENS-NODE-ALLOC-9', (ctx, a) => {
    const rule = 'ENS-NODE-ALLOC-9'
    if (a.record === null) return []
    const out = relabel([...metaregionSound(ctx.post, nodeEntryView(a.record), ownerPath(a.idx)), ...metaregionSoundNode(ctx.post, a.record, ownerPath(a.idx))], rule)
    if (!isParked(ctx.post, a.idx)) out.push(finding(rule, `regions.slots[${a.idx}]`, 'the new node slot is not parked', true, false))
    return out
  }),
  onAlloc('ENS-NODE-ALLOC-10', (_ctx, a) => {
    // spec/README.md §4 item 9: the seed passes `level`; match_pte is evaluated at level + 1.
    if (a.record === null) return []
    return relabel(matchPte(nodeEntryView(a.record), newPt(a.paddr), a.level + 1, ownerPath(a.idx)), 'ENS-NODE-ALLOC-10')
  }),
  ens(
    'ENS-NODE-ALLOC-11',
    ALLOC_COMPOSITES,
    (ctx) => {
      const out: Finding[] = []
      for (const st of allocStepsIn(ctx.steps)) {
        const e = st.event as { parent?: number; parentIdx?: number }
        const r = st.result as Partial<PtNodeAllocResult> | null
        if (e.parent === undefined || e.parentIdx === undefined || r === null || typeof r.paddr !== 'number' || !validFramePaddr(e.parent) || !validFramePaddr(r.paddr)) continue
        const pidx = frameToIndex(e.parent)
        const want = newPt(r.paddr)
        const got = readPte(ctx.post, pidx, e.parentIdx)
        if (got !== want) {
          out.push(finding('ENS-NODE-ALLOC-11', `memory[${pidx}].pte[${e.parentIdx}]`, `alloc announced the parent's PTE ${e.parentIdx} as new_pt(${r.paddr}); at the end of ${ctx.event.type} it is ${pteToHex(got)}`, pteToHex(want), pteToHex(got)))
        }
      }
      return out
    },
  ),
  onAlloc('ENS-NODE-ALLOC-12', (ctx, a) => {
    const rule = 'ENS-NODE-ALLOC-12'
    const out: Finding[] = []
    if (!zeroPage(ctx.post, a.idx)) out.push(finding(rule, `memory[${a.idx}]`, 'the new node has present PTEs (its page is not zeroed)'))
    const m = execNodeStorage(ctx.post, a.idx)
    const want = freshNodeMeta(a.level, arg<PtConfigName>(ctx, 'config'))
    if (!equal(m, want)) out.push(finding(rule, `metaSlots[${a.idx}].storage`, 'the new metadata is not { nr_children 0, stray false, level, lock 0 }', want, m))
    const o = ownerOf(ctx.post, a.idx)
    if (o.rawCount !== 0) out.push(finding(rule, `${slotPath(a.idx)}.rawCount`, 'the new node has forgotten references', 0, o.rawCount))
    if (o.pathsInPt.length !== 0) out.push(finding(rule, `${slotPath(a.idx)}.pathsInPt`, 'the new node records page-table paths', [], o.pathsInPt))
    return out
  }),
]

// ---- PageTable::empty ----------------------------------------------------------------------

const emptyRules: EnsRule[] = [
  ens(
    'ENS-PT-EMPTY-1',
    ['page_table.empty'],
    (ctx) => {
      const rule = 'ENS-PT-EMPTY-1'
      const r = ctx.result as Partial<PtNodeAllocResult> | null
      if (r === null || typeof r !== 'object' || typeof r.paddr !== 'number' || typeof r.node !== 'number' || !validFramePaddr(r.paddr)) {
        return [finding(rule, 'result', 'PageTable::empty did not return { node, paddr }', '{ node, paddr }', ctx.result)]
      }
      const idx = frameToIndex(r.paddr)
      const config = arg<PtConfigName>(ctx, 'config')
      const out: Finding[] = []
      if (ownerOf(ctx.pre, idx).innerPerms.refCount !== REF_COUNT_UNUSED || !isParked(ctx.pre, idx)) out.push(finding(rule, slotPath(idx), 'the root was not allocated from a free, parked slot'))
      out.push(...claimFrame(ctx, rule, { idx, level: NR_LEVELS }, config))
      const want = { tree: idx, path: '', parentLevel: NR_LEVELS + 1, inScope: false, level: NR_LEVELS, treeLevel: 0, slotIndex: idx, metaOwn: { nrChildren: 0, stray: false }, config, children: 0 }
      const rec = nodeOwnerAt(ctx.post, idx)
      const got = rec === null ? null : { tree: rec.tree, path: rec.path, parentLevel: rec.parentLevel, inScope: rec.inScope, level: rec.level, treeLevel: rec.treeLevel, slotIndex: rec.slotIndex, metaOwn: rec.metaOwn, config: rec.config, children: rec.children.count }
      if (!equal(got, want)) out.push(finding(rule, ownerPath(idx), 'the root NodeOwner is not an empty, tree-owned level-4 root (path [], parent_level 5)', want, got))
      if (!zeroPage(ctx.post, idx)) out.push(finding(rule, `memory[${idx}]`, 'the root has present PTEs'))
      const h = tableGet(ctx.post.pt.nodes, r.node)
      if (tableGet(ctx.pre.pt.nodes, r.node) !== null || h?.paddr !== r.paddr) out.push(finding(rule, `pt.nodes[${r.node}]`, 'the result is not a fresh PageTableNode handle to the root', { paddr: r.paddr }, h))
      if (tableGet(ctx.post.pt.locks, idx) !== null) out.push(finding(rule, `pt.locks[${idx}]`, 'the new root is locked', false, true))
      out.push(...obligationsChanged(ctx, rule, new Map([[idx, 1]])))
      out.push(...ptTablesChanged(ctx, rule, ['nodes', 'owners']))
      return out
    },
    '[model] `PageTable::empty()`: a free parked slot becomes a level-4 root (rc 1, `PageTablePageMeta::new(4)`, usage PageTable, zeroed page), held by a fresh `PageTableNode` handle (one obligation); its NodeOwner is tree-owned (empty path, parent_level 5, not in_scope, no children); not locked; nothing else changes.',
  ),
]

// ---- level ---------------------------------------------------------------------------------

const levelRules: EnsRule[] = [
  ens('ENS-NODE-LEVEL-1', ['page_table_node.level'], (ctx) => {
    const idx = frameToIndex(tableGet(ctx.pre.pt.nodes, num(ctx.event, 'node'))!.paddr)
    const m = nodeStorage(ownerOf(ctx.pre, idx).innerPerms)
    const out = stateUnchanged(ctx, 'ENS-NODE-LEVEL-1')
    if (m === null || ctx.result !== m.level) out.push(finding('ENS-NODE-LEVEL-1', 'result', "the result is not the level in the node's metadata permission", m?.level, ctx.result))
    return out
  }),
]

// ---- drop / on_drop ------------------------------------------------------------------------

function dropIdx(ctx: EnsContext): number {
  return frameToIndex(tableGet(ctx.pre.pt.nodes, num(ctx.event, 'node'))!.paddr)
}

const dropRules: EnsRule[] = [
  ens(
    'ENS-NODE-DROP-1',
    ['page_table_node.drop'],
    (ctx) => {
      const rule = 'ENS-NODE-DROP-1'
      const id = num(ctx.event, 'node')
      const idx = dropIdx(ctx)
      const out: Finding[] = []
      if (tableGet(ctx.post.pt.nodes, id) !== null) out.push(finding(rule, `pt.nodes[${id}]`, `PageTableNode ${id} is still registered`, null, tableGet(ctx.post.pt.nodes, id)))
      tableDiff(ctx.pre.pt.nodes, ctx.post.pt.nodes, (i) => {
        if (i !== id) out.push(finding(rule, `pt.nodes[${i}]`, `PageTableNode handle ${i} changed`, tableGet(ctx.pre.pt.nodes, i), tableGet(ctx.post.pt.nodes, i)))
      })
      out.push(...parkingChanged(ctx, rule))
      const rc = ownerOf(ctx.pre, idx).innerPerms.refCount
      if (rc === 1) {
        out.push(...cellsBecome(ctx, rule, idx, (c) => ({ refCount: REF_COUNT_UNUSED, storage: null, vtablePtr: null, inList: c.inList }), 'the last reference does not tear the slot down (rc UNUSED, storage and vtable uninitialised)'))
        out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'rawCount']))
        const post = ownerOf(ctx.post, idx)
        if (post.pathsInPt.length !== 0) out.push(finding(rule, `${slotPath(idx)}.pathsInPt`, 'the freed node still records page-table paths', [], post.pathsInPt))
        if (nodeOwnerAt(ctx.post, idx) !== null) out.push(finding(rule, ownerPath(idx), "the freed node's NodeOwner is still there", null, nodeOwnerAt(ctx.post, idx)))
        if (tableGet(ctx.post.pt.locks, idx) !== null) out.push(finding(rule, `pt.locks[${idx}]`, 'the freed node is still locked', false, true))
        if (freedLast(ctx.post) !== idx) out.push(finding(rule, 'allocator.freeStack', 'the freed node is not back on top of the allocator (LIFO)', idx, freedLast(ctx.post)))
      } else {
        out.push(...cellsBecome(ctx, rule, idx, (c) => ({ ...c, refCount: c.refCount - 1 }), 'dropping one of several references must only decrement rc'))
        out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'rawCount', 'pathsInPt']))
        out.push(...otherSlotsChanged(ctx, rule, [idx]), ...memoryChanged(ctx, rule), ...ptTablesChanged(ctx, rule, ['nodes']))
      }
      return out
    },
    "[model] `Frame::drop` of a `PageTableNode` (ENS-FRAME-DROP-1 for a node): the handle leaves the registry; rc > 1 ⟹ rc − 1 and nothing else changes; rc == 1 ⟹ after `on_drop` the slot is torn down (rc UNUSED, storage and vtable uninit; usage PageTable, self_addr, raw_count kept; no path), the NodeOwner and any lock are gone and the frame is on top of the allocator's free stack; parking unchanged.",
  ),
  ens(
    'ENS-NODE-DROP-2',
    ['page_table_node.drop'],
    (ctx) => obligationsChanged(ctx, 'ENS-NODE-DROP-2', new Map([[dropIdx(ctx), -1]])),
    "[model] `FO := FO - {idx}` for the dropped node (ENS-FRAME-DROP-2); the children `on_drop` revives and drops leave no obligation behind.",
  ),
  ens('ENS-PTMETA-ONDROP-1', ['page_table_page_meta.on_drop'], (ctx) => {
    // `regions.inv()` afterwards, where on_drop can have broken it: the node's slot and every slot
    // the step touched (the released children). The reader / VmIoOwner facts have no counterpart:
    // the model reads the node's PTEs directly (REQ-PTMETA-ONDROP-1).
    const out: Finding[] = []
    const touched = [...new Set([eventIdx(ctx), ...ctx.changes.slotCells, ...ctx.changes.parking])].sort((a, b) => a - b)
    for (const i of touched) {
      if (!isPhysicalSlot(ctx.post, i)) continue
      out.push(...relabel(localRegionInv(slotOf(ctx.post, i), ownerOf(ctx.post, i), i, ctx.post.config), 'ENS-PTMETA-ONDROP-1'))
      const rc = ownerOf(ctx.post, i).innerPerms.refCount
      if (!isParked(ctx.post, i) && rc !== REF_COUNT_UNIQUE) out.push(finding('ENS-PTMETA-ONDROP-1', `regions.slots[${i}]`, `INV-REGIONS-5: slot ${i} is not parked after on_drop but its rc is ${refCountName(rc)}, not UNIQUE (MD-2)`, true, false))
    }
    return out
  }),
  ens('ENS-PTMETA-ONDROP-2', ['page_table_page_meta.on_drop'], (ctx) => parkingChanged(ctx, 'ENS-PTMETA-ONDROP-2')),
  ens('ENS-PTMETA-ONDROP-3', ['page_table_page_meta.on_drop'], (ctx) => {
    const rule = 'ENS-PTMETA-ONDROP-3'
    const idx = eventIdx(ctx)
    const out: Finding[] = []
    // References each present PTE held: one per PTE (node children are unique, REQ-PTMETA-ONDROP-5).
    const held = new Map<number, number>()
    const untracked = new Set<number>()
    for (const c of droppedChildren(ctx.pre, idx)) {
      if (c.tracked) held.set(c.slot, (held.get(c.slot) ?? 0) + 1)
      else untracked.add(c.slot)
    }
    for (const [slot, k] of held) {
      const rc = ownerOf(ctx.pre, slot).innerPerms.refCount
      const want = rc === k ? REF_COUNT_UNUSED : rc - k
      const got = ownerOf(ctx.post, slot).innerPerms.refCount
      if (got !== want) out.push(finding(rule, `${slotPath(slot)}.innerPerms.refCount`, `child slot ${slot} held by ${k} PTE(s) went from rc ${refCountName(rc)} to ${refCountName(got)}`, want, got))
    }
    // An untracked item may point at any physical page (behaviour.md §2.2), even one this drop
    // releases for another reason: a node of the sub-tree or a tracked frame mapped in it.
    const released = untracked.size === 0 ? new Set<number>() : subtreeSlots(ctx.pre, idx)
    for (const slot of untracked) {
      if (!held.has(slot) && !released.has(slot) && !equal(ownerOf(ctx.pre, slot), ownerOf(ctx.post, slot))) out.push(finding(rule, slotPath(slot), `the untracked item at slot ${slot} was touched`, ownerOf(ctx.pre, slot), ownerOf(ctx.post, slot)))
    }
    out.push(...obligationsChanged(ctx, rule, new Map()))
    // §4 (a)4: the node's own PTEs, nr_children and paths_in_pt are not modified.
    out.push(...memoryChanged(ctx, rule).filter((f) => f.path === `memory[${idx}]`))
    out.push(...cellsUnchanged(ctx, rule, idx, ['refCount', 'storage', 'vtablePtr', 'inList']))
    out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['pathsInPt', 'usage', 'rawCount']))
    return out
  }),
]

// ---- lock / make_guard_unchecked -----------------------------------------------------------

function lockRules(op: 'LOCK' | 'MKGUARD', type: string): EnsRule[] {
  const id = (k: number): string => `ENS-NODE-${op}-${k}`
  const rules: EnsRule[] = [
    ens(id(1), [type], (ctx) => (tableGet(ctx.post.pt.locks, eventIdx(ctx)) !== null ? [] : [finding(id(1), `pt.locks[${eventIdx(ctx)}]`, 'the lock of the node is not held afterwards', true, false)])),
    ens(id(2), [type], (ctx) => otherLocksChanged(ctx, id(2), eventIdx(ctx))),
    ens(id(3), [type], (ctx) => {
      const out = freshGuard(ctx, id(3), num(ctx.event, 'paddr'))
      if (op === 'MKGUARD') {
        // The lock byte is not touched; nothing but the guard and Guards changes.
        out.push(...otherSlotsChanged(ctx, id(3), []), ...memoryChanged(ctx, id(3)), ...obligationsChanged(ctx, id(3), new Map()), ...parkingChanged(ctx, id(3)))
        out.push(...ptTablesChanged(ctx, id(3), ['guards', 'locks']))
      }
      return out
    }),
  ]
  if (op === 'LOCK') {
    rules.push(
      ens('ENS-NODE-LOCK-4', [type], (ctx) => {
        const idx = eventIdx(ctx)
        const out = cellsBecome(ctx, 'ENS-NODE-LOCK-4', idx, (c) => withMeta(c, { lock: 1 }), 'meta.lock is not 1 (or something else in the slot changed)')
        out.push(...otherSlotsChanged(ctx, 'ENS-NODE-LOCK-4', [idx]), ...memoryChanged(ctx, 'ENS-NODE-LOCK-4'), ...obligationsChanged(ctx, 'ENS-NODE-LOCK-4', new Map()), ...parkingChanged(ctx, 'ENS-NODE-LOCK-4'))
        out.push(...ptTablesChanged(ctx, 'ENS-NODE-LOCK-4', ['guards', 'locks']))
        return out
      }),
    )
  }
  return rules
}

// ---- guard operations ----------------------------------------------------------------------

/** Everything but the guard's own node slot cells (by `f`) and record (by `g`) is unchanged. */
function onlyNodeMeta(ctx: EnsContext, rule: string, f: (c: MetaSlotCells) => MetaSlotCells, g: (r: PtNodeOwner) => PtNodeOwner, what: string): Finding[] {
  const idx = guardIdxOf(ctx.pre, ctx)
  return [
    ...cellsBecome(ctx, rule, idx, f, what),
    ...recordBecomes(ctx, rule, idx, g, what),
    ...otherSlotsChanged(ctx, rule, [idx]),
    ...memoryChanged(ctx, rule),
    ...obligationsChanged(ctx, rule, new Map()),
    ...parkingChanged(ctx, rule),
    ...ptTablesChanged(ctx, rule, ['owners']),
  ]
}

function cellRef(rule: string, type: string): EnsRule {
  return ens(rule, [type], (ctx) => {
    const want = metaAddr(guardIdxOf(ctx.pre, ctx))
    const got = (ctx.result as { metaAddr?: unknown } | null)?.metaAddr
    return got === want ? [] : [finding(rule, 'result.metaAddr', "the returned cell is not the node's (meta address)", want, got)]
  })
}

const guardRules: EnsRule[] = [
  ens(
    'ENS-GUARD-DROP-1',
    ['page_table_guard.drop'],
    (ctx) => {
      const rule = 'ENS-GUARD-DROP-1'
      const id = num(ctx.event, 'guard')
      const idx = guardIdxOf(ctx.pre, ctx)
      const out = cellsBecome(ctx, rule, idx, (c) => withMeta(c, { lock: 0 }), 'meta.lock is not 0 after the guard is dropped')
      if (tableGet(ctx.post.pt.locks, idx) !== null) out.push(finding(rule, `pt.locks[${idx}]`, 'Guards still holds the node', false, true))
      if (tableGet(ctx.post.pt.guards, id) !== null) out.push(finding(rule, `pt.guards[${id}]`, `guard ${id} is still registered`, null, tableGet(ctx.post.pt.guards, id)))
      return out
    },
    '[model] Dropping a `PageTableGuard` releases the lock: `meta.lock := 0` (exec cell and its permission), `Guards -= node`, the handle leaves the registry.',
  ),
  ens(
    'ENS-GUARD-DROP-2',
    ['page_table_guard.drop'],
    (ctx) => {
      const rule = 'ENS-GUARD-DROP-2'
      const id = num(ctx.event, 'guard')
      const idx = guardIdxOf(ctx.pre, ctx)
      const out = [...otherLocksChanged(ctx, rule, idx), ...otherSlotsChanged(ctx, rule, [idx]), ...memoryChanged(ctx, rule), ...obligationsChanged(ctx, rule, new Map()), ...parkingChanged(ctx, rule)]
      tableDiff(ctx.pre.pt.guards, ctx.post.pt.guards, (g) => {
        if (g !== id) out.push(finding(rule, `pt.guards[${g}]`, `guard ${g} changed`, tableGet(ctx.pre.pt.guards, g), tableGet(ctx.post.pt.guards, g)))
      })
      out.push(...ptTablesChanged(ctx, rule, ['guards', 'locks']))
      return out
    },
    '[model] Dropping a `PageTableGuard` changes nothing but its own lock: no other lock, guard, slot, memory, obligation or owner record.',
  ),
  ens('ENS-GUARD-NRCHILDREN-1', ['page_table_guard.nr_children'], (ctx) => {
    const r = nodeOwnerAt(ctx.pre, guardIdxOf(ctx.pre, ctx))
    const out = stateUnchanged(ctx, 'ENS-GUARD-NRCHILDREN-1')
    if (r === null || ctx.result !== r.metaOwn.nrChildren) out.push(finding('ENS-GUARD-NRCHILDREN-1', 'result', 'the result is not owner.meta_own.nr_children', r?.metaOwn.nrChildren, ctx.result))
    return out
  }),
  cellRef('ENS-GUARD-STRAYMUT-1', 'page_table_guard.stray_mut'),
  ens('ENS-GUARD-STRAYMUT-2', ['page_table_guard.stray_mut'], (ctx) => stateUnchanged(ctx, 'ENS-GUARD-STRAYMUT-2')),
  ens(
    'ENS-GUARD-STRAYWRITE-1',
    ['page_table_guard.stray_mut.write'],
    (ctx) => {
      const value = arg<boolean>(ctx, 'value')
      return onlyNodeMeta(ctx, 'ENS-GUARD-STRAYWRITE-1', (c) => withMeta(c, { stray: value }), (r) => ({ ...r, metaOwn: { ...r.metaOwn, stray: value } }), `stray is not ${value} in the metadata, its permission and meta_own (or something else changed)`)
    },
    "[model] A write through `stray_mut()` sets `stray := value` in the node's metadata, the permission's copy and `meta_own`; nothing else changes.",
  ),
  ens('ENS-GUARD-READPTE-1', ['page_table_guard.read_pte'], (ctx) => {
    const want = pteToHex(readPte(ctx.pre, guardIdxOf(ctx.pre, ctx), num(ctx.event, 'idx')))
    const out = stateUnchanged(ctx, 'ENS-GUARD-READPTE-1')
    if (ctx.result !== want) out.push(finding('ENS-GUARD-READPTE-1', 'result', 'the result is not the PTE word at idx', want, ctx.result))
    return out
  }),
  ens('ENS-GUARD-WRITEPTE-1', ['page_table_guard.write_pte'], (ctx) => {
    // `owner.inv()` afterwards: NodeOwner::inv (INV-NODE-1..6) of the guard's node in the post-state.
    const idx = guardIdxOf(ctx.pre, ctx)
    const r = nodeOwnerAt(ctx.post, idx)
    if (r === null) return [finding('ENS-GUARD-WRITEPTE-1', ownerPath(idx), `the NodeOwner of node ${idx} is gone after write_pte`)]
    return relabel(nodeOwnerInv(ctx.post, r, idx, ownerPath(idx)), 'ENS-GUARD-WRITEPTE-1')
  }),
  ens('ENS-GUARD-WRITEPTE-2', ['page_table_guard.write_pte'], (ctx) => {
    // The owner's level, meta_own and slot_index — and, as the PTE write leaks the old child,
    // the whole owner tree, every ref count and paths_in_pt — are unchanged.
    const rule = 'ENS-GUARD-WRITEPTE-2'
    const idx = guardIdxOf(ctx.pre, ctx)
    return [...recordBecomes(ctx, rule, idx, (r) => r, 'write_pte changed the owner record'), ...otherSlotsChanged(ctx, rule, []), ...obligationsChanged(ctx, rule, new Map()), ...parkingChanged(ctx, rule), ...ptTablesChanged(ctx, rule, ['guards', 'locks'])]
  }),
  ens('ENS-GUARD-WRITEPTE-3', ['page_table_guard.write_pte'], (ctx) => {
    const rule = 'ENS-GUARD-WRITEPTE-3'
    const idx = guardIdxOf(ctx.pre, ctx)
    const i = num(ctx.event, 'idx')
    const want = pteFromHex(arg<string>(ctx, 'pte'))
    const out: Finding[] = []
    const got = readPte(ctx.post, idx, i)
    if (got !== want) out.push(finding(rule, `memory[${idx}].pte[${i}]`, `PTE ${i} is not the word written`, pteToHex(want), pteToHex(got)))
    const others = changedPteIndices(tableGet(ctx.pre.memory, idx), tableGet(ctx.post.memory, idx)).filter((k) => k !== i)
    if (others.length > 0) out.push(finding(rule, `memory[${idx}]`, `PTEs other than ${i} changed: ${others.slice(0, 8).join(', ')}`, [i], others))
    out.push(...memoryChanged(ctx, rule, [idx]))
    return out
  }),
  ens('ENS-GUARD-WRITEPTE-4', ['page_table_guard.write_pte'], (ctx) => {
    const rule = 'ENS-GUARD-WRITEPTE-4'
    const out: Finding[] = []
    if (ctx.pre.pt.guards !== ctx.post.pt.guards) out.push(finding(rule, 'pt.guards', 'a guard changed'))
    if (ctx.pre.pt.locks !== ctx.post.pt.locks) out.push(finding(rule, 'pt.locks', 'Guards changed'))
    const idx = guardIdxOf(ctx.pre, ctx)
    if (execNodeStorage(ctx.pre, idx)?.lock !== execNodeStorage(ctx.post, idx)?.lock) out.push(finding(rule, `metaSlots[${idx}].storage.lock`, 'the lock byte changed', execNodeStorage(ctx.pre, idx)?.lock, execNodeStorage(ctx.post, idx)?.lock))
    return out
  }),
  cellRef('ENS-GUARD-NRCHMUT-1', 'page_table_guard.nr_children_mut'),
  ens('ENS-GUARD-NRCHMUT-2', ['page_table_guard.nr_children_mut'], (ctx) => stateUnchanged(ctx, 'ENS-GUARD-NRCHMUT-2')),
  ens(
    'ENS-GUARD-NRCHWRITE-1',
    ['page_table_guard.nr_children_mut.write'],
    (ctx) => {
      const value = num(ctx.event, 'value')
      return onlyNodeMeta(ctx, 'ENS-GUARD-NRCHWRITE-1', (c) => withMeta(c, { nrChildren: value }), (r) => ({ ...r, metaOwn: { ...r.metaOwn, nrChildren: value } }), `nr_children is not ${value} in the metadata, its permission and meta_own (or something else changed)`)
    },
    "[model] A write through `nr_children_mut()` sets `nr_children := value` in the node's metadata, the permission's copy and `meta_own`; nothing else changes.",
  ),
]

export const ptNodeRules: Array<EnsRule | InvRule> = [
  ...ptNodeInvariants,
  ...allocRules,
  ...emptyRules,
  ...levelRules,
  ...dropRules,
  ...lockRules('LOCK', 'page_table_node_ref.lock'),
  ...lockRules('MKGUARD', 'page_table_node_ref.make_guard_unchecked'),
  ...guardRules,
]
