/**
 * Postconditions of the VmSpace exec events (reducers/vm_space/*; operations.md §8, §10;
 * behaviour.md §2.6, §2.8):
 * - ENS-VMSPACE-NEW-1..2 (`VmSpace::new`), ENS-VMSPACE-CURSORMUT-1..4 (`cursor_mut`, = `Cursor::new`'s
 *   [JUN] spec read through the `AccessDenied` conversion);
 * - model: ENS-VMSPACE-ACTIVATE-1, ENS-VMSPACE-DROP-1, ENS-VMSPACE-USERIO-1 (`reader` / `writer`),
 *   ENS-VMSCURSOR-MAP-1..2, ENS-VMSCURSOR-UNMAP-1..3, ENS-TLB-ISSUE-1, ENS-TLB-DISPATCH-1..3, ENS-VMIO-FALLIBLE-1..2
 *   (user-space bytes through the TLB / page table of the pre-state).
 */
import equal from 'fast-deep-equal/es6/index.js'
import { frameToIndex, PAGE_SIZE, REF_COUNT_MAX, REF_COUNT_UNUSED, refCountName } from '../../../arch/constants.js'
import { PageFlags } from '../../../arch/page_prop.js'
import { readPhys } from '../../../model/memory.js'
import { cursorAt, cursorInvariants } from '../../../model/pt_cursor.js'
import { mappingAt, mappingsIn, viewOf, type Mapping } from '../../../model/pt_view.js'
import { ownerOf, slotOf } from '../../../model/slots.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import type { Snapshot, VmIoEntry } from '../../../model/snapshot.js'
import { tableGet } from '../../../model/table.js'
import { flushes, memViewOf, tlbLookup, userRangeOk, vmCursorAt, vmSpaceAt, vmSpaceFindings, type DeferredRelease, type TlbFlusher, type TlbFlushOp, type VmCursorRecord } from '../../../model/vm_space.js'
import type { ValValue } from '../../../../reducers/io/frame_io.js'
import type { ValType } from '../../../../reducers/schema.js'
import type { EnsContext, EnsRule } from '../../rule.js'
import { ens, isErrResult, isOkResult, num } from '../helpers.js'
import { expectedCursorRange } from '../page_table/cursor_args.js'
import { base64ToBytes, bytesToValue, valueToBytes, valueWidthBytes } from '../io/value_codec.js'

function rootOf(s: Snapshot, vmSpace: number): number | null {
  const r = vmSpaceAt(s, vmSpace)
  const h = r === null ? null : tableGet(s.pt.tables, r.pageTable)
  return h === null ? null : frameToIndex(h.rootPaddr)
}

// ---- new / drop / activate ------------------------------------------------------------------------------

function newSpaceOf(ctx: EnsContext): number {
  return (ctx.result as { vmSpace: number }).vmSpace
}

