/**
 * `VmSpace`, its ghost `VmSpaceOwner`, the VM I/O owners of user readers/writers, memory views and
 * the TLB model in the snapshot (ostd::mm::vm_space, seed 004 vm_space.rs; spec/state.md §11–§14;
 * behaviour.md §2.6, §2.8) — the state and the spec predicates the invariants and preconditions
 * evaluate.
 *
 * State (`Snapshot.vm`):
 * - `spaces[id]`: exec `VmSpace { pt, shared_reader, readers, writers }` — `pageTable` is the id of
 *   the user `PageTable` handle the space owns; `readers` / `writers` are the ids (`vmIos`) of the
 *   registered readers/writers (`Vec<&VmReader>`) — and its ghost `VmSpaceOwner` (`owner`).
 *   `page_table_owner` is the page table's owner tree (`pt.owners`, reached through the handle).
 * - `activated`: the VmSpace the (single) CPU has activated, or null (`ACTIVATED_VM_SPACE`).
 *   The CPU keeps the activated space alive (OSTD stores an `Arc` clone): dropping its handle sets
 *   `dropped` and the space is freed when another one is activated.
 * - `cursors[id]`: the VmSpace cursors, keyed by the id of the page-table cursor they wrap
 *   (`Cursor(pt_cursor.0)`), with the `TlbFlusher` of a `CursorMut`: the flush operations it has
 *   issued and the handles whose release waits for the flush (`issue_tlb_flush_with`).
 * - `tlb`: the TLB model (`TlbModel`): the mappings the CPU has cached. An access through a user
 *   reader/writer translates through it (a hit) or walks the activated page table's PTE words and
 *   caches the mapping it finds (`update`, a miss). A stale cached mapping (unmapped, not yet
 *   flushed) still translates — which is why OSTD defers the release of unmapped frames to the
 *   flush. The spec's `pending` sequence is the concatenation of the flushers' issued operations.
 *
 * Ghost VM I/O owners: a user reader/writer's `VmIoOwner` lives in its `VmIoEntry` (`owner`); the
 * `VmSpaceOwner`'s `readers` / `writers` sequences name the owners it holds by the entry's id
 * (the seed's `Seq<VmIoOwner>` is `readers.map(id => vmIos[id].owner)`). One copy of each owner,
 * so reading through a registered reader updates the owner the VmSpaceOwner holds (the seed moves
 * the tracked owner in and out with `dispose_reader` / `remove_reader`).
 *
 * Memory views (`MemView`): mappings (sorted by VA) and the frames they map. Frame contents are not
 * copied into the ghost state: a `FrameContents` records the frame's physical range; its bytes are
 * the exec memory (`Snapshot.memory`). The views and their spec functions are in
 * src/model/mem_view.ts (re-exported here).
 *
 * Modelling decisions:
 * - Activation sets the ghost `active`, `mv_range` (the total view) and `mem_view` (the remaining
 *   view) from the page table's mappings (operations.md §8.1: no seed operation does this). While
 *   active, the VmSpace cursor events update both views with the mappings they add, replace or
 *   remove; reader and writer views are borrowed snapshots (a registered reader/writer pins its
 *   range: the VmSpace cursors refuse to change mappings it covers, REQ-VMSCURSOR-1).
 * - MD-10, extended to readers: INV-VMSPACE-9 is checked at VAs no writer view covers, and the
 *   reader/writer clauses of INV-VMSPACE-10/11 ("`view.addr_transl(va) == total.addr_transl(va)`
 *   for all `va`") where the view translates — a borrowed view is restricted to its range, so it
 *   cannot translate where the total view does outside it.
 * - INV-TLB-1: cached mappings are VA-disjoint; PA-disjointness is not checked (MD-8: one frame may
 *   be mapped, and cached, at two VAs).
 */
