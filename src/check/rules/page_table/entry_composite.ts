/**
 * Postconditions of the composite Entry operations (spec/operations.md §5.6, §5.7; seed 001):
 * ENS-ENTRY-ALLOCIFNONE-1..16 (`entry.alloc_if_none`) and ENS-ENTRY-SPLIT-1..13
 * (`entry.split_if_mapped_huge`). The REQ rules come from the event specs
 * (reducers/page_table/entry_composite.ts).
 *
 * Naming, as in the spec: `owner` / `owner'` are the tree owner of the entry's position
 * (`pt.owners[slot].children[idx]`) before and after; `self` is the Entry handle (its cached
 * word); `parent` the record of the entry's node; "the new node" the node `owner'` points to.
 * Clauses that restate invariants (`self.invariants`, `metaregion_sound`, `owner.inv()`, NM) are
 * evaluated on the post-state for the touched entry and its new sub-tree, so that a faulty
 * reducer variant makes them fire at the composite's boundary.
 *
 * Corrected clauses (spec/README.md §4 item 3): ENS-ENTRY-SPLIT-8 exempts `paths_in_pt` of the
 * slots the new leaves map, and ENS-ENTRY-SPLIT-12 the new node's lock. Model deviation (see the
 * reducer): a tracked split takes one reference per new leaf and releases the huge leaf's, so
 * ENS-ENTRY-SPLIT-8 also exempts those slots' ref counts and ENS-ENTRY-SPLIT-13 checks the exact
 * accounting (each new leaf's head slot `rc + 1`, the huge frame's head slot unchanged — its
 * reference and path move to leaf 0 —, no other ref count changes).
 */
import equal from 'fast-deep-equal/es6/index.js'
import { frameToIndex, NR_ENTRIES, NR_LEVELS, PAGE_SIZE, pageSize, PageUsage, REF_COUNT_UNUSED, refCountName } from '../../../arch/constants.js'
import { newPage, newPt, pteProp, pteToHex } from '../../../arch/pte.js'
import { readPte } from '../../../model/memory.js'
import { qualifiedPath, type PtNodeOwner } from '../../../model/page_table.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { childOwnerView, childPath, entryInvBase, entryScope, matchPte, metaregionSound, nodeOwnerAt, nodeOwnerInv, pathLength, type EntryOwnerView } from '../../../model/spec/page_table.js'
import { isParked, ownerOf, slotOf } from '../../../model/slots.js'
import type { MetaSlotCells, MetaSlotOwner, Snapshot } from '../../../model/snapshot.js'
import { tableForEach, tableGet } from '../../../model/table.js'
import { relateGuardFailure, type EntryContext } from '../../../../reducers/page_table/entry.js'
import { entryAt, nodeLevelAt } from './entry_reads.js'
import { referencedSlot } from '../../../../reducers/page_table/child.js'
import { subtreeInvFailure, type CompositeResult } from '../../../../reducers/page_table/entry_composite.js'
import { regionInvAt } from '../../../../reducers/frame/meta.js'
import type { EnsContext, EnsRule, Rule } from '../../rule.js'
import { ens, obligationsChanged } from '../helpers.js'
import { onlyChanged, ownerSansNodeMeta, relabel, soundChangedSlots } from './entry.js'

// ---- facts of one composite step ---------------------------------------------------------------

interface Facts {
  /** The Entry before (it exists: REQ-HANDLE-1), and after (null when a faulty step dropped it). */
  readonly pre: EntryContext
  readonly post: EntryContext | null
  /** The slot of the entry's node (`parent`) and the entry's index. */
  readonly slot: number
  readonly idx: number
  /** `parent.level` before (the guard's node level). */
  readonly level: number
  /** `owner.value` and `owner'.value` (the tree owner of the entry's position). */
  readonly old: EntryOwnerView
  readonly now: EntryOwnerView | null
  /** `res`: the guard id returned, `null` for `None`, `undefined` when the result is malformed. */
  readonly res: number | null | undefined
  /** The new node: the record `owner'` points to (null when `owner'` is not a node). */
  readonly fresh: PtNodeOwner | null
  readonly where: string
}

const factsCache = new WeakMap<EnsContext, Facts>()

function treeOwner(s: Snapshot, slot: number, idx: number): EntryOwnerView | null {
  const node = nodeOwnerAt(s, slot)
  return node === null ? null : childOwnerView(s, node, idx)
}

/** The step's facts, or null when its Entry was not live (REQ-HANDLE-1 / REQ-ENTRY-BORROW-1 report that). */
function factsOrNull(ctx: EnsContext): Facts | null {
  let f = factsCache.get(ctx)
  if (f !== undefined) return f
  const pre = entryAt(ctx.pre, (ctx.event as unknown as { entry: number }).entry)
  if (pre === null || pre.view === null) return null
  const slot = pre.slot
  const idx = pre.entry.idx
  const now = treeOwner(ctx.post, slot, idx)
  const r = ctx.result as CompositeResult | undefined
  const res = r === null ? null : typeof r === 'object' && r !== undefined && typeof r.guard === 'number' ? r.guard : undefined
  f = {
    pre,
    post: entryAt(ctx.post, pre.id),
    slot,
    idx,
    level: nodeLevelAt(ctx.pre, slot),
    old: pre.view!,
    now,
    res,
    fresh: now?.kind === 'node' ? now.node : null,
    where: `pt.owners[${slot}].children[${idx}]`,
  }
  factsCache.set(ctx, f)
  return f
}