const lifecycleRules: EnsRule[] = [
  ens('ENS-VMSPACE-NEW-1', ['vm_space.new'], (ctx) => {
    const rule = 'ENS-VMSPACE-NEW-1'
    const id = newSpaceOf(ctx)
    const r = vmSpaceAt(ctx.post, id)
    if (r === null || vmSpaceAt(ctx.pre, id) !== null) return [finding(rule, `vm.spaces[${id}]`, 'the result names no new VmSpace')]
    const out: Finding[] = []
    const h = tableGet(ctx.post.pt.tables, r.pageTable)
    if (h === null || h.config !== 'user' || tableGet(ctx.pre.pt.tables, r.pageTable) !== null) out.push(finding(rule, `vm.spaces[${id}].pageTable`, 'the VmSpace does not own a new user page table', 'a new user PageTable', h))
    else if (viewOf(ctx.post, frameToIndex(h.rootPaddr), { config: 'user' }).length > 0) out.push(finding(rule, `vm.spaces[${id}].pageTable`, 'the new page table has user mappings'))
    const want = { sharedReader: false, readers: [], writers: [], dropped: false, owner: { active: false, readers: [], writers: [], memView: null, mvRange: null, sharedReader: false } }
    const got = { sharedReader: r.sharedReader, readers: r.readers, writers: r.writers, dropped: r.dropped, owner: r.owner }
    if (!equal(want, got)) out.push(finding(rule, `vm.spaces[${id}]`, 'the new VmSpace is not new_spec(): no shared reading, no readers or writers, an inactive owner without views', want, got))
    return out
  }),
  ens('ENS-VMSPACE-NEW-2', ['vm_space.new'], (ctx) => {
    const id = newSpaceOf(ctx)
    const r = vmSpaceAt(ctx.post, id)
    if (r === null) return []
    return vmSpaceFindings(ctx.post, id, r)
      .filter((f) => f.rule === 'INV-VMSPACE-1')
      .map((f) => finding('ENS-VMSPACE-NEW-2', f.path, `res.inv() fails: ${f.message}`))
  }),
  ens(
    'ENS-VMSPACE-ACTIVATE-1',
    ['vm_space.activate'],
    (ctx) => {
      const rule = 'ENS-VMSPACE-ACTIVATE-1'
      const id = num(ctx.event, 'vmSpace')
      const out: Finding[] = []
      if (ctx.post.vm.activated !== id) out.push(finding(rule, 'vm.activated', 'the VmSpace is not the activated one', id, ctx.post.vm.activated))
      if (ctx.pre.vm.activated === id) {
        if (ctx.pre !== ctx.post) out.push(finding(rule, 'snapshot', 're-activating the activated VmSpace changed the state'))
        return out
      }
      const r = vmSpaceAt(ctx.post, id)
      const root = rootOf(ctx.post, id)
      if (r === null || root === null) return [...out, finding(rule, `vm.spaces[${id}]`, 'the VmSpace is gone')]
      const view = memViewOf(viewOf(ctx.post, root, { config: 'user' }))
      if (!r.owner.active || !equal(r.owner.mvRange, view) || !equal(r.owner.memView, view)) out.push(finding(rule, `vm.spaces[${id}].owner`, "the owner is not active with both views = the page table's mappings", view.mappings.map((m) => m.vaRange), r.owner.mvRange?.mappings.map((m) => m.vaRange)))
      if (ctx.post.vm.tlb.mappings.length > 0) out.push(finding(rule, 'vm.tlb', 'switching page tables did not flush the TLB', [], ctx.post.vm.tlb.mappings.length))
      const prev = ctx.pre.vm.activated
      const p = prev === null ? null : vmSpaceAt(ctx.post, prev)
      if (p !== null && (p.owner.active || p.readers.length > 0 || p.writers.length > 0)) out.push(finding(rule, `vm.spaces[${prev}]`, 'the previously activated VmSpace is still active or has registered readers/writers'))
      // the CPU's reference was the last one of a dropped space: it goes now, with its page table (ENS-VMSPACE-DROP-1)
      const before = prev === null ? null : vmSpaceAt(ctx.pre, prev)
      if (before?.dropped === true) {
        if (p !== null) out.push(finding(rule, `vm.spaces[${prev}]`, 'the previously activated VmSpace was dropped while activated: it must be freed when another is activated'))
        if (tableGet(ctx.post.pt.tables, before.pageTable) !== null) out.push(finding(rule, `pt.tables[${before.pageTable}]`, "the freed VmSpace's page table was not dropped"))
      }
      return out
    },
    '[model] `activate()`: the VmSpace becomes the activated one (a no-op if it already was); its owner is active with total and remaining views = its page table\'s mappings; the TLB is flushed; the previous one is inactive with nothing registered, and freed with its page table if its handle was dropped while it was activated.',
  ),
  ens(
    'ENS-VMSPACE-DROP-1',
    ['vm_space.drop'],
    (ctx) => {
      const rule = 'ENS-VMSPACE-DROP-1'
      const id = num(ctx.event, 'vmSpace')
      const pre = vmSpaceAt(ctx.pre, id)
      if (pre === null) return []
      const post = vmSpaceAt(ctx.post, id)
      if (ctx.pre.vm.activated === id) {
        return post !== null && equal({ ...pre, dropped: true }, post) ? [] : [finding(rule, `vm.spaces[${id}]`, 'the activated VmSpace must stay alive (the CPU holds it), only marked dropped', { ...pre, dropped: true }, post)]
      }
      const out: Finding[] = []
      if (post !== null) out.push(finding(rule, `vm.spaces[${id}]`, 'the VmSpace is still there'))
      if (tableGet(ctx.post.pt.tables, pre.pageTable) !== null) out.push(finding(rule, `pt.tables[${pre.pageTable}]`, "the VmSpace's page table was not dropped"))
      return out
    },
    '[model] Dropping a VmSpace drops its page table and removes it — unless it is the activated one, which stays (marked dropped) until another is activated.',
  ),
  ens(
    'ENS-VMSPACE-USERIO-1',
    ['vm_space.reader', 'vm_space.writer'],
    (ctx) => {
      const rule = 'ENS-VMSPACE-USERIO-1'
      const id = num(ctx.event, 'vmSpace')
      const va = num(ctx.event, 'va')
      const len = num(ctx.event, 'len')
      const allowed = ctx.pre.vm.activated === id && userRangeOk(va, len)
      if (!allowed) {
        const out: Finding[] = []
        if (!equal(ctx.result, { ok: false, error: 'AccessDenied' })) out.push(finding(rule, 'result', 'an inactive VmSpace or a range past MAX_USERSPACE_VADDR (or overflowing) must give Err(AccessDenied)', { ok: false, error: 'AccessDenied' }, ctx.result))
        if (ctx.pre !== ctx.post) out.push(finding(rule, 'snapshot', 'the refused call changed the state'))
        return out
      }
      const kind = ctx.event.type === 'vm_space.reader' ? 'reader' : 'writer'
      const vio = isOkResult(ctx.result) ? (ctx.result.value as Record<string, number>)[kind] : undefined
      const e = vio === undefined ? null : tableGet(ctx.post.vmIos, vio)
      if (e === null || tableGet(ctx.pre.vmIos, vio!) !== null || e.cursor !== va || e.end !== va + len || !e.fallible || e.space.kind !== 'user' || e.space.vmSpace !== id || e.borrow?.kind !== 'vmSpace' || e.borrow.id !== id) {
        return [finding(rule, 'result', `Ok must name a new fallible user ${kind} of VmSpace ${id} over [va, va + len), borrowing it`, { cursor: va, end: va + len }, e)]
      }
      return []
    },
    '[model] `VmSpace::reader` / `writer`: `Err(AccessDenied)` with nothing changed unless the space is the activated one and `va + len` neither overflows nor exceeds MAX_USERSPACE_VADDR; otherwise `Ok` with a new fallible user-space reader/writer over `[va, va + len)` that borrows the space (mappings not consulted).',
  ),
]

