/**
 * The embedding's `op_pre` (operations.md §11): almost only id existence in `VmStore`. Each is a
 * requirement the existing event of the Op puts first (so a dead id is reported under the Op's own
 * REQ-EMB ID rather than the generic REQ-HANDLE-1), with the same check as the live-handle rule.
 * The store's registries are the snapshot's: `vm_spaces` = live `vm.spaces`, `cursors` = live
 * page-table cursors (a VmSpace cursor is `Cursor(pt_cursor.0)`), `frames` = `frames`.
 */
import { frameHandleFailure } from '../frame/handles.js'
import { cursorAt } from '../../src/model/pt_cursor.js'
import { tableForEach } from '../../src/model/table.js'
import { liveVmSpace } from '../../src/model/vm_space.js'
import type { ModelEvent, Requirement } from '../types.js'

/** `vs ∈ vm_spaces` (REQ-EMB-DROPVMSPACE-1, -OPENCURSOR-1, -OPENCURSORMUT-1, -NEWREADER-1, -NEWWRITER-1). */
export function embVmSpace<E extends ModelEvent>(rule: string, field = 'vmSpace'): Requirement<E> {
  return {
    rule,
    kind: 'requires',
    check: (s, e) => (liveVmSpace(s, e[field as keyof E] as number) === null ? `VmSpace ${String(e[field as keyof E])} is not in the store (dropped, or never created)` : null),
  }
}

/** `c ∈ cursors` (REQ-EMB-DROPCURSOR-1, -QUERY-1, -FINDNEXT-1, -JUMP-1, -VIRTADDR-1, -MAP-1, -UNMAP-1, -PROTECTNEXT-1). */
export function embCursor<E extends ModelEvent>(rule: string, field = 'cursor'): Requirement<E> {
  return {
    rule,
    kind: 'requires',
    check: (s, e) => (cursorAt(s, e[field as keyof E] as number) === null ? `cursor ${String(e[field as keyof E])} is not in the store (dropped, or never created)` : null),
  }
}

/** `fid ∈ frames` (REQ-EMB-MAP-2), and not moved into a TLB flusher. */
export function embFrame<E extends ModelEvent>(rule: string, field = 'frame'): Requirement<E> {
  return {
    rule,
    kind: 'requires',
    check: (s, e) => frameHandleFailure(s, e[field as keyof E] as number),
  }
}

/** REQ-EMB-DROPVMSPACE-2: no cursor of the store has `vm_space == vs`. */
export function embNoCursorOn<E extends ModelEvent>(rule: string, field = 'vmSpace'): Requirement<E> {
  return {
    rule,
    kind: 'requires',
    check: (s, e) => {
      const vs = e[field as keyof E] as number
      const on: number[] = []
      tableForEach(s.vm.cursors, (c, id) => {
        if (c.vmSpace === vs) on.push(id)
      })
      return on.length > 0 ? `VmSpace cursor ${on.join(', ')} of VmSpace ${vs} is still in the store` : null
    },
  }
}

/** REQ-EMB-DROPVMSPACE-3: no vm_io of the store has `vm_space == Some(vs)`. */
export function embNoIoOn<E extends ModelEvent>(rule: string, field = 'vmSpace'): Requirement<E> {
  return {
    rule,
    kind: 'requires',
    check: (s, e) => {
      const vs = e[field as keyof E] as number
      const on: number[] = []
      tableForEach(s.vmIos, (x, id) => {
        if (x.space.kind === 'user' && x.space.vmSpace === vs) on.push(id)
      })
      return on.length > 0 ? `reader/writer ${on.join(', ')} of VmSpace ${vs} is still in the store` : null
    },
  }
}