function facts(ctx: EnsContext): Facts {
  return factsOrNull(ctx)!
}

/** An ENS rule of a composite, evaluated only when its Entry was live. */
function compositeEns(id: string, appliesTo: readonly string[], check: (ctx: EnsContext) => Finding[]): EnsRule {
  return ens(id, appliesTo, (ctx) => (factsOrNull(ctx) === null ? [] : check(ctx)))
}

function fail(rule: string, path: string, why: string | null, expected?: unknown, actual?: unknown): Finding[] {
  return why === null ? [] : [finding(rule, path, why, expected, actual)]
}

function missingOwner(rule: string, f: Facts): Finding[] {
  return [finding(rule, f.where, "the entry's owner is gone after the operation (no node record)")]
}

function freshSlot(f: Facts): number | null {
  return f.fresh?.slotIndex ?? null
}

/** The node records of `rec`'s sub-tree, `rec` first (bounded depth). */
function subtreeRecords(s: Snapshot, rec: PtNodeOwner, out: PtNodeOwner[] = [], depth = 0): PtNodeOwner[] {
  out.push(rec)
  if (depth >= NR_LEVELS) return out
  tableForEach(rec.children, (c) => {
    if (c.kind !== 'node') return
    const sub = nodeOwnerAt(s, c.slot)
    if (sub !== null) subtreeRecords(s, sub, out, depth + 1)
  })
  return out
}

function nodeMeta(cells: MetaSlotCells): { nrChildren: number; level: number; lock: number } | null {
  const st = cells.storage
  return st?.kind === 'PTNode' ? { nrChildren: st.nrChildren, level: st.level, lock: st.lock } : null
}

// ---- clauses shared by both operations ---------------------------------------------------------

/** `self.invariants(owner'.value, new.regions)`: `owner'.inv()`, `regions.inv()`, `self.wf(owner')`, `metaregion_sound`. */
function selfInvariants(ctx: EnsContext, rule: string): Finding[] {
  const f = facts(ctx)
  const now = f.now
  if (now === null) return missingOwner(rule, f)
  if (f.post === null) return [finding(rule, `pt.entries[${f.pre.id}]`, 'the Entry is gone after the operation')]
  const config = nodeOwnerAt(ctx.post, f.slot)?.config ?? null
  const slot = referencedSlot(now)
  const regions = slot === null || !(slot >= 0 && slot < ctx.post.nrFrames) ? null : regionInvAt(ctx.post, slot)
  return relabel(rule, [
    ...entryInvBase(ctx.post, now, f.where, config),
    ...entryScope(now, false, f.where),
    ...fail(rule, slot === null ? f.where : `regions.slotOwners[${slot}]`, regions),
    ...matchPte(now, f.post.cached, now.parentLevel, `pt.entries[${f.pre.id}] (cached ${pteToHex(f.post.cached)})`),
    ...metaregionSound(ctx.post, now, f.where),
  ])
}

/** `node_matching(owner'.value, parent', guard_perm')`. */
function nodeMatching(ctx: EnsContext, rule: string): Finding[] {
  const f = facts(ctx)
  if (f.now === null) return missingOwner(rule, f)
  const parent = nodeOwnerAt(ctx.post, f.slot)
  if (parent === null) return [finding(rule, `pt.owners[${f.slot}]`, "the parent's record is gone")]
  return [
    ...fail(rule, `pt.guards[${f.pre.entry.guard}]`, relateGuardFailure(ctx.post, f.pre.entry.guard)),
    ...(parent.level === f.now.parentLevel ? [] : [finding(rule, `pt.owners[${f.slot}].level`, "the parent's level is not the owner's parent level", f.now.parentLevel, parent.level)]),
    ...relabel(rule, nodeOwnerInv(ctx.post, parent, f.slot, `pt.owners[${f.slot}]`)),
    ...relabel(rule, matchPte(f.now, readPte(ctx.post, f.slot, f.idx), f.now.parentLevel, `${f.where} (stored)`)),
  ]
}

/** `owner'.inv()` of the whole sub-tree. */
function subtreeInv(ctx: EnsContext, rule: string): Finding[] {
  const f = facts(ctx)
  if (f.now === null) return missingOwner(rule, f)
  return fail(rule, f.where, subtreeInvFailure(ctx.post, f.now, nodeOwnerAt(ctx.post, f.slot)?.config ?? null, f.where))
}

/** Held locks stay held; unlocked nodes stay unlocked, except `except` (the new node). */
function locksKept(ctx: EnsContext, rule: string, except: number | null): Finding[] {
  const out: Finding[] = []
  const { pre, post } = ctx
  if (pre.pt.locks === post.pt.locks) return out
  tableForEach(pre.pt.locks, (_v, i) => {
    if (tableGet(post.pt.locks, i) === null) out.push(finding(rule, `pt.locks[${i}]`, `the lock of node ${i} was held and is no longer`, true, false))
  })
  tableForEach(post.pt.locks, (_v, i) => {
    if (tableGet(pre.pt.locks, i) === null && i !== except) out.push(finding(rule, `pt.locks[${i}]`, `node ${i} was unlocked and is now locked (only the new node may be)`, false, true))
  })
  return out
}