// ---- cursor_mut creation ----------------------------------------------------------------------------------

function newRange(ctx: EnsContext): { start: number; end: number } | null {
  const r = expectedCursorRange('user', ctx.event as unknown as { vaStart: number; vaEnd: number })
  return r.ok ? r.value : null
}

const cursorRules: EnsRule[] = [
  ens('ENS-VMSPACE-CURSORMUT-1', ['vm_space.cursor_mut'], (ctx) => {
    const rule = 'ENS-VMSPACE-CURSORMUT-1'
    const range = newRange(ctx)
    if (range === null) return []
    if (!isOkResult(ctx.result)) return [finding(rule, 'result', 'a valid range must give Ok(cursor)', 'Ok', ctx.result)]
    const id = (ctx.result.value as { cursor: number }).cursor
    const c = cursorAt(ctx.post, id)
    const vc = vmCursorAt(ctx.post, id)
    const r = vmSpaceAt(ctx.pre, num(ctx.event, 'vmSpace'))
    if (c === null || vc === null || r === null || cursorAt(ctx.pre, id) !== null) return [finding(rule, `vm.cursors[${id}]`, 'the result names no new VmSpace cursor')]
    const out = cursorInvariants(ctx.post, id, c).map((f) => finding(rule, f.path, `c.invariants fails: ${f.rule}: ${f.message}`))
    if (c.kind !== 'CursorMut' || c.pageTable !== r.pageTable || c.va !== range.start || c.level !== c.guardLevel || !equal(c.barrierVa, range)) out.push(finding(rule, `pt.cursors[${id}]`, "the cursor is not a CursorMut over the space's page table at va.start, level == guard_level, barrier_va == va", { pageTable: r.pageTable, va: range.start, barrierVa: range }, { kind: c.kind, pageTable: c.pageTable, va: c.va, barrierVa: c.barrierVa }))
    if (!equal(vc, { vmSpace: num(ctx.event, 'vmSpace'), kind: 'CursorMut', flusher: { ops: [], deferred: [] } })) out.push(finding(rule, `vm.cursors[${id}]`, 'the VmSpace cursor record is not a CursorMut of this space with an empty flusher', null, vc))
    return out
  }),
  ens('ENS-VMSPACE-CURSORMUT-2', ['vm_space.cursor_mut'], (ctx) => {
    const rule = 'ENS-VMSPACE-CURSORMUT-2'
    if (newRange(ctx) !== null) return []
    const out: Finding[] = []
    if (!equal(ctx.result, { ok: false, error: 'AccessDenied' })) out.push(finding(rule, 'result', 'an invalid or unaligned range must give Err(AccessDenied) (every PageTableError becomes AccessDenied)', { ok: false, error: 'AccessDenied' }, ctx.result))
    if (ctx.pre !== ctx.post) out.push(finding(rule, 'snapshot', 'the failed creation changed the state'))
    return out
  }),
  ens('ENS-VMSPACE-CURSORMUT-3', ['vm_space.cursor_mut'], (ctx) => {
    const out: Finding[] = []
    for (const i of ctx.changes.slotCells) {
      const a = ownerOf(ctx.pre, i)
      if (a.innerPerms.refCount === REF_COUNT_UNUSED) continue
      const b = ownerOf(ctx.post, i)
      if (!equal(a.pathsInPt, b.pathsInPt) || a.innerPerms.refCount !== b.innerPerms.refCount || a.usage !== b.usage) out.push(finding('ENS-VMSPACE-CURSORMUT-3', `regions.slotOwners[${i}]`, `slot ${i}, in use before, changed its paths_in_pt, rc or usage`, { pathsInPt: a.pathsInPt, rc: refCountName(a.innerPerms.refCount), usage: a.usage }, { pathsInPt: b.pathsInPt, rc: refCountName(b.innerPerms.refCount), usage: b.usage }))
    }
    return out
  }),
  ens('ENS-VMSPACE-CURSORMUT-4', ['vm_space.cursor_mut'], (ctx) => {
    const out: Finding[] = []
    for (const i of ctx.changes.slotCells) {
      const a = slotOf(ctx.pre, i).refCount
      const b = slotOf(ctx.post, i).refCount
      if ((a >= REF_COUNT_MAX) !== (b >= REF_COUNT_MAX) || (a >= REF_COUNT_MAX && a !== b)) out.push(finding('ENS-VMSPACE-CURSORMUT-4', `metaSlots[${i}].refCount`, `slot ${i}'s saturation (rc >= REF_COUNT_MAX) changed`, refCountName(a), refCountName(b)))
    }
    return out
  }),
]

