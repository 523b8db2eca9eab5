/**
 * The `TlbFlusher` of a VmSpace `CursorMut` (ostd::mm::tlb; behaviour.md §2.6; state.md §14).
 *
 * Events:
 *   vm_cursor_mut.issue_tlb_flush       {cursor, op}            `flusher().issue_tlb_flush(op)`
 *   vm_cursor_mut.issue_tlb_flush_with  {cursor, op, release}   `issue_tlb_flush_with(op, frame)`: the handle
 *                                                               (a `Frame` or a `PageTableNode`) moves into the
 *                                                               flusher and is released after the flush
 *   vm_cursor_mut.dispatch_tlb_flush    {cursor}                `dispatch_tlb_flush()`: apply the issued ops to
 *                                                               the TLB, then release the deferred handles
 *   vm_cursor_mut.sync_tlb_flush        {cursor}                `sync_tlb_flush()`: = dispatch on one CPU
 *
 * `op` = `{ kind: 'All' }` | `{ kind: 'Address', va }` | `{ kind: 'Range', start, end }`.
 *
 * Deviation (spec §4 inconsistency 10, `TlbModel::dispatch_tlb_flush_spec`): the spec pops only the
 * last pending op, `All` flushes nothing and `Range` only the mapping containing its start. The
 * model applies every issued op, `All` flushing everything and `Range` every mapping overlapping
 * the range, as OSTD's flush does. Ops flush the TLB only when the cursor's space is the activated
 * one (the single CPU's TLB caches no other space's mappings: activation flushes it).
 */
import { z } from 'zod'
import { flushOpFailure, tlbAfter, vmCursorAt, type TlbFlushOp } from '../../src/model/vm_space.js'
import { frameDrop } from '../frame/frame.js'
import { frameHandleFailure } from '../frame/handles.js'
import { HandleId } from '../schema.js'
import { defineEvent, StepRecorder, type EventSpec, type ModelEvent } from '../types.js'
import { nodeHandleFailure, ptNodeDrop } from '../page_table/node.js'
import { liveVmCursor, putVmCursor, withVm } from './state.js'

const Va = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
export const TlbFlushOpSchema = z.union([
  z.object({ kind: z.literal('All') }).strict(),
  z.object({ kind: z.literal('Address'), va: Va }).strict(),
  z.object({ kind: z.literal('Range'), start: Va, end: Va }).strict(),
])
export const DeferredSchema = z.object({ kind: z.enum(['frame', 'node']), handle: HandleId }).strict()

const opRequirement = {
  rule: 'REQ-TLB-OP-1',
  kind: 'requires' as const,
  summary: '[model] A `TlbFlushOp` is `All`, `Address(va)` or `Range(start..end)` and names page-aligned addresses (start <= end), as its constructors ensure.',
  check: (_s: unknown, e: { op: TlbFlushOp }) => flushOpFailure(e.op),
}

// ---- issue ---------------------------------------------------------------------------------------

export const IssueFlushEvent = z.object({ type: z.literal('vm_cursor_mut.issue_tlb_flush'), cursor: HandleId, op: TlbFlushOpSchema })
export type IssueFlushEvent = z.infer<typeof IssueFlushEvent>

/** `issue_tlb_flush(op)`: appends `op` to the flusher's pending ops. Requires REQ-HANDLE-1, REQ-TLB-OP-1. Owes ENS-TLB-ISSUE-1 [model]. (What it leaves pending, INV-TLB-2 allows.) */
export const issueTlbFlush = defineEvent<IssueFlushEvent, null>({
  type: 'vm_cursor_mut.issue_tlb_flush',
  doc: "TlbFlusher::issue_tlb_flush(op): the op joins the flusher's pending ops (nothing is flushed yet).",
  schema: IssueFlushEvent,
  requires: [liveVmCursor<IssueFlushEvent>('CursorMut'), opRequirement],
  reduce(s, e) {
    const c = vmCursorAt(s, e.cursor)!
    const f = c.flusher!
    return { snapshot: withVm(s, (vm) => putVmCursor(vm, e.cursor, { ...c, flusher: { ...f, ops: [...f.ops, e.op] } })), result: null }
  },
})

export const IssueFlushWithEvent = z.object({ type: z.literal('vm_cursor_mut.issue_tlb_flush_with'), cursor: HandleId, op: TlbFlushOpSchema, release: DeferredSchema })
export type IssueFlushWithEvent = z.infer<typeof IssueFlushWithEvent>