/** `parent_perms_preserved`: the parent's other PTEs, the guard (and the Entry's borrow of it), the parent's lock. */
function parentPermsPreserved(ctx: EnsContext, rule: string): Finding[] {
  const f = facts(ctx)
  const out: Finding[] = []
  if (ctx.changes.memory.has(f.slot)) {
    for (let k = 0; k < NR_ENTRIES; k++) {
      if (k === f.idx) continue
      const a = readPte(ctx.pre, f.slot, k)
      const b = readPte(ctx.post, f.slot, k)
      if (a !== b) out.push(finding(rule, `memory[${f.slot}].pte[${k}]`, `PTE ${k} of the parent changed (only ${f.idx} may)`, pteToHex(a), pteToHex(b)))
    }
  }
  const g = f.pre.entry.guard
  if (!equal(tableGet(ctx.pre.pt.guards, g), tableGet(ctx.post.pt.guards, g))) out.push(finding(rule, `pt.guards[${g}]`, `the parent's guard ${g} changed`, tableGet(ctx.pre.pt.guards, g), tableGet(ctx.post.pt.guards, g)))
  if (f.post !== null && f.post.entry.guard !== g) out.push(finding(rule, `pt.entries[${f.pre.id}].guard`, 'the Entry borrows another guard', g, f.post.entry.guard))
  if (tableGet(ctx.post.pt.locks, f.slot) === null) out.push(finding(rule, `pt.locks[${f.slot}]`, `the lock of the parent node ${f.slot} is no longer held`))
  return out
}

/** `self.idx` unchanged. */
function idxKept(ctx: EnsContext, rule: string): Finding[] {
  const f = facts(ctx)
  if (f.post === null) return [finding(rule, `pt.entries[${f.pre.id}]`, 'the Entry is gone after the operation')]
  return f.post.entry.idx === f.idx ? [] : [finding(rule, `pt.entries[${f.pre.id}].idx`, "the Entry's index changed", f.idx, f.post.entry.idx)]
}

/** `res` is `Some(guard)` locking the new node, which `relate_guard_perm`s to it. */
function returnsFreshGuard(ctx: EnsContext, rule: string): Finding[] {
  const f = facts(ctx)
  if (typeof f.res !== 'number') return [finding(rule, 'result', 'the result is not Some(guard)', '{ guard }', ctx.result)]
  const slot = freshSlot(f)
  if (slot === null) return [finding(rule, f.where, `owner' is not a node (it is ${f.now?.kind ?? 'missing'})`, 'node', f.now?.kind ?? null)]
  const g = tableGet(ctx.post.pt.guards, f.res)
  if (g === null || tableGet(ctx.pre.pt.guards, f.res) !== null) return [finding(rule, `pt.guards[${f.res}]`, 'the result is not a fresh live PageTableGuard', 'a new guard', g)]
  return [
    ...(g.paddr === slot * PAGE_SIZE ? [] : [finding(rule, `pt.guards[${f.res}].paddr`, "the returned guard does not point at the new node's address", slot * PAGE_SIZE, g.paddr)]),
    ...fail(rule, `pt.guards[${f.res}]`, relateGuardFailure(ctx.post, f.res)),
  ]
}

/**
 * The frame rule's allowances for the handle and lock tables: guards created on the new node (and
 * `res`), and any lock change (the lock clauses ENS-ENTRY-ALLOCIFNONE-4 / ENS-ENTRY-SPLIT-12 judge
 * those).
 */
function guardsAndLocks(ctx: EnsContext, f: Facts): { guards: number[]; locks: number[] } {
  const slot = freshSlot(f)
  const guards: number[] = typeof f.res === 'number' ? [f.res] : []
  tableForEach(ctx.post.pt.guards, (g, id) => {
    if (slot !== null && g.paddr === slot * PAGE_SIZE && tableGet(ctx.pre.pt.guards, id) === null) guards.push(id)
  })
  const locks: number[] = []
  tableForEach(ctx.post.pt.locks, (_v, i) => {
    if (tableGet(ctx.pre.pt.locks, i) === null) locks.push(i)
  })
  tableForEach(ctx.pre.pt.locks, (_v, i) => {
    if (tableGet(ctx.post.pt.locks, i) === null) locks.push(i)
  })
  return { guards, locks }
}

/** Nothing changed at all, and `res` is `None`, `owner' == owner`. */
function noChange(ctx: EnsContext, rule: string): Finding[] {
  const f = facts(ctx)
  const out: Finding[] = []
  if (ctx.result !== null) out.push(finding(rule, 'result', 'the result is not None', null, ctx.result))
  if (!equal(f.old, f.now)) out.push(finding(rule, f.where, "owner' differs from owner", f.old, f.now))
  out.push(...onlyChanged(ctx, rule))
  return out
}

/** Slots whose `paths_in_pt` changed, other than `allowed`. */
function pathsChangedOutside(ctx: EnsContext, rule: string, allowed: ReadonlySet<number>): Finding[] {
  const out: Finding[] = []
  for (const i of ctx.changes.slotCells) {
    if (allowed.has(i)) continue
    const a = ownerOf(ctx.pre, i).pathsInPt
    const b = ownerOf(ctx.post, i).pathsInPt
    if (!equal(a, b)) out.push(finding(rule, `regions.slotOwners[${i}].pathsInPt`, `paths_in_pt of slot ${i} changed`, a, b))
  }
  return out
}

