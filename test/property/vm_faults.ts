/**
 * Faulty VmSpace / TLB reducers for the property tests (test/property/faults.test.ts): each breaks
 * a TLB clause on histories of `ALL_OPS` plus the TLB operations (src/log/gen_vm_tlb.ts), where
 * user accesses cache translations that maps, unmaps and flushes must then remove. (A dispatch that
 * flushes nothing is left to its firing case and the mutation fixtures: a dispatch whose ops cover a
 * cached translation is too rare here — detected in none of five histories.)
 */
import { dispatchTlbFlush, issueTlbFlush } from '../../reducers/vm_space/flusher.js'
import { vmCursorUnmap } from '../../reducers/vm_space/unmap.js'
import { withVm } from '../../reducers/vm_space/state.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { variant } from '../firing/harness.js'
import type { Fault } from './faults.js'

/** `post` with the TLB of `pre` (nothing flushed). */
function tlbOf(post: Snapshot, pre: Snapshot): Snapshot {
  return withVm(post, (vm) => ({ ...vm, tlb: pre.vm.tlb }))
}

export const VM_FAULTS: Record<string, Omit<Fault, 'module'>> = {
  dispatchFlushesAll: {
    doc: "dispatch_tlb_flush flushes the whole TLB, whatever its ops and whoever's space (ENS-TLB-DISPATCH-3)",
    spec: variant(dispatchTlbFlush, (s, e) => {
      const o = dispatchTlbFlush.reduce(s, e)
      return { ...o, snapshot: withVm(o.snapshot, (vm) => ({ ...vm, tlb: { mappings: [] } })) }
    }),
  },
  unmapKeepsTranslations: {
    doc: "VmSpace unmap removes the mappings and releases the frames but the TLB keeps their translations (ENS-VMSCURSOR-UNMAP-3, INV-TLB-2)",
    spec: variant(vmCursorUnmap, (s, e) => {
      const o = vmCursorUnmap.reduce(s, e)
      return { ...o, snapshot: tlbOf(o.snapshot, s) }
    }),
  },
  issueLosesOp: {
    doc: 'issue_tlb_flush forgets the op (ENS-TLB-ISSUE-1)',
    spec: variant(issueTlbFlush, (s) => ({ snapshot: s, result: null })),
  },
}