/**
 * `issue_tlb_flush_with(op, drop_after_flush)`: appends `op`, and the handle (a `Frame` or a
 * `PageTableNode`) moves into the flusher, to be released after the flush. Requires REQ-HANDLE-1 (the
 * cursor and the handle), REQ-TLB-OP-1. Owes ENS-TLB-ISSUE-1 [model]; the handle is released by the dispatch (ENS-TLB-DISPATCH-2).
 */
export const issueTlbFlushWith = defineEvent<IssueFlushWithEvent, null>({
  type: 'vm_cursor_mut.issue_tlb_flush_with',
  doc: 'TlbFlusher::issue_tlb_flush_with(op, frame): the op joins the pending ops and the frame is kept until the flush is dispatched.',
  schema: IssueFlushWithEvent,
  requires: [
    liveVmCursor<IssueFlushWithEvent>('CursorMut'),
    opRequirement,
    {
      rule: 'REQ-HANDLE-1',
      kind: 'requires',
      // live, not kept by a flusher already, not a PageTable's root: what any call taking the handle asks
      check: (s, e) => (e.release.kind === 'frame' ? frameHandleFailure(s, e.release.handle) : nodeHandleFailure(s, e.release.handle)),
    },
  ],
  reduce(s, e) {
    const c = vmCursorAt(s, e.cursor)!
    const f = c.flusher!
    return { snapshot: withVm(s, (vm) => putVmCursor(vm, e.cursor, { ...c, flusher: { ops: [...f.ops, e.op], deferred: [...f.deferred, e.release] } })), result: null }
  },
})

// ---- dispatch ------------------------------------------------------------------------------------

/**
 * The dispatch steps on a running recorder: the TLB loses what the pending ops flush (when the
 * cursor's space is the activated one), the flusher empties, then each deferred handle is dropped
 * (`frame.drop` / `page_table_node.drop`). Nothing happens for a read-only cursor or an empty flusher.
 */
export function dispatchFlush(rec: StepRecorder, cursor: number): void {
  const c = vmCursorAt(rec.snapshot, cursor)
  if (c === null || c.flusher === null || (c.flusher.ops.length === 0 && c.flusher.deferred.length === 0)) return
  const f = c.flusher
  rec.set(
    withVm(rec.snapshot, (vm) => {
      const next = putVmCursor(vm, cursor, { ...c, flusher: { ops: [], deferred: [] } })
      return vm.activated === c.vmSpace ? { ...next, tlb: tlbAfter(vm.tlb, f.ops) } : next
    }),
  )
  for (const d of f.deferred) {
    if (d.kind === 'frame') rec.run(frameDrop, { type: 'frame.drop', frame: d.handle })
    else rec.run(ptNodeDrop, { type: 'page_table_node.drop', node: d.handle })
  }
}

const CursorOnly = z.object({ cursor: HandleId })
export const DispatchFlushEvent = z.object({ type: z.literal('vm_cursor_mut.dispatch_tlb_flush'), ...CursorOnly.shape })
export type DispatchFlushEvent = z.infer<typeof DispatchFlushEvent>
export const SyncFlushEvent = z.object({ type: z.literal('vm_cursor_mut.sync_tlb_flush'), ...CursorOnly.shape })
export type SyncFlushEvent = z.infer<typeof SyncFlushEvent>

function dispatchSpec<E extends DispatchFlushEvent | SyncFlushEvent>(type: E['type'], schema: z.ZodType<E>, name: string): EventSpec<E, null> {
  /**
   * `dispatch_tlb_flush()` / `sync_tlb_flush()` (the same on one CPU): the issued ops flush the TLB,
   * then the deferred frames and nodes are released. Requires REQ-HANDLE-1. Owes ENS-TLB-DISPATCH-1..3 [model].
   */
  return defineEvent<E, null>({
    type,
    doc: `TlbFlusher::${name}(): flush the TLB for every issued op, then release the frames kept behind the flush.`,
    schema,
    requires: [liveVmCursor<E>('CursorMut')],
    reduce(s, e) {
      const rec = new StepRecorder(s)
      dispatchFlush(rec, e.cursor)
      return { snapshot: rec.snapshot, result: null, steps: rec.steps }
    },
  })
}

export const dispatchTlbFlush = dispatchSpec<DispatchFlushEvent>('vm_cursor_mut.dispatch_tlb_flush', DispatchFlushEvent, 'dispatch_tlb_flush')
export const syncTlbFlush = dispatchSpec<SyncFlushEvent>('vm_cursor_mut.sync_tlb_flush', SyncFlushEvent, 'sync_tlb_flush')

export const vmFlusherEvents: readonly EventSpec<ModelEvent, unknown>[] = [issueTlbFlush, issueTlbFlushWith, dispatchTlbFlush, syncTlbFlush] as unknown as readonly EventSpec<ModelEvent, unknown>[]