/** `metaregion_sound` of every entry of the new node (its children), and their nodes unlocked. */
function childrenSoundAndUnlocked(ctx: EnsContext, rule: string, fresh: PtNodeOwner): Finding[] {
  const out: Finding[] = []
  tableForEach(fresh.children, (c, i) => {
    const at = `pt.owners[${fresh.slotIndex}].children[${i}]`
    const v = childOwnerView(ctx.post, fresh, i)
    if (v === null) {
      out.push(finding(rule, at, `the node entry's record (slot ${(c as { slot?: number }).slot}) does not exist`))
      return
    }
    out.push(...relabel(rule, metaregionSound(ctx.post, v, at)))
    if (v.kind === 'node') {
      for (const r of subtreeRecords(ctx.post, v.node)) {
        if (tableGet(ctx.post.pt.locks, r.slotIndex) !== null) out.push(finding(rule, `pt.locks[${r.slotIndex}]`, `node ${r.slotIndex} below the new node is locked`, false, true))
      }
    }
  })
  return out
}

/** The new node's slot: UNUSED before, in use after; every slot that was parked still is. */
function freshSlotClaimed(ctx: EnsContext, rule: string, slot: number): Finding[] {
  const out: Finding[] = []
  for (const i of ctx.changes.parking) if (isParked(ctx.pre, i) && !isParked(ctx.post, i)) out.push(finding(rule, `regions.slots[${i}]`, `slot ${i} left the parked set`, true, false))
  const before = ownerOf(ctx.pre, slot).innerPerms.refCount
  const after = ownerOf(ctx.post, slot).innerPerms.refCount
  if (before !== REF_COUNT_UNUSED) out.push(finding(rule, `regions.slotOwners[${slot}].innerPerms.refCount`, `the new node's slot ${slot} was in use before (rc ${refCountName(before)})`, 'UNUSED', before))
  if (after === REF_COUNT_UNUSED) out.push(finding(rule, `regions.slotOwners[${slot}].innerPerms.refCount`, `the new node's slot ${slot} is UNUSED after`, '!= UNUSED', after))
  return out
}

/** `slot_owners[i]` unchanged for every `i` outside `exempt` (node metadata cells aside), with `blank` fields of `loose` slots ignored. */
function slotOwnersKept(ctx: EnsContext, rule: string, exempt: ReadonlySet<number>, loose: ReadonlySet<number> = new Set(), blank: (o: MetaSlotOwner) => MetaSlotOwner = (o) => o): Finding[] {
  const out: Finding[] = []
  for (const i of ctx.changes.slotCells) {
    if (exempt.has(i)) continue
    let a = ownerSansNodeMeta(ownerOf(ctx.pre, i))
    let b = ownerSansNodeMeta(ownerOf(ctx.post, i))
    if (loose.has(i)) {
      a = blank(a)
      b = blank(b)
    }
    if (!equal(a, b)) out.push(finding(rule, `regions.slotOwners[${i}]`, `slot_owners[${i}] changed`, ownerOf(ctx.pre, i), ownerOf(ctx.post, i)))
  }
  return out
}

/** The three node-metadata copies of `nr_children` at `slot` (exec, the permission's, `meta_own`). */
function nrChildrenCopies(s: Snapshot, slot: number): Array<number | null> {
  return [nodeMeta(slotOf(s, slot))?.nrChildren ?? null, nodeMeta(ownerOf(s, slot).innerPerms)?.nrChildren ?? null, nodeOwnerAt(s, slot)?.metaOwn.nrChildren ?? null]
}

function nrChildrenIs(ctx: EnsContext, rule: string, slot: number, want: number, what: string): Finding[] {
  const got = nrChildrenCopies(ctx.post, slot)
  return got.every((n) => n === want) ? [] : [finding(rule, `pt.owners[${slot}].metaOwn.nrChildren`, `${what}: nr_children (exec, permission, meta_own) is ${got.join('/')}, expected ${want}`, want, got)]
}

// ---- alloc_if_none ---------------------------------------------------------------------------

const ALLOC = ['entry.alloc_if_none']

/** The allocation branch: `old owner.value.is_absent() && parent.level > 1`. */
function allocated(f: Facts): boolean {
  return f.old.kind === 'absent' && f.level > 1
}

/** An ENS clause of the allocation branch. */
function onAlloc(id: string, check: (ctx: EnsContext, f: Facts, fresh: PtNodeOwner) => Finding[]): EnsRule {
  return compositeEns(id, ALLOC, (ctx) => {
    const f = facts(ctx)
    if (!allocated(f)) return []
    if (f.fresh === null) return [finding(id, f.where, `no node was installed at the entry (owner' is ${f.now?.kind ?? 'missing'})`, 'node', f.now?.kind ?? null)]
    return check(ctx, f, f.fresh)
  })
}