import { MAX_USERSPACE_VADDR, PAGE_SIZE } from '../arch/constants.js'
import type { CursorKind } from './pt_cursor.js'
import type { Mapping, VaRange } from './pt_view.js'
import { rangesOverlap } from './pt_view.js'
import { finding, type Finding } from './spec/finding.js'
import type { Snapshot, VmIoEntry } from './snapshot.js'
import { tableForEach, tableGet, type Table } from './table.js'
import { firstUntranslated, mappingOfView, mappingsSubset, memorySubset, overlappingPair, type MemView } from './mem_view.js'
import { hasMapping } from './mapping_list.js'

export * from './mem_view.js'
export { mappingKey, mappingKeys } from './mapping_list.js'

// ---- state -----------------------------------------------------------------------------------

export type VmIoMemView = { readonly kind: 'ReadView'; readonly view: MemView } | { readonly kind: 'WriteView'; readonly view: MemView }

/** Ghost `VmIoOwner` (state.md §12) of a user reader/writer. */
export interface VmIoOwner {
  readonly id: number
  readonly range: VaRange
  readonly isFallible: boolean
  readonly isKernel: boolean
  readonly memView: VmIoMemView | null
}

/** Ghost `VmSpaceOwner` (seed vm_space.rs); readers/writers by vmIo id (module comment). */
export interface VmSpaceOwner {
  readonly active: boolean
  readonly readers: readonly number[]
  readonly writers: readonly number[]
  /** The remaining view (part may be lent to writers). */
  readonly memView: MemView | null
  /** The total view of the space. */
  readonly mvRange: MemView | null
  readonly sharedReader: boolean
}

/** A `VmSpace` (exec) with its ghost owner. */
export interface VmSpaceRecord {
  /** The user `PageTable` handle (`pt.tables`) the space owns. */
  readonly pageTable: number
  readonly sharedReader: boolean
  /** Registered readers / writers (`Vec<&VmReader>`), by vmIo id. */
  readonly readers: readonly number[]
  readonly writers: readonly number[]
  /** The handle was dropped while the space is activated (the CPU keeps it alive). */
  readonly dropped: boolean
  readonly owner: VmSpaceOwner
}

/** `TlbFlushOp` (ostd::mm::tlb). */
export type TlbFlushOp = { readonly kind: 'All' } | { readonly kind: 'Address'; readonly va: number } | { readonly kind: 'Range'; readonly start: number; readonly end: number }

/** A handle whose release waits for the flush: a `Frame` (`frames`) or a `PageTableNode` (`pt.nodes`). */
export interface DeferredRelease {
  readonly kind: 'frame' | 'node'
  readonly handle: number
}

/** `TlbFlusher` of a VmSpace `CursorMut`. */
export interface TlbFlusher {
  readonly ops: readonly TlbFlushOp[]
  readonly deferred: readonly DeferredRelease[]
}

/** A VmSpace cursor (keyed by its page-table cursor id). */
export interface VmCursorRecord {
  readonly vmSpace: number
  readonly kind: CursorKind
  /** The `CursorMut`'s flusher; null for a read-only `Cursor`. */
  readonly flusher: TlbFlusher | null
}

/** `TlbModel.mappings`: what the CPU caches. */
export interface TlbState {
  readonly mappings: readonly Mapping[]
}

export interface VmState {
  readonly spaces: Table<VmSpaceRecord>
  readonly cursors: Table<VmCursorRecord>
  readonly activated: number | null
  readonly tlb: TlbState
}

// ---- reading ---------------------------------------------------------------------------------

export function vmSpaceAt(s: Snapshot, id: number): VmSpaceRecord | null {
  return tableGet(s.vm.spaces, id)
}

/** A VmSpace whose handle is live (not dropped). */
export function liveVmSpace(s: Snapshot, id: number): VmSpaceRecord | null {
  const r = vmSpaceAt(s, id)
  return r === null || r.dropped ? null : r
}

export function vmCursorAt(s: Snapshot, id: number): VmCursorRecord | null {
  return tableGet(s.vm.cursors, id)
}

/**
 * The VmSpace cursor whose flusher keeps the handle (`issue_tlb_flush_with` moved it there, until
 * the dispatch releases it), or null. No call may take such a handle: it is moved (Rust ownership).
 */
