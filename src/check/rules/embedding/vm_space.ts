/**
 * The embedding's VmSpace Ops (operations.md §11.1–§11.4, §11.10) as postconditions of their events:
 * ENS-EMB-NEWVMSPACE-1..5 (`vm_space.new`), ENS-EMB-DROPVMSPACE-1 (`vm_space.drop`),
 * ENS-EMB-OPENCURSOR-1..4 / ENS-EMB-OPENCURSORMUT-1..4 (`vm_space.cursor` / `cursor_mut`),
 * ENS-EMB-DROPCURSOR-1 (`vm_cursor.drop`), ENS-EMB-NEWREADER-1 / -NEWWRITER-1 (`vm_space.reader` /
 * `writer`).
 *
 * Differences from the spec (behaviour.md wins):
 * - DropVmSpace: the embedding leaks the page table ("nothing else changes"); OSTD drops it, so the
 *   model tears the tree down (slots change). Checked: `vs` leaves the store and no other VmSpace,
 *   cursor, reader/writer or frame/segment/unique handle changes.
 * - DropCursor: "`regions` unchanged" holds when the `CursorMut`'s flusher holds no deferred release
 *   (the model dispatches pending flushes at the drop, releasing the frames unmapped before).
 * - NewReader / NewWriter: the embedding does not check activeness; OSTD's `VmSpace::reader` returns
 *   `AccessDenied` unless the space is the activated one (behaviour.md §2.6), so success ⟺ active ∧
 *   `vaddr + len <= MAX_USERSPACE_VADDR`.
 * - OpenCursor* / DropCursor: locking and unlocking the path changes the PT nodes' lock in their meta
 *   slots (common.ts `ptMetaOnly`); those changes are allowed.
 */
import equal from 'fast-deep-equal/es6/index.js'
import { frameToIndex, MAX_USERSPACE_VADDR, REF_COUNT_UNUSED } from '../../../arch/constants.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { cursorAt } from '../../../model/pt_cursor.js'
import { isParked, ownerOf } from '../../../model/slots.js'
import { tableForEach, tableGet } from '../../../model/table.js'
import { liveVmSpace, vmCursorAt, vmSpaceAt } from '../../../model/vm_space.js'
import type { EnsContext, EnsRule } from '../../rule.js'
import { ens, isOkResult, num, storeUnchanged } from '../helpers.js'
import { expectedCursorRange } from '../page_table/cursor_args.js'
import { inListKept, parkingKept, ptMetaOnly, registriesUnchanged, vmUnchanged } from './common.js'

function rootSlotOf(ctx: EnsContext): number | null {
  const id = (ctx.result as { vmSpace?: number } | null)?.vmSpace
  const r = id === undefined ? null : vmSpaceAt(ctx.post, id)
  const h = r === null ? null : tableGet(ctx.post.pt.tables, r.pageTable)
  return h === null ? null : frameToIndex(h.rootPaddr)
}

function newVmSpaceRules(): EnsRule[] {
  const T = ['vm_space.new']
  return [
    ens('ENS-EMB-NEWVMSPACE-1', T, (ctx) => {
      const rule = 'ENS-EMB-NEWVMSPACE-1'
      const id = (ctx.result as { vmSpace?: number } | null)?.vmSpace
      if (id === undefined || vmSpaceAt(ctx.pre, id) !== null) return [finding(rule, 'result', 'no fresh VmSpace id was returned', 'a fresh id', ctx.result)]
      const r = liveVmSpace(ctx.post, id)
      if (r === null) return [finding(rule, `vm.spaces[${id}]`, `VmSpace ${id} is not in the store`, 'inserted', null)]
      const o = r.owner
      const out: Finding[] = []
      if (o.active || o.readers.length > 0 || o.writers.length > 0 || r.readers.length > 0 || r.writers.length > 0 || o.memView !== null || o.mvRange !== null) out.push(finding(rule, `vm.spaces[${id}].owner`, 'a fresh VmSpaceOwner is inactive, with no readers, writers or views', 'fresh', o))
      const others: number[] = []
      tableForEach(ctx.post.vm.spaces, (_r, k) => void (k !== id && !equal(vmSpaceAt(ctx.pre, k), vmSpaceAt(ctx.post, k)) && others.push(k)))
      tableForEach(ctx.pre.vm.spaces, (_r, k) => void (vmSpaceAt(ctx.post, k) === null && others.push(k)))
      for (const k of others) out.push(finding(rule, `vm.spaces[${k}]`, `VmSpace ${k} changed`, vmSpaceAt(ctx.pre, k), vmSpaceAt(ctx.post, k)))
      return out
    }),
    ens('ENS-EMB-NEWVMSPACE-2', T, (ctx) => {
      const rule = 'ENS-EMB-NEWVMSPACE-2'
      const r = rootSlotOf(ctx)
      if (r === null) return [finding(rule, 'result', 'the new VmSpace has no live page-table root', 'a root', ctx.result)]
      const out: Finding[] = []
      if (!isParked(ctx.pre, r)) out.push(finding(rule, `regions.slots[${r}]`, `root slot ${r} was not parked before`, true, false))
      const o = ownerOf(ctx.post, r)
      if (o.usage !== 'PageTable' || o.innerPerms.refCount === REF_COUNT_UNUSED) out.push(finding(rule, `regions.slotOwners[${r}]`, `root slot ${r} is not an in-use page-table slot`, 'PageTable, rc != UNUSED', { usage: o.usage, refCount: o.innerPerms.refCount }))
      return out
    }),
    ens('ENS-EMB-NEWVMSPACE-3', T, (ctx) => {
      // TS seed profile (MD-2): the root's permission stays parked.
      const r = rootSlotOf(ctx)
      return r === null || isParked(ctx.post, r) ? [] : [finding('ENS-EMB-NEWVMSPACE-3', `regions.slots[${r}]`, `root slot ${r} is no longer parked (MD-2: it stays parked)`, true, false)]
    }),
    ens('ENS-EMB-NEWVMSPACE-4', T, (ctx) => {
      const out: Finding[] = []
      for (const i of ctx.changes.slotCells) {
        const a = ownerOf(ctx.pre, i)
        const b = ownerOf(ctx.post, i)
        if (a.innerPerms.refCount !== REF_COUNT_UNUSED || b.innerPerms.refCount === REF_COUNT_UNUSED || b.usage !== 'PageTable') {
          out.push(finding('ENS-EMB-NEWVMSPACE-4', `regions.slotOwners[${i}]`, `slot ${i} changed but is not a fresh page-table node`, 'UNUSED → PageTable', { before: a.innerPerms.refCount, after: b.innerPerms.refCount, usage: b.usage }))
        }
      }
      return out
    }),
    ens('ENS-EMB-NEWVMSPACE-5', T, (ctx) => {
      const rule = 'ENS-EMB-NEWVMSPACE-5'
      return [...inListKept(ctx, rule), ...registriesUnchanged(ctx, rule, ['frames', 'segments', 'uniqueFrames', 'vmIos']), ...vmUnchanged(ctx, rule, ['cursors'])]
    }),
  ]
}