const allocRules: EnsRule[] = [
  compositeEns('ENS-ENTRY-ALLOCIFNONE-1', ALLOC, (ctx) => selfInvariants(ctx, 'ENS-ENTRY-ALLOCIFNONE-1')),
  compositeEns('ENS-ENTRY-ALLOCIFNONE-2', ALLOC, (ctx) => parentPermsPreserved(ctx, 'ENS-ENTRY-ALLOCIFNONE-2')),
  compositeEns('ENS-ENTRY-ALLOCIFNONE-3', ALLOC, (ctx) => idxKept(ctx, 'ENS-ENTRY-ALLOCIFNONE-3')),
  compositeEns('ENS-ENTRY-ALLOCIFNONE-4', ALLOC, (ctx) => locksKept(ctx, 'ENS-ENTRY-ALLOCIFNONE-4', freshSlot(facts(ctx)))),
  onAlloc('ENS-ENTRY-ALLOCIFNONE-5', (ctx) => [...nodeMatching(ctx, 'ENS-ENTRY-ALLOCIFNONE-5'), ...subtreeInv(ctx, 'ENS-ENTRY-ALLOCIFNONE-5')]),
  onAlloc('ENS-ENTRY-ALLOCIFNONE-6', (ctx) => returnsFreshGuard(ctx, 'ENS-ENTRY-ALLOCIFNONE-6')),
  onAlloc('ENS-ENTRY-ALLOCIFNONE-7', (_ctx, f, fresh) => {
    const want = { tree: f.old.tree, path: f.old.path, level: pathLength(f.old.path), parentLevel: f.old.parentLevel }
    const got = { tree: fresh.tree, path: fresh.path, level: pathLength(fresh.path), parentLevel: fresh.parentLevel }
    return equal(want, got) ? [] : [finding('ENS-ENTRY-ALLOCIFNONE-7', `pt.owners[${fresh.slotIndex}]`, "owner' is not at the old owner's position (tree level, parent_level, path)", want, got)]
  }),
  onAlloc('ENS-ENTRY-ALLOCIFNONE-8', (ctx, _f, fresh) => {
    const rule = 'ENS-ENTRY-ALLOCIFNONE-8'
    const out: Finding[] = []
    if (tableGet(ctx.post.pt.locks, fresh.slotIndex) === null) out.push(finding(rule, `pt.locks[${fresh.slotIndex}]`, 'the new node is not locked (lock_held)', true, false))
    for (const r of subtreeRecords(ctx.post, fresh).slice(1)) {
      if (tableGet(ctx.post.pt.locks, r.slotIndex) !== null) out.push(finding(rule, `pt.locks[${r.slotIndex}]`, `node ${r.slotIndex} in the new sub-tree is locked (node_unlocked_except the new node)`, false, true))
    }
    return out
  }),
  onAlloc('ENS-ENTRY-ALLOCIFNONE-9', (ctx, f, fresh) => {
    const rule = 'ENS-ENTRY-ALLOCIFNONE-9'
    const mine = new Set([fresh.slotIndex])
    return [
      ...relabel(rule, metaregionSound(ctx.post, f.now!, f.where)),
      // metaregion_sound_neq_preserved: only the new node's slot changed in what soundness reads
      ...soundChangedSlots(ctx)
        .filter((i) => !mine.has(i))
        .map((i) => finding(rule, `regions.slotOwners[${i}]`, `slot ${i} changed in a field metaregion_sound reads, and it is not the new node's`)),
      // path_tracked_pred_preserved
      ...pathsChangedOutside(ctx, rule, mine),
    ]
  }),
  onAlloc('ENS-ENTRY-ALLOCIFNONE-10', (ctx, _f, fresh) =>
    isParked(ctx.pre, fresh.slotIndex) ? [] : [finding('ENS-ENTRY-ALLOCIFNONE-10', `regions.slots[${fresh.slotIndex}]`, "the new node's slot was not parked before", true, false)],
  ),
  onAlloc('ENS-ENTRY-ALLOCIFNONE-11', (ctx, f, fresh) => {
    const rule = 'ENS-ENTRY-ALLOCIFNONE-11'
    const key = qualifiedPath(fresh.tree, fresh.path)
    const paths = ownerOf(ctx.post, fresh.slotIndex).pathsInPt
    return [
      ...relabel(rule, metaregionSound(ctx.post, f.now!, f.where)),
      ...(equal(paths, [key]) ? [] : [finding(rule, `regions.slotOwners[${fresh.slotIndex}].pathsInPt`, 'path_tracked_pred: the new node does not record exactly its path', [key], paths)]),
      ...childrenSoundAndUnlocked(ctx, rule, fresh),
    ]
  }),
  onAlloc('ENS-ENTRY-ALLOCIFNONE-12', (ctx, _f, fresh) => {
    const out: Finding[] = []
    for (let i = 0; i < NR_ENTRIES; i++) {
      const v = childOwnerView(ctx.post, fresh, i)
      const want = { kind: 'absent', tree: fresh.tree, path: childPath(fresh.path, i), parentLevel: fresh.level, inScope: false }
      if (!equal(v, want)) {
        out.push(finding('ENS-ENTRY-ALLOCIFNONE-12', `pt.owners[${fresh.slotIndex}].children[${i}]`, `child ${i} of the new node is not absent (view_rec must be empty)`, want, v))
        break
      }
    }
    return out
  }),
  onAlloc('ENS-ENTRY-ALLOCIFNONE-13', (ctx, f, fresh) => {
    const rule = 'ENS-ENTRY-ALLOCIFNONE-13'
    return [
      ...slotOwnersKept(ctx, rule, new Set([fresh.slotIndex])),
      ...freshSlotClaimed(ctx, rule, fresh.slotIndex),
      // the implicit frame rule (operations.md §0): what else the allocation may touch
      // (slot owners are judged above, exec-ghost drift by INV-SLOT-9, locks by -4)
      ...onlyChanged(ctx, rule, {
        slots: ctx.changes.slotCells,
        memory: [f.slot, fresh.slotIndex],
        entries: [f.pre.id],
        owners: [f.slot, fresh.slotIndex],
        ...guardsAndLocks(ctx, f),
        counters: ['ptNode', 'ptChild', 'ptGuard'],
        allocator: true,
      }),
    ]
  }),
  compositeEns('ENS-ENTRY-ALLOCIFNONE-14', ALLOC, (ctx) => (facts(ctx).old.kind === 'absent' ? [] : noChange(ctx, 'ENS-ENTRY-ALLOCIFNONE-14'))),
  compositeEns('ENS-ENTRY-ALLOCIFNONE-15', ALLOC, (ctx) => {
    const f = facts(ctx)
    return f.old.kind === 'absent' && f.level === 1 ? noChange(ctx, 'ENS-ENTRY-ALLOCIFNONE-15') : []
  }),
  onAlloc('ENS-ENTRY-ALLOCIFNONE-16', (ctx, f, fresh) => {
    const rule = 'ENS-ENTRY-ALLOCIFNONE-16'
    const out: Finding[] = []
    const slot = fresh.slotIndex
    const want = newPt(slot * PAGE_SIZE)
    const stored = readPte(ctx.post, f.slot, f.idx)
    if (stored !== want) out.push(finding(rule, `memory[${f.slot}].pte[${f.idx}]`, "parent.ptes[idx] is not new_pt(new node's address)", pteToHex(want), pteToHex(stored)))
    const n0 = nodeOwnerAt(ctx.pre, f.slot)!.metaOwn.nrChildren
    out.push(...nrChildrenIs(ctx, rule, f.slot, n0 + 1, "the parent's"))
    const exec = nodeMeta(slotOf(ctx.post, slot))
    const ghost = nodeMeta(ownerOf(ctx.post, slot).innerPerms)
    if (exec?.level !== f.level - 1 || fresh.level !== f.level - 1) out.push(finding(rule, `metaSlots[${slot}].storage.level`, "the new node's level is not the parent's level - 1", f.level - 1, { exec: exec?.level ?? null, record: fresh.level }))
    for (let k = 0; k < NR_ENTRIES; k++) {
      if (readPte(ctx.post, slot, k) !== 0n) {
        out.push(finding(rule, `memory[${slot}].pte[${k}]`, 'the new node has a non-zero PTE', pteToHex(0n), pteToHex(readPte(ctx.post, slot, k))))
        break
      }
    }
    out.push(...nrChildrenIs(ctx, rule, slot, 0, "the new node's"))
    if (exec?.lock !== 1 || ghost?.lock !== 1) out.push(finding(rule, `metaSlots[${slot}].storage.lock`, "the new node's lock byte is not 1", 1, { exec: exec?.lock ?? null, permission: ghost?.lock ?? null }))
    const o = ownerOf(ctx.post, slot)
    const key = qualifiedPath(fresh.tree, fresh.path)
    const got = { rc: slotOf(ctx.post, slot).refCount, ghostRc: o.innerPerms.refCount, usage: o.usage, paths: o.pathsInPt, rawCount: o.rawCount }
    const wantSlot = { rc: 1, ghostRc: 1, usage: PageUsage.PageTable, paths: [key], rawCount: 1 }
    if (!equal(got, wantSlot)) out.push(finding(rule, `regions.slotOwners[${slot}]`, "the new node's slot is not rc 1, usage PageTable, paths_in_pt {path}, raw_count 1", wantSlot, got))
    // [JUN] alloc mints one obligation and into_pte redeems it: no net change anywhere
    out.push(...obligationsChanged(ctx, rule, new Map()))
    return out
  }),
]