// ---- map / unmap / dispatch --------------------------------------------------------------------------------

/**
 * The TLB may cache, at the end of a map/unmap, nothing that differs from the page table in `window`
 * — when the space is the activated one (the TLB caches no other space's translations).
 */
function staleIn(ctx: EnsContext, rule: string, vmSpace: number, root: number, window: { start: number; end: number }): Finding[] {
  if (ctx.post.vm.activated !== vmSpace) return []
  const live = mappingsIn(ctx.post, root, window, { source: 'pte', config: 'user' })
  const key = (m: Mapping): string => `${m.vaRange.start}:${m.paRange.start}:${m.property.flags}`
  const ok = new Set(live.map(key))
  return ctx.post.vm.tlb.mappings
    .filter((m) => m.vaRange.start < window.end && window.start < m.vaRange.end && !ok.has(key(m)))
    .map((m) => finding(rule, 'vm.tlb', `a stale translation of [0x${m.vaRange.start.toString(16)}, 0x${m.vaRange.end.toString(16)}) survived: the flush was not dispatched`, 'flushed', m))
}

const DISPATCHES = ['vm_cursor_mut.dispatch_tlb_flush', 'vm_cursor_mut.sync_tlb_flush'] as const

/** An ENS rule of a flusher event: `check` gets the cursor id and its record in the pre-state (a CursorMut, with its flusher). */
function flusherRule(id: string, appliesTo: readonly string[], check: (ctx: EnsContext, cursor: number, pre: VmCursorRecord & { readonly flusher: TlbFlusher }) => Finding[], summary: string): EnsRule {
  return ens(
    id,
    appliesTo,
    (ctx) => {
      const cursor = num(ctx.event, 'cursor')
      const pre = vmCursorAt(ctx.pre, cursor)
      return pre?.flusher == null ? [] : check(ctx, cursor, pre as VmCursorRecord & { readonly flusher: TlbFlusher })
    },
    summary,
  )
}