function dropVmSpaceRules(): EnsRule[] {
  return [
    ens('ENS-EMB-DROPVMSPACE-1', ['vm_space.drop'], (ctx) => {
      const rule = 'ENS-EMB-DROPVMSPACE-1'
      const vs = num(ctx.event, 'vmSpace')
      const out: Finding[] = []
      if (liveVmSpace(ctx.post, vs) !== null) out.push(finding(rule, `vm.spaces[${vs}]`, `VmSpace ${vs} is still in the store`, null, liveVmSpace(ctx.post, vs)))
      tableForEach(ctx.pre.vm.spaces, (r, k) => {
        if (k !== vs && !equal(r, vmSpaceAt(ctx.post, k))) out.push(finding(rule, `vm.spaces[${k}]`, `VmSpace ${k} changed`, r, vmSpaceAt(ctx.post, k)))
      })
      out.push(...registriesUnchanged(ctx, rule, ['frames', 'segments', 'uniqueFrames', 'vmIos']), ...vmUnchanged(ctx, rule, ['cursors']), ...parkingKept(ctx, rule))
      return out
    }),
  ]
}

type OpenKind = 'OPENCURSOR' | 'OPENCURSORMUT'

function openCursorRules(k: OpenKind): EnsRule[] {
  const T = [k === 'OPENCURSOR' ? 'vm_space.cursor' : 'vm_space.cursor_mut']
  const kind = k === 'OPENCURSOR' ? 'Cursor' : 'CursorMut'
  const id = `ENS-EMB-${k}`
  const opened = (ctx: EnsContext): number | null => (isOkResult(ctx.result) ? (ctx.result.value as { cursor: number }).cursor : null)
  return [
    ens(`${id}-1`, T, (ctx) => [...parkingKept(ctx, `${id}-1`), ...inListKept(ctx, `${id}-1`)]),
    ens(`${id}-2`, T, (ctx) => {
      const out: Finding[] = []
      for (const i of ctx.changes.slotCells) {
        const a = ownerOf(ctx.pre, i)
        const b = ownerOf(ctx.post, i)
        if (ptMetaOnly(ctx, i)) continue // a path node locked (common.ts)
        if (a.innerPerms.refCount !== REF_COUNT_UNUSED || b.innerPerms.refCount === REF_COUNT_UNUSED || b.usage === 'Frame') {
          out.push(finding(`${id}-2`, `regions.slotOwners[${i}]`, `slot ${i} changed but is not a fresh page-table node`, 'UNUSED → not Frame', { before: a.innerPerms.refCount, after: b.innerPerms.refCount, usage: b.usage }))
        }
      }
      return out
    }),
    ens(`${id}-3`, T, (ctx) => {
      const c = opened(ctx)
      if (c === null) return []
      const rec = vmCursorAt(ctx.post, c)
      const vs = num(ctx.event, 'vmSpace')
      if (vmCursorAt(ctx.pre, c) !== null || rec === null || cursorAt(ctx.post, c) === null || rec.vmSpace !== vs || rec.kind !== kind) {
        return [finding(`${id}-3`, `vm.cursors[${c}]`, `no fresh ${kind} entry of VmSpace ${vs} under id ${c}`, { vmSpace: vs, kind }, rec)]
      }
      const poppedTooHigh = cursorAt(ctx.post, c)!.owner.poppedTooHigh
      return poppedTooHigh ? [finding(`${id}-3`, `pt.cursors[${c}].owner.poppedTooHigh`, 'a fresh cursor has popped too high', false, true)] : []
    }),
    ens(`${id}-4`, T, (ctx) => {
      const rule = `${id}-4`
      const should = expectedCursorRange('user', ctx.event as unknown as { vaStart: number; vaEnd: number }).ok
      const did = isOkResult(ctx.result)
      if (should !== did) return [finding(rule, 'result', `cursor creation ${did ? 'succeeded' : 'failed'} on a range that is ${should ? '' : 'not '}valid`, should ? 'Ok' : 'Err', ctx.result)]
      if (did) return []
      const out = storeUnchanged(ctx, rule)
      if (ctx.pre.pt !== ctx.post.pt || ctx.pre.vm !== ctx.post.vm) out.push(finding(rule, 'snapshot', 'a failed cursor creation changed the page-table or VmSpace state'))
      return out
    }),
  ]
}

