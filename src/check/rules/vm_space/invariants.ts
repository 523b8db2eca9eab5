/**
 * Invariants of VmSpaces, their VM I/O owners, memory views and the TLB (src/model/vm_space.ts;
 * spec/state.md §11–§15). Group B (MD-12): `register_*` runs `activate_*` before `dispose_*`, which
 * leaves `inv_with` broken in between, as the seed does.
 *
 * - INV-VMSPACE-1..12 (scope global, per space): `VmSpace::inv`, `VmSpaceOwner::inv`, `mem_view_wf`
 *   (MD-10 as extended in src/model/vm_space.ts) and `inv_with`; INV-VMSPACE-3 (`active ⟹ mem_view_wf`)
 *   is the umbrella of INV-VMSPACE-7..11.
 * - INV-VMSPACE-13 [model]: while a space is active its ghost total view (`mv_range`) is its page
 *   table's view: the VmSpace cursor events update it with every mapping they change.
 * - INV-VMIO-2, INV-VMIO-3 (scope vmIos): a user reader/writer's `VmIoOwner::inv` and
 *   `inv_with_reader` / `inv_with_writer`.
 * - INV-MEMVIEW-1 (global): every frame of every memory view is `FrameContents::inv`.
 * - INV-TLB-1 (global): cached mappings `inv()` and VA-disjoint (MD-8: not PA-disjoint).
 * - INV-TLB-2 [model] (global): every cached translation (VA range → frame) is one the activated
 *   space's page table (its PTE words) has, unless an issued, undispatched flush of a live flusher
 *   covers it — a stale translation is never left behind a completed `unmap` / `map`. Properties
 *   are not compared: `protect_next` does not flush (the caller does, later).
 * - INV-VMCURSOR-2 [model] (global, group A: it holds after every internal step too, so a handle a
 *   VmSpace unmap keeps and releases within one call is checked): the handles flushers keep behind
 *   flushes are live, of their kind, each kept once.
 * - INV-STORE-4 (umbrella of INV-TLB-1), INV-STORE-5 (of INV-VMSPACE-2..11), INV-STORE-6 (of the
 *   cursor invariants INV-CURSOR-1..14), INV-STORE-7 (of INV-SOUND-1..4 on entries of nodes a
 *   cursor holds), INV-STORE-8 (every VmSpace cursor's space is live, and its page-table cursor is
 *   live over that space's page table), INV-STORE-10 (a user reader/writer's space is live),
 *   INV-STORE-11 (`vaddr + len <= MAX_USERSPACE_VADDR`).
 *
 * Verdicts over the whole `vm` state are computed once per snapshot (a global unit is re-evaluated
 * on every step; the cache keeps that cheap); INV-VMSPACE-13, a walk of the whole page table, only
 * when the spaces, the page-table handles or the owner trees changed.
 */
import { MAX_USERSPACE_VADDR } from '../../../arch/constants.js'
import { entryOfUnit } from '../../pt_changes.js'
import { cursorAt, heldByCursor } from '../../../model/pt_cursor.js'
import { forEachLeaf, mappingAt, mappingInvFailure, viewOf, type Mapping } from '../../../model/pt_view.js'
import { sameAsLeaf, sameField } from '../../../model/mapping_list.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import type { Snapshot } from '../../../model/snapshot.js'
import { tableForEach, tableGet } from '../../../model/table.js'
import { flushes, memoryFailures, overlappingPair, vmIoInvWith, vmIoOwnerInv, vmSpaceFindings, type MemView } from '../../../model/vm_space.js'
import { frameToIndex } from '../../../arch/constants.js'
import type { InvRule, UmbrellaRule } from '../../rule.js'
import { ids, inv, umbrella } from '../helpers.js'

// ---- cached whole-state verdicts ---------------------------------------------------------------

/** What the verdicts read: the vm state, the readers/writers, the page tables (owner tree and PTE words), the cursors. */
let cachedFor: readonly unknown[] = []
let cached: Finding[] = []

function inputsOf(s: Snapshot): readonly unknown[] {
  return [s.vm, s.vmIos, s.pt.owners, s.pt.tables, s.pt.cursors, s.memory]
}