const mutRules: EnsRule[] = [
  ens(
    'ENS-VMSCURSOR-MAP-1',
    ['vm_cursor_mut.map'],
    (ctx) => {
      const rule = 'ENS-VMSCURSOR-MAP-1'
      const id = num(ctx.event, 'cursor')
      const c = cursorAt(ctx.pre, id)
      const vc = vmCursorAt(ctx.pre, id)
      const f = tableGet(ctx.pre.frames, num(ctx.event, 'frame'))
      if (c === null || vc === null || f === null) return []
      const root = rootOf(ctx.post, vc.vmSpace)
      const m = root === null ? null : mappingAt(ctx.post, root, c.va, { config: 'user' })
      const want = { start: c.va, pa: f.paddr, prop: ctx.event['prop'] }
      const out: Finding[] = []
      if (m === null || m.vaRange.start !== c.va || m.paRange.start !== f.paddr || !equal(m.property, ctx.event['prop'])) out.push(finding(rule, 'view', 'the page at the cursor does not map the frame with the property', want, m))
      if (tableGet(ctx.post.frames, num(ctx.event, 'frame')) !== null) out.push(finding(rule, `frames[${num(ctx.event, 'frame')}]`, 'the Frame handle was not consumed'))
      const old = root === null ? null : mappingAt(ctx.pre, root, c.va, { config: 'user' })
      if (old !== null && old.paRange.start !== f.paddr) {
        const idx = frameToIndex(old.paRange.start)
        const a = slotOf(ctx.pre, idx).refCount
        const b = slotOf(ctx.post, idx).refCount
        const want2 = a === 1 ? REF_COUNT_UNUSED : a - 1
        if (b !== want2) out.push(finding(rule, `metaSlots[${idx}].refCount`, 'the replaced frame\'s reference was not released (after the flush)', refCountName(want2), refCountName(b)))
      }
      return out
    },
    "[model] VmSpace `CursorMut::map(frame, prop)`: the page at the cursor maps the frame with `prop`, the Frame handle is consumed, and a replaced frame's reference is released (no error reported).",
  ),
  ens(
    'ENS-VMSCURSOR-MAP-2',
    ['vm_cursor_mut.map'],
    (ctx) => {
      const rule = 'ENS-VMSCURSOR-MAP-2'
      const id = num(ctx.event, 'cursor')
      const c = cursorAt(ctx.pre, id)
      const vc = vmCursorAt(ctx.pre, id)
      if (c === null || vc === null) return []
      const root = rootOf(ctx.post, vc.vmSpace)
      const post = vmCursorAt(ctx.post, id)
      const out = root === null ? [] : staleIn(ctx, rule, vc.vmSpace, root, { start: c.va, end: c.va + PAGE_SIZE })
      if (post !== null && vc.flusher !== null && post.flusher !== null && post.flusher.deferred.length > vc.flusher.deferred.length) out.push(finding(rule, `vm.cursors[${id}].flusher`, 'the replaced frame still waits in the flusher: map flushes at once'))
      return out
    },
    '[model] After a VmSpace `map`, no TLB entry translates the page the old way: a replacement is flushed at once (behaviour.md §2.6).',
  ),
  ens(
    'ENS-VMSCURSOR-UNMAP-1',
    ['vm_cursor_mut.unmap'],
    (ctx) => {
      const rule = 'ENS-VMSCURSOR-UNMAP-1'
      const id = num(ctx.event, 'cursor')
      const c = cursorAt(ctx.pre, id)
      const vc = vmCursorAt(ctx.pre, id)
      if (c === null || vc === null) return []
      const root = rootOf(ctx.pre, vc.vmSpace)
      if (root === null) return []
      const window = { start: c.va, end: c.va + num(ctx.event, 'len') }
      const frames = mappingsIn(ctx.pre, root, window, { config: 'user' })
        .filter((m) => m.vaRange.start >= window.start)
        .reduce((a, m) => a + m.pageSize / PAGE_SIZE, 0)
      return ctx.result === frames ? [] : [finding(rule, 'result', 'unmap must return the number of 4 KiB frames it unmapped (stray sub-trees count their frames)', frames, ctx.result)]
    },
    '[model] VmSpace `CursorMut::unmap(len)` returns the number of 4 KiB frames mapped in `[va, va + len)` before the call (0 for an empty window).',
  ),
  ens(
    'ENS-VMSCURSOR-UNMAP-2',
    ['vm_cursor_mut.unmap'],
    (ctx) => {
      const rule = 'ENS-VMSCURSOR-UNMAP-2'
      const id = num(ctx.event, 'cursor')
      const c = cursorAt(ctx.pre, id)
      const vc = vmCursorAt(ctx.pre, id)
      if (c === null || vc === null) return []
      const root = rootOf(ctx.post, vc.vmSpace)
      if (root === null) return []
      const window = { start: c.va, end: c.va + num(ctx.event, 'len') }
      const left = mappingsIn(ctx.post, root, window, { config: 'user' }).filter((m) => m.vaRange.start >= window.start && m.vaRange.end <= window.end)
      return left.map((m) => finding(rule, 'view', `[0x${m.vaRange.start.toString(16)}, 0x${m.vaRange.end.toString(16)}) is still mapped after unmap`))
    },
    '[model] After VmSpace `unmap(len)` no mapping lies inside `[va, va + len)`.',
  ),
  ens(
    'ENS-VMSCURSOR-UNMAP-3',
    ['vm_cursor_mut.unmap'],
    (ctx) => {
      const rule = 'ENS-VMSCURSOR-UNMAP-3'
      const id = num(ctx.event, 'cursor')
      const c = cursorAt(ctx.pre, id)
      const vc = vmCursorAt(ctx.pre, id)
      const post = vmCursorAt(ctx.post, id)
      if (c === null || vc === null) return []
      const root = rootOf(ctx.post, vc.vmSpace)
      const out = root === null ? [] : staleIn(ctx, rule, vc.vmSpace, root, { start: c.va, end: c.va + num(ctx.event, 'len') })
      if (post?.flusher !== null && post?.flusher !== undefined && (post.flusher.ops.length > 0 || post.flusher.deferred.length > 0)) out.push(finding(rule, `vm.cursors[${id}].flusher`, 'unmap left issued flushes or deferred frames undispatched', { ops: [], deferred: [] }, post.flusher))
      return out
    },
    '[model] VmSpace `unmap` dispatches its flush: the flusher is empty afterwards, the TLB caches nothing of the window the page table no longer maps, and the removed frames are released.',
  ),
  flusherRule(
    'ENS-TLB-DISPATCH-1',
    DISPATCHES,
    (ctx, id, pre) => {
      const rule = 'ENS-TLB-DISPATCH-1'
      const post = vmCursorAt(ctx.post, id)
      const out: Finding[] = []
      if (post?.flusher == null || post.flusher.ops.length > 0 || post.flusher.deferred.length > 0) out.push(finding(rule, `vm.cursors[${id}].flusher`, 'the flusher is not empty after the dispatch', { ops: [], deferred: [] }, post?.flusher))
      if (ctx.pre.vm.activated === pre.vmSpace) {
        const kept = ctx.post.vm.tlb.mappings.filter((m) => pre.flusher.ops.some((op) => flushes(op, m)))
        for (const m of kept) out.push(finding(rule, 'vm.tlb', `an issued op should have flushed [0x${m.vaRange.start.toString(16)}, 0x${m.vaRange.end.toString(16)})`, 'flushed', m))
      }
      return out
    },
    '[model] `dispatch_tlb_flush` / `sync_tlb_flush`: every issued op is applied to the TLB (All: everything; Address: the mapping containing it; Range: every mapping overlapping it) and the flusher is empty.',
  ),
  flusherRule(
    'ENS-TLB-DISPATCH-2',
    DISPATCHES,
    (ctx, _id, pre) => {
      return pre.flusher.deferred
        .filter((d) => (d.kind === 'frame' ? tableGet(ctx.post.frames, d.handle) : tableGet(ctx.post.pt.nodes, d.handle)) !== null)
        .map((d) => finding('ENS-TLB-DISPATCH-2', `${d.kind === 'frame' ? 'frames' : 'pt.nodes'}[${d.handle}]`, `the ${d.kind} kept behind the flush was not released at the dispatch`))
    },
    '[model] `dispatch_tlb_flush` releases (drops) every frame and page-table node the flusher kept behind the flush.',
  ),
  flusherRule(
    'ENS-TLB-DISPATCH-3',
    DISPATCHES,
    (ctx, _id, pre) => {
      // the single CPU's TLB holds the activated space's translations only: another space's ops flush none
      const ops = ctx.pre.vm.activated === pre.vmSpace ? pre.flusher.ops : []
      const kept = ctx.pre.vm.tlb.mappings.filter((m) => !ops.some((op) => flushes(op, m)))
      const post = ctx.post.vm.tlb.mappings
      const out: Finding[] = []
      for (const m of kept) if (!post.some((p) => equal(p, m))) out.push(finding('ENS-TLB-DISPATCH-3', 'vm.tlb', `[0x${m.vaRange.start.toString(16)}, 0x${m.vaRange.end.toString(16)}) was flushed, but no op of this flusher flushes it${ops === pre.flusher.ops ? '' : ' (its space is not the activated one)'}`, m, 'flushed'))
      for (const m of post) if (!ctx.pre.vm.tlb.mappings.some((p) => equal(p, m))) out.push(finding('ENS-TLB-DISPATCH-3', 'vm.tlb', `a dispatch cached [0x${m.vaRange.start.toString(16)}, 0x${m.vaRange.end.toString(16)})`, 'not cached', m))
      return out
    },
    "[model] A dispatch flushes nothing else: every cached translation no issued op flushes stays cached, all of them when the cursor's space is not the activated one (the TLB caches only the activated space's translations), and nothing new is cached.",
  ),
  flusherRule(
    'ENS-TLB-ISSUE-1',
    ['vm_cursor_mut.issue_tlb_flush', 'vm_cursor_mut.issue_tlb_flush_with'],
    (ctx, id, pre) => {
      const e = ctx.event as unknown as { op: TlbFlushOp; release?: DeferredRelease }
      const want = { ops: [...pre.flusher.ops, e.op], deferred: e.release === undefined ? pre.flusher.deferred : [...pre.flusher.deferred, e.release] }
      const got = vmCursorAt(ctx.post, id)?.flusher
      const out: Finding[] = []
      if (!equal(got, want)) out.push(finding('ENS-TLB-ISSUE-1', `vm.cursors[${id}].flusher`, `the issued op${e.release === undefined ? '' : ' and the handle'} did not join the flusher's pending ones (nothing else changes)`, want, got))
      if (ctx.post.vm.tlb !== ctx.pre.vm.tlb && !equal(ctx.post.vm.tlb, ctx.pre.vm.tlb)) out.push(finding('ENS-TLB-ISSUE-1', 'vm.tlb', 'issuing a flush changed the TLB: nothing is flushed before the dispatch', ctx.pre.vm.tlb, ctx.post.vm.tlb))
      return out
    },
    '[model] `issue_tlb_flush(op)` / `issue_tlb_flush_with(op, handle)`: the op is appended to the pending ops (and the handle to the deferred ones); the TLB is unchanged until the dispatch.',
  ),
]