function dropCursorRules(): EnsRule[] {
  return [
    ens('ENS-EMB-DROPCURSOR-1', ['vm_cursor.drop'], (ctx) => {
      const rule = 'ENS-EMB-DROPCURSOR-1'
      const c = num(ctx.event, 'cursor')
      const out: Finding[] = []
      if (vmCursorAt(ctx.post, c) !== null || cursorAt(ctx.post, c) !== null) out.push(finding(rule, `vm.cursors[${c}]`, `cursor ${c} is still in the store`, null, vmCursorAt(ctx.post, c)))
      out.push(...parkingKept(ctx, rule))
      const deferred = vmCursorAt(ctx.pre, c)?.flusher?.deferred.length ?? 0
      if (deferred === 0) for (const i of ctx.changes.slotCells) if (!ptMetaOnly(ctx, i)) out.push(finding(rule, `regions.slotOwners[${i}]`, `slot ${i} changed although the cursor held no deferred release`, ownerOf(ctx.pre, i), ownerOf(ctx.post, i)))
      return out
    }),
  ]
}

function newIoRules(kind: 'reader' | 'writer'): EnsRule[] {
  const rule = kind === 'reader' ? 'ENS-EMB-NEWREADER-1' : 'ENS-EMB-NEWWRITER-1'
  return [
    ens(rule, [`vm_space.${kind}`], (ctx) => {
      const e = ctx.event as unknown as { vmSpace: number; va: number; len: number }
      const should = ctx.pre.vm.activated === e.vmSpace && e.va + e.len <= MAX_USERSPACE_VADDR
      const did = isOkResult(ctx.result)
      if (should !== did) return [finding(rule, 'result', `${kind}(0x${e.va.toString(16)}, ${e.len}) ${did ? 'succeeded' : 'failed'}`, should ? 'Ok' : 'Err', ctx.result)]
      if (!did) return [...storeUnchanged(ctx, rule), ...vmUnchanged(ctx, rule, ['spaces', 'cursors'])]
      const id = (ctx.result.value as Record<string, number>)[kind]!
      const x = tableGet(ctx.post.vmIos, id)
      const out: Finding[] = []
      const want = { kind: kind === 'reader' ? 'Reader' : 'Writer', vmSpace: e.vmSpace, start: e.va, end: e.va + e.len }
      const got = x === null ? null : { kind: x.kind, vmSpace: x.space.kind === 'user' ? x.space.vmSpace : null, start: x.cursor, end: x.end }
      if (tableGet(ctx.pre.vmIos, id) !== null || !equal(want, got)) out.push(finding(rule, `vmIos[${id}]`, `no fresh ${kind} entry over [va, va + len) of VmSpace ${e.vmSpace}`, want, got))
      const o = x?.owner
      if (x !== null && (o === undefined || o.range.start !== e.va || o.range.end !== e.va + e.len || !o.isFallible || o.isKernel)) {
        out.push(finding(rule, `vmIos[${id}].owner`, 'the owner is not { range: [va, va+len), is_fallible, !is_kernel }', { range: { start: e.va, end: e.va + e.len }, isFallible: true, isKernel: false }, o))
      }
      for (const k of ctx.changes.vmIos) if (k !== id && tableGet(ctx.pre.vmIos, k) === null) out.push(finding(rule, `vmIos[${k}]`, `a second vm_io ${k} was inserted`, null, tableGet(ctx.post.vmIos, k)))
      return out
    }),
  ]
}

export const embVmSpaceRules: EnsRule[] = [
  ...newVmSpaceRules(),
  ...dropVmSpaceRules(),
  ...openCursorRules('OPENCURSOR'),
  ...openCursorRules('OPENCURSORMUT'),
  ...dropCursorRules(),
  ...newIoRules('reader'),
  ...newIoRules('writer'),
]