export function flusherKeeping(s: Snapshot, kind: DeferredRelease['kind'], handle: number): number | null {
  if (s.vm.cursors.count === 0) return null
  let found: number | null = null
  tableForEach(s.vm.cursors, (c, id) => {
    if (found === null && c.flusher !== null && c.flusher.deferred.some((d) => d.kind === kind && d.handle === handle)) found = id
  })
  return found
}

/** The id of the VmSpace whose page table is `pageTable`, or null. */
export function vmSpaceOwningTable(s: Snapshot, pageTable: number): number | null {
  let owner: number | null = null
  tableForEach(s.vm.spaces, (r, id) => {
    if (owner === null && r.pageTable === pageTable) owner = id
  })
  return owner
}

/** The VmSpace a user reader/writer belongs to, or null for kernel ones. */
export function userSpaceOf(e: VmIoEntry): number | null {
  return e.space.kind === 'user' ? e.space.vmSpace : null
}

// ---- VM I/O owners (state.md §12) ---------------------------------------------------------------

/** `overlaps_with_range(r)` — a closed-interval test: touching ranges overlap. */
export function overlapsWithRange(o: VmIoOwner, r: VaRange): boolean {
  return o.range.start <= r.end && r.start <= o.range.end
}

/** `disjoint(o)`: ranges do not overlap (closed test) and, when both have views, their mappings are disjoint. */
export function ioDisjoint(a: VmIoOwner, b: VmIoOwner): boolean {
  if (overlapsWithRange(a, b.range)) return false
  if (a.memView === null || b.memView === null) return true
  const av = a.memView.view.mappings
  return !b.memView.view.mappings.some((m) => hasMapping(av, m))
}

/** INV-VMIO-2 on an owner: a present view has disjoint mappings and translates every VA of the range. */
export function vmIoOwnerInv(o: VmIoOwner, path: string): Finding[] {
  const out: Finding[] = []
  if (o.range.start > o.range.end) out.push(finding('INV-VMIO-1', `${path}.range`, 'the owner range is reversed', 'start <= end', o.range))
  if (o.memView === null) return out
  const mv = o.memView.view
  const pair = overlappingPair(mv.mappings)
  if (pair !== null) out.push(finding('INV-VMIO-2', `${path}.memView`, 'two mappings of the view overlap', 'VA-disjoint mappings', pair.map((m) => m.vaRange)))
  const hole = firstUntranslated(mv, o.range)
  if (hole !== null) out.push(finding('INV-VMIO-2', `${path}.memView`, `VA 0x${hole.toString(16)} of the owner range does not translate in its view`, 'every VA of the range translates', hole))
  return out
}

/** INV-VMIO-3 (`inv_with_reader` / `inv_with_writer`): the owner's range is the entry's `[cursor, end)` and its id the entry's. */
export function vmIoInvWith(o: VmIoOwner, id: number, e: VmIoEntry, path: string): Finding[] {
  const out: Finding[] = []
  if (o.range.start !== e.cursor || o.range.end !== e.end) out.push(finding('INV-VMIO-3', `${path}.range`, 'the owner range is not the reader/writer [cursor, end)', { start: e.cursor, end: e.end }, o.range))
  if (o.id !== id) out.push(finding('INV-VMIO-3', `${path}.id`, 'the owner id is not the reader/writer id', id, o.id))
  const want = e.kind === 'Reader' ? 'ReadView' : 'WriteView'
  if (o.memView !== null && o.memView.kind !== want) out.push(finding('INV-VMIO-3', `${path}.memView`, `a ${e.kind} owner holds a ${o.memView.kind}`, want, o.memView.kind))
  return out
}

/** The ghost owner of a user reader/writer, or null. */
export function ownerOfIo(s: Snapshot, id: number): VmIoOwner | null {
  return tableGet(s.vmIos, id)?.owner ?? null
}

// ---- VmSpaceOwner::inv (state.md §13) ------------------------------------------------------------

