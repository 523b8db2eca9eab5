/**
 * The embedding's cursor Ops (operations.md §11.5–§11.9) as postconditions of their events, on
 * cursors of the store (VmSpace cursors; the read-only methods are the page-table cursor's events on
 * the same id, so these rules apply only when the cursor is in `vm.cursors`):
 * ENS-EMB-QUERY-1..3 (`cursor.query`), ENS-EMB-FINDNEXT-1 (`cursor.find_next`), ENS-EMB-JUMP-1
 * (`cursor.jump`), ENS-EMB-PROTECTNEXT-1 (`vm_cursor_mut.protect_next`), ENS-EMB-VIRTADDR-1
 * (`cursor.virt_addr`), ENS-EMB-MAP-1..4 (`vm_cursor_mut.map`), ENS-EMB-UNMAP-1..4
 * (`vm_cursor_mut.unmap`).
 *
 * Differences from the spec (OSTD's behaviour wins, behaviour.md §2.6):
 * - Map over an occupied slot (the gap noted in §11.8): OSTD issues a flush for the replaced frame
 *   and dispatches it at once, releasing it and every frame the cursor's flusher still held: those
 *   slots may change (and be torn down); at `pa`, `rc' = rc − (replaced here) − (held handles of pa
 *   released)` and `|paths'| = |paths| + 1 − (replaced here)`.
 * - PT nodes keep their lock and child count in their meta slots (common.ts `ptMetaOnly`): those
 *   changes are allowed wherever a clause says "slot unchanged".
 * - Unmap: OSTD defers the release of an unmapped frame to the TLB flush, so an unmapped mapping's
 *   reference moves to a (deferred) `Frame` handle: the clause checked for `Frame` slots is the
 *   conservation `rc' − rc == (|paths'| − |paths|) + (H' − H)` with `rc' <= rc`, `|paths'| <= |paths|`,
 *   `rc' != 0` (the embedding's `rc' + |old| == rc + |new|` assumes an immediate release).
 * - ProtectNext / FindNext / Jump: "all slot owners unchanged", allowing fresh page-table nodes (a
 *   huge leaf split by `protect_next`, §10.7).
 */
import { frameToIndex, PAGE_SIZE, REF_COUNT_UNIQUE, REF_COUNT_UNUSED } from '../../../arch/constants.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { isMmioPaddr, isParked, ownerOf } from '../../../model/slots.js'
import { tableForEach, tableGet } from '../../../model/table.js'
import { cursorAt } from '../../../model/pt_cursor.js'
import { mappingAt } from '../../../model/pt_view.js'
import { vmCursorAt, vmSpaceAt } from '../../../model/vm_space.js'
import type { EnsContext, EnsRule } from '../../rule.js'
import { cellsUnchanged, ens, isOkResult, num, otherSlotsChanged, ownerFieldsUnchanged, rcIs, storeUnchanged } from '../helpers.js'
import { cursorKept, inListKept, isFreshPtNode, isStoreCursor, parkingKept, ptMetaOnly, registriesUnchanged, slotsChangedExceptFreshNodes, storageKept } from './common.js'

/** A rule that applies only to the store's cursors. */
function onStoreCursor(id: string, types: readonly string[], check: (ctx: EnsContext, c: number) => Finding[]): EnsRule {
  return ens(id, types, (ctx) => (isStoreCursor(ctx) ? check(ctx, num(ctx.event, 'cursor')) : []))
}

/** The tracked frame a query returned (`Some(pa)`): its handle id, or null. */
function queriedFrame(ctx: EnsContext): number | null {
  if (!isOkResult(ctx.result)) return null
  const item = (ctx.result.value as readonly [unknown, { frame?: number } | null])[1]
  return item !== null && typeof item.frame === 'number' ? item.frame : null
}

/** Number of frame handles to each slot of `idxs` in `s`. */
function handleCounts(ctx: EnsContext, which: 'pre' | 'post', idxs: ReadonlySet<number>): Map<number, number> {
  const out = new Map<number, number>()
  tableForEach(ctx[which].frames, (f) => {
    const i = frameToIndex(f.paddr)
    if (idxs.has(i)) out.set(i, (out.get(i) ?? 0) + 1)
  })
  return out
}