/** Every finding of the global vm rules on `s` (recomputed only when what they read changed). */
function globalFindings(s: Snapshot): Finding[] {
  const inputs = inputsOf(s)
  if (inputs.every((x, i) => x === cachedFor[i])) return cached
  if (s.vm.spaces.count === 0 && s.vm.cursors.count === 0 && s.vm.tlb.mappings.length === 0 && s.vmIos.count === 0) {
    cachedFor = inputs
    cached = []
    return cached
  }
  const out: Finding[] = []
  tableForEach(s.vm.spaces, (r, id) => {
    out.push(...vmSpaceFindings(s, id, r))
    const views: Array<[string, MemView | null]> = [
      [`vm.spaces[${id}].owner.memView`, r.owner.memView],
      [`vm.spaces[${id}].owner.mvRange`, r.owner.mvRange],
    ]
    for (const [path, v] of views) if (v !== null) memviewFindings(out, path, v)
  })
  out.push(...totalViewFindings(s))
  tableForEach(s.vmIos, (e, id) => {
    if (e.owner?.memView) memviewFindings(out, `vmIos[${id}].owner.memView`, e.owner.memView.view)
  })
  // INV-TLB-1
  s.vm.tlb.mappings.forEach((m, i) => {
    const bad = mappingInvFailure(m, 'user')
    if (bad !== null) out.push(finding('INV-TLB-1', `vm.tlb.mappings[${i}]`, `cached mapping: ${bad}`))
  })
  const pair = overlappingPair(s.vm.tlb.mappings)
  if (pair !== null) out.push(finding('INV-TLB-1', 'vm.tlb.mappings', 'two cached mappings overlap', 'VA-disjoint', pair.map((m) => m.vaRange)))
  // INV-TLB-2
  out.push(...tlbConsistency(s))
  // INV-STORE-8 and INV-VMCURSOR-1
  tableForEach(s.vm.cursors, (c, id) => {
    const r = tableGet(s.vm.spaces, c.vmSpace)
    if (r === null) {
      out.push(finding('INV-STORE-8', `vm.cursors[${id}].vmSpace`, `VmSpace cursor ${id} names VmSpace ${c.vmSpace}, which is not live`))
      return
    }
    const pc = cursorAt(s, id)
    if (pc === null || pc.pageTable !== r.pageTable || pc.kind !== c.kind || (c.kind === 'CursorMut') !== (c.flusher !== null)) {
      out.push(finding('INV-VMCURSOR-1', `vm.cursors[${id}]`, `VmSpace cursor ${id} is not a live ${c.kind} over VmSpace ${c.vmSpace}'s page table (with a flusher iff mutable)`, { pageTable: r.pageTable, kind: c.kind }, pc === null ? null : { pageTable: pc.pageTable, kind: pc.kind }))
    }
  })
  cachedFor = inputs
  cached = out
  return out
}

/** What INV-VMSPACE-13 reads — the spaces, the page-table handles, the owner trees — and its findings for them. */
let totalViewFor: readonly unknown[] = []
let totalView: Finding[] = []

/**
 * INV-VMSPACE-13 for every active space: its page table's view and its total view, mapping by
 * mapping (`mappingKey`), in VA order. A walk of the whole table: recomputed only when what it
 * reads changed (not on a cursor move, a read, a write, a flush).
 */
function totalViewFindings(s: Snapshot): Finding[] {
  const inputs = [s.vm.spaces, s.pt.tables, s.pt.owners]
  if (inputs.every((x, i) => x === totalViewFor[i])) return totalView
  const out: Finding[] = []
  tableForEach(s.vm.spaces, (r, id) => {
    if (!r.owner.active || r.owner.mvRange === null) return
    const h = tableGet(s.pt.tables, r.pageTable)
    if (h === null) return
    const root = frameToIndex(h.rootPaddr)
    const total = r.owner.mvRange.mappings
    let i = 0
    const same = forEachLeaf(s, root, { config: 'user' }, (va, size, leaf) => i < total.length && sameAsLeaf(total[i++]!, va, size, leaf))
    if (!same || i !== total.length) {
      out.push(finding('INV-VMSPACE-13', `vm.spaces[${id}].owner.mvRange`, `the total view of active VmSpace ${id} is not its page table's view`, viewOf(s, root, { config: 'user' }).map((m) => m.vaRange), total.map((m) => m.vaRange)))
    }
  })
  totalViewFor = inputs
  totalView = out
  return out
}