function ownersOf(s: Snapshot, ids: readonly number[]): Array<VmIoOwner | null> {
  return ids.map((id) => ownerOfIo(s, id))
}

/**
 * `VmSpaceOwner::inv` and `mem_view_wf` of space `id` (INV-VMSPACE-2..11) and `inv_with`
 * (INV-VMSPACE-12) and `VmSpace::inv` (INV-VMSPACE-1): all findings, each under its rule.
 */
export function vmSpaceFindings(s: Snapshot, id: number, r: VmSpaceRecord, lent: readonly MemView[] = []): Finding[] {
  const out: Finding[] = []
  const p = `vm.spaces[${id}]`
  const o = r.owner
  // INV-VMSPACE-1: every registered reader/writer is inv() (exists, cursor <= end)
  for (const [list, kind] of [[r.readers, 'Reader'], [r.writers, 'Writer']] as const) {
    list.forEach((vio, i) => {
      const e = tableGet(s.vmIos, vio)
      if (e === null || e.kind !== kind || e.cursor > e.end) out.push(finding('INV-VMSPACE-1', `${p}.${kind === 'Reader' ? 'readers' : 'writers'}[${i}]`, `registered ${kind} ${vio} is not a live, well-formed ${kind}`, 'inv()', e))
    })
  }
  // INV-VMSPACE-2: page_table_owner.inv(): the space's user page table is live
  const h = tableGet(s.pt.tables, r.pageTable)
  if (h === null || h.config !== 'user') out.push(finding('INV-VMSPACE-2', `${p}.pageTable`, `the space's page table ${r.pageTable} is not a live user page table`, 'user PageTable', h))
  // INV-VMSPACE-12: inv_with
  if (o.sharedReader !== r.sharedReader) out.push(finding('INV-VMSPACE-12', `${p}.owner.sharedReader`, 'shared_reader differs between the VmSpace and its owner', r.sharedReader, o.sharedReader))
  for (const [ghost, exec, name] of [[o.readers, r.readers, 'readers'], [o.writers, r.writers, 'writers']] as const) {
    if (ghost.length !== exec.length || ghost.some((v, i) => v !== exec[i])) out.push(finding('INV-VMSPACE-12', `${p}.owner.${name}`, `the owner's ${name} are not the VmSpace's`, exec, ghost))
    ghost.forEach((vio, i) => {
      const e = tableGet(s.vmIos, vio)
      if (e === null || e.owner === undefined) return
      for (const f of vmIoInvWith(e.owner, vio, e, `vmIos[${vio}].owner`)) out.push(finding('INV-VMSPACE-12', `${p}.owner.${name}[${i}]`, `inv_with: ${f.message}`, f.expected, f.actual))
    })
  }
  if (!o.active) return out
  // INV-VMSPACE-3 = mem_view_wf (7..11)
  out.push(...memViewWf(s, p, o, lent))
  if (o.memView === null) return out
  const readers = ownersOf(s, o.readers)
  const writers = ownersOf(s, o.writers)
  // INV-VMSPACE-4: every reader and writer owner is inv()
  ;[...readers, ...writers].forEach((w, i) => {
    const vio = i < readers.length ? o.readers[i]! : o.writers[i - readers.length]!
    if (w === null) out.push(finding('INV-VMSPACE-4', `${p}.owner`, `the owner names vm_io ${vio}, which holds no VmIoOwner`))
    else for (const f of vmIoOwnerInv(w, `vmIos[${vio}].owner`)) out.push(finding('INV-VMSPACE-4', `${p}.owner`, f.message, f.expected, f.actual))
  })
  // INV-VMSPACE-5: readers disjoint from writers
  readers.forEach((a, i) =>
    writers.forEach((b, j) => {
      if (a !== null && b !== null && !ioDisjoint(a, b)) out.push(finding('INV-VMSPACE-5', `${p}.owner`, `reader ${o.readers[i]} overlaps writer ${o.writers[j]}`, 'disjoint', [a.range, b.range]))
    }),
  )
  // INV-VMSPACE-6: writers pairwise disjoint; readers too unless shared reading
  const pairs = (list: Array<VmIoOwner | null>, ids: readonly number[], what: string): void => {
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i]
        const b = list[j]
        if (a !== null && a !== undefined && b !== null && b !== undefined && !ioDisjoint(a, b)) out.push(finding('INV-VMSPACE-6', `${p}.owner`, `${what} ${ids[i]} and ${ids[j]} overlap`, 'disjoint', [a.range, b.range]))
      }
  }
  pairs(writers, o.writers, 'writers')
  if (!o.sharedReader) pairs(readers, o.readers, 'readers')
  return out
}

