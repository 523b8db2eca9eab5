/** Clauses the embedding's `_embedded` axioms share (operations.md §11): what a step may not touch. */
import equal from 'fast-deep-equal/es6/index.js'
import { REF_COUNT_UNUSED } from '../../../arch/constants.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { cursorAt } from '../../../model/pt_cursor.js'
import { isParked, ownerOf } from '../../../model/slots.js'
import { tableGet } from '../../../model/table.js'
import { vmCursorAt } from '../../../model/vm_space.js'
import type { EnsContext } from '../../rule.js'

export type Registry = 'frames' | 'segments' | 'uniqueFrames' | 'vmIos' | 'lists'

/** Registries of the store (`frames`, `segments`, …) the step must leave unchanged. */
export function registriesUnchanged(ctx: EnsContext, rule: string, names: readonly Registry[]): Finding[] {
  const out: Finding[] = []
  for (const n of names) {
    for (const id of ctx.changes[n]) out.push(finding(rule, `${n}[${id}]`, `${n} entry ${id} changed although the operation leaves ${n} unchanged`, tableGet(ctx.pre[n] as never, id), tableGet(ctx.post[n] as never, id)))
  }
  return out
}

/** `vm_spaces` / `cursors` (the VmSpace records) unchanged. */
export function vmUnchanged(ctx: EnsContext, rule: string, parts: ReadonlyArray<'spaces' | 'cursors'>): Finding[] {
  const out: Finding[] = []
  for (const p of parts) {
    if (ctx.pre.vm[p] !== ctx.post.vm[p] && !equal(ctx.pre.vm[p], ctx.post.vm[p])) out.push(finding(rule, `vm.${p}`, `vm.${p} changed although the operation leaves it unchanged`))
  }
  return out
}

/** The "`slots` unchanged" clause: no parking changed, except at `allowed`. */
export function parkingKept(ctx: EnsContext, rule: string, allowed: Iterable<number> = []): Finding[] {
  const ok = new Set(allowed)
  const out: Finding[] = []
  for (const i of ctx.changes.parking) if (!ok.has(i)) out.push(finding(rule, `regions.slots[${i}]`, `the parking of slot ${i} changed`, isParked(ctx.pre, i), isParked(ctx.post, i)))
  return out
}

/** The "`in_list` unchanged" clause over every changed slot. */
export function inListKept(ctx: EnsContext, rule: string): Finding[] {
  const out: Finding[] = []
  for (const i of ctx.changes.slotCells) {
    const a = ownerOf(ctx.pre, i).innerPerms.inList
    const b = ownerOf(ctx.post, i).innerPerms.inList
    if (a !== b) out.push(finding(rule, `regions.slotOwners[${i}].innerPerms.inList`, `in_list of slot ${i} changed`, a, b))
  }
  return out
}

/** A slot that was UNUSED and became a page-table node (the fresh PT nodes an axiom allows). */
export function isFreshPtNode(ctx: EnsContext, i: number): boolean {
  const a = ownerOf(ctx.pre, i)
  const b = ownerOf(ctx.post, i)
  return a.innerPerms.refCount === REF_COUNT_UNUSED && b.innerPerms.refCount !== REF_COUNT_UNUSED && b.usage !== 'Frame'
}

/** Changed slots other than fresh page-table nodes and PT-node lock / child-count changes (`ptMetaOnly`). */
export function slotsChangedExceptFreshNodes(ctx: EnsContext, rule: string, allowed: Iterable<number> = []): Finding[] {
  const ok = new Set(allowed)
  const out: Finding[] = []
  for (const i of ctx.changes.slotCells) {
    if (ok.has(i) || isFreshPtNode(ctx, i) || ptMetaOnly(ctx, i)) continue
    out.push(finding(rule, `regions.slotOwners[${i}]`, `slot ${i} changed although the operation changes no slot owner`, ownerOf(ctx.pre, i), ownerOf(ctx.post, i)))
  }
  return out
}

/**
 * "The cursor entry keeps `vm_space`, `kind`, `va`" — the VmSpace record of cursor `c` is the same
 * and the cursor is still live. (The embedding does not track the VA a cursor moves to; the model
 * does, per §9–§10, so `va` here is the locked range, which a cursor never changes.)
 */
export function cursorKept(ctx: EnsContext, rule: string, c: number): Finding[] {
  const a = vmCursorAt(ctx.pre, c)
  const b = vmCursorAt(ctx.post, c)
  const out: Finding[] = []
  if (a === null) return out
  if (b === null || cursorAt(ctx.post, c) === null) return [finding(rule, `vm.cursors[${c}]`, `cursor ${c} left the store`, a, b)]
  if (a.vmSpace !== b.vmSpace || a.kind !== b.kind) out.push(finding(rule, `vm.cursors[${c}]`, `cursor ${c} changed its vm_space or kind`, { vmSpace: a.vmSpace, kind: a.kind }, { vmSpace: b.vmSpace, kind: b.kind }))
  const pa = cursorAt(ctx.pre, c)
  const pb = cursorAt(ctx.post, c)
  if (pa !== null && pb !== null && (pa.barrierVa.start !== pb.barrierVa.start || pa.barrierVa.end !== pb.barrierVa.end)) out.push(finding(rule, `pt.cursors[${c}].barrierVa`, `cursor ${c} changed its locked range`, pa.barrierVa, pb.barrierVa))
  return out
}

/** Whether the event's cursor is one of the store's (a VmSpace cursor) before the step. */
export function isStoreCursor(ctx: EnsContext): boolean {
  return vmCursorAt(ctx.pre, (ctx.event as { cursor?: number }).cursor ?? -1) !== null
}

/** Storage without a page-table node's lock and child count (exec metadata of a PT node). */
function withoutPtMeta(st: unknown): unknown {
  if (st === null || typeof st !== 'object' || (st as { kind?: string }).kind !== 'PTNode') return st
  const { lock: _lock, nrChildren: _nr, ...rest } = st as Record<string, unknown>
  return rest
}

/**
 * Whether slot `i` changed only in a page-table node's lock or child count. Deviation (all the
 * cursor Ops): the model keeps a PT node's lock and `nr_children` in its meta slot's storage, as
 * OSTD does (`PageTablePageMeta`), so locking a path (OpenCursor*, Jump), unlocking it (DropCursor)
 * and mapping / unmapping under a node change in-use PT slots the `_embedded` axioms call unchanged.
 */
export function ptMetaOnly(ctx: EnsContext, i: number): boolean {
  const a = ownerOf(ctx.pre, i)
  const b = ownerOf(ctx.post, i)
  if (a.usage !== 'PageTable' || b.usage !== 'PageTable') return false
  return equal({ ...a, innerPerms: { ...a.innerPerms, storage: withoutPtMeta(a.innerPerms.storage) } }, { ...b, innerPerms: { ...b.innerPerms, storage: withoutPtMeta(b.innerPerms.storage) } })
}

/** Storage equal up to a PT node's lock and child count. */
export function storageKept(ctx: EnsContext, i: number): boolean {
  return equal(withoutPtMeta(ownerOf(ctx.pre, i).innerPerms.storage), withoutPtMeta(ownerOf(ctx.post, i).innerPerms.storage))
}