function memviewFindings(out: Finding[], path: string, v: MemView): void {
  for (const [i, bad] of memoryFailures(v.memory)) out.push(finding('INV-MEMVIEW-1', `${path}.memory[${i}]`, bad))
}

/** INV-TLB-2: cached mappings are the activated page table's, or are covered by a pending flush. */
function tlbConsistency(s: Snapshot): Finding[] {
  const out: Finding[] = []
  if (s.vm.tlb.mappings.length === 0) return out
  const active = s.vm.activated === null ? null : tableGet(s.vm.spaces, s.vm.activated)
  const h = active === null ? null : tableGet(s.pt.tables, active.pageTable)
  // VA → PA only: a changed property (protect_next, which does not flush) may stay cached until the caller flushes
  const key = (m: { vaRange: { start: number; end: number }; paRange: { start: number } }): string => `${m.vaRange.start}:${m.vaRange.end}:${m.paRange.start}`
  const opts = { source: 'pte', config: 'user' } as const
  const root = h === null ? null : frameToIndex(h.rootPaddr)
  let isLive: (m: Mapping) => boolean
  if (root === null) isLive = () => false
  else if (s.vm.tlb.mappings.every((m) => typeof m.vaRange.start === 'number')) {
    // the page table's mapping at the cached start (mappings are VA-disjoint: the only one that can start there), one descent each
    isLive = (m) => {
      const x = mappingAt(s, root, m.vaRange.start, opts)
      return x !== null && sameField(x.vaRange.start, m.vaRange.start) && sameField(x.vaRange.end, m.vaRange.end) && sameField(x.paRange.start, m.paRange.start)
    }
  } else {
    const live = new Set(viewOf(s, root, opts).map(key))
    isLive = (m) => live.has(key(m))
  }
  const pending = [] as Array<Parameters<typeof flushes>[0]>
  tableForEach(s.vm.cursors, (c) => {
    if (c.flusher !== null && c.vmSpace === s.vm.activated) pending.push(...c.flusher.ops)
  })
  s.vm.tlb.mappings.forEach((m, i) => {
    if (isLive(m) || pending.some((op) => flushes(op, m))) return
    out.push(finding('INV-TLB-2', `vm.tlb.mappings[${i}]`, `the TLB caches [0x${m.vaRange.start.toString(16)}, 0x${m.vaRange.end.toString(16)}) → 0x${m.paRange.start.toString(16)}, which the activated page table does not map and no pending flush covers (a stale translation)`, 'flushed', m))
  })
  return out
}

/** INV-VMCURSOR-2: the handles kept behind flushes are live, of their kind, each kept once (a few cursors: cheap on every step). */
function keptHandleFindings(s: Snapshot): Finding[] {
  const out: Finding[] = []
  const seen = new Set<string>()
  tableForEach(s.vm.cursors, (c, id) => {
    c.flusher?.deferred.forEach((d, i) => {
      const path = `vm.cursors[${id}].flusher.deferred[${i}]`
      const live = d.kind === 'frame' ? tableGet(s.frames, d.handle) !== null : d.kind === 'node' ? tableGet(s.pt.nodes, d.handle) !== null : false
      if (!live) out.push(finding('INV-VMCURSOR-2', path, `the ${String(d.kind)} handle ${d.handle} kept behind a flush is not a live Frame / PageTableNode handle`))
      const key = `${d.kind}:${d.handle}`
      if (seen.has(key)) out.push(finding('INV-VMCURSOR-2', path, `the ${d.kind} handle ${d.handle} is kept behind two flushes`))
      seen.add(key)
    })
  })
  return out
}