// ---- split_if_mapped_huge --------------------------------------------------------------------

const SPLIT = ['entry.split_if_mapped_huge']

/** The split branch: `old owner.value.is_frame() && parent.level > 1`. */
function splits(f: Facts): boolean {
  return f.old.kind === 'frame' && f.level > 1
}

/** What a split of the huge leaf `old` must produce: leaf `i` maps `pa + i * size` at `level - 1`. */
interface SplitPlan {
  readonly pa: number
  readonly size: number
  readonly small: number
  readonly tracked: boolean
  /** The head slot of each new leaf (the slot its reference and path are on). */
  readonly heads: readonly number[]
  /** The huge leaf's path key (on the head slot of leaf 0 before the split). */
  readonly oldKey: string
}

function planOf(f: Facts): SplitPlan {
  const old = f.old as Extract<EntryOwnerView, { kind: 'frame' }>
  const small = f.level - 1
  const size = pageSize(small)
  const heads: number[] = []
  for (let i = 0; i < NR_ENTRIES; i++) heads.push(frameToIndex(old.frame.mappedPa + i * size))
  return { pa: old.frame.mappedPa, size, small, tracked: old.frame.isTracked, heads, oldKey: qualifiedPath(old.tree, old.path) }
}

/** An ENS clause of the split branch. */
function onSplit(id: string, check: (ctx: EnsContext, f: Facts, fresh: PtNodeOwner, plan: SplitPlan) => Finding[]): EnsRule {
  return compositeEns(id, SPLIT, (ctx) => {
    const f = facts(ctx)
    if (!splits(f)) return []
    if (f.fresh === null) return [finding(id, f.where, `the huge leaf was not replaced by a node (owner' is ${f.now?.kind ?? 'missing'})`, 'node', f.now?.kind ?? null)]
    return check(ctx, f, f.fresh, planOf(f))
  })
}