// ---- user-space bytes ----------------------------------------------------------------------------------------

/** Translates `va` as the MMU of the pre-state does: the TLB, else the activated page table's PTEs. */
function preTranslate(s: Snapshot, va: number, write: boolean): number | null {
  let m = tlbLookup(s.vm.tlb, va)
  if (m === null) {
    const active = s.vm.activated
    const root = active === null ? null : rootOf(s, active)
    m = root === null ? null : mappingAt(s, root, va, { source: 'pte', config: 'user' })
  }
  if (m === null || (write && (m.property.flags & PageFlags.W) === 0)) return null
  return m.paRange.start + (va - m.vaRange.start)
}

/** The bytes a user read of `n` at `e.cursor` gets in the pre-state (the prefix before a fault). */
function expectedRead(s: Snapshot, e: VmIoEntry, n: number): Uint8Array {
  const out: number[] = []
  for (let va = e.cursor; va < e.cursor + n; va++) {
    const pa = preTranslate(s, va, false)
    if (pa === null) break
    out.push(readPhys(s, pa, 1)[0]!)
  }
  return Uint8Array.from(out)
}

/** A user `write_val` longer than what the writer has left: `Err(InvalidArgs)`, nothing written, the cursor not moved. */
function tooShort(ctx: EnsContext, rule: string, id: number, w: VmIoEntry): Finding[] {
  const out: Finding[] = []
  const want = { ok: false, error: 'InvalidArgs' }
  if (!equal(ctx.result, want)) out.push(finding(rule, 'result', 'the value does not fit in what the writer has left', want, ctx.result))
  if (tableGet(ctx.post.vmIos, id)?.cursor !== w.cursor) out.push(finding(rule, `vmIos[${id}].cursor`, 'a write_val that does not fit moves nothing', w.cursor, tableGet(ctx.post.vmIos, id)?.cursor))
  for (const idx of ctx.changes.memory) out.push(finding(rule, `memory[${idx}]`, 'a write_val that does not fit writes nothing'))
  return out
}