function globalRule(id: string, summary?: string): InvRule {
  return inv(id, 'B', 'global', (s) => globalFindings(s).filter((f) => f.rule === id), summary)
}

// ---- per reader/writer ----------------------------------------------------------------------------

function ioFindings(s: Snapshot, id: number): Finding[] {
  const e = tableGet(s.vmIos, id)
  if (e === null || e.owner === undefined) return []
  const p = `vmIos[${id}].owner`
  return [...vmIoOwnerInv(e.owner, p).filter((f) => f.rule === 'INV-VMIO-2'), ...vmIoInvWith(e.owner, id, e, p)]
}

export const vmSpaceInvariants: InvRule[] = [
  ...ids('INV-VMSPACE', 1, 12)
    .filter((id) => id !== 'INV-VMSPACE-3')
    .map((id) => globalRule(id)),
  globalRule('INV-VMSPACE-13', "[model] While a VmSpace is active, its ghost total view (`mv_range`) has exactly its page table's mappings (the VmSpace cursor events keep it so)."),
  globalRule('INV-MEMVIEW-1'),
  globalRule('INV-TLB-1'),
  globalRule('INV-TLB-2', '[model] Every translation the TLB caches (VA range → frame) is one the activated page table (PTE words) has, or an issued, undispatched flush of a live flusher covers it: no stale translation outlives a completed map / unmap. (A changed property may stay cached: `protect_next` does not flush.)'),
  globalRule('INV-STORE-8'),
  globalRule('INV-VMCURSOR-1', "[model] A VmSpace cursor record names a live page-table cursor of the same kind over its space's page table; a CursorMut has a flusher, a Cursor none."),
  inv('INV-VMCURSOR-2', 'A', 'global', keptHandleFindings, '[model] Every handle a flusher keeps behind a flush (`issue_tlb_flush_with`) is a live `Frame` or `PageTableNode` handle of the kind recorded, kept by one flusher once, until the dispatch releases it.'),
  inv('INV-VMIO-2', 'B', 'vmIos', (s, id) => ioFindings(s, id).filter((f) => f.rule === 'INV-VMIO-2')),
  inv('INV-VMIO-3', 'B', 'vmIos', (s, id) => ioFindings(s, id).filter((f) => f.rule === 'INV-VMIO-3')),
  inv('INV-STORE-10', 'B', 'vmIos', (s, id) => {
    const e = tableGet(s.vmIos, id)!
    if (e.space.kind !== 'user') return []
    return tableGet(s.vm.spaces, e.space.vmSpace) !== null ? [] : [finding('INV-STORE-10', `vmIos[${id}].space.vmSpace`, `user vm_io ${id} belongs to VmSpace ${e.space.vmSpace}, which is not live`)]
  }),
  inv('INV-STORE-11', 'B', 'vmIos', (s, id) => {
    const e = tableGet(s.vmIos, id)!
    if (e.space.kind !== 'user') return []
    const end = e.owner?.range.end ?? e.end
    return end <= MAX_USERSPACE_VADDR && e.end <= MAX_USERSPACE_VADDR ? [] : [finding('INV-STORE-11', `vmIos[${id}]`, `user vm_io ${id} reaches 0x${Math.max(end, e.end).toString(16)}, beyond MAX_USERSPACE_VADDR`, MAX_USERSPACE_VADDR, Math.max(end, e.end))]
  }),
]

export const vmSpaceUmbrellas: UmbrellaRule[] = [
  umbrella('INV-STORE-4', ['INV-TLB-1'], { scope: 'global' }),
  umbrella('INV-VMSPACE-3', ids('INV-VMSPACE', 7, 11), { scope: 'global' }),
  umbrella('INV-STORE-5', ['INV-VMSPACE-2', ...ids('INV-VMSPACE', 4, 11)], { scope: 'global' }),
  umbrella('INV-STORE-6', ids('INV-CURSOR', 1, 14), { scope: 'ptCursors' }),
  umbrella('INV-STORE-7', ids('INV-SOUND', 1, 4), { scope: 'ptEntry', when: (s, unit) => heldByCursor(s, entryOfUnit(unit).node) !== null }),
]