function queryRules(): EnsRule[] {
  const T = ['cursor.query']
  return [
    onStoreCursor('ENS-EMB-QUERY-1', T, (ctx, c) => [...cursorKept(ctx, 'ENS-EMB-QUERY-1', c), ...parkingKept(ctx, 'ENS-EMB-QUERY-1')]),
    onStoreCursor('ENS-EMB-QUERY-2', T, (ctx) => {
      if (queriedFrame(ctx) !== null) return []
      const rule = 'ENS-EMB-QUERY-2'
      return [...otherSlotsChanged(ctx, rule, []), ...registriesUnchanged(ctx, rule, ['frames'])]
    }),
    onStoreCursor('ENS-EMB-QUERY-3', T, (ctx) => {
      const fid = queriedFrame(ctx)
      if (fid === null) return []
      const rule = 'ENS-EMB-QUERY-3'
      const f = tableGet(ctx.post.frames, fid)
      if (f === null || tableGet(ctx.pre.frames, fid) !== null) return [finding(rule, `frames[${fid}]`, `the returned frame ${fid} is not a fresh handle`, 'fresh', tableGet(ctx.pre.frames, fid))]
      const idx = frameToIndex(f.paddr)
      const pre = ownerOf(ctx.pre, idx)
      const out: Finding[] = []
      if (pre.usage !== 'Frame') out.push(finding(rule, `regions.slotOwners[${idx}].usage`, `the cloned slot ${idx} was not a frame`, 'Frame', pre.usage))
      out.push(...rcIs(ctx, rule, idx, pre.innerPerms.refCount + 1, 'a query clones the frame'))
      out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'pathsInPt']), ...cellsUnchanged(ctx, rule, idx, ['inList', 'storage', 'vtablePtr']))
      out.push(...otherSlotsChanged(ctx, rule, [idx]))
      for (const k of ctx.changes.frames) if (k !== fid) out.push(finding(rule, `frames[${k}]`, `frame handle ${k} changed`, tableGet(ctx.pre.frames, k), tableGet(ctx.post.frames, k)))
      return out
    }),
  ]
}

/** FindNext / Jump / ProtectNext: the cursor stays, slot owners and `slots` unchanged, nothing else changes. */
function movingRule(id: string, type: string): EnsRule {
  return onStoreCursor(id, [type], (ctx, c) => [
    ...cursorKept(ctx, id, c),
    ...slotsChangedExceptFreshNodes(ctx, id),
    ...parkingKept(ctx, id),
    ...registriesUnchanged(ctx, id, ['frames', 'segments', 'uniqueFrames', 'vmIos', 'lists']),
  ])
}

/** The slot of the frame mapped at the cursor's address before a map (the mapping it replaces), or null. */
function replacedSlot(ctx: EnsContext): number | null {
  const c = num(ctx.event, 'cursor')
  const vc = vmCursorAt(ctx.pre, c)
  const r = vc === null ? null : vmSpaceAt(ctx.pre, vc.vmSpace)
  const h = r === null ? null : tableGet(ctx.pre.pt.tables, r.pageTable)
  const pc = cursorAt(ctx.pre, c)
  if (h === null || pc === null) return null
  const m = mappingAt(ctx.pre, frameToIndex(h.rootPaddr), pc.va, { config: 'user' })
  return m === null ? null : frameToIndex(m.paRange.start)
}

/** Slots of the frame handles (other than `except`) the step released: [slot, count]. */
function releasedHandles(ctx: EnsContext, except: number): Map<number, number> {
  const out = new Map<number, number>()
  for (const id of ctx.changes.frames) {
    const f = tableGet(ctx.pre.frames, id)
    if (id === except || f === null || tableGet(ctx.post.frames, id) !== null) continue
    const i = frameToIndex(f.paddr)
    out.set(i, (out.get(i) ?? 0) + 1)
  }
  return out
}