/** `mem_view_wf()` (INV-VMSPACE-7..11), MD-10 as extended in the module comment. */
function memViewWf(s: Snapshot, p: string, o: VmSpaceOwner, lent: readonly MemView[]): Finding[] {
  const out: Finding[] = []
  if ((o.memView === null) !== (o.mvRange === null)) {
    out.push(finding('INV-VMSPACE-7', `${p}.owner`, 'mem_view is Some iff mv_range is Some', 'both or neither', { memView: o.memView !== null, mvRange: o.mvRange !== null }))
    return out
  }
  if (o.memView === null || o.mvRange === null) return out
  const rem = o.memView
  const total = o.mvRange
  for (const [v, name] of [[rem, 'memView'], [total, 'mvRange']] as const) {
    const pair = overlappingPair(v.mappings)
    if (pair !== null) out.push(finding('INV-VMSPACE-8', `${p}.owner.${name}`, 'two mappings of the view overlap', 'VA-disjoint', pair.map((m) => m.vaRange)))
  }
  if (!mappingsSubset(rem, total)) out.push(finding('INV-VMSPACE-8', `${p}.owner.memView`, 'the remaining view has a mapping the total view lacks', 'remaining ⊆ total'))
  if (!memorySubset(rem, total)) out.push(finding('INV-VMSPACE-8', `${p}.owner.memView.memory`, 'the remaining view has a frame the total view lacks', 'dom(remaining) ⊆ dom(total)'))
  const writerViews: MemView[] = [...lent]
  o.writers.forEach((vio, i) => {
    const w = ownerOfIo(s, vio)
    const path = `${p}.owner.writers[${i}]`
    if (w === null || w.memView === null || w.memView.kind !== 'WriteView') {
      out.push(finding('INV-VMSPACE-10', path, `writer ${vio} holds no WriteView`))
      return
    }
    const wv = w.memView.view
    writerViews.push(wv)
    if (!mappingsSubset(wv, total)) out.push(finding('INV-VMSPACE-10', path, 'the writer view has a mapping the total view lacks', 'wmv ⊆ total'))
    if (!memorySubset(wv, total)) out.push(finding('INV-VMSPACE-10', path, 'the writer view has a frame the total view lacks', 'dom(wmv) ⊆ dom(total)'))
    const shared = wv.mappings.find((m) => hasMapping(rem.mappings, m))
    if (shared !== undefined) out.push(finding('INV-VMSPACE-10', path, 'the writer view and the remaining view share a mapping', 'disjoint', shared.vaRange))
    const translatingBoth = wv.mappings.find((m) => rem.mappings.some((r) => rangesOverlap(r.vaRange, m.vaRange)))
    if (translatingBoth !== undefined) out.push(finding('INV-VMSPACE-10', path, 'the remaining view translates where the writer view does', 'remaining does not translate', translatingBoth.vaRange))
  })
  // INV-VMSPACE-9 (MD-10): remaining translates like total wherever no writer view translates
  // (one list shared by both views — the state between writers — holds it trivially)
  if (rem.mappings !== total.mappings) {
    const isLent = (m: Mapping): boolean => writerViews.some((wv) => wv.mappings.some((x) => rangesOverlap(x.vaRange, m.vaRange)))
    for (const m of total.mappings) {
      if (isLent(m)) continue
      if (!hasMapping(rem.mappings, m)) {
        out.push(finding('INV-VMSPACE-9', `${p}.owner.memView`, `the remaining view does not translate [0x${m.vaRange.start.toString(16)}, 0x${m.vaRange.end.toString(16)}) as the total view does`, m, mappingOfView(rem, m.vaRange.start)))
        break
      }
    }
    const extra = rem.mappings.find((m) => !hasMapping(total.mappings, m))
    if (extra !== undefined) out.push(finding('INV-VMSPACE-9', `${p}.owner.memView`, 'the remaining view translates where the total view does not', null, extra))
  }
  o.readers.forEach((vio, i) => {
    const r = ownerOfIo(s, vio)
    const path = `${p}.owner.readers[${i}]`
    if (r === null || r.memView === null || r.memView.kind !== 'ReadView') out.push(finding('INV-VMSPACE-11', path, `reader ${vio} holds no ReadView`))
    else if (!mappingsSubset(r.memView.view, total)) out.push(finding('INV-VMSPACE-11', path, 'the reader view translates differently from the total view', 'rmv ⊆ total'))
  })
  return out
}