const splitRules: EnsRule[] = [
  onSplit('ENS-ENTRY-SPLIT-1', (ctx, f, fresh) => {
    const rule = 'ENS-ENTRY-SPLIT-1'
    const out: Finding[] = []
    if (typeof f.res !== 'number') out.push(finding(rule, 'result', 'the result is not Some(guard)', '{ guard }', ctx.result))
    if (pathLength(fresh.path) !== pathLength(f.old.path)) out.push(finding(rule, `pt.owners[${fresh.slotIndex}].path`, "owner'.level (the tree level) changed", pathLength(f.old.path), pathLength(fresh.path)))
    return out
  }),
  onSplit('ENS-ENTRY-SPLIT-2', (ctx, f) => {
    const rule = 'ENS-ENTRY-SPLIT-2'
    const g = f.pre.entry.guard
    return [
      ...fail(rule, `pt.guards[${g}]`, relateGuardFailure(ctx.post, g)),
      ...(f.post !== null && f.post.entry.guard === g ? [] : [finding(rule, `pt.entries[${f.pre.id}].guard`, "the Entry no longer borrows the parent's guard", g, f.post?.entry.guard ?? null)]),
    ]
  }),
  onSplit('ENS-ENTRY-SPLIT-3', (ctx) => returnsFreshGuard(ctx, 'ENS-ENTRY-SPLIT-3')),
  onSplit('ENS-ENTRY-SPLIT-4', (ctx, f, fresh) => {
    const prop = (f.old as Extract<EntryOwnerView, { kind: 'frame' }>).frame.prop
    for (let i = 0; i < NR_ENTRIES; i++) {
      const v = childOwnerView(ctx.post, fresh, i)
      if (v?.kind !== 'frame' || !equal(v.frame.prop, prop)) {
        return [finding('ENS-ENTRY-SPLIT-4', `pt.owners[${fresh.slotIndex}].children[${i}]`, `child ${i} of the new node is not a frame with the huge leaf's property`, { kind: 'frame', prop }, v?.kind === 'frame' ? { kind: 'frame', prop: v.frame.prop } : (v?.kind ?? null))]
      }
    }
    return []
  }),
  onSplit('ENS-ENTRY-SPLIT-5', (ctx, f, fresh) => {
    const rule = 'ENS-ENTRY-SPLIT-5'
    return [
      ...(fresh.tree === f.old.tree && fresh.path === f.old.path ? [] : [finding(rule, `pt.owners[${fresh.slotIndex}].path`, "owner'.path is not the old path", qualifiedPath(f.old.tree, f.old.path), qualifiedPath(fresh.tree, fresh.path))]),
      ...relabel(rule, metaregionSound(ctx.post, f.now!, f.where)),
    ]
  }),
  onSplit('ENS-ENTRY-SPLIT-6', (ctx, _f, fresh) => childrenSoundAndUnlocked(ctx, 'ENS-ENTRY-SPLIT-6', fresh)),
  onSplit('ENS-ENTRY-SPLIT-7', (ctx) => [...nodeMatching(ctx, 'ENS-ENTRY-SPLIT-7'), ...relabel('ENS-ENTRY-SPLIT-7', entryScope(facts(ctx).now!, false, facts(ctx).where))]),
  onSplit('ENS-ENTRY-SPLIT-8', (ctx, _f, fresh, plan) => {
    const rule = 'ENS-ENTRY-SPLIT-8'
    // Corrected (§4 item 3): the slots the new leaves map record their paths; (model) a tracked
    // split moves references onto them too — their paths and ref counts are exempt here and
    // checked exactly by ENS-ENTRY-SPLIT-13.
    const loose = new Set(plan.tracked ? plan.heads : [])
    const blank = (o: MetaSlotOwner): MetaSlotOwner => ({ ...o, pathsInPt: [], innerPerms: { ...o.innerPerms, refCount: 0 } })
    return [...slotOwnersKept(ctx, rule, new Set([fresh.slotIndex]), loose, blank), ...freshSlotClaimed(ctx, rule, fresh.slotIndex)]
  }),
  compositeEns('ENS-ENTRY-SPLIT-9', SPLIT, (ctx) => (splits(facts(ctx)) ? [] : noChange(ctx, 'ENS-ENTRY-SPLIT-9'))),
  compositeEns('ENS-ENTRY-SPLIT-10', SPLIT, (ctx) => {
    const rule = 'ENS-ENTRY-SPLIT-10'
    const f = facts(ctx)
    if (f.now === null) return missingOwner(rule, f)
    return [
      ...subtreeInv(ctx, rule),
      ...(f.now.parentLevel === f.old.parentLevel ? [] : [finding(rule, `${f.where}.parentLevel`, "owner'.parent_level changed", f.old.parentLevel, f.now.parentLevel)]),
      ...idxKept(ctx, rule),
    ]
  }),
  compositeEns('ENS-ENTRY-SPLIT-11', SPLIT, (ctx) => {
    const rule = 'ENS-ENTRY-SPLIT-11'
    const f = facts(ctx)
    const out: Finding[] = []
    for (const i of new Set([...ctx.changes.slotCells, ...ctx.changes.parking])) {
      const bad = i >= 0 && i < ctx.post.nrFrames ? regionInvAt(ctx.post, i) : null
      if (bad !== null) out.push(finding(rule, `regions.slotOwners[${i}]`, bad))
    }
    const parent = nodeOwnerAt(ctx.post, f.slot)
    if (parent === null) return [...out, finding(rule, `pt.owners[${f.slot}]`, "the parent's record is gone")]
    out.push(...relabel(rule, nodeOwnerInv(ctx.post, parent, f.slot, `pt.owners[${f.slot}]`)))
    const lv = nodeLevelAt(ctx.post, f.slot)
    if (parent.level !== f.level || lv !== f.level) out.push(finding(rule, `pt.owners[${f.slot}].level`, "the parent's level changed", f.level, { record: parent.level, exec: lv }))
    const g = f.pre.entry.guard
    if (!equal(tableGet(ctx.pre.pt.guards, g), tableGet(ctx.post.pt.guards, g))) out.push(finding(rule, `pt.guards[${g}]`, "the parent's guard (its pointer or node address) changed", tableGet(ctx.pre.pt.guards, g), tableGet(ctx.post.pt.guards, g)))
    return out
  }),
  // Corrected (§4 item 3): the new node's address is locked by ENS-ENTRY-SPLIT-3.
  compositeEns('ENS-ENTRY-SPLIT-12', SPLIT, (ctx) => {
    const f = facts(ctx)
    return locksKept(ctx, 'ENS-ENTRY-SPLIT-12', splits(f) ? freshSlot(f) : null)
  }),
  onSplit('ENS-ENTRY-SPLIT-13', (ctx, f, fresh, plan) => {
    const rule = 'ENS-ENTRY-SPLIT-13'
    const out: Finding[] = []
    const slot = fresh.slotIndex
    const exec = nodeMeta(slotOf(ctx.post, slot))
    if (exec?.level !== plan.small || fresh.level !== plan.small) out.push(finding(rule, `metaSlots[${slot}].storage.level`, "the new node's level is not the parent's level - 1", plan.small, { exec: exec?.level ?? null, record: fresh.level }))
    const prop = pteProp(f.pre.cached)
    for (let i = 0; i < NR_ENTRIES; i++) {
      const want = newPage(plan.pa + i * plan.size, plan.small, prop)
      const got = readPte(ctx.post, slot, i)
      if (got !== want) {
        out.push(finding(rule, `memory[${slot}].pte[${i}]`, `the new node's PTE ${i} is not new_page(pa + ${i} * page_size(level - 1), level - 1, prop)`, pteToHex(want), pteToHex(got)))
        break
      }
    }
    out.push(...nrChildrenIs(ctx, rule, slot, NR_ENTRIES, "the new node's"))
    const parentPte = readPte(ctx.post, f.slot, f.idx)
    if (parentPte !== newPt(slot * PAGE_SIZE)) out.push(finding(rule, `memory[${f.slot}].pte[${f.idx}]`, "parent.ptes[idx] is not new_pt(new node's address)", pteToHex(newPt(slot * PAGE_SIZE)), pteToHex(parentPte)))
    const n0 = nodeOwnerAt(ctx.pre, f.slot)!.metaOwn.nrChildren
    out.push(...nrChildrenIs(ctx, rule, f.slot, n0, "the parent's (present -> present)"))
    // The new node's slot: UNUSED -> 1.
    const rc = slotOf(ctx.post, slot).refCount
    if (rc !== 1 || ownerOf(ctx.post, slot).innerPerms.refCount !== 1) out.push(finding(rule, `regions.slotOwners[${slot}].innerPerms.refCount`, "the new node's slot is not rc 1", 1, { exec: rc, ghost: ownerOf(ctx.post, slot).innerPerms.refCount }))
    // Paths and references of the slots the new leaves map (model accounting, see the reducer).
    const heads = new Set(plan.tracked ? plan.heads : [])
    if (plan.tracked) {
      plan.heads.forEach((h, i) => {
        const key = qualifiedPath(fresh.tree, childPath(fresh.path, i))
        const before = ownerOf(ctx.pre, h)
        const wantPaths = [...before.pathsInPt.filter((p) => !(i === 0 && p === plan.oldKey)), key].sort()
        const wantRc = [slotOf(ctx.pre, h).refCount, before.innerPerms.refCount].map((n) => n + (i === 0 ? 0 : 1))
        const got = { paths: ownerOf(ctx.post, h).pathsInPt, rc: [slotOf(ctx.post, h).refCount, ownerOf(ctx.post, h).innerPerms.refCount] }
        if (!equal(got, { paths: wantPaths, rc: wantRc })) {
          out.push(finding(rule, `regions.slotOwners[${h}]`, `slot ${h} of leaf ${i}: expected its path ${key} recorded${i === 0 ? ` in place of ${plan.oldKey}` : ''} and rc ${i === 0 ? 'unchanged (the huge reference moves to leaf 0)' : '+ 1 (the new leaf\'s reference)'}`, { paths: wantPaths, rc: wantRc }, got))
        }
      })
    }
    for (const i of ctx.changes.slotCells) {
      if (i === slot || heads.has(i)) continue
      const a = [slotOf(ctx.pre, i).refCount, ownerOf(ctx.pre, i).innerPerms.refCount]
      const b = [slotOf(ctx.post, i).refCount, ownerOf(ctx.post, i).innerPerms.refCount]
      if (!equal(a, b)) out.push(finding(rule, `regions.slotOwners[${i}].innerPerms.refCount`, `the ref count of slot ${i} changed (only the new node's and the new leaves' may)`, a, b))
    }
    out.push(...obligationsChanged(ctx, rule, new Map()))
    // The rest of the implicit frame rule (slot owners are ENS-ENTRY-SPLIT-8's, locks -12's).
    out.push(
      ...onlyChanged(ctx, rule, {
        slots: ctx.changes.slotCells,
        memory: [f.slot, slot],
        entries: [f.pre.id],
        owners: [f.slot, slot],
        ...guardsAndLocks(ctx, f),
        counters: ['ptNode', 'ptChild', 'ptGuard', 'frame'],
        allocator: true,
      }),
    )
    return out
  }),
]

export const ptEntryCompositeRules: readonly Rule[] = [...allocRules, ...splitRules]