function mapRules(): EnsRule[] {
  const T = ['vm_cursor_mut.map']
  const paOf = (ctx: EnsContext): number => frameToIndex(tableGet(ctx.pre.frames, num(ctx.event, 'frame'))!.paddr)
  return [
    ens('ENS-EMB-MAP-1', T, (ctx) => {
      const fid = num(ctx.event, 'frame')
      const out: Finding[] = []
      if (tableGet(ctx.post.frames, fid) !== null) out.push(finding('ENS-EMB-MAP-1', `frames[${fid}]`, `frame handle ${fid} is still in the store after it was mapped`, null, tableGet(ctx.post.frames, fid)))
      for (const k of ctx.changes.frames) {
        if (k !== fid && tableGet(ctx.pre.frames, k) !== null && tableGet(ctx.post.frames, k) !== null) out.push(finding('ENS-EMB-MAP-1', `frames[${k}]`, `frame handle ${k} changed`, tableGet(ctx.pre.frames, k), tableGet(ctx.post.frames, k)))
      }
      return out
    }),
    ens('ENS-EMB-MAP-2', T, (ctx) => {
      const rule = 'ENS-EMB-MAP-2'
      const idx = paOf(ctx)
      // A replaced mapping of the same frame and handles the dispatched flush released count against `pa` (module comment).
      const replaced = replacedSlot(ctx) === idx ? 1 : 0
      const released = releasedHandles(ctx, num(ctx.event, 'frame')).get(idx) ?? 0
      const a = ownerOf(ctx.pre, idx)
      const b = ownerOf(ctx.post, idx)
      const out = rcIs(ctx, rule, idx, a.innerPerms.refCount - replaced - released, 'the handle reference becomes the PTE reference')
      const want = a.pathsInPt.length + 1 - replaced
      if (b.pathsInPt.length !== want) out.push(finding(rule, `regions.slotOwners[${idx}].pathsInPt`, `|paths_in_pt| of slot ${idx} is ${b.pathsInPt.length}, expected ${want}`, want, b.pathsInPt.length))
      out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['usage']))
      if (b.innerPerms.refCount !== REF_COUNT_UNUSED) out.push(...cellsUnchanged(ctx, rule, idx, ['storage']))
      return out
    }),
    ens('ENS-EMB-MAP-3', T, (ctx) => {
      const rule = 'ENS-EMB-MAP-3'
      const idx = paOf(ctx)
      const rep = replacedSlot(ctx)
      const released = releasedHandles(ctx, num(ctx.event, 'frame'))
      const out: Finding[] = []
      for (const i of ctx.changes.slotCells) {
        if (i === idx || i === rep || released.has(i) || ptMetaOnly(ctx, i)) continue
        const a = ownerOf(ctx.pre, i)
        const b = ownerOf(ctx.post, i)
        const wasUnused = a.innerPerms.refCount === REF_COUNT_UNUSED
        if (!wasUnused && b.innerPerms.refCount === REF_COUNT_UNUSED) out.push(finding(rule, `regions.slotOwners[${i}]`, `in-use slot ${i} became UNUSED`, a.innerPerms.refCount, REF_COUNT_UNUSED))
        else if (wasUnused && !isFreshPtNode(ctx, i)) out.push(finding(rule, `regions.slotOwners[${i}]`, `slot ${i} became in use but is not a page-table node`, 'PageTable', b.usage))
        else if (!wasUnused) out.push(finding(rule, `regions.slotOwners[${i}]`, `in-use slot ${i} changed`, a, b))
      }
      return out
    }),
    ens('ENS-EMB-MAP-4', T, (ctx) => [...parkingKept(ctx, 'ENS-EMB-MAP-4'), ...inListKept(ctx, 'ENS-EMB-MAP-4'), ...cursorKept(ctx, 'ENS-EMB-MAP-4', num(ctx.event, 'cursor'))]),
  ]
}