const ioRules: EnsRule[] = [
  ens(
    'ENS-VMIO-FALLIBLE-1',
    ['vm_reader.collect', 'vm_reader.read_val'],
    (ctx) => {
      const rule = 'ENS-VMIO-FALLIBLE-1'
      const id = num(ctx.event, 'reader')
      const e = tableGet(ctx.pre.vmIos, id)
      if (e === null || e.space.kind !== 'user') return []
      const collect = ctx.event.type === 'vm_reader.collect'
      const t = ctx.event['valType'] as ValType
      const n = collect ? e.end - e.cursor : valueWidthBytes(t)
      if (!collect && e.end - e.cursor < n) return []
      const bytes = expectedRead(ctx.pre, e, n)
      const faulted = bytes.length < n
      const out: Finding[] = []
      const post = tableGet(ctx.post.vmIos, id)
      const cursor = collect ? e.cursor + bytes.length : faulted ? e.cursor : e.cursor + n
      if (faulted) {
        if (!isErrResult(ctx.result) || ctx.result.error !== 'PageFault') out.push(finding(rule, 'result', `the access faults at 0x${(e.cursor + bytes.length).toString(16)}: Err(PageFault)`, { ok: false, error: 'PageFault' }, ctx.result))
      } else if (collect) {
        const got = isOkResult(ctx.result) ? base64ToBytes(ctx.result.value as string) : null
        if (got === null || !equal([...got], [...bytes])) out.push(finding(rule, 'result', 'collect did not return the mapped bytes', [...bytes], got === null ? ctx.result : [...got]))
      } else {
        const want = { ok: true, value: bytesToValue(t, bytes) }
        if (!equal(ctx.result, want)) out.push(finding(rule, 'result', 'read_val did not return the mapped bytes\' value', want, ctx.result))
      }
      if (post === null || post.cursor !== cursor) out.push(finding(rule, `vmIos[${id}].cursor`, 'the cursor did not move as OSTD moves it (collect: over what was copied; read_val: by the size, or not at all on a fault)', cursor, post?.cursor))
      return out
    },
    '[model] A user-space read (`collect`, fallible `read_val`) gets the bytes the MMU translates in the pre-state (TLB, else the activated page table) and `Err(PageFault)` at the first unmapped byte; `collect` advances over what it copied, `read_val` by the size or (on a fault) not at all.',
  ),
  ens(
    'ENS-VMIO-FALLIBLE-2',
    ['vm_writer.fill_zeros', 'vm_reader.read_fallible', 'vm_writer.write_fallible', 'vm_writer.write_val'],
    (ctx) => {
      const rule = 'ENS-VMIO-FALLIBLE-2'
      const isFill = ctx.event.type === 'vm_writer.fill_zeros'
      const isVal = ctx.event.type === 'vm_writer.write_val'
      const writerId = num(ctx.event, 'writer')
      const w = tableGet(ctx.pre.vmIos, writerId)
      const r = isFill || isVal ? null : tableGet(ctx.pre.vmIos, num(ctx.event, 'reader'))
      if (w === null || (!isFill && !isVal && r === null)) return []
      // a kernel writer's write_val is ENS-MEM-WRITE-1's and ENS-VMIO-ADVANCE-1's
      const valBytes = isVal ? valueToBytes(ctx.event['valType'] as ValType, ctx.event['value'] as ValValue) : null
      if (valBytes !== null && w.space.kind !== 'user') return []
      if (valBytes !== null && w.end - w.cursor < valBytes.length) return tooShort(ctx, rule, writerId, w)
      const n = valBytes !== null ? valBytes.length : isFill ? Math.min(num(ctx.event, 'len'), w.end - w.cursor) : Math.min(r!.end - r!.cursor, w.end - w.cursor)
      if (n <= 0) return []
      // the reader's bytes (kernel: physical; user: translated) and how far the writer's side translates
      const src = valBytes ?? (isFill ? new Uint8Array(n) : r!.space.kind === 'user' ? expectedRead(ctx.pre, r!, n) : readPhys(ctx.pre, r!.cursor, n))
      let k = 0
      const dst: number[] = []
      for (; k < src.length; k++) {
        const pa = w.space.kind === 'user' ? preTranslate(ctx.pre, w.cursor + k, true) : w.cursor + k
        if (pa === null) break
        dst.push(pa)
      }
      const out: Finding[] = []
      const want = isVal ? (k < n ? { ok: false, error: 'PageFault' } : { ok: true, value: null }) : k < n ? { ok: false, error: ['PageFault', k] } : { ok: true, value: n }
      if (!equal(ctx.result, want)) out.push(finding(rule, 'result', `${k < n ? 'the copy faults after' : 'the copy completes with'} ${k} bytes`, want, ctx.result))
      if (isVal) {
        // a fallible write_val rolls its cursor back on a fault (the bytes before it are written)
        const cursor = k < n ? w.cursor : w.cursor + n
        const post = tableGet(ctx.post.vmIos, writerId)
        if (post === null || post.cursor !== cursor) out.push(finding(rule, `vmIos[${writerId}].cursor`, 'write_val moves the cursor by the size, or not at all on a fault', cursor, post?.cursor))
      } else {
        // a copy or fill advances both sides by what it copied, also when it faults (behaviour.md §2.8)
        const sides: Array<[number, VmIoEntry]> = [[writerId, w], ...(r === null ? [] : [[num(ctx.event, 'reader'), r] as [number, VmIoEntry]])]
        for (const [id, pre] of sides) {
          const post = tableGet(ctx.post.vmIos, id)
          if (post === null || post.cursor !== pre.cursor + k) out.push(finding(rule, `vmIos[${id}].cursor`, `the ${pre.kind === 'Reader' ? 'reader' : 'writer'}'s cursor did not advance by the ${k} bytes copied`, pre.cursor + k, post?.cursor))
        }
      }
      // A destination may reach one physical byte through several VAs (a frame mapped twice): the
      // copy writes in order, so that byte holds the source byte of its last write, as on hardware.
      const lastWrite = new Map<number, number>()
      for (let i = 0; i < dst.length; i++) lastWrite.set(dst[i]!, i)
      for (let i = 0; i < dst.length; i++) {
        if (lastWrite.get(dst[i]!) !== i) continue
        if (readPhys(ctx.post, dst[i]!, 1)[0] !== src[i]) {
          out.push(finding(rule, `memory@0x${dst[i]!.toString(16)}`, `byte ${i} of the copy is not the source byte`, src[i], readPhys(ctx.post, dst[i]!, 1)[0]))
          break
        }
      }
      return out
    },
    "[model] `read_fallible` / `write_fallible` / `fill_zeros` / a user writer's `write_val` copy the source bytes (the reader's, zeros, the value's little-endian bytes) to what the destination translates, stopping at the first fault: `Ok(n)` (`Ok(())`) or `Err((PageFault, copied))` (`Err(PageFault)`, the cursor not moved) with exactly the bytes before the fault written, a copy's or fill's reader and writer advanced by the bytes copied; a physical byte the destination reaches through several VAs holds the source byte of the last one.",
  ),
]

export const vmSpaceEnsRules: EnsRule[] = [...lifecycleRules, ...cursorRules, ...mutRules, ...ioRules]