/** `can_create_reader(vaddr, len)`: no writer overlaps the range (closed test). */
export function canCreateReader(s: Snapshot, o: VmSpaceOwner, range: VaRange): number | null {
  for (const vio of o.writers) {
    const w = ownerOfIo(s, vio)
    if (w !== null && overlapsWithRange(w, range)) return vio
  }
  return null
}

/** `can_create_writer(vaddr, len)`: no reader and no writer overlaps the range. */
export function canCreateWriter(s: Snapshot, o: VmSpaceOwner, range: VaRange): number | null {
  for (const vio of [...o.readers, ...o.writers]) {
    const w = ownerOfIo(s, vio)
    if (w !== null && overlapsWithRange(w, range)) return vio
  }
  return null
}

/** Whether `[va, va+len)` is a user range readers/writers accept (no overflow, at most MAX_USERSPACE_VADDR). */
export function userRangeOk(va: number, len: number): boolean {
  return Number.isSafeInteger(va + len) && va + len <= MAX_USERSPACE_VADDR
}

// ---- TLB (state.md §14) ----------------------------------------------------------------------------

/** The cached mapping containing `va`, or null. */
export function tlbLookup(tlb: TlbState, va: number): Mapping | null {
  for (const m of tlb.mappings) if (m.vaRange.start <= va && va < m.vaRange.end) return m
  return null
}

/** Whether `op` flushes a cached mapping `m`. */
export function flushes(op: TlbFlushOp, m: Mapping): boolean {
  switch (op.kind) {
    case 'All':
      return true
    case 'Address':
      return m.vaRange.start <= op.va && op.va < m.vaRange.end
    case 'Range':
      return rangesOverlap(m.vaRange, { start: op.start, end: op.end })
  }
}

/** The TLB after applying `ops`. */
export function tlbAfter(tlb: TlbState, ops: readonly TlbFlushOp[]): TlbState {
  if (ops.length === 0) return tlb
  return { mappings: tlb.mappings.filter((m) => !ops.some((op) => flushes(op, m))) }
}

/** One of the three `TlbFlushOp`s, with `PAGE_SIZE`-aligned arguments (page-aligned in OSTD's constructors). */
export function flushOpFailure(op: TlbFlushOp): string | null {
  if (op.kind === 'Address') return op.va % PAGE_SIZE === 0 ? null : `Address(0x${op.va.toString(16)}) is not page aligned`
  if (op.kind === 'Range') return op.start % PAGE_SIZE === 0 && op.end % PAGE_SIZE === 0 && op.start <= op.end ? null : `Range(0x${op.start.toString(16)}..0x${op.end.toString(16)}) is not a page-aligned range`
  // an event's schema admits no other op; an internal step (a VmSpace map / unmap issuing its flush) is not parsed
  return op.kind === 'All' ? null : `${JSON.stringify(op)} is not a TlbFlushOp (All, Address or Range)`
}