function unmapRules(): EnsRule[] {
  const T = ['vm_cursor_mut.unmap']
  return [
    ens('ENS-EMB-UNMAP-1', T, (ctx) => {
      const rule = 'ENS-EMB-UNMAP-1'
      const out: Finding[] = []
      for (const i of ctx.changes.slotCells) {
        const a = ownerOf(ctx.pre, i)
        const b = ownerOf(ctx.post, i)
        out.push(...ownerFieldsUnchanged(ctx, rule, i, ['selfAddr', 'usage']), ...cellsUnchanged(ctx, rule, i, ['inList']))
        if (a.innerPerms.refCount !== REF_COUNT_UNIQUE && b.innerPerms.refCount === REF_COUNT_UNIQUE) out.push(finding(rule, `regions.slotOwners[${i}].innerPerms.refCount`, `slot ${i} became UNIQUE`, a.innerPerms.refCount, REF_COUNT_UNIQUE))
        // A slot torn down to UNUSED drops its storage and vtable (the gap of §11.9); a PT node's lock / child count may change.
        if (b.innerPerms.refCount !== REF_COUNT_UNUSED) {
          out.push(...cellsUnchanged(ctx, rule, i, ['vtablePtr']))
          if (!storageKept(ctx, i)) out.push(finding(rule, `regions.slotOwners[${i}].innerPerms.storage`, `storage of slot ${i} changed`, a.innerPerms.storage, b.innerPerms.storage))
        }
      }
      return out
    }),
    ens('ENS-EMB-UNMAP-2', T, (ctx) => {
      const out: Finding[] = []
      for (const i of ctx.changes.slotCells) if (!isParked(ctx.pre, i)) out.push(finding('ENS-EMB-UNMAP-2', `regions.slotOwners[${i}]`, `un-parked slot ${i} changed`, ownerOf(ctx.pre, i), ownerOf(ctx.post, i)))
      return out
    }),
    ens('ENS-EMB-UNMAP-3', T, (ctx) => {
      const rule = 'ENS-EMB-UNMAP-3'
      const frames = new Set([...ctx.changes.slotCells].filter((i) => ownerOf(ctx.pre, i).usage === 'Frame' && ownerOf(ctx.post, i).innerPerms.refCount !== REF_COUNT_UNUSED))
      if (frames.size === 0) return []
      const h0 = handleCounts(ctx, 'pre', frames)
      const h1 = handleCounts(ctx, 'post', frames)
      const out: Finding[] = []
      for (const i of frames) {
        const a = ownerOf(ctx.pre, i)
        const b = ownerOf(ctx.post, i)
        const rc = a.innerPerms.refCount
        const rc1 = b.innerPerms.refCount
        const dP = b.pathsInPt.length - a.pathsInPt.length
        const dH = (h1.get(i) ?? 0) - (h0.get(i) ?? 0)
        // dH: the handles the dispatch releases (moved into the flusher by an earlier
        // issue_tlb_flush_with) are dropped too; a removed mapping's reference goes to the flusher
        // and is released by the dispatch unmap ends with — it never stays behind as a handle.
        if (rc1 - rc !== dP + dH || dH > 0 || rc1 > rc || dP > 0 || rc1 === 0) {
          out.push(finding(rule, `regions.slotOwners[${i}]`, `frame slot ${i}: rc ${rc} → ${rc1}, paths ${a.pathsInPt.length} → ${b.pathsInPt.length}, handles ${h0.get(i) ?? 0} → ${h1.get(i) ?? 0}: a removed mapping moves one reference from a path to a handle`, { rc: rc + dP + dH }, { rc: rc1 }))
        }
      }
      return out
    }),
    ens('ENS-EMB-UNMAP-4', T, (ctx) => {
      const rule = 'ENS-EMB-UNMAP-4'
      const out: Finding[] = []
      for (const i of ctx.changes.slotCells) if (isMmioPaddr(ctx.pre.config, i * PAGE_SIZE)) out.push(finding(rule, `regions.slotOwners[${i}]`, `MMIO slot ${i} changed`, ownerOf(ctx.pre, i), ownerOf(ctx.post, i)))
      out.push(...parkingKept(ctx, rule), ...cursorKept(ctx, rule, num(ctx.event, 'cursor')))
      return out
    }),
  ]
}

export const embCursorRules: EnsRule[] = [
  ...queryRules(),
  movingRule('ENS-EMB-FINDNEXT-1', 'cursor.find_next'),
  movingRule('ENS-EMB-JUMP-1', 'cursor.jump'),
  movingRule('ENS-EMB-PROTECTNEXT-1', 'vm_cursor_mut.protect_next'),
  onStoreCursor('ENS-EMB-VIRTADDR-1', ['cursor.virt_addr'], (ctx) => {
    const out = storeUnchanged(ctx, 'ENS-EMB-VIRTADDR-1')
    if (ctx.pre.pt !== ctx.post.pt || ctx.pre.vm !== ctx.post.vm) out.push(finding('ENS-EMB-VIRTADDR-1', 'snapshot', 'virt_addr changed the page-table or VmSpace state'))
    return out
  }),
  ...mapRules(),
  ...unmapRules(),
]

